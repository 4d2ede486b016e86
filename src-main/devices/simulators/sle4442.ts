import {
  SLE4442_ATR_ACR38,
  SLE4442_MEMORY_SIZE,
  SLE4442_PROTECTABLE_BYTES,
} from '../../../src-shared/devices/sle4442.ts';
import { BaseApduTransport } from '../transports/pcsc.ts';
import type { TransportInfo } from '../transports/transport.ts';

/**
 * A simulated SLE4442 card and PC/SC reader (hardware.md §3, §6.4). The card has 256 bytes of main memory, 32
 * protection bits, a 3-byte PSC and an error counter: each wrong PSC clears one counter bit, three lock the card for
 * good, a right one restores the counter and unlocks writes until the card is removed. The reader answers the ACS
 * ACR38 pseudo-APDUs (verify replies 90 + counter) or the OMNIKEY ones (90 00 / 63 Cx).
 */

export interface Sle4442CardOptions {
  /** Default FF FF FF, as blank cards commonly ship. */
  psc?: readonly number[];
  /** Default 0x07 (3 tries). */
  errorCounter?: number;
  /** Main memory; bytes 0..31 default to a header, the rest to 0xFF. */
  memory?: Uint8Array;
}

export class Sle4442Card {
  readonly memory: Uint8Array;
  /** Bit per address 0..31; 0 = protected for good. */
  readonly protection = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
  errorCounter: number;
  #psc: number[];
  #unlocked = false;
  readonly atr = Uint8Array.from(SLE4442_ATR_ACR38);
  /** The next main-memory write stores this many bytes wrong (a failing chip): read-back must catch it. */
  failNextWrite = false;

  constructor(options: Sle4442CardOptions = {}) {
    this.memory = new Uint8Array(SLE4442_MEMORY_SIZE).fill(0xff);
    this.memory.set([0xa2, 0x13, 0x10, 0x91], 0);
    if (options.memory) this.memory.set(options.memory.subarray(0, SLE4442_MEMORY_SIZE));
    this.errorCounter = options.errorCounter ?? 0x07;
    this.#psc = [...(options.psc ?? [0xff, 0xff, 0xff])];
  }

  get locked(): boolean {
    return (this.errorCounter & 0x07) === 0;
  }

  get unlocked(): boolean {
    return this.#unlocked;
  }

