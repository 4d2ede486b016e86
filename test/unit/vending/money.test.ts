import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VendError, type VendErrorCode } from '../../../src-shared/vending/errors.ts';
import { type Currency, formatMoney, parseMoney } from '../../../src-shared/vending/money.ts';

const ZAR: Currency = { code: 'ZAR', minorUnits: 2 };
const UGX: Currency = { code: 'UGX', minorUnits: 0 };
const KWD: Currency = { code: 'KWD', minorUnits: 3 };

function expectVendError(action: () => unknown, code: VendErrorCode): VendError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(VendError);
  const error = thrown as VendError;
  expect(error.code).toBe(code);
  expect(error.userMessage).toMatch(/^[A-Z][^\n]*[.!?]$/);
  expect(error.detail.length).toBeGreaterThan(0);
  return error;
}

describe('parseMoney', () => {
  it.each([
    ['12', ZAR, 1200],
    ['12.5', ZAR, 1250],
    ['12.50', ZAR, 1250],
    ['0.01', ZAR, 1],
    ['0', ZAR, 0],
    ['  7.05 ', ZAR, 705],
    ['007.10', ZAR, 710],
    ['1500', UGX, 1500],
    ['1.5', KWD, 1500],
    ['1.234', KWD, 1234],
    ['90071992547409.91', ZAR, Number.MAX_SAFE_INTEGER],
    ['9007199254740991', UGX, Number.MAX_SAFE_INTEGER],
  ])('%s (%o) → %i minor units', (text, currency, minor) => {
    expect(parseMoney(text, currency)).toBe(minor);
  });

  it.each([
    ['', ZAR, /Enter an amount/],
    ['   ', ZAR, /Enter an amount/],
    ['abc', ZAR, /must be a number/],
    ['1e3', ZAR, /must be a number/],
    ['1,000', ZAR, /must be a number/],
    ['12.', ZAR, /must be a number/],
    ['.5', ZAR, /must be a number/],
    ['+5', ZAR, /must be a number/],
    ['R12', ZAR, /must be a number/],
    ['12.5.0', ZAR, /must be a number/],
    ['NaN', ZAR, /must be a number/],
    ['Infinity', ZAR, /must be a number/],
    ['-5', ZAR, /cannot be negative/],
    ['-0.01', ZAR, /cannot be negative/],
    ['12.345', ZAR, /at most 2 decimals/],
    ['12.500', ZAR, /at most 2 decimals/],
    ['1500.5', UGX, /no decimals/],
    ['1.2345', KWD, /at most 3 decimals/],
    ['90071992547409.92', ZAR, /too large/],
    ['9007199254740992', UGX, /too large/],
    ['99999999999999999999999', ZAR, /too large/],
  ])('refuses %j (%o) with VEND_INVALID_AMOUNT', (text, currency, message) => {
    expect(expectVendError(() => parseMoney(text, currency), 'VEND_INVALID_AMOUNT').userMessage).toMatch(
      message,
    );
  });

  it('refuses a currency with an impossible number of decimals', () => {
    expectVendError(() => parseMoney('1', { code: 'XXX', minorUnits: -1 }), 'VEND_INVALID_REQUEST');
    expectVendError(() => parseMoney('1', { code: 'XXX', minorUnits: 1.5 }), 'VEND_INVALID_REQUEST');
  });
});

describe('formatMoney', () => {
  it.each([
    [1250, ZAR, '12.50'],
    [-300, ZAR, '-3.00'],
    [0, ZAR, '0.00'],
    [1, ZAR, '0.01'],
    [-5, ZAR, '-0.05'],
    [1500, UGX, '1500'],
    [-1500, UGX, '-1500'],
    [1, KWD, '0.001'],
    [1234567, KWD, '1234.567'],
    [Number.MAX_SAFE_INTEGER, ZAR, '90071992547409.91'],
  ])('%i (%o) → %s', (minor, currency, text) => {
    expect(formatMoney(minor, currency)).toBe(text);
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])(
    'refuses %d with VEND_INVALID_AMOUNT',
    (value) => {
      expectVendError(() => formatMoney(value, ZAR), 'VEND_INVALID_AMOUNT');
    },
  );

  it('round-trips through parseMoney for every non-negative safe amount (property, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.maxSafeNat()),
        fc.integer({ min: 0, max: 4 }),
        (minor, minorUnits) => {
          const currency = { code: 'TST', minorUnits };
          expect(parseMoney(formatMoney(minor, currency), currency)).toBe(minor);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  it('parse then format normalises to exactly the currency decimals (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.integer({ min: 0, max: 2 }), (whole, decimals) => {
        const fraction = decimals === 0 ? '' : `.${String(whole % 10 ** decimals).padStart(decimals, '0')}`;
        const text = `${whole}${fraction}`;
        const minor = parseMoney(text, ZAR);
        expect(minor).toBe(
          whole * 100 + (decimals === 0 ? 0 : (whole % 10 ** decimals) * 10 ** (2 - decimals)),
        );
        expect(formatMoney(minor, ZAR)).toBe(`${whole}.${(fraction.slice(1) || '').padEnd(2, '0')}`);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
