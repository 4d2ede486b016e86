import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currencyAmountFromDecimal,
  currencyAmountToDecimal,
  decodeCurrencyAmount,
  decodeTransferAmount,
  encodeCurrencyAmount,
  encodeTransferAmount,
  MAX_CURRENCY_AMOUNT,
  MAX_TRANSFER_UNITS,
  transferUnitsFromDecimal,
} from '../../../src-shared/sts/amount.ts';
import { expectStsError, vectorsOfKind } from '../../support/sts-vectors.ts';

const OFFSETS = [0, 16384, 180224, 1818624];
const STEPS = [1, 10, 100, 1000];
const units = fc.integer({ min: 0, max: MAX_TRANSFER_UNITS });

/** ceil(decimal text × 10) with BigInt arithmetic: the documented policy, computed independently. */
function referenceTenthsCeil(text: string): number {
  const [whole, fraction = ''] = text.split('.');
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(whole!) * scale + BigInt(fraction || '0'); // value × 10^len
  const times10 = scaled * 10n;
  return Number((times10 + scale - 1n) / scale);
}

describe('TransferAmount fixture vectors', () => {
  it.each(vectorsOfKind('amount').map((v) => [v.id, v] as const))('%s', (_id, vector) => {
    const encoded = encodeTransferAmount(vector.inputs['transfer_amount_units_0.1']);
    expect(encoded.field.toString(16).padStart(4, '0')).toBe(vector.expected.amount16_hex);
    expect(encoded.exponent).toBe(vector.expected.exponent);
    expect(encoded.mantissa).toBe(vector.expected.mantissa);
    expect(encoded.encodedUnits).toBe(vector.expected['decoded_units_0.1']);
    expect(decodeTransferAmount(encoded.field)).toBe(vector.expected['decoded_units_0.1']);
    // The kWh column is the same quantity in whole units.
    expect(transferUnitsFromDecimal(vector.inputs.kwh)).toBe(vector.inputs['transfer_amount_units_0.1']);
  });

  it('there are amount vectors to run', () => {
    expect(vectorsOfKind('amount').length).toBeGreaterThanOrEqual(10);
  });
});

