import { CardDataError, DeviceDataError, WriteVerifyFailedError } from './device-errors.ts';

/**
 * ISO/IEC 7811 magnetic track characters (hardware.md §2.4).
 *
 * - Track 1: 6 data bits + odd parity, ASCII 0x20–0x5F (value = ASCII − 0x20), sentinels % and ?, 76 data characters.
 * - Tracks 2 and 3: 4 data bits + odd parity, ASCII 0x30–0x3F (value = ASCII − 0x30), sentinels ; and ?,
 *   37 and 104 data characters.
 * - LRC: XOR of the data bits of every character from the start sentinel through the end sentinel, then its own odd
 *   parity bit. Bits are recorded least significant first, parity bit last.
 *
 * "Data" below never includes sentinels or the LRC: encoders in ISO mode add them on write (and return the sentinels
 * on read), so a read-back compare works on data only.
 */

export type TrackNumber = 1 | 2 | 3;
export const TRACK_NUMBERS: readonly TrackNumber[] = [1, 2, 3];

/** Track data keyed by track number, without sentinels. A missing key means "not written / not read". */
export type TrackSet = Partial<Record<TrackNumber, string>>;

export interface TrackFormat {
  track: TrackNumber;
  dataBits: 6 | 4;
  asciiOffset: number;
  startSentinel: string;
  endSentinel: string;
  fieldSeparator: string;
  /** Data characters, sentinels and LRC excluded. */
  maxDataChars: number;
  bpi: 210 | 75;
  /** For messages: what the track can hold. */
  allowed: string;
}

export const TRACK_FORMATS: Readonly<Record<TrackNumber, TrackFormat>> = {
  1: {
    track: 1,
    dataBits: 6,
    asciiOffset: 0x20,
    startSentinel: '%',
    endSentinel: '?',
    fieldSeparator: '^',
    maxDataChars: 76,
    bpi: 210,
    allowed:
      'capital letters, digits, spaces and the signs ! " # $ & \' ( ) * + , - . / : ; < = > @ [ \\ ] ^ _',
  },
  2: {
    track: 2,
    dataBits: 4,
    asciiOffset: 0x30,
    startSentinel: ';',
    endSentinel: '?',
    fieldSeparator: '=',
    maxDataChars: 37,
    bpi: 75,
    allowed: 'digits 0-9 and the signs : < = >',
  },
  3: {
    track: 3,
    dataBits: 4,
    asciiOffset: 0x30,
    startSentinel: ';',
    endSentinel: '?',
    fieldSeparator: '=',
    maxDataChars: 104,
    bpi: 210,
    allowed: 'digits 0-9 and the signs : < = >',
  },
};

export function requireTrackNumber(track: number): TrackNumber {
  if (track !== 1 && track !== 2 && track !== 3) {
    throw new DeviceDataError(
      'A magnetic card has tracks 1, 2 and 3 only.',
      `track ${JSON.stringify(track)} is not 1, 2 or 3`,
    );
  }
  return track;
}

/** The character's value on the track, or -1 when it is outside the track's 6-bit / 4-bit set. */
export function characterValue(track: TrackNumber, ch: string): number {
  const { asciiOffset, dataBits } = TRACK_FORMATS[track];
  const value = ch.length === 1 ? ch.charCodeAt(0) - asciiOffset : -1;
  return value >= 0 && value < 1 << dataBits ? value : -1;
}

/** The odd-parity bit: 1 when the data bits hold an even number of ones. */
export function oddParityBit(value: number): 0 | 1 {
  let ones = 0;
  for (let v = value; v > 0; v >>>= 1) ones += v & 1;
  return ones % 2 === 0 ? 1 : 0;
}

/** A character value with its parity bit on top (7-bit code for track 1, 5-bit for tracks 2/3). */
export const withParity = (value: number, dataBits: number): number =>
  value | (oddParityBit(value) << dataBits);

/** Checks data (no sentinels) against the track's characters and capacity; returns it unchanged. */
export function validateTrackData(track: TrackNumber, data: string): string {
  const format = TRACK_FORMATS[track];
  let position = 0;
  for (const ch of data) {
    position++;
    const shown = JSON.stringify(ch);
    if (ch === format.startSentinel || ch === format.endSentinel) {
      throw new DeviceDataError(
        `Track ${track} data cannot contain ${shown} (position ${position}): it marks the start or end of the track.`,
        `track ${track}: sentinel ${shown} at position ${position} inside the data`,
      );
    }
    if (characterValue(track, ch) < 0) {
      const hint = track === 1 && /\p{Ll}/u.test(ch) ? ' Use capital letters.' : '';
      throw new DeviceDataError(
        `Track ${track} cannot hold ${shown} (position ${position}): it takes ${format.allowed} only.${hint}`,
        `track ${track}: character ${shown} (U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}) at position ${position} is outside the track character set`,
      );
    }
  }
  if (data.length > format.maxDataChars) {
    throw new DeviceDataError(
      `Track ${track} holds at most ${format.maxDataChars} characters; this data has ${data.length}.`,
      `track ${track}: ${data.length} data characters exceed the capacity of ${format.maxDataChars}`,
    );
  }
  return data;
}

export interface TrackLrc {
  /** XOR of the data bits, 0–63 (track 1) or 0–15 (tracks 2/3). */
  value: number;
  parity: 0 | 1;
  /** Value with its parity bit, as recorded. */
  code: number;
  /** The character with the LRC's value (for display). */
  char: string;
}

