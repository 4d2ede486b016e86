import { TRACK_FORMATS, TRACK_NUMBERS, type TrackSet } from '../../../src-shared/devices/iso-track.ts';
import type { ByteTransport } from '../transports/transport.ts';

/**
 * A simulated MSR206/MSR605 (or MSR605X when behind the HID framing) behind any byte transport. It holds one card
 * (its tracks, as data without sentinels) and answers the command set of hardware.md §2.2: probe, coercivity, BPI,
 * BPC, leading zeros, ISO read/write, erase, reset and LEDs. Read, write and erase wait for a swipe: `swipe()` does
 * it, or `autoSwipe` swipes the held card at once. Scripted faults: a failed swipe (0x31 / 0x39), a write that
 * stores something else (read-back mismatch), garbage before the next reply, replies split into small chunks, and
 * a mute device (for timeouts).
 */

export interface MsrSimulatorOptions {
  model?: 'msr206' | 'msr605x';
  /** Swipe the held card as soon as a read/write/erase waits (demo mode). */
  autoSwipe?: boolean;
  /** Deliver each reply in chunks of this many bytes (split-reply tests). */
  chunkSize?: number;
  card?: TrackSet | null;
  firmware?: string;
}

type Pending = { kind: 'read' } | { kind: 'write'; tracks: TrackSet } | { kind: 'erase'; mask: number };

const ESC = 0x1b;
const FS = 0x1c;
const OK = 0x30;

/** Fixed command lengths (including ESC); write (0x77) runs to `? FS`. */
const LENGTHS: Readonly<Record<number, number>> = {
  97: 2,
  101: 2,
  118: 2,
  116: 2,
  120: 2,
  121: 2,
  100: 2,
  98: 3,
  111: 5,
  122: 4,
  108: 2,
  114: 2,
  99: 3,
  109: 2,
  129: 2,
  130: 2,
  131: 2,
  132: 2,
  133: 2,
  134: 2,
  135: 2,
};

export class MsrSimulator {
  readonly #transport: ByteTransport;
  readonly #options: MsrSimulatorOptions;
  #buffer: number[] = [];
  #pending: Pending | null = null;
  #failNextSwipe: number | null = null;
  #corruptNextWrite = false;
  #garbage: number[] = [];
  card: TrackSet | null;
  coercivity: 'hi' | 'lo' = 'hi';
  leadingZeros: [number, number] = [61, 22];
  bpc: [number, number, number] = [7, 5, 5];
  led = 'off';
  /** Stop answering (the device hangs). */
  mute = false;
  /** Every command received, by first byte after ESC (for tests). */
  readonly commands: number[] = [];
  readonly #offData: () => void;

  constructor(transport: ByteTransport, options: MsrSimulatorOptions = {}) {
    this.#transport = transport;
    this.#options = options;
    this.card = options.card === undefined ? null : options.card;
    this.#offData = transport.onData((chunk) => this.#receive(chunk));
  }

  /** What the device waits for a swipe to do, if anything. */
  get waitingFor(): Pending['kind'] | null {
    return this.#pending?.kind ?? null;
  }

  insertCard(tracks: TrackSet | null): void {
    this.card = tracks === null ? null : { ...tracks };
  }

  /** The next swipe fails with this status (0x31 read/write error, 0x39 invalid swipe in write mode). */
  failNextSwipe(status: 0x31 | 0x39 = 0x31): void {
    this.#failNextSwipe = status;
  }

  /** The next write stores a different last digit on every track written (a weak or damaged stripe). */
  corruptNextWrite(): void {
    this.#corruptNextWrite = true;
  }

  /** Bytes sent before the next reply (line noise). */
  injectGarbage(bytes: readonly number[]): void {
    this.#garbage.push(...bytes);
  }

  /** A person swipes the held card (or the given one) through the slot. Returns false when nothing waited. */
  swipe(card?: TrackSet): boolean {
    const pending = this.#pending;
    if (!pending) return false;
    if (card) this.insertCard(card);
    this.#pending = null;
    const fail = this.#failNextSwipe;
    this.#failNextSwipe = null;
    if (fail !== null || this.card === null) {
      this.#reply([ESC, fail ?? 0x31]);
      return true;
    }
    if (pending.kind === 'read') this.#reply(this.#readBlock(this.card));
    else if (pending.kind === 'write') {
      const stored = { ...this.card };
      for (const track of TRACK_NUMBERS) {
        const data = pending.tracks[track];
        if (data === undefined) continue;
        stored[track] = this.#corruptNextWrite ? corrupt(data) : data;
      }
      this.#corruptNextWrite = false;
      this.card = stored;
      this.#reply([ESC, OK]);
    } else {
      const stored = { ...this.card };
      for (const track of TRACK_NUMBERS) if (pending.mask & (1 << (track - 1))) delete stored[track];
      this.card = stored;
      this.#reply([ESC, OK]);
    }
    return true;
  }

  detach(): void {
    this.#offData();
  }

