import { type Currency, parseMoney } from '../../src-shared/vending/money.ts';

/** Why typed money text was refused; each has its own translated message in the `common` namespace. */
export type MoneyInputProblem = 'empty' | 'format' | 'decimals' | 'negative' | 'tooLarge';

export type MoneyInput = { ok: true; minor: number } | { ok: false; problem: MoneyInputProblem };

/**
 * Reads money as a cashier types it, into exact minor units. French and Portuguese cashiers type a decimal comma
 * ("12,50"): a single comma with no point is read as the decimal separator. Spaces (grouping, including the
 * non-breaking ones a copy-paste brings) are dropped. Everything else goes through `parseMoney`, so a grouping
 * comma ("1,000") becomes "1.000" and is refused as too many decimals rather than silently misread.
 */
export function readMoneyInput(text: string, currency: Currency): MoneyInput {
  let normalised = text.replace(/[\s\u00a0\u202f]/g, '');
  if (normalised === '') return { ok: false, problem: 'empty' };
  if (normalised.startsWith('-')) return { ok: false, problem: 'negative' };
  if (!normalised.includes('.') && (normalised.match(/,/g) ?? []).length === 1) {
    normalised = normalised.replace(',', '.');
  }
  const match = /^\d+(?:\.(\d+))?$/.exec(normalised);
  if (!match) return { ok: false, problem: 'format' };
  if ((match[1] ?? '').length > currency.minorUnits) return { ok: false, problem: 'decimals' };
  try {
    return { ok: true, minor: parseMoney(normalised, currency) };
  } catch {
    return { ok: false, problem: 'tooLarge' };
  }
}

/** Minor units back to the text a cashier would type in this locale ("12.50" / "12,50"), for quick amounts. */
export function moneyInputText(minor: number, currency: Currency, decimalSeparator: string): string {
  const digits = String(Math.abs(minor)).padStart(currency.minorUnits + 1, '0');
  if (currency.minorUnits === 0) return digits;
  const cut = digits.length - currency.minorUnits;
  return `${digits.slice(0, cut)}${decimalSeparator}${digits.slice(cut)}`;
}
