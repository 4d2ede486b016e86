import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luhnCheckDigit, meterPanFromParts, parseMeterPan } from '../../../src-shared/sts/meter-pan.ts';
import { expectStsError, vectorsOfKind } from '../../support/sts-vectors.ts';

const digitString = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });

/** Luhn validity of a full number (check digit included), written from the textbook definition. */
function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let d = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

describe('luhnCheckDigit', () => {
  it('§8.1 examples: 600727 + 00000000000 → 9, 000001 + 00000000008 → 2', () => {
    expect(luhnCheckDigit('60072700000000000')).toBe(9);
    expect(luhnCheckDigit('00000100000000008')).toBe(2);
  });

  it('standard Luhn gives 6 for "428671502" (the Dart port comment saying 3 is wrong)', () => {
    expect(luhnCheckDigit('428671502')).toBe(6);
  });

  it('other known values', () => {
    expect(luhnCheckDigit('7992739871')).toBe(3); // the Wikipedia example
    expect(luhnCheckDigit('0')).toBe(0);
    expect(luhnCheckDigit('')).toBe(0);
  });

  it('appending the check digit always makes a Luhn-valid number, and no other digit does (property)', () => {
    fc.assert(
      fc.property(digitString(17), (payload) => {
        const check = luhnCheckDigit(payload);
        expect(check).toBeGreaterThanOrEqual(0);
        expect(check).toBeLessThanOrEqual(9);
        for (let d = 0; d <= 9; d++) expect(luhnValid(payload + d)).toBe(d === check);
      }),
    );
  });

  it('detects every single-digit change (property)', () => {
    fc.assert(
      fc.property(
        digitString(17),
        fc.nat({ max: 16 }),
        fc.integer({ min: 1, max: 9 }),
        (payload, at, delta) => {
          const changed =
            payload.slice(0, at) + String((Number(payload[at]) + delta) % 10) + payload.slice(at + 1);
          expect(luhnCheckDigit(changed)).not.toBe(luhnCheckDigit(payload));
        },
      ),
    );
  });
});

describe('meterPanFromParts', () => {
  it('builds the CTSA PANs', () => {
    expect(meterPanFromParts('600727', '00000000000')).toEqual({
      iin: '600727',
      drn: '00000000000',
      checkDigit: 9,
      pan: '600727000000000009',
    });
    expect(meterPanFromParts('000001', '00000000008').pan).toBe('000001000000000082');
  });

  it('accepts a 4-digit IIN with a 13-digit DRN (18 digits in total)', () => {
    const pan = meterPanFromParts('0000', '1234567890123');
    expect(pan.iin).toBe('0000');
    expect(pan.drn).toBe('1234567890123');
    expect(pan.pan).toHaveLength(18);
    expect(pan.checkDigit).toBe(luhnCheckDigit('00001234567890123'));
  });

  it('strips spaces and dashes', () => {
    expect(meterPanFromParts('600 727', '0000-0000-000').pan).toBe('600727000000000009');
  });

  it('refuses letters in the DRN with STS_INVALID_DIGITS', () => {
    expectStsError(() => meterPanFromParts('600727', '0000000000A'), 'STS_INVALID_DIGITS');
    expectStsError(() => meterPanFromParts('600727', '47500I50231'), 'STS_INVALID_DIGITS');
    expectStsError(() => meterPanFromParts('60O727', '00000000000'), 'STS_INVALID_DIGITS');
  });

  it.each([
    ['600727', '0000000000'],
    ['600727', '000000000000'],
    ['600727', '0000000000000'],
    ['0000', '00000000000'],
    ['60072', '000000000000'],
    ['6007271', '0000000000'],
    ['', '00000000000'],
  ])('refuses IIN %j with DRN %j as STS_INVALID_PAN', (iin, drn) => {
    expectStsError(() => meterPanFromParts(iin, drn), 'STS_INVALID_PAN');
  });
});

describe('parseMeterPan', () => {
  it('reads the CTSA PANs', () => {
    expect(parseMeterPan('600727000000000009')).toEqual(meterPanFromParts('600727', '00000000000'));
    expect(parseMeterPan('000001000000000082')).toMatchObject({
      iin: '000001',
      drn: '00000000008',
      checkDigit: 2,
    });
  });

  it('reads the fixture PANs', () => {
    const pans = new Set<string>();
    for (const v of vectorsOfKind('credit_token')) {
      const pan = v.inputs.decoder_key_derivation.meter_pan;
      if (typeof pan === 'string') pans.add(pan);
    }
    expect(pans.size).toBeGreaterThan(0);
    for (const pan of pans) expect(parseMeterPan(pan).pan).toBe(pan);
  });

  it('accepts spaces and dashes', () => {
    expect(parseMeterPan('6007 2700 0000 0000 09').pan).toBe('600727000000000009');
    expect(parseMeterPan('600727-00000000000-9').pan).toBe('600727000000000009');
  });

  it('splits 4 + 13 when told the IIN has 4 digits', () => {
    const full = meterPanFromParts('0000', '1234567890123').pan;
    expect(parseMeterPan(full, 4)).toMatchObject({ iin: '0000', drn: '1234567890123' });
    // The same digits read as a 6-digit IIN split differently but the check digit is the same.
    expect(parseMeterPan(full, 6)).toMatchObject({ iin: '000012', drn: '34567890123' });
  });

  it('a wrong check digit is STS_BAD_CHECK_DIGIT and the message gives the expected digit', () => {
    for (let wrong = 0; wrong <= 9; wrong++) {
      if (wrong === 9) continue;
      const error = expectStsError(() => parseMeterPan(`60072700000000000${wrong}`), 'STS_BAD_CHECK_DIGIT');
      expect(error.userMessage).toMatch(/should be 9\b/);
    }
    const error = expectStsError(() => parseMeterPan('000001000000000083'), 'STS_BAD_CHECK_DIGIT');
    expect(error.userMessage).toMatch(/should be 2\b/);
  });

  it('letters are STS_INVALID_DIGITS', () => {
    expectStsError(() => parseMeterPan('60072700000000000X'), 'STS_INVALID_DIGITS');
    expectStsError(() => parseMeterPan('6007270000000000o9'), 'STS_INVALID_DIGITS');
  });

  it('an empty PAN is a wrong length (the message says 18 digits), not a bad character', () => {
    const error = expectStsError(() => parseMeterPan(''), 'STS_INVALID_PAN');
    expect(error.userMessage).toContain('18 digits');
    expect(expectStsError(() => parseMeterPan('  '), 'STS_INVALID_PAN').userMessage).toContain('18');
    expectStsError(() => meterPanFromParts('600727', ''), 'STS_INVALID_PAN');
  });

  it.each(['60072700000000009', '6007270000000000090', '600727', '1'.repeat(20)])(
    'wrong length %s is STS_INVALID_PAN',
    (text) => {
      expectStsError(() => parseMeterPan(text), 'STS_INVALID_PAN');
    },
  );

  it('round-trips every valid PAN and refuses every other last digit (property)', () => {
    fc.assert(
      fc.property(digitString(6), digitString(11), fc.nat({ max: 9 }), (iin, drn, last) => {
        const pan = meterPanFromParts(iin, drn);
        expect(parseMeterPan(pan.pan)).toEqual(pan);
        const candidate = `${iin}${drn}${last}`;
        if (last === pan.checkDigit) expect(parseMeterPan(candidate)).toEqual(pan);
        else expectStsError(() => parseMeterPan(candidate), 'STS_BAD_CHECK_DIGIT');
      }),
    );
  });
});
