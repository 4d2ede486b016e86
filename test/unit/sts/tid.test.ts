import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertKeyNotExpired,
  BASE_DATES,
  type BaseDate,
  formatWallClock,
  isReservedTid,
  MAX_TID,
  nextIssuableTid,
  parseWallClock,
  requireBaseDate,
  requireTidInRange,
  rolloverWallClock,
  tidFromWallClock,
  tidToWallClock,
  wallClockInZone,
} from '../../../src-shared/sts/tid.ts';
import { expectStsError, vectorsOfKind } from '../../support/sts-vectors.ts';

const tidOf = (text: string, base: BaseDate) => tidFromWallClock(parseWallClock(text), base);
const baseDate = fc.constantFrom(...BASE_DATES);
const anyTid = fc.integer({ min: 0, max: MAX_TID });

describe('TID fixture vectors', () => {
  it.each(vectorsOfKind('tid').map((v) => [v.id, v] as const))('%s', (_id, vector) => {
    const base = parseWallClock(vector.inputs.base_date);
    expect({ month: base.month, day: base.day, hour: base.hour, minute: base.minute }).toEqual({
      month: 1,
      day: 1,
      hour: 0,
      minute: 0,
    });
    const tid = tidFromWallClock(parseWallClock(vector.inputs.issue_datetime), requireBaseDate(base.year));
    expect(tid).toBe(vector.expected.tid_minutes);
    expect(tid.toString(16).padStart(6, '0')).toBe(vector.expected.tid_hex);
    expect(tid % 1440).toBe(vector.expected.tid_mod_1440);
    expect(formatWallClock(tidToWallClock(tid, requireBaseDate(base.year)))).toBe(
      vector.inputs.issue_datetime,
    );
  });

  it('token vectors carry TIDs consistent with their issue time (authoritative tid_minutes)', () => {
    for (const vector of [...vectorsOfKind('credit_token'), ...vectorsOfKind('mgmt_token')]) {
      const { issue_datetime: issued, base_date: base, tid_minutes: tid } = vector.inputs;
      if (issued === null || base === null) continue;
      expect(tidOf(issued, requireBaseDate(base)), vector.id).toBe(tid);
    }
  });
});

describe('tidFromWallClock', () => {
  it('§6 examples', () => {
    expect(tidOf('1996-03-25T13:55', 1993)).toBe(1698595);
    expect(tidOf('2004-03-01T13:55', 1993)).toBe(0x599863);
    expect(tidOf('2014-01-01T08:00', 2014)).toBe(480);
    expect(tidOf('2035-01-01T08:00', 2035)).toBe(0x1e0);
    expect(tidOf('1993-01-01T00:00', 1993)).toBe(0);
  });

  it('drops the seconds', () => {
    expect(tidOf('2004-03-01T13:55:59', 1993)).toBe(5871715);
    expect(tidOf('2004-03-01T13:55:00.999', 1993)).toBe(5871715);
    expect(tidFromWallClock({ year: 2004, month: 3, day: 1, hour: 13, minute: 55, second: 59 }, 1993)).toBe(
      5871715,
    );
  });

  it.each([
    [1993, '2024-11-24T20:15'],
    [2014, '2045-11-24T20:15'],
    [2035, '2066-11-24T20:15'],
  ] as const)('base %i rolls over after %s (TID 0xFFFFFF)', (base, last) => {
    expect(tidOf(last, base)).toBe(MAX_TID);
    expect(formatWallClock(rolloverWallClock(base))).toBe(last);
    const oneMinuteLater = `${last.slice(0, 14)}${String(Number(last.slice(14)) + 1).padStart(2, '0')}`;
    const error = expectStsError(() => tidOf(oneMinuteLater, base), 'STS_TID_ROLLOVER');
    expect(error.userMessage).toContain(String(base));
    expect(error.userMessage).toContain(last);
  });

  it('a year after roll-over is refused too', () => {
    expectStsError(() => tidOf('2025-06-01T10:00', 1993), 'STS_TID_ROLLOVER');
  });

  it.each([
    [1993, '1992-12-31T23:59'],
    [2014, '2013-12-31T23:59'],
    [2035, '2034-06-15T12:00'],
    [2014, '2004-03-01T13:55'],
  ] as const)('base %i refuses %s as before the base date', (base, text) => {
    expectStsError(() => tidOf(text, base), 'STS_TID_BEFORE_BASE_DATE');
  });

  it('refuses a base date that is not 1993, 2014 or 2035', () => {
    for (const bad of [1992, 2000, 2024, 93, '1993', null]) {
      expectStsError(() => requireBaseDate(bad), 'STS_INVALID_BASE_DATE');
      expectStsError(
        () => tidFromWallClock({ year: 2004, month: 1, day: 1, hour: 0, minute: 0 }, bad as BaseDate),
        'STS_INVALID_BASE_DATE',
      );
    }
    for (const good of BASE_DATES) expect(requireBaseDate(good)).toBe(good);
  });

  it('tidFromWallClock(tidToWallClock(t)) === t for every TID and base date (property)', () => {
    fc.assert(
      fc.property(anyTid, baseDate, (tid, base) => {
        const wall = tidToWallClock(tid, base);
        expect(tidFromWallClock(wall, base)).toBe(tid);
        expect(tidFromWallClock(parseWallClock(formatWallClock(wall)), base)).toBe(tid);
      }),
    );
  });

  it('is monotonic in time: one minute later is one TID more (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_TID - 1 }), baseDate, (tid, base) => {
        const later = new Date(Date.UTC(base, 0, 1) + (tid + 1) * 60_000);
        const wall = {
          year: later.getUTCFullYear(),
          month: later.getUTCMonth() + 1,
          day: later.getUTCDate(),
          hour: later.getUTCHours(),
          minute: later.getUTCMinutes(),
        };
        expect(tidFromWallClock(wall, base)).toBe(tid + 1);
      }),
    );
  });
});

