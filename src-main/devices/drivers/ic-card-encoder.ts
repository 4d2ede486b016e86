import type { CarrierContent } from '../../../src-shared/devices/carrier-content.ts';
import {
  DeviceTimeoutError,
  DisconnectedError,
  ProtocolError,
  WrongCardError,
} from '../../../src-shared/devices/device-errors.ts';
import {
  assertCardForMeter,
  assertRecordReadBack,
  type IcCardLayoutCodec,
} from '../../../src-shared/devices/ic-card-layout.ts';
import {
  assertSafeToPresentPsc,
  checkApduResponse,
  decodeErrorCounter,
  type ErrorCounterStatus,
  matchesSle4442Atr,
  type PscOutcome,
  SLE4442_MAX_TRIES,
  type Sle4442Operation,
  type Sle4442ReaderProfile,
  splitApduResponse,
} from '../../../src-shared/devices/sle4442.ts';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { DeviceCancelledError } from '../errors.ts';
import type { ApduTransport } from '../transports/pcsc.ts';
import { CommandQueue, withTimeout } from './channel.ts';

/**
 * SLE4442 / SLE5542 memory cards through a PC/SC reader profile (hardware.md §3). The rules that protect the card:
 * read the error counter before any PSC and refuse when tries are already low (an operator decides, never the
 * program); present a PSC once per call and never retry it; refuse a card that belongs to another meter; write the
 * purchase record, read it back and compare before it counts as written. PSC bytes never appear in any message.
 */

export type IcPhase = 'insert-card' | 'writing' | 'verifying';

export interface IcOperationOptions {
  signal?: AbortSignal;
  /** How long to wait for a card to be inserted (default 30 s). */
  insertTimeoutMs?: number;
  onPhase?: (phase: IcPhase) => void;
}

export interface IcWriteRequest extends IcOperationOptions {
  content: CarrierContent & { meterNo: string };
  layout: IcCardLayoutCodec;
  /** 3 bytes from the outlet's sealed settings. */
  psc: Uint8Array;
}

export interface IcCardEncoder {
  waitForCard(options?: IcOperationOptions): Promise<Uint8Array>;
  readMemory(address: number, length: number): Promise<Uint8Array>;
  errorCounter(): Promise<ErrorCounterStatus>;
  /** Checks the error counter first; one attempt, never retried. */
  presentPsc(psc: Uint8Array): Promise<PscOutcome>;
  /** Update then read back and compare (needs a presented PSC). */
  writeMemory(address: number, data: Uint8Array): Promise<void>;
  readRecord(layout: IcCardLayoutCodec, options?: IcOperationOptions): Promise<CarrierContent | null>;
  writeRecord(request: IcWriteRequest): Promise<CarrierContent>;
  close(): Promise<void>;
}

export interface Sle4442EncoderOptions {
  /** Per APDU (default 2000 ms). */
  commandTimeoutMs?: number;
  insertTimeoutMs?: number;
  /** Tries that must be left before a PSC is presented (default 3: any earlier wrong attempt stops). */
  minTriesLeft?: number;
  /** Refuse cards whose ATR is not an SLE4442/5542 (default true). */
  checkAtr?: boolean;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export class Sle4442Encoder implements IcCardEncoder {
  readonly transport: ApduTransport;
  readonly profile: Sle4442ReaderProfile;
  readonly queue = new CommandQueue();
  readonly #options: Required<Sle4442EncoderOptions>;

  constructor(transport: ApduTransport, profile: Sle4442ReaderProfile, options: Sle4442EncoderOptions = {}) {
    this.transport = transport;
    this.profile = profile;
    this.#options = {
      commandTimeoutMs: 2000,
      insertTimeoutMs: 30_000,
      minTriesLeft: SLE4442_MAX_TRIES,
      checkAtr: true,
      ...options,
    };
  }

