import { StsError } from './errors.ts';

/**
 * STS amount encodings.
 *
 * TransferAmount (class 0 subclasses 0–3, and MPL/MPPUL on their raw integer): 2-bit exponent e and
 * 14-bit mantissa m, t = m·10^e + Σ_{n=1..e} 2^14·10^(n−1). Encoding rounds **up** to the next value the
 * field can carry (the meter never gets less than was sold).
 *
 * Currency amounts (class 0 subclasses 4–7, IEC 62055-41:2018): the same series with a sign bit and a
 * 5-bit exponent, in units of 10^-5 of the currency; kept in bigint because 10^31 exceeds 2^53.
 */

const MANTISSA_SPAN = 16384; // 2^14

/** First value reachable with each 2-bit exponent. */
const TRANSFER_OFFSETS = [0, 16384, 180224, 1818624] as const;
const TRANSFER_STEPS = [1, 10, 100, 1000] as const;
export const MAX_TRANSFER_UNITS = 18201624; // 16383·1000 + 1818624 = 1 820 162.4 kWh

export interface EncodedTransferAmount {
  /** The 16-bit field: exponent in bits 15..14, mantissa in 13..0. */
  field: number;
  exponent: number;
  mantissa: number;
  /** What the meter will credit: the requested value rounded up to the field's resolution. */
  encodedUnits: number;
}

function requireUnits(units: number, what: string): void {
  if (typeof units !== 'number' || !Number.isFinite(units) || !Number.isInteger(units)) {
    throw new StsError(
      'STS_INVALID_AMOUNT',
      `The ${what} must be a whole number.`,
      `${what} must be a finite integer, got ${String(units)}`,
    );
  }
  if (units < 0) {
    throw new StsError(
      'STS_INVALID_AMOUNT',
      `The ${what} cannot be negative.`,
      `${what} ${units} is negative`,
    );
  }
}

/** Encodes an integer amount (0.1 units for credit, raw watts for MPL/MPPUL); rounds up. */
export function encodeTransferAmount(units: number, what = 'amount'): EncodedTransferAmount {
  requireUnits(units, what);
  if (units > MAX_TRANSFER_UNITS) {
    throw new StsError(
      'STS_AMOUNT_OUT_OF_RANGE',
      `The ${what} is too large for one token (maximum 1 820 162.4 units).`,
      `${what} ${units} exceeds the STS transfer-amount maximum ${MAX_TRANSFER_UNITS}`,
    );
  }
  let exponent = 0;
  while (exponent < 3 && units >= TRANSFER_OFFSETS[exponent + 1]!) exponent++;
  let mantissa = Math.ceil((units - TRANSFER_OFFSETS[exponent]!) / TRANSFER_STEPS[exponent]!);
  if (mantissa === MANTISSA_SPAN) {
    // Rounding up overflowed the mantissa: the same value is the first one of the next exponent.
    exponent++;
    mantissa = 0;
  }
  return {
    field: (exponent << 14) | mantissa,
    exponent,
    mantissa,
    encodedUnits: mantissa * TRANSFER_STEPS[exponent]! + TRANSFER_OFFSETS[exponent]!,
  };
}

export function decodeTransferAmount(field: number): number {
  const exponent = (field >>> 14) & 3;
  return (field & 0x3fff) * TRANSFER_STEPS[exponent]! + TRANSFER_OFFSETS[exponent]!;
}

/**
 * kWh (or m³, minutes) → whole 0.1 units. Policy: exact decimal arithmetic, rounded **up** to the next 0.1,
 * matching the direction of the STS amount encoding. Money-to-units conversion in the vend engine produces
 * whole 0.1 units itself, so this is only used where a person types a decimal quantity (engineering tools).
 */
export function transferUnitsFromDecimal(quantity: string | number): number {
  const text = typeof quantity === 'number' ? numberToPlainDecimal(quantity) : quantity.trim();
  const match = /^(\d+)(?:\.(\d*))?$/.exec(text);
  if (!match) {
    throw new StsError(
      'STS_INVALID_AMOUNT',
      'The quantity must be a positive decimal number, like 12.5.',
      `cannot read quantity ${JSON.stringify(String(quantity))} as a non-negative decimal`,
    );
  }
  const whole = match[1]!.replace(/^0+(?=\d)/, '');
  const fraction = match[2] ?? '';
  if (whole.length > 9) {
    throw new StsError(
      'STS_AMOUNT_OUT_OF_RANGE',
      'The quantity is too large for one token (maximum 1 820 162.4 units).',
      `quantity ${JSON.stringify(String(quantity))} has ${whole.length} integer digits`,
    );
  }
  const tenths = Number(whole) * 10 + Number(fraction.slice(0, 1) || '0');
  const finer = /[1-9]/.test(fraction.slice(1));
  const units = tenths + (finer ? 1 : 0);
  requireUnits(units, 'quantity');
  return units;
}

