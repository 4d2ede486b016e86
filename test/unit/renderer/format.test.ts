import { describe, expect, it } from 'vitest';
import { formatCurrency, formatPercentBp, formatUnitsTenths } from '../../../src-renderer/format/money.ts';

const ZAR = { code: 'ZAR', minorUnits: 2 };
/** Intl uses (narrow) no-break spaces as separators; compare with plain spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('renderer formatting (locale-aware, exact from integers)', () => {
  it('formats minor units with the local symbol and separators', () => {
    expect(plain(formatCurrency(123450, ZAR, 'en-GB'))).toBe('R 1,234.50');
    expect(plain(formatCurrency(123450, ZAR, 'fr-FR'))).toBe('1 234,50 R');
    expect(plain(formatCurrency(-5, ZAR, 'pt-PT'))).toBe('-0,05 R');
    // Beyond float precision the digits are still exact (the decimal text goes to Intl as a string).
    expect(plain(formatCurrency(9_007_199_254_740_991, ZAR, 'en-GB'))).toBe('R 90,071,992,547,409.91');
  });

  it('formats 0.1-unit quantities and basis-point rates', () => {
    expect(formatUnitsTenths(527, 'en-GB')).toBe('52.7');
    expect(formatUnitsTenths(527, 'fr-FR')).toBe('52,7');
    expect(formatPercentBp(1500, 'en-GB')).toBe('15%');
    expect(plain(formatPercentBp(750, 'fr-FR'))).toBe('7,5 %');
    expect(formatPercentBp(1575, 'pt-PT')).toBe('15,75%');
  });
});
