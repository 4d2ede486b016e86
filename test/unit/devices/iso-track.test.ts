import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertTracksMatch,
  characterValue,
  computeLrc,
  decodeTrackBits,
  decodeTrackCodes,
  formatTrack,
  mismatchedTracks,
  oddParityBit,
  parseTrack,
  requireTrackNumber,
  TRACK_FORMATS,
  type TrackNumber,
  trackBits,
  validateTrackData,
  withParity,
} from '../../../src-shared/devices/iso-track.ts';
import { expectDeviceError } from './support.ts';

describe('ISO 7811 worked examples (MSR605 manual, hardware.md §2.4)', () => {
  it('track 2 ;12345? → LRC value 0x5, bits 1010, parity 1', () => {
    const lrc = computeLrc(2, ';12345?');
    expect(lrc).toEqual({ value: 0x5, parity: 1, code: 0x15, char: '5' });
    const bits = [0, 1, 2, 3].map((b) => (lrc.value >> b) & 1);
    expect(bits).toEqual([1, 0, 1, 0]);
  });

  it('track 1 %ABC123? → LRC value 0x2A, parity 0', () => {
    expect(computeLrc(1, '%ABC123?')).toEqual({ value: 0x2a, parity: 0, code: 0x2a, char: 'J' });
  });

  it('formatTrack adds sentinels, per-character parity and the LRC', () => {
    const t2 = formatTrack(2, '12345');
    expect(t2.text).toBe(';12345?');
    // ; = 0xB (3 ones → P 0), 1 (P 0), 2 (P 0), 3 (2 ones → P 1), 4, 5 (P 1), ? = 0xF (P 1), LRC 0x5 (P 1)
    expect(t2.codes).toEqual([0x0b, 0x01, 0x02, 0x13, 0x04, 0x15, 0x1f, 0x15]);
    const t1 = formatTrack(1, 'ABC123');
    expect(t1.text).toBe('%ABC123?');
    expect(t1.codes.at(-1)).toBe(0x2a);
    expect(t1.codes[0]).toBe(0x05 | (1 << 6)); // % = 0x05, two ones → parity 1
  });
});

describe('character sets and parity', () => {
  it('values are ASCII − 0x20 on track 1 and ASCII − 0x30 on tracks 2/3', () => {
    expect(characterValue(1, ' ')).toBe(0);
    expect(characterValue(1, '_')).toBe(0x3f);
    expect(characterValue(1, 'a')).toBe(-1);
    expect(characterValue(2, '0')).toBe(0);
    expect(characterValue(3, '?')).toBe(0xf);
    expect(characterValue(2, 'A')).toBe(-1);
    expect(characterValue(2, '')).toBe(-1);
  });

  it('odd parity makes every coded character hold an odd number of ones', () => {
    for (const dataBits of [4, 6]) {
      for (let value = 0; value < 1 << dataBits; value++) {
        const code = withParity(value, dataBits);
        const ones = code.toString(2).replace(/0/g, '').length;
        expect(ones % 2).toBe(1);
        expect(code & ((1 << dataBits) - 1)).toBe(value);
      }
    }
    expect(oddParityBit(0)).toBe(1);
    expect(oddParityBit(7)).toBe(0);
  });

  it('accepts the full character sets', () => {
    const track1 = Array.from({ length: 64 }, (_, v) => String.fromCharCode(v + 0x20))
      .filter((ch) => ch !== '%' && ch !== '?')
      .join('');
    expect(validateTrackData(1, track1)).toBe(track1);
    expect(validateTrackData(2, '0123456789:<=>')).toBe('0123456789:<=>');
    expect(validateTrackData(3, '')).toBe('');
  });

  it('refuses characters a track cannot hold, naming the character, position and what is allowed', () => {
    const letter = expectDeviceError(() => validateTrackData(2, '1234A'), 'DEVICE_INVALID_DATA');
    expect(letter.userMessage).toContain('"A" (position 5)');
    expect(letter.userMessage).toContain('digits 0-9');
    const lower = expectDeviceError(() => validateTrackData(1, 'ABc'), 'DEVICE_INVALID_DATA');
    expect(lower.userMessage).toContain('Use capital letters');
    expectDeviceError(() => validateTrackData(1, 'É'), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => validateTrackData(3, '12 34'), 'DEVICE_INVALID_DATA');
  });

  it('refuses sentinels inside the data', () => {
    expect(
      expectDeviceError(() => validateTrackData(2, '12;34'), 'DEVICE_INVALID_DATA').userMessage,
    ).toContain('start or end');
    expectDeviceError(() => validateTrackData(2, '12?'), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => validateTrackData(1, 'A%B'), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => validateTrackData(1, 'AB?'), 'DEVICE_INVALID_DATA');
  });

  it('refuses data longer than the track capacity (76 / 37 / 104)', () => {
    for (const [track, max] of [
      [1, 76],
      [2, 37],
      [3, 104],
    ] as const) {
      const fill = track === 1 ? 'A' : '1';
      expect(validateTrackData(track, fill.repeat(max))).toHaveLength(max);
      const error = expectDeviceError(
        () => validateTrackData(track, fill.repeat(max + 1)),
        'DEVICE_INVALID_DATA',
      );
      expect(error.userMessage).toBe(
        `Track ${track} holds at most ${max} characters; this data has ${max + 1}.`,
      );
    }
  });

  it('refuses track numbers other than 1, 2, 3', () => {
    expectDeviceError(() => requireTrackNumber(4), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => requireTrackNumber(0), 'DEVICE_INVALID_DATA');
    expect(requireTrackNumber(3)).toBe(3);
  });
});