describe('encodeTransferAmount', () => {
  it.each([
    [1, 0x0001],
    [256, 0x0100],
    [16383, 0x3fff],
    [16384, 0x4000],
    [20000, 0x416a],
    [180223, 0x8000],
    [180224, 0x8000],
    [1818623, 0xc000],
    [1818624, 0xc000],
    [18201624, 0xffff],
  ])('§5.2 table: %i units → 0x%s', (value, field) => {
    expect(encodeTransferAmount(value).field).toBe(field);
  });

  it('0 encodes as field 0', () => {
    expect(encodeTransferAmount(0)).toEqual({ field: 0, exponent: 0, mantissa: 0, encodedUnits: 0 });
  });

  it('the §5.1 exponent ranges start and end where the table says', () => {
    const firsts = [0, 16384, 180224, 1818624];
    const lasts = [16383, 180214, 1818524, 18201624];
    for (let e = 0; e < 4; e++) {
      expect(encodeTransferAmount(firsts[e]!)).toMatchObject({
        exponent: e,
        mantissa: 0,
        encodedUnits: firsts[e],
      });
      expect(encodeTransferAmount(lasts[e]!)).toMatchObject({
        exponent: e,
        mantissa: 16383,
        encodedUnits: lasts[e],
      });
    }
  });

  it('every value from 180215 to 180223 carries into exponent 2, mantissa 0 (= 180224)', () => {
    for (let value = 180215; value <= 180223; value++) {
      expect(encodeTransferAmount(value), String(value)).toEqual({
        field: 0x8000,
        exponent: 2,
        mantissa: 0,
        encodedUnits: 180224,
      });
    }
    // …while 180214 is still exact at exponent 1.
    expect(encodeTransferAmount(180214)).toMatchObject({
      exponent: 1,
      mantissa: 16383,
      encodedUnits: 180214,
    });
  });

  it('values between 1818525 and 1818623 carry into exponent 3, mantissa 0', () => {
    for (const value of [1818525, 1818600, 1818623]) {
      expect(encodeTransferAmount(value)).toMatchObject({ field: 0xc000, encodedUnits: 1818624 });
    }
  });

  it('rounds up within an exponent (16385 → 16394, 20001 → 20004)', () => {
    expect(encodeTransferAmount(16385).encodedUnits).toBe(16394);
    expect(encodeTransferAmount(20001).encodedUnits).toBe(20004);
    expect(encodeTransferAmount(1818625).encodedUnits).toBe(1819624);
  });

  it('rounds up: encodedUnits >= units, by less than one step (property)', () => {
    fc.assert(
      fc.property(units, (value) => {
        const encoded = encodeTransferAmount(value);
        expect(encoded.encodedUnits).toBeGreaterThanOrEqual(value);
        expect(encoded.encodedUnits - value).toBeLessThan(STEPS[Math.max(0, encoded.exponent - 1)]! * 10);
        expect(encoded.encodedUnits).toBeLessThanOrEqual(MAX_TRANSFER_UNITS);
      }),
    );
  });

  it('is the smallest representable value >= units (property)', () => {
    fc.assert(
      fc.property(units, (value) => {
        const { field, encodedUnits } = encodeTransferAmount(value);
        if (field === 0) return;
        // The field just below decodes to something smaller than the request.
        const previous = (field & 0x3fff) === 0 ? (((field >>> 14) - 1) << 14) | 0x3fff : field - 1;
        expect(decodeTransferAmount(previous)).toBeLessThan(value);
        expect(encodedUnits).toBeGreaterThanOrEqual(value);
      }),
    );
  });

  it('is monotonic: a <= b ⇒ encoded(a) <= encoded(b) (property)', () => {
    fc.assert(
      fc.property(units, units, (x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        expect(encodeTransferAmount(a).encodedUnits).toBeLessThanOrEqual(
          encodeTransferAmount(b).encodedUnits,
        );
        expect(encodeTransferAmount(a).field).toBeLessThanOrEqual(encodeTransferAmount(b).field);
      }),
    );
  });

  it('decode(encode(x).field) === encode(x).encodedUnits, and the parts agree (property)', () => {
    fc.assert(
      fc.property(units, (value) => {
        const encoded = encodeTransferAmount(value);
        expect(decodeTransferAmount(encoded.field)).toBe(encoded.encodedUnits);
        expect(encoded.field).toBe((encoded.exponent << 14) | encoded.mantissa);
        expect(encoded.mantissa).toBeGreaterThanOrEqual(0);
        expect(encoded.mantissa).toBeLessThan(16384);
        expect(encoded.encodedUnits).toBe(
          encoded.mantissa * STEPS[encoded.exponent]! + OFFSETS[encoded.exponent]!,
        );
      }),
    );
  });

  it('exact values round-trip: encode(decode(field)).field === field for every field (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff }), (field) => {
        const value = decodeTransferAmount(field);
        const encoded = encodeTransferAmount(value);
        expect(encoded.field).toBe(field);
        expect(encoded.encodedUnits).toBe(value);
      }),
    );
  });

  it('decodeTransferAmount is strictly increasing over all 65536 fields', () => {
    let previous = -1;
    for (let field = 0; field <= 0xffff; field++) {
      const value = decodeTransferAmount(field);
      expect(value > previous).toBe(true);
      previous = value;
    }
    expect(previous).toBe(MAX_TRANSFER_UNITS);
  });

  it.each([
    [-1, 'STS_INVALID_AMOUNT'],
    [-0.5, 'STS_INVALID_AMOUNT'],
    [Number.NaN, 'STS_INVALID_AMOUNT'],
    [Number.POSITIVE_INFINITY, 'STS_INVALID_AMOUNT'],
    [Number.NEGATIVE_INFINITY, 'STS_INVALID_AMOUNT'],
    [1.5, 'STS_INVALID_AMOUNT'],
    [MAX_TRANSFER_UNITS + 1, 'STS_AMOUNT_OUT_OF_RANGE'],
    [2 ** 40, 'STS_AMOUNT_OUT_OF_RANGE'],
  ] as const)('refuses %s with %s', (value, code) => {
    expectStsError(() => encodeTransferAmount(value), code);
  });

  it('refuses non-numbers', () => {
    expectStsError(() => encodeTransferAmount('10' as unknown as number), 'STS_INVALID_AMOUNT');
    expectStsError(() => encodeTransferAmount(null as unknown as number), 'STS_INVALID_AMOUNT');
  });

  it('names what it encodes in the message (MPL)', () => {
    const error = expectStsError(() => encodeTransferAmount(-3, 'power limit'), 'STS_INVALID_AMOUNT');
    expect(error.userMessage).toContain('power limit');
  });

  it('anything above 18201624 is out of range (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_TRANSFER_UNITS + 1, max: Number.MAX_SAFE_INTEGER }), (value) => {
        expectStsError(() => encodeTransferAmount(value), 'STS_AMOUNT_OUT_OF_RANGE');
      }),
    );
  });
});

