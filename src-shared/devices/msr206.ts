import { bytesToHex } from '../encoding/hex.ts';
import { DeviceDataError, type DeviceError, ProtocolError, SwipeError } from './device-errors.ts';
import {
  requireTrackNumber,
  TRACK_FORMATS,
  TRACK_NUMBERS,
  type TrackNumber,
  type TrackSet,
  validateTrackData,
} from './iso-track.ts';

/**
 * MSR206 / MSR605 command and reply codec (hardware.md §2.2–2.3; the MSR605X speaks the same protocol inside
 * 64-byte HID reports, see msr605x-hid.ts). Every command starts with ESC; replies start with ESC too.
 *
 * A driver keeps one command in flight: it calls `parser.expect(command.reply)` (when not null), writes
 * `command.bytes`, and feeds every received chunk to `parser.push`, which returns complete replies however the bytes
 * were split or merged. Bytes before a reply's ESC, or arriving when no reply is expected, are dropped as garbage
 * (drain stale input before a command; the parser cannot tell a stale ESC from a fresh one).
 */

const ESC = 0x1b;
const FS = 0x1c;
const END = 0x3f; // '?' closes the data block, before FS

export const MSR_STATUS = {
  ok: 0x30,
  readWriteError: 0x31,
  commandFormatError: 0x32,
  invalidCommand: 0x34,
  invalidSwipe: 0x39,
  /** ESC 'A': a configuration command failed. */
  failed: 0x41,
} as const;

/** What a command's reply looks like, so the parser knows where it ends. */
export type MsrReplyKind =
  | 'ack'
  | 'status'
  | 'bpc'
  | 'coercivity'
  | 'leading-zeros'
  | 'model'
  | 'firmware'
  | 'iso-read';

export interface MsrCommand {
  name: string;
  bytes: Uint8Array;
  /** null: the device sends no reply (reset, LEDs). */
  reply: MsrReplyKind | null;
  /** The device waits for a person to swipe a card: use a long, cancellable wait (cancel = reset). */
  waitsForSwipe: boolean;
}

const command = (
  name: string,
  reply: MsrReplyKind | null,
  bytes: number[],
  waitsForSwipe = false,
): MsrCommand => ({
  name,
  bytes: Uint8Array.from(bytes),
  reply,
  waitsForSwipe,
});

export type Bpi = 75 | 210;
export type LedCommand = 'off' | 'all' | 'green' | 'yellow' | 'red';

/** Select-BPI bytes per track from the MSR605 manual (one public driver swaps tracks 2 and 3: do not). */
const BPI_BYTES: Readonly<Record<TrackNumber, Readonly<Record<Bpi, number>>>> = {
  1: { 210: 0xa1, 75: 0xa0 },
  2: { 210: 0xd2, 75: 0x4b },
  3: { 210: 0xc1, 75: 0xc0 },
};

const LED_BYTES: Readonly<Record<LedCommand, number>> = {
  off: 0x81,
  all: 0x82,
  green: 0x83,
  yellow: 0x84,
  red: 0x85,
};

function requireInteger(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DeviceDataError(
      `The card encoder setting "${what}" must be a whole number from ${min} to ${max}.`,
      `${what} ${JSON.stringify(value)} is outside ${min}..${max}`,
    );
  }
  return value;
}

export interface WriteIsoOptions {
  /** Drop the ESC n marker of tracks not written, instead of sending it empty. Verify on your unit. */
  omitUnwrittenMarkers?: boolean;
}