describe('reading tracks back', () => {
  it('parseTrack strips the sentinels of ISO-mode read data', () => {
    expect(parseTrack(2, ';12345=678?')).toBe('12345=678');
    expect(parseTrack(1, '%B1234^DOE/J?')).toBe('B1234^DOE/J');
    expect(parseTrack(3, ';?')).toBe('');
  });

  it('parseTrack refuses text without sentinels or with bad characters', () => {
    expectDeviceError(() => parseTrack(2, '12345'), 'CARD_DATA_INVALID');
    expectDeviceError(() => parseTrack(2, '%123?'), 'CARD_DATA_INVALID');
    expectDeviceError(() => parseTrack(2, ';'), 'CARD_DATA_INVALID');
    expectDeviceError(() => parseTrack(2, ';12A?'), 'CARD_DATA_INVALID');
  });

  it('decodeTrackCodes checks start sentinel, parity and LRC', () => {
    const { codes } = formatTrack(2, '12345');
    expect(decodeTrackCodes(2, codes)).toBe('12345');
    expect(decodeTrackCodes(2, [...codes, 0, 0])).toBe('12345');
    const parity = [...codes];
    parity[2] = parity[2]! ^ 0x10;
    expect(expectDeviceError(() => decodeTrackCodes(2, parity), 'CARD_DATA_INVALID').detail).toContain(
      'parity',
    );
    const lrc = [...codes];
    lrc[lrc.length - 1] = withParity(0x6, 4);
    expect(expectDeviceError(() => decodeTrackCodes(2, lrc), 'CARD_DATA_INVALID').detail).toContain('LRC');
    const flipped = [...codes];
    flipped[1] = withParity(0x3, 4); // a consistent character change is caught by the LRC
    expectDeviceError(() => decodeTrackCodes(2, flipped), 'CARD_DATA_INVALID');
    expectDeviceError(() => decodeTrackCodes(2, codes.slice(1)), 'CARD_DATA_INVALID');
    expectDeviceError(() => decodeTrackCodes(2, codes.slice(0, -1)), 'CARD_DATA_INVALID');
    expectDeviceError(() => decodeTrackCodes(2, codes.slice(0, 3)), 'CARD_DATA_INVALID');
    expectDeviceError(() => decodeTrackCodes(2, []), 'CARD_DATA_INVALID');
  });

  it('bit streams: LSB first, parity last, leading clocking zeros skipped', () => {
    const bits = trackBits(2, '1');
    // ; 0xB → 1101 + P0, '1' → 1000 + P0, ? 0xF → 1111 + P1, LRC 0xB^1^F = 0x5 → 1010 + P1
    expect(bits.join('')).toBe('11010' + '10000' + '11111' + '10101');
    expect(decodeTrackBits(2, [0, 0, 0, 0, ...bits, 0, 0])).toBe('1');
    expectDeviceError(() => decodeTrackBits(2, [0, 0, 0]), 'CARD_DATA_INVALID');
  });

  it('round-trips any valid data through codes and bits (fast-check, fixed seed)', () => {
    const dataFor = (track: TrackNumber) => {
      const { asciiOffset, dataBits, startSentinel, endSentinel, maxDataChars } = TRACK_FORMATS[track];
      const chars = Array.from({ length: 1 << dataBits }, (_, v) =>
        String.fromCharCode(v + asciiOffset),
      ).filter((ch) => ch !== startSentinel && ch !== endSentinel);
      return fc
        .array(fc.constantFrom(...chars), { maxLength: maxDataChars })
        .map((list) => [track, list.join('')] as const);
    };
    fc.assert(
      fc.property(fc.oneof(dataFor(1), dataFor(2), dataFor(3)), ([track, data]) => {
        const formatted = formatTrack(track, data);
        expect(decodeTrackCodes(track, formatted.codes)).toBe(data);
        expect(decodeTrackBits(track, trackBits(track, data))).toBe(data);
        expect(parseTrack(track, formatted.text)).toBe(data);
        expect(computeLrc(track, formatted.text).code).toBe(formatted.codes.at(-1));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('write verification', () => {
  it('only written tracks are compared', () => {
    expect(mismatchedTracks({ 2: '123' }, { 1: 'X', 2: '123' })).toEqual([]);
    expect(mismatchedTracks({ 2: '123', 3: '9' }, { 2: '124' })).toEqual([2, 3]);
    expect(() => assertTracksMatch({ 3: '1=2' }, { 3: '1=2' })).not.toThrow();
    const error = expectDeviceError(
      () => assertTracksMatch({ 3: '1=2' }, { 3: '1=3' }),
      'CARD_WRITE_VERIFY_FAILED',
    );
    expect(error.detail).toContain('track 3');
    expectDeviceError(() => assertTracksMatch({ 2: '1' }, {}), 'CARD_WRITE_VERIFY_FAILED');
  });
});