  #receive(chunk: Uint8Array): void {
    this.#buffer.push(...chunk);
    for (;;) {
      const start = this.#buffer.indexOf(ESC);
      if (start < 0) {
        this.#buffer = [];
        return;
      }
      this.#buffer = this.#buffer.slice(start);
      const length = this.#commandLength();
      if (length === 0) return;
      const command = this.#buffer.slice(0, length);
      this.#buffer = this.#buffer.slice(length);
      this.#handle(command);
    }
  }

  /** Length of the command at the start of the buffer; 0 when incomplete. */
  #commandLength(): number {
    const b = this.#buffer;
    if (b.length < 2) return 0;
    if (b[1] === 0x77) {
      for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0x3f && b[i + 1] === FS) return i + 2;
      return 0;
    }
    const length = LENGTHS[b[1]!] ?? 2;
    return b.length >= length ? length : 0;
  }

  #handle(command: number[]): void {
    const reply = this.#answer(command);
    if (reply) this.#reply(reply);
  }

  /** The reply to a command, or null (no reply, or the device now waits for a swipe). */
  #answer(command: number[]): number[] | null {
    const op = command[1]!;
    this.commands.push(op);
    if (op === 0x61) {
      this.#pending = null; // reset aborts a swipe wait; no reply
      return null;
    }
    if (op >= 0x81 && op <= 0x85) {
      this.led = ['off', 'all', 'green', 'yellow', 'red'][op - 0x81]!;
      return null;
    }
    const lower = this.#options.model === 'msr605x';
    switch (op) {
      case 0x65:
        return [ESC, 0x79];
      case 0x76:
        return [ESC, ...ascii(this.#options.firmware ?? 'REV01.00')];
      case 0x74:
        return [ESC, 0x33, 0x53];
      case 0x78:
      case 0x79:
        this.coercivity = op === 0x78 ? 'hi' : 'lo';
        return [ESC, OK];
      case 0x64: {
        const letter = this.coercivity === 'hi' ? 'H' : 'L';
        return [ESC, (lower ? letter.toLowerCase() : letter).charCodeAt(0)];
      }
      case 0x62:
        return [ESC, [0xa1, 0xa0, 0xd2, 0x4b, 0xc1, 0xc0].includes(command[2]!) ? OK : 0x41];
      case 0x6f:
        this.bpc = [command[2]!, command[3]!, command[4]!];
        return [ESC, OK, ...this.bpc];
      case 0x7a:
        this.leadingZeros = [command[2]!, command[3]!];
        return [ESC, OK];
      case 0x6c:
        return [ESC, ...this.leadingZeros];
      case 0x72:
        return this.#wait({ kind: 'read' });
      case 0x63:
        return this.#wait({ kind: 'erase', mask: command[2]! });
      case 0x77: {
        const tracks = parseWriteBlock(command);
        if (!tracks) return [ESC, 0x32];
        return this.#wait({ kind: 'write', tracks });
      }
      case 0x86:
      case 0x87:
        return [ESC, lower ? 0x34 : OK];
      default:
        return [ESC, 0x34];
    }
  }

  #wait(pending: Pending): null {
    this.#pending = pending;
    if (this.#options.autoSwipe && this.card !== null) setImmediate(() => this.swipe());
    return null;
  }

  #readBlock(card: TrackSet): number[] {
    const out = [ESC, 0x73];
    for (const track of TRACK_NUMBERS) {
      out.push(ESC, track);
      const data = card[track];
      if (data !== undefined && data !== '') {
        const f = TRACK_FORMATS[track];
        out.push(...ascii(`${f.startSentinel}${data}${f.endSentinel}`));
      }
    }
    out.push(0x3f, FS, ESC, OK);
    return out;
  }

  #reply(bytes: number[]): void {
    if (this.mute || !this.#transport.isOpen) return;
    const all = [...this.#garbage, ...bytes];
    this.#garbage = [];
    const size = this.#options.chunkSize ?? all.length;
    for (let i = 0; i < all.length; i += size) {
      void this.#transport.write(Uint8Array.from(all.slice(i, i + size))).catch(() => undefined);
    }
  }
}

const ascii = (text: string): number[] => Array.from(text, (ch) => ch.charCodeAt(0));

/** The last character replaced by another digit (keeps the data a valid track). */
const corrupt = (data: string): string => data.slice(0, -1) + (data.endsWith('0') ? '1' : '0');

/** ESC w ESC s [ESC n data]… ? FS → tracks; null when malformed. */
function parseWriteBlock(command: number[]): TrackSet | null {
  if (command[2] !== ESC || command[3] !== 0x73) return null;
  const body = command.slice(4, -2);
  const tracks: TrackSet = {};
  let i = 0;
  while (i < body.length) {
    const track = body[i + 1];
    if (body[i] !== ESC || (track !== 1 && track !== 2 && track !== 3)) return null;
    i += 2;
    let data = '';
    while (i < body.length && body[i] !== ESC) data += String.fromCharCode(body[i++]!);
    if (data !== '') tracks[track] = data;
  }
  return tracks;
}