describe('wall-clock parsing and validation', () => {
  it('parses YYYY-MM-DDTHH:MM[:SS] and a space separator', () => {
    expect(parseWallClock('2004-03-01T13:55')).toEqual({
      year: 2004,
      month: 3,
      day: 1,
      hour: 13,
      minute: 55,
      second: 0,
    });
    expect(parseWallClock('2004-03-01 13:55:07')).toMatchObject({ hour: 13, minute: 55, second: 7 });
    expect(parseWallClock('2024-02-29T00:00')).toMatchObject({ month: 2, day: 29 });
  });

  it.each([
    '2023-02-30T10:00',
    '2023-02-29T10:00',
    '2024-13-01T10:00',
    '2024-00-10T10:00',
    '2024-04-31T10:00',
    '2024-01-01T24:00',
    '2024-01-01T10:60',
    '2024-01-01T10:00:60',
    '2024-01-00T10:00',
  ])('refuses the impossible date-time %s', (text) => {
    expectStsError(() => parseWallClock(text), 'STS_INVALID_TIME');
  });

  it.each([
    '',
    'yesterday',
    '2024-01-01',
    '2024-1-1T10:00',
    '2024-01-01T10:00Z',
    '2024-01-01T10:00+02:00',
    '10:00',
  ])('refuses the malformed text %j', (text) => {
    expectStsError(() => parseWallClock(text), 'STS_INVALID_TIME');
  });

  it('tidFromWallClock refuses impossible wall clocks given as objects', () => {
    const bad = [
      { year: 2023, month: 2, day: 30, hour: 10, minute: 0 },
      { year: 2023, month: 2, day: 28, hour: 10, minute: 0.5 },
      { year: 2023, month: 2, day: 28, hour: -1, minute: 0 },
      { year: 2023, month: 2, day: 28, hour: 10, minute: 0, second: 61 },
      { year: Number.NaN, month: 2, day: 28, hour: 10, minute: 0 },
    ];
    for (const wall of bad) expectStsError(() => tidFromWallClock(wall, 1993), 'STS_INVALID_TIME');
  });

  it('years 0–99 are not read as 1900–1999 (0099-06-01 is not 1999-06-01)', () => {
    expectStsError(() => parseWallClock('0099-06-01T10:00'), 'STS_INVALID_TIME');
    expectStsError(() => parseWallClock('0024-11-24T20:15'), 'STS_INVALID_TIME');
    expectStsError(
      () => tidFromWallClock({ year: 99, month: 6, day: 1, hour: 10, minute: 0 }, 1993),
      'STS_INVALID_TIME',
    );
    // A genuine early year is simply before every base date.
    expectStsError(() => tidOf('1899-06-01T10:00', 1993), 'STS_TID_BEFORE_BASE_DATE');
  });

  it('formatWallClock pads every field', () => {
    expect(formatWallClock({ year: 2004, month: 3, day: 1, hour: 0, minute: 1 })).toBe('2004-03-01T00:01');
  });
});

