import { formatMoney as plainDecimal } from '../../src-shared/vending/money.ts';

/**
 * Intl formats an exact decimal string digit for digit (an ES2023 StringNumericLiteral). Passed through this cast
 * so the file also type-checks under the ES2022 lib the Node-side unit tests use; the runtime value is the string.
 */
const exactDecimal = (decimal: string): number => decimal as unknown as number;

export interface CurrencyFormat {
  code: string;
  minorUnits: number;
}

/**
 * Locale-aware money from integer minor units. The exact decimal text (no float ever) is handed to
 * Intl.NumberFormat as a string, which formats it digit for digit with the locale's separators and symbol.
 */
export function formatCurrency(minor: number, currency: CurrencyFormat, locale: string): string {
  const decimal = exactDecimal(plainDecimal(minor, currency));
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: currency.code,
    // 'R 12.50' rather than 'ZAR 12.50': the symbol cashiers see on notes and price lists.
    currencyDisplay: 'narrowSymbol',
    minimumFractionDigits: currency.minorUnits,
    maximumFractionDigits: currency.minorUnits,
  }).format(decimal);
}

/** A rate in basis points (1500 = 15 %) as a percentage in the locale's style ("15%", "15 %", "7,5 %"). */
export function formatPercentBp(basisPoints: number, locale: string): string {
  const abs = Math.abs(basisPoints);
  const decimal = `${basisPoints < 0 ? '-' : ''}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'percent', maximumFractionDigits: 2 }).format(
    exactDecimal(decimal),
  );
}

/** Units are integer tenths (0.1 kWh): shown with one decimal in the locale's format. */
export function formatUnitsTenths(tenths: number, locale: string): string {
  const sign = tenths < 0 ? '-' : '';
  const abs = Math.abs(tenths);
  const decimal = `${sign}${Math.trunc(abs / 10)}.${abs % 10}`;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
    exactDecimal(decimal),
  );
}