/** LRC over a whole track text, start sentinel through end sentinel. */
export function computeLrc(track: TrackNumber, text: string): TrackLrc {
  const { asciiOffset, dataBits } = TRACK_FORMATS[track];
  let value = 0;
  for (const ch of text) {
    const v = characterValue(track, ch);
    if (v < 0) {
      throw new DeviceDataError(
        `Track ${track} cannot hold ${JSON.stringify(ch)}.`,
        `LRC over track ${track}: ${JSON.stringify(ch)} is outside the character set`,
      );
    }
    value ^= v;
  }
  const parity = oddParityBit(value);
  return {
    value,
    parity,
    code: value | (parity << dataBits),
    char: String.fromCharCode(value + asciiOffset),
  };
}

export interface FormattedTrack {
  track: TrackNumber;
  data: string;
  /** Start sentinel + data + end sentinel: what an ISO-mode read returns. */
  text: string;
  lrc: TrackLrc;
  /** Parity-coded characters as recorded: start sentinel … end sentinel, then the LRC. */
  codes: number[];
}

/** Validates data and adds sentinels, parity and LRC. */
export function formatTrack(track: TrackNumber, data: string): FormattedTrack {
  const format = TRACK_FORMATS[track];
  validateTrackData(track, data);
  const text = `${format.startSentinel}${data}${format.endSentinel}`;
  const lrc = computeLrc(track, text);
  const codes = [...text].map((ch) => withParity(characterValue(track, ch), format.dataBits));
  codes.push(lrc.code);
  return { track, data, text, lrc, codes };
}

/** The data of a track as read in ISO mode (sentinels included, no LRC). */
export function parseTrack(track: TrackNumber, text: string): string {
  const format = TRACK_FORMATS[track];
  if (!text.startsWith(format.startSentinel) || !text.endsWith(format.endSentinel) || text.length < 2) {
    throw new CardDataError(
      `track ${track} text does not run from ${format.startSentinel} to ${format.endSentinel} (${text.length} characters)`,
      `Track ${track} of this card could not be read correctly. Swipe it again; if it keeps failing, the card may be damaged.`,
    );
  }
  const data = text.slice(1, -1);
  try {
    return validateTrackData(track, data);
  } catch (error) {
    throw new CardDataError(
      `track ${track} read-back is not valid ISO data: ${(error as Error).message}`,
      `Track ${track} of this card holds characters a track cannot hold. The card may be damaged.`,
    );
  }
}

/**
 * Decodes parity-coded characters (as `formatTrack(...).codes`, or a raw read split into characters): checks the
 * start sentinel, every parity bit and the LRC, and returns the data. Codes after the LRC (clocking zeros) are ignored.
 */
export function decodeTrackCodes(track: TrackNumber, codes: readonly number[]): string {
  const format = TRACK_FORMATS[track];
  const mask = (1 << format.dataBits) - 1;
  const fail = (detail: string): never => {
    throw new CardDataError(
      `track ${track}: ${detail}`,
      `Track ${track} of this card did not read correctly. Swipe it again; if it keeps failing, the card may be damaged.`,
    );
  };
  const values: number[] = [];
  let lrc = 0;
  let ended = false;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code >>> (format.dataBits + 1) !== 0)
      fail(`code ${code} at ${i} has more than ${format.dataBits + 1} bits`);
    const value = code & mask;
    if (withParity(value, format.dataBits) !== code) fail(`parity error at character ${i}`);
    if (ended) {
      if (value !== lrc) fail(`LRC mismatch: recorded ${value}, computed ${lrc}`);
      const data = values
        .slice(1, -1)
        .map((v) => String.fromCharCode(v + format.asciiOffset))
        .join('');
      if (data.includes(format.startSentinel)) fail('start sentinel inside the data');
      return data;
    }
    if (i === 0 && value !== characterValue(track, format.startSentinel)) fail('no start sentinel');
    values.push(value);
    lrc ^= value;
    if (i > 0 && value === characterValue(track, format.endSentinel)) ended = true;
  }
  return fail(ended ? 'no LRC after the end sentinel' : 'no end sentinel');
}

/** The recorded bit stream (no clocking zeros): each character LSB first, parity bit last, then the LRC. */
export function trackBits(track: TrackNumber, data: string): number[] {
  const width = TRACK_FORMATS[track].dataBits + 1;
  const bits: number[] = [];
  for (const code of formatTrack(track, data).codes) {
    for (let b = 0; b < width; b++) bits.push((code >>> b) & 1);
  }
  return bits;
}

/** Decodes a bit stream (leading clocking zeros allowed) back to track data, checking parity and LRC. */
export function decodeTrackBits(track: TrackNumber, bits: readonly number[]): string {
  const width = TRACK_FORMATS[track].dataBits + 1;
  const start = bits.indexOf(1);
  const codes: number[] = [];
  if (start >= 0) {
    for (let i = start; i + width <= bits.length; i += width) {
      let code = 0;
      for (let b = 0; b < width; b++) code |= (bits[i + b]! & 1) << b;
      codes.push(code);
    }
  }
  return decodeTrackCodes(track, codes);
}

/** Tracks whose read-back differs from what was written (only the tracks that were written count). */
export function mismatchedTracks(written: TrackSet, readBack: TrackSet): TrackNumber[] {
  return TRACK_NUMBERS.filter((track) => written[track] !== undefined && written[track] !== readBack[track]);
}

/** Throws WriteVerifyFailedError unless every written track reads back identical. */
export function assertTracksMatch(written: TrackSet, readBack: TrackSet): void {
  const bad = mismatchedTracks(written, readBack);
  if (bad.length > 0) {
    const lengths = bad.map(
      (t) => `track ${t}: wrote ${written[t]!.length} chars, read ${readBack[t]?.length ?? 'none'}`,
    );
    throw new WriteVerifyFailedError(`read-back differs on ${lengths.join('; ')}`);
  }
}