/** Command builders. Track data is data only: the device adds sentinels and LRC. */
export const msrCommands = {
  /** ESC a: also aborts a pending read or write wait. No reply. */
  reset: (): MsrCommand => command('reset', null, [ESC, 0x61]),
  /** ESC e → ESC y: the presence probe and heartbeat. */
  communicationTest: (): MsrCommand => command('communication test', 'ack', [ESC, 0x65]),
  firmware: (): MsrCommand => command('firmware', 'firmware', [ESC, 0x76]),
  model: (): MsrCommand => command('model', 'model', [ESC, 0x74]),
  setHiCo: (): MsrCommand => command('set Hi-Co', 'status', [ESC, 0x78]),
  setLoCo: (): MsrCommand => command('set Lo-Co', 'status', [ESC, 0x79]),
  getCoercivity: (): MsrCommand => command('get coercivity', 'coercivity', [ESC, 0x64]),
  setBpi: (track: TrackNumber, bpi: Bpi): MsrCommand => {
    const byte = BPI_BYTES[requireTrackNumber(track)][bpi] as number | undefined;
    if (byte === undefined) {
      throw new DeviceDataError(
        'The track density must be 75 or 210 BPI.',
        `BPI ${JSON.stringify(bpi)} is not 75 or 210`,
      );
    }
    return command(`set track ${track} to ${bpi} BPI`, 'status', [ESC, 0x62, byte]);
  },
  /** Bits per character per track, 5–8 (ISO: 7, 5, 5). */
  setBpc: (track1: number, track2: number, track3: number): MsrCommand =>
    command('set BPC', 'bpc', [
      ESC,
      0x6f,
      requireInteger(track1, 5, 8, 'track 1 bits per character'),
      requireInteger(track2, 5, 8, 'track 2 bits per character'),
      requireInteger(track3, 5, 8, 'track 3 bits per character'),
    ]),
  /** Leading zeros for tracks 1 and 3, and for track 2 (defaults 61 and 22). */
  setLeadingZeros: (tracks13: number, track2: number): MsrCommand =>
    command('set leading zeros', 'status', [
      ESC,
      0x7a,
      requireInteger(tracks13, 0, 255, 'leading zeros (tracks 1 and 3)'),
      requireInteger(track2, 0, 255, 'leading zeros (track 2)'),
    ]),
  checkLeadingZeros: (): MsrCommand => command('check leading zeros', 'leading-zeros', [ESC, 0x6c]),
  readIso: (): MsrCommand => command('read (ISO)', 'iso-read', [ESC, 0x72], true),
  /** ESC w ESC s ESC 01 t1 ESC 02 t2 ESC 03 t3 ? FS. */
  writeIso: (tracks: TrackSet, options: WriteIsoOptions = {}): MsrCommand => {
    const written = TRACK_NUMBERS.filter((t) => tracks[t] !== undefined);
    if (written.length === 0) {
      throw new DeviceDataError('There is nothing to write on the card.', 'ISO write with no track data');
    }
    const bytes = [ESC, 0x77, ESC, 0x73];
    for (const track of TRACK_NUMBERS) {
      const data = tracks[track];
      if (data === undefined && options.omitUnwrittenMarkers) continue;
      bytes.push(ESC, track);
      if (data !== undefined) for (const ch of validateTrackData(track, data)) bytes.push(ch.charCodeAt(0));
    }
    bytes.push(END, FS);
    return command(`write (ISO) tracks ${written.join(', ')}`, 'status', bytes, true);
  },
  /** ESC c mask: 0x01 track 1, 0x02 track 2, 0x04 track 3. */
  erase: (tracks: readonly TrackNumber[]): MsrCommand => {
    let mask = 0;
    for (const track of tracks) mask |= 1 << (requireTrackNumber(track) - 1);
    if (mask === 0) {
      throw new DeviceDataError('Choose at least one track to erase.', 'erase with no track selected');
    }
    return command(
      `erase tracks ${[...new Set(tracks)].sort().join(', ')}`,
      'status',
      [ESC, 0x63, mask],
      true,
    );
  },
  led: (led: LedCommand): MsrCommand => command(`LED ${led}`, null, [ESC, LED_BYTES[led]]),
  sensorTest: (): MsrCommand => command('sensor test', 'status', [ESC, 0x86], true),
  ramTest: (): MsrCommand => command('RAM test', 'status', [ESC, 0x87]),
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Replies

export interface IsoReadReply {
  kind: 'iso-read';
  status: number;
  /** Track data with sentinels removed, for tracks that read. */
  tracks: TrackSet;
  /** Tracks with no data (empty marker, or ESC '+'). */
  empty: TrackNumber[];
  /** Tracks the device flagged bad (ESC '*') or whose text is not a valid ISO track. */
  unreadable: TrackNumber[];
}

export type MsrReply =
  | { kind: 'ack' }
  /** ESC + status: the reply of status commands, and the failure form of every command. */
  | { kind: 'status'; status: number }
  | { kind: 'bpc'; status: number; bpc: [number, number, number] }
  | { kind: 'coercivity'; coercivity: 'hi' | 'lo' }
  | { kind: 'leading-zeros'; tracks13: number; track2: number }
  | { kind: 'model'; model: string }
  | { kind: 'firmware'; version: string }
  | IsoReadReply
  | { kind: 'malformed'; error: ProtocolError; bytes: Uint8Array };

/** Longest ISO read block we wait for before declaring the stream broken (3 tracks of 79 + 40 + 107 plus framing). */
const MAX_BLOCK = 512;

type Parsed = { reply: MsrReply; consumed: number } | null;

function malformed(bytes: readonly number[], consumed: number, detail: string): Parsed {
  const taken = bytes.slice(0, consumed);
  return {
    reply: {
      kind: 'malformed',
      error: new ProtocolError(
        'magnetic-encoder',
        `${detail}; bytes: ${bytesToHex(Uint8Array.from(taken.slice(0, 64)))}`,
      ),
      bytes: Uint8Array.from(taken),
    },
    consumed,
  };
}

const status = (byte: number): Parsed => ({ reply: { kind: 'status', status: byte }, consumed: 2 });

function parseIsoBlock(buf: readonly number[]): Parsed {
  const fs = buf.indexOf(FS, 2);
  if (fs < 0) return buf.length > MAX_BLOCK ? malformed(buf, buf.length, 'ISO read block never ended') : null;
  if (buf.length < fs + 3) return null;
  if (buf[fs + 1] !== ESC) return malformed(buf, fs + 2, 'ISO read block not followed by ESC status');
  const consumed = fs + 3;
  if (buf[fs - 1] !== END) return malformed(buf, consumed, 'ISO read block does not end with ? FS');
  const body = buf.slice(2, fs - 1);
  const reply: IsoReadReply = {
    kind: 'iso-read',
    status: buf[fs + 2]!,
    tracks: {},
    empty: [],
    unreadable: [],
  };
  const seen = new Set<number>();
  let i = 0;
  while (i < body.length) {
    const track = body[i + 1];
    if (body[i] !== ESC || (track !== 1 && track !== 2 && track !== 3) || seen.has(track)) {
      return malformed(buf, consumed, `unexpected byte in ISO read block at ${i + 2}`);
    }
    seen.add(track);
    i += 2;
    let flag: number | null = null;
    const content: number[] = [];
    while (i < body.length && !(body[i] === ESC && body[i + 1] !== 0x2b && body[i + 1] !== 0x2a)) {
      if (body[i] === ESC) {
        flag = body[i + 1]!;
        i += 2;
      } else content.push(body[i++]!);
    }
    const text = String.fromCharCode(...content);
    const format = TRACK_FORMATS[track];
    if (flag === 0x2a) reply.unreadable.push(track);
    else if (text === '' || flag === 0x2b) reply.empty.push(track);
    else if (text.length >= 2 && text.startsWith(format.startSentinel) && text.endsWith(format.endSentinel)) {
      try {
        reply.tracks[track] = validateTrackData(track, text.slice(1, -1));
      } catch {
        reply.unreadable.push(track);
      }
    } else reply.unreadable.push(track);
  }
  return { reply, consumed };
}

/** One reply of `kind` from a buffer that starts with ESC; null when more bytes are needed. */
function parseReply(kind: MsrReplyKind, buf: readonly number[]): Parsed {
  if (buf.length < 2) return null;
  const b1 = buf[1]!;
  switch (kind) {
    case 'status':
      return status(b1);
    case 'ack':
      return b1 === 0x79 ? { reply: { kind: 'ack' }, consumed: 2 } : status(b1);
    case 'coercivity': {
      const c = String.fromCharCode(b1).toUpperCase();
      // The MSR605X answers lower case.
      return c === 'H' || c === 'L'
        ? { reply: { kind: 'coercivity', coercivity: c === 'H' ? 'hi' : 'lo' }, consumed: 2 }
        : status(b1);
    }
    case 'leading-zeros':
      return buf.length < 3
        ? null
        : { reply: { kind: 'leading-zeros', tracks13: b1, track2: buf[2]! }, consumed: 3 };
    case 'bpc':
      if (b1 !== MSR_STATUS.ok) return status(b1);
      return buf.length < 5
        ? null
        : { reply: { kind: 'bpc', status: b1, bpc: [buf[2]!, buf[3]!, buf[4]!] }, consumed: 5 };
    case 'model':
      if (b1 === MSR_STATUS.failed) return status(b1);
      if (buf.length < 3) return null;
      if (buf[2] === 0x53) return { reply: { kind: 'model', model: String.fromCharCode(b1) }, consumed: 3 };
      return malformed(buf, 3, 'model reply does not end with S');
    case 'firmware': {
      // "REV?X.XX": 8 characters after ESC.
      if (b1 !== 0x52) return status(b1);
      if (buf.length < 9) return null;
      const version = String.fromCharCode(...buf.slice(1, 9));
      return /^REV[\x20-\x7e]{5}$/.test(version)
        ? { reply: { kind: 'firmware', version }, consumed: 9 }
        : malformed(buf, 9, 'firmware reply is not REV plus 5 characters');
    }
    case 'iso-read':
      return b1 === 0x73 ? parseIsoBlock(buf) : status(b1);
  }
}

/** Streaming reply parser: accepts chunks, returns complete replies in order. */
export class MsrReplyParser {
  #buffer: number[] = [];
  readonly #expected: MsrReplyKind[] = [];
  #discarded = 0;

  /** Announce the reply of the command about to be written. */
  expect(kind: MsrReplyKind): void {
    this.#expected.push(kind);
  }

  push(chunk: Uint8Array): MsrReply[] {
    for (const byte of chunk) this.#buffer.push(byte);
    const replies: MsrReply[] = [];
    while (this.#buffer.length > 0) {
      const kind = this.#expected[0];
      const start = this.#buffer.indexOf(ESC);
      if (kind === undefined || start < 0) {
        this.#discard(this.#buffer.length);
        break;
      }
      this.#discard(start);
      const parsed = parseReply(kind, this.#buffer);
      if (parsed === null) break;
      this.#buffer = this.#buffer.slice(parsed.consumed);
      this.#expected.shift();
      replies.push(parsed.reply);
    }
    return replies;
  }

  /** After a timeout, cancel or reset: forget buffered bytes and pending expectations. */
  reset(): void {
    this.#buffer = [];
    this.#expected.length = 0;
  }

  get pendingReplies(): number {
    return this.#expected.length;
  }

  /** Garbage bytes dropped so far (for diagnostics). */
  get discardedBytes(): number {
    return this.#discarded;
  }

  #discard(count: number): void {
    if (count === 0) return;
    this.#discarded += count;
    this.#buffer = this.#buffer.slice(count);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Status → typed errors

export type MsrOperation = 'read' | 'write' | 'erase' | 'command';

/** The typed error for a status byte, or null for 0x30 (OK). */
export function msrStatusError(statusByte: number, operation: MsrOperation): DeviceError | null {
  const code = `0x${statusByte.toString(16).padStart(2, '0')}`;
  switch (statusByte) {
    case MSR_STATUS.ok:
      return null;
    case MSR_STATUS.readWriteError:
      return new SwipeError(operation !== 'read', `${operation}: read/write error (${code})`);
    case MSR_STATUS.invalidSwipe:
      return new SwipeError(true, `${operation}: invalid card swipe in write mode (${code})`);
    case MSR_STATUS.commandFormatError:
      return new ProtocolError('magnetic-encoder', `${operation}: command format error (${code})`);
    case MSR_STATUS.invalidCommand:
      return new ProtocolError(
        'magnetic-encoder',
        `${operation}: invalid command (${code})`,
        'This card encoder does not support that command. Check the encoder model in the device settings.',
      );
    case MSR_STATUS.failed:
      return new ProtocolError(
        'magnetic-encoder',
        `${operation}: command failed (ESC A)`,
        'The card encoder could not carry out the command. Switch it off and on, then try again.',
      );
    default:
      return new ProtocolError('magnetic-encoder', `${operation}: unknown status byte ${code}`);
  }
}

/** Throws the typed error for a malformed or failed reply; returns the reply otherwise. */
export function assertMsrOk<R extends MsrReply>(reply: R, operation: MsrOperation): R {
  if (reply.kind === 'malformed') throw reply.error;
  if (reply.kind === 'status' || reply.kind === 'iso-read' || reply.kind === 'bpc') {
    const error = msrStatusError(reply.status, operation);
    if (error) throw error;
  }
  return reply;
}