describe('transferUnitsFromDecimal (policy: always round up to the next 0.1)', () => {
  it.each([
    ['1.82', 19],
    ['18981.349', 189814],
    ['0.4712', 5],
    ['10', 100],
    ['10.', 100],
    ['0.1', 1],
    ['0.10000', 1],
    ['0.01', 1],
    ['0', 0],
    ['0.0', 0],
    ['25.6', 256],
    ['1820162.4', 18201624],
    ['10897.345', 108974],
    [' 12.5 ', 125],
  ])('"%s" → %i', (text, expected) => {
    expect(transferUnitsFromDecimal(text)).toBe(expected);
  });

  it.each([
    [1.82, 19],
    [18981.349, 189814],
    [0.4712, 5],
    [10, 100],
    [0.1, 1],
    [0, 0],
    [1e-7, 1],
    [2000, 20000],
  ])('number %s → %i', (value, expected) => {
    expect(transferUnitsFromDecimal(value)).toBe(expected);
  });

  it('a quantity with more than 9 integer digits is out of range, as text or as a number', () => {
    expectStsError(() => transferUnitsFromDecimal('1234567890.5'), 'STS_AMOUNT_OUT_OF_RANGE');
    expectStsError(() => transferUnitsFromDecimal(1e21), 'STS_AMOUNT_OUT_OF_RANGE');
    expect(transferUnitsFromDecimal('000000000000012.5')).toBe(125);
  });

  it('differs from NectarAPI truncation on purpose (1.82 is 19, not 18)', () => {
    expect(transferUnitsFromDecimal('1.82')).not.toBe(18);
    expect(transferUnitsFromDecimal('18981.349')).not.toBe(189813);
  });

  it('equals ceil(x × 10) computed exactly (property)', () => {
    const decimal = fc
      .tuple(
        fc.nat({ max: 1_000_000 }),
        fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 8 })),
      )
      .map(([whole, fraction]) => (fraction === null ? String(whole) : `${whole}.${fraction}`));
    fc.assert(
      fc.property(decimal, (text) => {
        const expected = referenceTenthsCeil(text.endsWith('.') ? text.slice(0, -1) : text);
        expect(transferUnitsFromDecimal(text)).toBe(expected);
      }),
    );
  });

  it('exact tenths are kept exactly, as text and as numbers (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: MAX_TRANSFER_UNITS }), (tenths) => {
        const text = `${Math.floor(tenths / 10)}.${tenths % 10}`;
        expect(transferUnitsFromDecimal(text)).toBe(tenths);
        expect(transferUnitsFromDecimal(Number(text))).toBe(tenths);
      }),
    );
  });

  it('never gives less than the quantity and never more than 0.1 above it (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), (value) => {
        const result = transferUnitsFromDecimal(value);
        expect(result).toBeGreaterThanOrEqual(value * 10 - 1e-6);
        expect(result).toBeLessThan(value * 10 + 1 + 1e-6);
      }),
    );
  });

  it.each(['', ' ', 'abc', '-1', '-0.1', '1.2.3', '1e3', '.5', '1,5', '+1', '0x10', '١٢'])(
    'refuses the text %j with STS_INVALID_AMOUNT',
    (text) => {
      expectStsError(() => transferUnitsFromDecimal(text), 'STS_INVALID_AMOUNT');
    },
  );

  it.each([-1, -0.1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'refuses the number %s with STS_INVALID_AMOUNT',
    (value) => {
      expectStsError(() => transferUnitsFromDecimal(value), 'STS_INVALID_AMOUNT');
    },
  );
});