function numberToPlainDecimal(value: number): string {
  if (!Number.isFinite(value) || value < 0) {
    throw new StsError(
      'STS_INVALID_AMOUNT',
      'The quantity must be a positive number.',
      `quantity ${String(value)} is negative or not finite`,
    );
  }
  if (value >= 1e9) {
    throw new StsError(
      'STS_AMOUNT_OUT_OF_RANGE',
      'The quantity is too large for one token (maximum 1 820 162.4 units).',
      `quantity ${value} exceeds the STS transfer-amount range`,
    );
  }
  // Shortest round-trip form; expand exponent notation (tiny values) so the decimal parser sees every digit.
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

// ---------------------------------------------------------------------------------------------
// Currency amounts (10^-5 units, sign + 5-bit exponent + 14-bit mantissa)

export interface EncodedCurrencyAmount {
  negative: boolean;
  exponent: number;
  mantissa: number;
  /** Bits 15..0 of the data field: e1 e0 m13..m0. */
  field: number;
  /** The 4 bits that sit where RND normally is: s e4 e3 e2. */
  signAndExponentNibble: number;
  /** What the meter will credit, in 10^-5 currency units, signed, rounded up in magnitude. */
  encodedAmount: bigint;
}

const CURRENCY_OFFSETS: bigint[] = [];
const CURRENCY_STEPS: bigint[] = [];
{
  let offset = 0n;
  let stepSize = 1n;
  for (let exponent = 0; exponent < 32; exponent++) {
    CURRENCY_OFFSETS.push(offset);
    CURRENCY_STEPS.push(stepSize);
    offset += BigInt(MANTISSA_SPAN) * stepSize;
    stepSize *= 10n;
  }
}
export const MAX_CURRENCY_AMOUNT = 16383n * CURRENCY_STEPS[31]! + CURRENCY_OFFSETS[31]!;

/** Encodes a signed amount in 10^-5 currency units; the magnitude rounds up. */
export function encodeCurrencyAmount(amount: bigint): EncodedCurrencyAmount {
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  if (magnitude > MAX_CURRENCY_AMOUNT) {
    throw new StsError(
      'STS_AMOUNT_OUT_OF_RANGE',
      'The currency amount is too large for one token.',
      `currency amount ${amount} exceeds the STS maximum`,
    );
  }
  let exponent = 0;
  while (exponent < 31 && magnitude >= CURRENCY_OFFSETS[exponent + 1]!) exponent++;
  const stepSize = CURRENCY_STEPS[exponent]!;
  let mantissa = (magnitude - CURRENCY_OFFSETS[exponent]! + stepSize - 1n) / stepSize;
  if (mantissa === BigInt(MANTISSA_SPAN)) {
    exponent++;
    mantissa = 0n;
  }
  const m = Number(mantissa);
  const encodedMagnitude = mantissa * CURRENCY_STEPS[exponent]! + CURRENCY_OFFSETS[exponent]!;
  return {
    negative,
    exponent,
    mantissa: m,
    field: ((exponent & 3) << 14) | m,
    signAndExponentNibble: ((negative ? 1 : 0) << 3) | (exponent >> 2),
    encodedAmount: negative ? -encodedMagnitude : encodedMagnitude,
  };
}

export function decodeCurrencyAmount(signAndExponentNibble: number, field: number): bigint {
  const exponent = ((signAndExponentNibble & 7) << 2) | ((field >>> 14) & 3);
  const magnitude = BigInt(field & 0x3fff) * CURRENCY_STEPS[exponent]! + CURRENCY_OFFSETS[exponent]!;
  return signAndExponentNibble & 8 ? -magnitude : magnitude;
}

/** Currency amounts are carried as 10^-5 units; this scales a decimal string ("100", "-12.34567") exactly. */
export function currencyAmountFromDecimal(text: string): bigint {
  const match = /^(-)?(\d+)(?:\.(\d{0,5}))?$/.exec(text.trim());
  if (!match) {
    throw new StsError(
      'STS_INVALID_AMOUNT',
      'The currency amount must be a number with at most 5 decimals.',
      `cannot read currency amount ${JSON.stringify(text)}`,
    );
  }
  const value = BigInt(match[2]!) * 100000n + BigInt((match[3] ?? '').padEnd(5, '0'));
  return match[1] ? -value : value;
}

export function currencyAmountToDecimal(amount: bigint): string {
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const whole = magnitude / 100000n;
  const fraction = (magnitude % 100000n).toString().padStart(5, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}