  waitForCard(options: IcOperationOptions = {}): Promise<Uint8Array> {
    return this.queue.run(() => this.#prepareCard(options));
  }

  async readMemory(address: number, length: number): Promise<Uint8Array> {
    const apdu = this.profile.readMain(address, length);
    return this.#withCard(() => this.#transmit(apdu, 'read'));
  }

  errorCounter(): Promise<ErrorCounterStatus> {
    return this.#withCard(() => this.#errorCounter());
  }

  async presentPsc(psc: Uint8Array): Promise<PscOutcome> {
    const apdu = this.profile.verifyPsc(psc);
    return this.#withCard(() => this.#presentPsc(apdu));
  }

  async writeMemory(address: number, data: Uint8Array): Promise<void> {
    const apdu = this.profile.updateMain(address, data);
    return this.#withCard(() => this.#writeAndVerify(apdu, address, data));
  }

  readRecord(layout: IcCardLayoutCodec, options: IcOperationOptions = {}): Promise<CarrierContent | null> {
    return this.queue.run(async () => {
      await this.#prepareCard(options);
      const bytes = await this.#transmit(this.profile.readMain(layout.address, layout.readLength), 'read');
      return layout.decode(bytes);
    });
  }

  async writeRecord(request: IcWriteRequest): Promise<CarrierContent> {
    const { layout, content } = request;
    // Encode and build every APDU first: bad input fails before the card is touched.
    const record = layout.encode(content);
    const verify = this.profile.verifyPsc(request.psc);
    const update = this.profile.updateMain(layout.address, record);
    return this.queue.run(async () => {
      await this.#prepareCard(request);
      const current = layout.decode(
        await this.#transmit(this.profile.readMain(layout.address, layout.readLength), 'read'),
      );
      assertCardForMeter(current, content.meterNo);
      await this.#presentPsc(verify);
      request.onPhase?.('writing');
      await this.#writeAndVerify(update, layout.address, record, request.onPhase);
      const readBack = await this.#transmit(this.profile.readMain(layout.address, layout.readLength), 'read');
      return layout.decode(readBack) ?? { tokens: [] };
    });
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** One command at a time, on an open reader with a card (already inserted: low-level calls do not wait). */
  #withCard<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      if (!this.transport.isOpen) await this.#prepareCard({});
      else if (!this.transport.card)
        throw new DisconnectedError('ic-encoder', 'no card in the reader (removed)');
      return fn();
    });
  }

  async #prepareCard(options: IcOperationOptions): Promise<Uint8Array> {
    if (!this.transport.isOpen) {
      try {
        await this.transport.open();
      } catch (error) {
        if (isOpenVendError(error)) throw error;
        throw new DisconnectedError('ic-encoder', `${this.transport.info.path}: ${(error as Error).message}`);
      }
    }
    if (!this.transport.card) options.onPhase?.('insert-card');
    const waitMs = options.insertTimeoutMs ?? this.#options.insertTimeoutMs;
    const atr = await withTimeout(
      this.transport.waitForCard(options.signal).catch((error: unknown) => {
        if (options.signal?.aborted) throw new DeviceCancelledError('waiting for an IC card cancelled');
        throw new DisconnectedError('ic-encoder', `waiting for a card: ${(error as Error).message}`);
      }),
      waitMs,
      () => new DeviceTimeoutError('ic-encoder', `no card inserted within ${waitMs} ms`),
    );
    if (this.#options.checkAtr && !matchesSle4442Atr(atr)) {
      throw new WrongCardError(
        `ATR ${hex(atr)} is not an SLE4442/5542 memory card`,
        'This is not the right type of card (an SLE4442 memory card is needed). Insert the customer’s meter card.',
      );
    }
    const select = this.profile.selectCard;
    if (select) await this.#transmit(select(), 'select');
    return atr;
  }

  async #errorCounter(): Promise<ErrorCounterStatus> {
    const read = this.profile.readErrorCounter;
    if (!read) {
      throw new ProtocolError(
        'ic-encoder',
        `profile ${this.profile.id} cannot read the error counter`,
        'This card reader cannot check how many security-code tries the card has left, so the card is not unlocked. Choose the right reader type in the device settings.',
      );
    }
    return decodeErrorCounter(await this.#transmit(read(), 'read-error-counter'));
  }

  async #presentPsc(apdu: Uint8Array): Promise<PscOutcome> {
    assertSafeToPresentPsc(await this.#errorCounter(), this.#options.minTriesLeft);
    const response = await this.#rawTransmit(apdu, 'verify');
    return this.profile.verifyOutcome(splitApduResponse(response));
  }

  async #writeAndVerify(
    update: Uint8Array,
    address: number,
    data: Uint8Array,
    onPhase?: (phase: IcPhase) => void,
  ): Promise<void> {
    await this.#transmit(update, 'write');
    onPhase?.('verifying');
    const readBack = await this.#transmit(this.profile.readMain(address, data.length), 'read');
    assertRecordReadBack(data, readBack);
  }

  async #transmit(apdu: Uint8Array, operation: Sle4442Operation): Promise<Uint8Array> {
    return checkApduResponse(await this.#rawTransmit(apdu, operation), operation);
  }

  #rawTransmit(apdu: Uint8Array, operation: Sle4442Operation): Promise<Uint8Array> {
    const ms = this.#options.commandTimeoutMs;
    return withTimeout(
      this.transport.transmit(apdu).catch((error: unknown) => {
        throw new DisconnectedError('ic-encoder', `${operation}: ${(error as Error).message}`);
      }),
      ms,
      () => new DeviceTimeoutError('ic-encoder', `${operation}: no response within ${ms} ms`),
    );
  }
}