  /** Compare PSC: returns the counter after the attempt (0x07 = right). */
  comparePsc(psc: readonly number[]): number {
    if (this.locked) return 0;
    const right = psc.length === 3 && psc.every((b, i) => b === this.#psc[i]);
    if (right) {
      this.errorCounter = 0x07;
      this.#unlocked = true;
    } else {
      // Clear the lowest set bit: 7 → 6 → 4 → 0.
      this.errorCounter &= this.errorCounter - 1;
      this.#unlocked = false;
    }
    return this.errorCounter;
  }

  /** false when not unlocked; protected header bytes stay as they are (as on the chip). */
  update(address: number, data: Uint8Array): boolean {
    if (!this.#unlocked) return false;
    data.forEach((byte, i) => {
      const at = address + i;
      if (at < SLE4442_PROTECTABLE_BYTES && ((this.protection[at >> 3]! >>> (at & 7)) & 1) === 0) return;
      this.memory[at] = byte;
    });
    if (this.failNextWrite && data.length > 0) {
      this.memory[address + data.length - 1]! ^= 0x01;
      this.failNextWrite = false;
    }
    return true;
  }

  changePsc(psc: readonly number[]): boolean {
    if (!this.#unlocked || psc.length !== 3) return false;
    this.#psc = [...psc];
    return true;
  }

  powerOff(): void {
    this.#unlocked = false;
  }
}

export interface SimulatedReaderOptions {
  profile?: 'acs-acr38' | 'omnikey';
  name?: string;
  card?: Sle4442Card | null;
}

const sw = (sw1: number, sw2: number, data: ArrayLike<number> = []): Uint8Array =>
  Uint8Array.from([...Array.from(data), sw1, sw2]);

export class SimulatedPcscReader extends BaseApduTransport {
  readonly info: TransportInfo;
  readonly profile: 'acs-acr38' | 'omnikey';
  #slot: Sle4442Card | null;
  /** Every APDU received (for tests; PSC bytes included, so never log it). */
  readonly apdus: Uint8Array[] = [];
  #unplugged = false;

  constructor(options: SimulatedReaderOptions = {}) {
    super();
    this.profile = options.profile ?? 'acs-acr38';
    this.info = { kind: 'pcsc', path: options.name ?? 'Simulated ACS ACR38U' };
    this.#slot = options.card ?? null;
  }

  async open(): Promise<void> {
    if (this.#unplugged) throw new Error(`${this.info.path} is not connected`);
    this.markOpen();
    if (this.#slot) this.setCard(this.#slot.atr);
  }

  async close(): Promise<void> {
    this.emitClose({ unexpected: false, detail: `${this.info.path} closed` });
  }

  /** The card in the slot (the same object across insert/remove, like a real card). */
  get inserted(): Sle4442Card | null {
    return this.#slot;
  }

  insert(card: Sle4442Card): void {
    this.#slot = card;
    if (this.isOpen) this.setCard(card.atr);
  }

  remove(): void {
    this.#slot?.powerOff();
    this.#slot = null;
    if (this.isOpen) this.setCard(null);
  }

  unplug(): void {
    this.#unplugged = true;
    this.emitClose({ unexpected: true, detail: `${this.info.path} unplugged` });
  }

  replug(): void {
    this.#unplugged = false;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!this.isOpen) throw new Error(`${this.info.path} is not open`);
    const card = this.#slot;
    if (!card) throw new Error(`${this.info.path}: no card`);
    this.apdus.push(Uint8Array.from(apdu));
    return this.profile === 'acs-acr38' ? this.#acs(card, apdu) : this.#omnikey(card, apdu);
  }

  #acs(card: Sle4442Card, apdu: Uint8Array): Uint8Array {
    const [cla, ins, , p2, lc] = apdu;
    if (cla !== 0xff) return sw(0x6e, 0x00);
    switch (ins) {
      case 0xa4:
        return sw(0x90, 0x00);
      case 0xb0:
        return this.#read(card, p2!, lc!);
      case 0xb1:
        return sw(0x90, 0x00, [card.errorCounter, 0x00, 0x00, 0x00]);
      case 0xb2:
        return sw(0x90, 0x00, card.protection);
      case 0x20: {
        if (card.locked) return sw(0x90, 0x00);
        return sw(0x90, card.comparePsc(Array.from(apdu.subarray(5, 8))));
      }
      case 0xd0:
        return this.#update(card, p2!, apdu.subarray(5, 5 + lc!));
      case 0xd2:
        return card.changePsc(Array.from(apdu.subarray(5, 8))) ? sw(0x90, 0x00) : sw(0x69, 0x82);
      default:
        return sw(0x6d, 0x00);
    }
  }

  #omnikey(card: Sle4442Card, apdu: Uint8Array): Uint8Array {
    const [cla, ins, , p2, lc] = apdu;
    if (cla !== 0xff) return sw(0x6e, 0x00);
    switch (ins) {
      case 0xb0:
        return this.#read(card, p2!, lc!);
      case 0x20: {
        if (card.locked) return sw(0x69, 0x83);
        const counter = card.comparePsc(Array.from(apdu.subarray(5, 8)));
        if (counter === 0x07) return sw(0x90, 0x00);
        const tries = [1, 2, 4].filter((bit) => counter & bit).length;
        return sw(0x63, 0xc0 | tries);
      }
      case 0xd6:
        return this.#update(card, p2!, apdu.subarray(5, 5 + lc!));
      default:
        return sw(0x6d, 0x00);
    }
  }

  #read(card: Sle4442Card, address: number, length: number): Uint8Array {
    if (address + length > SLE4442_MEMORY_SIZE) return sw(0x6a, 0x82);
    return sw(0x90, 0x00, card.memory.subarray(address, address + length));
  }

  #update(card: Sle4442Card, address: number, data: Uint8Array): Uint8Array {
    if (address + data.length > SLE4442_MEMORY_SIZE) return sw(0x6a, 0x82);
    return card.update(address, data) ? sw(0x90, 0x00) : sw(0x69, 0x82);
  }
}