describe('wallClockInZone', () => {
  const instant = new Date('2004-03-01T11:55:30Z');

  it('Africa/Johannesburg is UTC+2 (no DST)', () => {
    expect(wallClockInZone(instant, 'Africa/Johannesburg')).toEqual({
      year: 2004,
      month: 3,
      day: 1,
      hour: 13,
      minute: 55,
      second: 30,
    });
    expect(tidFromWallClock(wallClockInZone(instant, 'Africa/Johannesburg'), 1993)).toBe(5871715);
  });

  it('UTC gives the UTC fields', () => {
    expect(wallClockInZone(instant, 'UTC')).toEqual({
      year: 2004,
      month: 3,
      day: 1,
      hour: 11,
      minute: 55,
      second: 30,
    });
  });

  it('midnight is hour 0, not 24, and the date rolls over across zones', () => {
    expect(wallClockInZone(new Date('2004-03-01T00:00:00Z'), 'UTC')).toMatchObject({
      day: 1,
      hour: 0,
      minute: 0,
    });
    expect(wallClockInZone(new Date('2004-03-01T22:30:00Z'), 'Africa/Johannesburg')).toMatchObject({
      day: 2,
      hour: 0,
      minute: 30,
    });
    expect(wallClockInZone(new Date('2004-12-31T23:00:00Z'), 'Africa/Johannesburg')).toMatchObject({
      year: 2005,
      month: 1,
      day: 1,
      hour: 1,
    });
  });

  it('agrees with the UTC fields of the instant in UTC (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1993, 0, 1), max: Date.UTC(2066, 0, 1) }), (ms) => {
        const date = new Date(ms);
        expect(wallClockInZone(date, 'UTC')).toEqual({
          year: date.getUTCFullYear(),
          month: date.getUTCMonth() + 1,
          day: date.getUTCDate(),
          hour: date.getUTCHours(),
          minute: date.getUTCMinutes(),
          second: date.getUTCSeconds(),
        });
        const sast = new Date(ms + 2 * 3_600_000);
        expect(wallClockInZone(date, 'Africa/Johannesburg')).toMatchObject({
          day: sast.getUTCDate(),
          hour: sast.getUTCHours(),
          minute: sast.getUTCMinutes(),
        });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses an unknown zone', () => {
    expectStsError(() => wallClockInZone(instant, 'Mars/Olympus_Mons'), 'STS_INVALID_TIME');
  });
});

