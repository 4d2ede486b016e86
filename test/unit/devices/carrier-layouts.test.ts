import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CarrierContent } from '../../../src-shared/devices/carrier-content.ts';
import {
  assertCardForMeter,
  assertRecordReadBack,
  DEFAULT_IC_CARD_LAYOUT,
  openVendIcLayout,
} from '../../../src-shared/devices/ic-card-layout.ts';
import { assertTracksMatch } from '../../../src-shared/devices/iso-track.ts';
import {
  DEFAULT_MAG_CARD_CODEC,
  DEFAULT_MAG_CARD_LAYOUT,
  defaultMeterCardParser,
  magCardLayout,
} from '../../../src-shared/devices/mag-card-layout.ts';
import { msrCommands } from '../../../src-shared/devices/msr206.ts';
import { crc16Modbus } from '../../../src-shared/sts/crc.ts';
import { expectDeviceError, hex } from './support.ts';

const T1 = '12345678901234567890';
const T2 = '09876543210987654321';
const T3 = '55554444333322221111';
const T4 = '00000000000000000001';
const sale = (overrides: Partial<CarrierContent> = {}): CarrierContent => ({
  meterNo: '04040404040',
  sequence: 7,
  tokens: [T1, T2],
  ...overrides,
});

describe('magnetic card default layout', () => {
  it('writes meter = sequence = tokens on track 3 and reads it back', () => {
    const tracks = DEFAULT_MAG_CARD_CODEC.encode(sale());
    expect(tracks).toEqual({ 3: `04040404040=0007=${T1}=${T2}` });
    expect(DEFAULT_MAG_CARD_CODEC.decode(tracks)).toEqual(sale());
    // what goes to the encoder: data only, the device adds sentinels and LRC
    expect(hex(msrCommands.writeIso(tracks).bytes)).toContain('1b 03 30 34 30');
  });

  it('holds up to 4 tokens with a 13-digit meter number (fits 104 characters)', () => {
    const content = sale({ meterNo: '0123456789012', tokens: [T1, T2, T3, T4], sequence: 9999 });
    const tracks = DEFAULT_MAG_CARD_CODEC.encode(content);
    expect(tracks[3]!.length).toBeLessThanOrEqual(104);
    expect(DEFAULT_MAG_CARD_CODEC.decode(tracks)).toEqual(content);
  });

  it('round-trips any valid sale (fast-check, fixed seed)', () => {
    const token = fc
      .bigInt({ min: 0n, max: (1n << 66n) - 1n })
      .map((value) => value.toString().padStart(20, '0'));
    const content = fc.record({
      meterNo: fc.stringMatching(/^\d{11,13}$/),
      sequence: fc.integer({ min: 0, max: 9999 }),
      tokens: fc.array(token, { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(content, (c) => {
        const tracks = DEFAULT_MAG_CARD_CODEC.encode(c);
        expect(DEFAULT_MAG_CARD_CODEC.decode({ ...tracks })).toEqual(c);
        // the read-back compare a driver does after writing
        expect(() => assertTracksMatch(tracks, { ...tracks })).not.toThrow();
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('refuses tokens that are not 20 digits or not a possible token, and bad meter numbers / sequences', () => {
    const short = expectDeviceError(
      () => DEFAULT_MAG_CARD_CODEC.encode(sale({ tokens: [T1, '1234'] })),
      'DEVICE_INVALID_DATA',
    );
    expect(short.userMessage).toBe('Token 2 must be exactly 20 digits with no spaces.');
    expectDeviceError(
      () => DEFAULT_MAG_CARD_CODEC.encode(sale({ tokens: ['1234 5678 9012 3456 7890'] })),
      'DEVICE_INVALID_DATA',
    );
    expectDeviceError(
      () => DEFAULT_MAG_CARD_CODEC.encode(sale({ tokens: ['9'.repeat(20)] })),
      'DEVICE_INVALID_DATA',
    );
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.encode(sale({ tokens: [] })), 'DEVICE_INVALID_DATA');
    const tooMany = expectDeviceError(
      () => DEFAULT_MAG_CARD_CODEC.encode(sale({ tokens: [T1, T2, T3, T4, T1] })),
      'DEVICE_INVALID_DATA',
    );
    expect(tooMany.userMessage).toContain('1 to 4 tokens');
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.encode(sale({ meterNo: '1234' })), 'DEVICE_INVALID_DATA');
    expectDeviceError(
      () => DEFAULT_MAG_CARD_CODEC.encode(sale({ meterNo: '0404-0404-04' })),
      'DEVICE_INVALID_DATA',
    );
    const { meterNo: _omitted, ...noMeter } = sale();
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.encode(noMeter), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.encode(sale({ sequence: 10_000 })), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.encode(sale({ sequence: -1 })), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.encode(sale({ sequence: 1.5 })), 'DEVICE_INVALID_DATA');
  });

  it('refuses data longer than the track with a message about the number of tokens', () => {
    const track2 = magCardLayout({ ...DEFAULT_MAG_CARD_LAYOUT, id: 't2', track: 2 });
    expect(track2.encode(sale({ tokens: [T1] }))).toEqual({ 2: `04040404040=0007=${T1}` });
    const error = expectDeviceError(() => track2.encode(sale({ tokens: [T1, T2] })), 'DEVICE_INVALID_DATA');
    expect(error.userMessage).toContain('do not fit on track 2');
    expect(error.userMessage).toContain('of 37 characters');
  });

  it('decoding a card that is empty, foreign or damaged gives a card data error', () => {
    expect(
      expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.decode({}), 'CARD_DATA_INVALID').userMessage,
    ).toContain('holds no tokens');
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.decode({ 3: '' }), 'CARD_DATA_INVALID');
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.decode({ 3: '04040404040=0007' }), 'CARD_DATA_INVALID');
    expectDeviceError(
      () => DEFAULT_MAG_CARD_CODEC.decode({ 3: `04040404040=07=${T1}` }),
      'CARD_DATA_INVALID',
    );
    expectDeviceError(
      () => DEFAULT_MAG_CARD_CODEC.decode({ 3: `04040404040=0007=${T1.slice(1)}` }),
      'CARD_DATA_INVALID',
    );
    expectDeviceError(() => DEFAULT_MAG_CARD_CODEC.decode({ 3: `123=0007=${T1}` }), 'CARD_DATA_INVALID');
  });
});

describe('magnetic card layouts are configurable', () => {
  it('other tracks, field orders and separators', () => {
    const tokensFirst = magCardLayout({
      id: 'vendor-x',
      description: 'tokens then meter, no sequence',
      track: 3,
      fields: ['tokens', 'meter-no'],
      separator: '>',
      sequenceDigits: 4,
      meterNoDigits: { min: 11, max: 11 },
      maxTokens: 3,
    });
    const content = { meterNo: '04040404040', tokens: [T1, T2, T3] };
    const tracks = tokensFirst.encode({ ...content, sequence: 5 });
    expect(tracks).toEqual({ 3: `${T1}>${T2}>${T3}>04040404040` });
    expect(tokensFirst.decode(tracks)).toEqual(content);

    const seqLast = magCardLayout({
      ...DEFAULT_MAG_CARD_LAYOUT,
      id: 'y',
      fields: ['meter-no', 'tokens', 'sequence'],
    });
    const c2 = sale({ tokens: [T1, T2, T3] });
    expect(seqLast.decode(seqLast.encode(c2))).toEqual(c2);

    const tokensOnly = magCardLayout({
      ...DEFAULT_MAG_CARD_LAYOUT,
      id: 'z',
      track: 2,
      fields: ['tokens'],
      maxTokens: 1,
    });
    expect(tokensOnly.encode({ tokens: [T1] })).toEqual({ 2: T1 });
    expect(tokensOnly.decode({ 2: T1 })).toEqual({ tokens: [T1] });

    const track1 = magCardLayout({ ...DEFAULT_MAG_CARD_LAYOUT, id: 'w', track: 1, separator: '^' });
    expect(track1.decode(track1.encode(sale()))).toEqual(sale());
  });

  it('refuses a broken layout configuration up front', () => {
    const base = DEFAULT_MAG_CARD_LAYOUT;
    for (const bad of [
      { ...base, fields: ['meter-no', 'sequence'] as const },
      { ...base, fields: ['tokens', 'tokens'] as const },
      { ...base, fields: ['tokens', 'meter-no', 'meter-no'] as const },
      { ...base, separator: '1' },
      { ...base, separator: '==' },
      { ...base, separator: ';' },
      { ...base, separator: '^' },
      { ...base, track: 4 as 3 },
      { ...base, sequenceDigits: 0 },
      { ...base, meterNoDigits: { min: 13, max: 11 } },
      { ...base, maxTokens: 0 },
    ]) {
      expectDeviceError(() => magCardLayout(bad), 'DEVICE_INVALID_DATA');
    }
  });
});

describe('meter ID card (track 2)', () => {
  it('takes the digits before the first separator', () => {
    expect(defaultMeterCardParser('04040404040=2512')).toBe('04040404040');
    expect(defaultMeterCardParser('0123456789012')).toBe('0123456789012');
    expectDeviceError(() => defaultMeterCardParser('=123'), 'CARD_DATA_INVALID');
    expectDeviceError(() => defaultMeterCardParser(''), 'CARD_DATA_INVALID');
    expectDeviceError(() => defaultMeterCardParser('12:34'), 'CARD_DATA_INVALID');
  });
});

describe('IC card default layout (SLE4442 purchase record)', () => {
  it('encodes the documented byte layout at address 32', () => {
    const record = DEFAULT_IC_CARD_LAYOUT.encode(sale());
    expect(DEFAULT_IC_CARD_LAYOUT.address).toBe(32);
    expect(DEFAULT_IC_CARD_LAYOUT.readLength).toBe(58);
    expect(record).toHaveLength(18 + 20);
    expect(hex(record.subarray(0, 16))).toBe('4f 56 01 02 00 07 ff ff ff ff f0 40 40 40 40 40');
    expect(hex(record.subarray(16, 26))).toBe('12 34 56 78 90 12 34 56 78 90');
    expect(hex(record.subarray(26, 36))).toBe('09 87 65 43 21 09 87 65 43 21');
    const crc = crc16Modbus(record.subarray(0, 36));
    expect([record[36], record[37]]).toEqual([crc >> 8, crc & 0xff]);
  });

  it('round-trips, also when the driver reads the full readLength with blank bytes after the record', () => {
    const content = sale({ tokens: [T1, T2, T3, T4], sequence: 65_535, meterNo: '0' });
    const record = DEFAULT_IC_CARD_LAYOUT.encode(content);
    expect(DEFAULT_IC_CARD_LAYOUT.decode(record)).toEqual(content);
    const area = new Uint8Array(DEFAULT_IC_CARD_LAYOUT.readLength).fill(0xff);
    area.set(DEFAULT_IC_CARD_LAYOUT.encode(sale()));
    expect(DEFAULT_IC_CARD_LAYOUT.decode(area)).toEqual(sale());
    expect(() => assertRecordReadBack(record, record)).not.toThrow();
  });

  it('a blank card (all 00 or all FF) decodes to null and belongs to nobody yet', () => {
    expect(DEFAULT_IC_CARD_LAYOUT.decode(new Uint8Array(58).fill(0xff))).toBeNull();
    expect(DEFAULT_IC_CARD_LAYOUT.decode(new Uint8Array(58))).toBeNull();
    expect(() => assertCardForMeter(null, '04040404040')).not.toThrow();
  });

  it('another meter’s card is the wrong card', () => {
    const record = DEFAULT_IC_CARD_LAYOUT.decode(DEFAULT_IC_CARD_LAYOUT.encode(sale()));
    expect(() => assertCardForMeter(record, '04040404040')).not.toThrow();
    const error = expectDeviceError(() => assertCardForMeter(record, '11111111111'), 'CARD_WRONG');
    expect(error.userMessage).toContain('Insert the card for meter 11111111111');
  });

  it('refuses foreign, damaged or truncated records', () => {
    const record = DEFAULT_IC_CARD_LAYOUT.encode(sale());
    const foreign = record.slice();
    foreign[0] = 0x41;
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.decode(foreign), 'CARD_WRONG');
    const flipped = record.slice();
    flipped[20] = flipped[20]! ^ 0x01;
    expect(
      expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.decode(flipped), 'CARD_DATA_INVALID').detail,
    ).toContain('CRC');
    const version = record.slice();
    version[2] = 2;
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.decode(version), 'CARD_DATA_INVALID');
    const count = record.slice();
    count[3] = 5;
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.decode(count), 'CARD_DATA_INVALID');
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.decode(record.subarray(0, 30)), 'CARD_DATA_INVALID');
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.decode(record.subarray(0, 8)), 'CARD_DATA_INVALID');
  });

  it('refuses bad content before anything is written', () => {
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.encode(sale({ tokens: ['123'] })), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.encode(sale({ tokens: [] })), 'DEVICE_INVALID_DATA');
    expectDeviceError(
      () => DEFAULT_IC_CARD_LAYOUT.encode(sale({ tokens: [T1, T1, T1, T1, T1] })),
      'DEVICE_INVALID_DATA',
    );
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.encode(sale({ sequence: 65_536 })), 'DEVICE_INVALID_DATA');
    expectDeviceError(
      () => DEFAULT_IC_CARD_LAYOUT.encode(sale({ meterNo: '1'.repeat(21) })),
      'DEVICE_INVALID_DATA',
    );
    expectDeviceError(() => DEFAULT_IC_CARD_LAYOUT.encode(sale({ meterNo: 'ABC' })), 'DEVICE_INVALID_DATA');
  });

  it('layout options must fit the card after the protectable header', () => {
    expect(openVendIcLayout({ address: 64, maxTokens: 8 }).readLength).toBe(98);
    expectDeviceError(() => openVendIcLayout({ address: 16 }), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => openVendIcLayout({ address: 200, maxTokens: 4 }), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => openVendIcLayout({ maxTokens: 0 }), 'DEVICE_INVALID_DATA');
  });

  it('read-back compare after a write', () => {
    const record = DEFAULT_IC_CARD_LAYOUT.encode(sale());
    const changed = record.slice();
    changed[10] = 0;
    expect(
      expectDeviceError(() => assertRecordReadBack(record, changed), 'CARD_WRITE_VERIFY_FAILED').detail,
    ).toContain('first difference at 10');
    expectDeviceError(() => assertRecordReadBack(record, record.subarray(0, 20)), 'CARD_WRITE_VERIFY_FAILED');
  });
});
