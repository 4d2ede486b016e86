import { VendError } from './errors.ts';

/**
 * Money is always an integer number of **minor units** (cents, or whole shillings for UGX), a safe integer.
 * Nothing here does floating-point arithmetic on money: text is converted digit by digit with bigint.
 */

/** An ISO 4217 currency: code and number of decimals (ZAR 2, UGX 0, KWD 3). */
export interface Currency {
  code: string;
  minorUnits: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** ISO 4217 uses 0–4 decimals; 6 leaves room without letting 10^minorUnits get silly. */
const MAX_MINOR_UNITS = 6;

function requireCurrency(currency: Currency): void {
  const { minorUnits } = currency;
  if (!Number.isInteger(minorUnits) || minorUnits < 0 || minorUnits > MAX_MINOR_UNITS) {
    throw new VendError(
      'VEND_INVALID_REQUEST',
      'The currency is not configured correctly.',
      `currency ${JSON.stringify(currency.code)} has minorUnits ${String(minorUnits)}; expected an integer 0..${MAX_MINOR_UNITS}`,
    );
  }
}

/**
 * Reads an amount typed by a person ("12", "12.5", "12.50"; surrounding spaces allowed) as exact minor units.
 * Refused with `VEND_INVALID_AMOUNT`: empty text, anything that is not plain digits with an optional decimal point
 * and decimals ("1e3", "1,000", "12.", ".5", "+1", "R12"), a negative amount, more decimals than the currency has
 * ("12.345" in ZAR; trailing zeros count too: "12.500" is refused rather than silently accepted), and amounts above
 * Number.MAX_SAFE_INTEGER minor units.
 */
export function parseMoney(text: string, currency: Currency): number {
  requireCurrency(currency);
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed === '') {
    throw new VendError('VEND_INVALID_AMOUNT', 'Enter an amount.', 'the amount text is empty');
  }
  if (/^-\s*\d/.test(trimmed)) {
    throw new VendError(
      'VEND_INVALID_AMOUNT',
      'The amount cannot be negative.',
      `amount ${JSON.stringify(text)} is negative`,
    );
  }
  const match = /^(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match) {
    throw new VendError(
      'VEND_INVALID_AMOUNT',
      'The amount must be a number, like 12.50.',
      `cannot read ${JSON.stringify(text)} as a decimal amount in ${currency.code}`,
    );
  }
  const fraction = match[2] ?? '';
  if (fraction.length > currency.minorUnits) {
    throw new VendError(
      'VEND_INVALID_AMOUNT',
      currency.minorUnits === 0
        ? `${currency.code} amounts have no decimals.`
        : `${currency.code} amounts have at most ${currency.minorUnits} decimals.`,
      `amount ${JSON.stringify(text)} has ${fraction.length} decimals; ${currency.code} has ${currency.minorUnits}`,
    );
  }
  const minor =
    BigInt(match[1]!) * 10n ** BigInt(currency.minorUnits) +
    BigInt(fraction.padEnd(currency.minorUnits, '0') || '0');
  if (minor > MAX_SAFE) {
    throw new VendError(
      'VEND_INVALID_AMOUNT',
      'The amount is too large.',
      `amount ${JSON.stringify(text)} is ${minor} minor units, above Number.MAX_SAFE_INTEGER`,
    );
  }
  return Number(minor);
}

/**
 * Formats minor units with exactly the currency's decimals and a '.' separator, no grouping and no symbol
 * ("12.50", "-3.00", UGX "1500"). The receipt/UI layer adds symbols and grouping. Refuses non-integers.
 */
export function formatMoney(minor: number, currency: Currency): string {
  requireCurrency(currency);
  if (!Number.isSafeInteger(minor)) {
    throw new VendError(
      'VEND_INVALID_AMOUNT',
      'The amount is not a whole number of minor units.',
      `formatMoney expects a safe integer of minor units, got ${String(minor)}`,
    );
  }
  const sign = minor < 0 ? '-' : '';
  const digits = Math.abs(minor).toString();
  if (currency.minorUnits === 0) return `${sign}${digits}`;
  const padded = digits.padStart(currency.minorUnits + 1, '0');
  const cut = padded.length - currency.minorUnits;
  return `${sign}${padded.slice(0, cut)}.${padded.slice(cut)}`;
}