describe('reserved minute and nextIssuableTid', () => {
  it('00:01 each day is reserved, nothing else', () => {
    expect(isReservedTid(1)).toBe(true);
    expect(isReservedTid(1441)).toBe(true);
    expect(isReservedTid(5911201)).toBe(true);
    expect(isReservedTid(0)).toBe(false);
    expect(isReservedTid(2)).toBe(false);
    expect(isReservedTid(1440)).toBe(false);
    expect(tidOf('2004-03-29T00:01', 1993) % 1440).toBe(1);
  });

  it('CTSA09: issued 2004-03-29 00:01, raw 5911201 → 5911202', () => {
    const raw = tidOf('2004-03-29T00:01', 1993);
    expect(raw).toBe(5911201);
    expect(nextIssuableTid(raw, 1993)).toBe(5911202);
  });

  it('keeps an ordinary raw TID', () => {
    expect(nextIssuableTid(5871715, 1993)).toBe(5871715);
    expect(nextIssuableTid(0, 1993)).toBe(0);
    expect(nextIssuableTid(5911200, 1993)).toBe(5911200);
  });

  it('moves past lastIssuedTid (two vends in one minute get consecutive minutes)', () => {
    expect(nextIssuableTid(5871715, 1993, 5871715)).toBe(5871716);
    expect(nextIssuableTid(5871715, 1993, 5871720)).toBe(5871721);
    expect(nextIssuableTid(5871715, 1993, 5871714)).toBe(5871715);
    // …and past the reserved minute when the bump lands on it.
    expect(nextIssuableTid(5911199, 1993, 5911200)).toBe(5911202);
  });

  it('refuses to move past roll-over', () => {
    expectStsError(() => nextIssuableTid(MAX_TID, 1993, MAX_TID), 'STS_TID_ROLLOVER');
    expectStsError(() => nextIssuableTid(MAX_TID + 1, 2014), 'STS_TID_ROLLOVER');
  });

  it('never returns a reserved TID, never goes back, always passes lastIssuedTid (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_TID - 3 }),
        fc.option(fc.integer({ min: 0, max: MAX_TID - 3 }), { nil: undefined }),
        baseDate,
        (raw, last, base) => {
          const tid = nextIssuableTid(raw, base, last);
          expect(isReservedTid(tid)).toBe(false);
          expect(tid).toBeGreaterThanOrEqual(raw);
          if (last !== undefined) expect(tid).toBeGreaterThan(last);
          const floor = last !== undefined ? Math.max(raw, last + 1) : raw;
          expect(tid - floor).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe('requireTidInRange', () => {
  it('accepts 0..0xFFFFFF', () => {
    expect(requireTidInRange(0, 1993)).toBe(0);
    expect(requireTidInRange(MAX_TID, 2035)).toBe(MAX_TID);
  });

  it('refuses negative or fractional TIDs as an invalid field, and too large as roll-over', () => {
    expectStsError(() => requireTidInRange(-1, 1993), 'STS_INVALID_FIELD');
    expectStsError(() => requireTidInRange(1.5, 1993), 'STS_INVALID_FIELD');
    expectStsError(() => requireTidInRange(Number.NaN, 1993), 'STS_INVALID_FIELD');
    expectStsError(() => requireTidInRange(MAX_TID + 1, 1993), 'STS_TID_ROLLOVER');
  });
});

describe('assertKeyNotExpired (meter rule: TID >> 16 > KEN)', () => {
  it('CTSA16: KEN 85, 2004-04-01 09:30 (TID 5916090, TID>>16 = 90) is refused', () => {
    const tid = tidOf('2004-04-01T09:30', 1993);
    expect(tid).toBe(5916090);
    expect(tid >> 16).toBe(90);
    expectStsError(() => assertKeyNotExpired(tid, 85), 'STS_KEY_EXPIRED');
  });

  it('KEN 90 still allows TID 5916090 (not greater)', () => {
    expect(() => assertKeyNotExpired(5916090, 90)).not.toThrow();
    expectStsError(() => assertKeyNotExpired(5916090, 89), 'STS_KEY_EXPIRED');
  });

  it('the boundary is the 65536-minute block, not KEN·65535', () => {
    expect(() => assertKeyNotExpired(85 * 65536 + 65535, 85)).not.toThrow();
    expectStsError(() => assertKeyNotExpired(86 * 65536, 85), 'STS_KEY_EXPIRED');
  });

  it('KEN 255 never expires (property)', () => {
    fc.assert(
      fc.property(anyTid, (tid) => {
        expect(() => assertKeyNotExpired(tid, 255)).not.toThrow();
      }),
    );
  });

  it('expires exactly when TID >> 16 > KEN (property)', () => {
    fc.assert(
      fc.property(anyTid, fc.integer({ min: 0, max: 255 }), (tid, ken) => {
        if (tid >> 16 > ken) expectStsError(() => assertKeyNotExpired(tid, ken), 'STS_KEY_EXPIRED');
        else expect(() => assertKeyNotExpired(tid, ken)).not.toThrow();
      }),
    );
  });
});