describe('currency amounts (IEC 62055-41:2018, 10^-5 units)', () => {
  it('§5.3 example: 100 → t 10 000 000 → e 3, m 8182, field 0xDFF6, nibble 0, decodes to 10000624', () => {
    const amount = currencyAmountFromDecimal('100');
    expect(amount).toBe(10_000_000n);
    const encoded = encodeCurrencyAmount(amount);
    expect(encoded).toEqual({
      negative: false,
      exponent: 3,
      mantissa: 8182,
      field: 0xdff6,
      signAndExponentNibble: 0,
      encodedAmount: 10_000_624n,
    });
    expect(decodeCurrencyAmount(encoded.signAndExponentNibble, encoded.field)).toBe(10_000_624n);
    expect(currencyAmountToDecimal(10_000_624n)).toBe('100.00624');
  });

  it('a negative amount sets the sign bit (bit 3 of the S&E nibble) and decodes negative', () => {
    const encoded = encodeCurrencyAmount(-10_000_000n);
    expect(encoded.negative).toBe(true);
    expect(encoded.signAndExponentNibble).toBe(0b1000);
    expect(encoded.field).toBe(0xdff6);
    expect(encoded.encodedAmount).toBe(-10_000_624n);
    expect(decodeCurrencyAmount(encoded.signAndExponentNibble, encoded.field)).toBe(-10_000_624n);
  });

  it('large exponents put e4..e2 in the nibble and e1 e0 in the field', () => {
    // The first value of exponent 5 is 16384·(1+10+100+1000+10000) = 182 042 624.
    const encoded = encodeCurrencyAmount(182_042_624n);
    expect(encoded.exponent).toBe(5);
    expect(encoded.mantissa).toBe(0);
    expect(encoded.signAndExponentNibble).toBe(5 >> 2);
    expect(encoded.field >>> 14).toBe(5 & 3);
    expect(encoded.encodedAmount).toBe(182_042_624n);
    // The last value of exponent 4 (step 10 000) is 10 000 below it; anything in between carries up.
    expect(encodeCurrencyAmount(182_032_624n)).toMatchObject({ exponent: 4, mantissa: 16383 });
    expect(encodeCurrencyAmount(182_032_625n)).toMatchObject({ exponent: 5, mantissa: 0 });
    expect(encodeCurrencyAmount(182_042_623n)).toMatchObject({ exponent: 5, mantissa: 0 });
  });

  it('zero and small amounts are exact at exponent 0', () => {
    expect(encodeCurrencyAmount(0n)).toMatchObject({ field: 0, signAndExponentNibble: 0, encodedAmount: 0n });
    expect(encodeCurrencyAmount(16383n)).toMatchObject({
      exponent: 0,
      mantissa: 16383,
      encodedAmount: 16383n,
    });
    expect(encodeCurrencyAmount(16384n)).toMatchObject({ exponent: 1, mantissa: 0, encodedAmount: 16384n });
    expect(encodeCurrencyAmount(-1n)).toMatchObject({
      signAndExponentNibble: 8,
      mantissa: 1,
      encodedAmount: -1n,
    });
  });

  it('the maximum encodes as all ones; one more is out of range', () => {
    const max = encodeCurrencyAmount(MAX_CURRENCY_AMOUNT);
    expect(max).toMatchObject({ exponent: 31, mantissa: 16383, field: 0xffff, signAndExponentNibble: 7 });
    expect(encodeCurrencyAmount(-MAX_CURRENCY_AMOUNT).signAndExponentNibble).toBe(15);
    expectStsError(() => encodeCurrencyAmount(MAX_CURRENCY_AMOUNT + 1n), 'STS_AMOUNT_OUT_OF_RANGE');
    expectStsError(() => encodeCurrencyAmount(-MAX_CURRENCY_AMOUNT - 1n), 'STS_AMOUNT_OUT_OF_RANGE');
  });

  const currency = fc.bigInt({ min: -MAX_CURRENCY_AMOUNT, max: MAX_CURRENCY_AMOUNT });
  const smallCurrency = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });

  it('decode(encode(x)) === encodedAmount, with the sign kept and the magnitude rounded up (property)', () => {
    fc.assert(
      fc.property(fc.oneof(currency, smallCurrency), (amount) => {
        const encoded = encodeCurrencyAmount(amount);
        expect(decodeCurrencyAmount(encoded.signAndExponentNibble, encoded.field)).toBe(
          encoded.encodedAmount,
        );
        const magnitude = amount < 0n ? -amount : amount;
        const encodedMagnitude = encoded.encodedAmount < 0n ? -encoded.encodedAmount : encoded.encodedAmount;
        expect(encodedMagnitude >= magnitude).toBe(true);
        expect(encoded.negative).toBe(amount < 0n);
        if (amount !== 0n) expect(encoded.encodedAmount < 0n).toBe(amount < 0n);
        expect(encoded.field).toBeLessThanOrEqual(0xffff);
        expect(encoded.signAndExponentNibble).toBeLessThanOrEqual(15);
        expect(encoded.exponent).toBe(((encoded.signAndExponentNibble & 7) << 2) | (encoded.field >>> 14));
      }),
    );
  });

  it('exact values round-trip: every (nibble, field) decodes to a value that encodes back to it (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 15 }), fc.nat({ max: 0xffff }), (nibble, field) => {
        const value = decodeCurrencyAmount(nibble, field);
        // Sign bit with a zero magnitude is the only non-canonical form (it decodes to 0).
        if (value === 0n) return;
        const encoded = encodeCurrencyAmount(value);
        expect(encoded.encodedAmount).toBe(value);
        expect(encoded.field).toBe(field);
        expect(encoded.signAndExponentNibble).toBe(nibble);
      }),
    );
  });

  it('is monotonic in magnitude (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_CURRENCY_AMOUNT }),
        fc.bigInt({ min: 0n, max: MAX_CURRENCY_AMOUNT }),
        (x, y) => {
          const [a, b] = x <= y ? [x, y] : [y, x];
          expect(encodeCurrencyAmount(a).encodedAmount <= encodeCurrencyAmount(b).encodedAmount).toBe(true);
        },
      ),
    );
  });

  it.each([
    ['100', 10_000_000n],
    ['0', 0n],
    ['0.00001', 1n],
    ['-12.34567', -1_234_567n],
    ['12.5', 1_250_000n],
    ['7.', 700_000n],
    [' 3 ', 300_000n],
  ])('currencyAmountFromDecimal(%j) = %s', (text, expected) => {
    expect(currencyAmountFromDecimal(text)).toBe(expected);
  });

  it.each(['', 'abc', '1.123456', '1e5', '--1', '+1', '.5', '1,00'])(
    'currencyAmountFromDecimal refuses %j with STS_INVALID_AMOUNT',
    (text) => {
      expectStsError(() => currencyAmountFromDecimal(text), 'STS_INVALID_AMOUNT');
    },
  );

  it.each([
    [10_000_624n, '100.00624'],
    [0n, '0.00000'],
    [1n, '0.00001'],
    [-50_000n, '-0.50000'],
    [-1_234_567n, '-12.34567'],
  ])('currencyAmountToDecimal(%s) = %j', (amount, text) => {
    expect(currencyAmountToDecimal(amount)).toBe(text);
  });

  it('currencyAmountFromDecimal(currencyAmountToDecimal(x)) === x (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (amount) => {
        expect(currencyAmountFromDecimal(currencyAmountToDecimal(amount))).toBe(amount);
      }),
    );
  });
});
