import { useCallback } from 'react';
import type { AppInfo } from '../../src-shared/bridge/contract.ts';
import { type CurrencyFormat, formatCurrency, formatUnitsTenths } from '../format/money.ts';
import { useBridgeQuery } from './bridge-context.tsx';
import { formatDateTime, useLocale } from './locale.ts';

/** Outlet, currency and host facts (public, fetched once before login and kept). */
export function useAppInfo() {
  return useBridgeQuery('app.info', {}, { staleTime: Number.POSITIVE_INFINITY });
}

export const currencyOf = (info: AppInfo): CurrencyFormat => ({
  code: info.utility.currencyCode,
  minorUnits: info.utility.currencyMinorUnits,
});

/**
 * Formatting in the UI language: money from minor units in the utility's currency, 0.1-unit quantities, and
 * dates in the utility's time zone (what the receipts print). Call only below the point where app.info loaded.
 */
export function useFormat() {
  const { data: info } = useAppInfo();
  const { locale, language } = useLocale();
  const currency: CurrencyFormat = info ? currencyOf(info) : { code: 'ZAR', minorUnits: 2 };
  const timeZone = info?.utility.timeZone;
  const money = useCallback((minor: number) => formatCurrency(minor, currency, locale), [currency, locale]);
  const units = useCallback((tenths: number) => formatUnitsTenths(tenths, locale), [locale]);
  const dateTime = useCallback((iso: string) => formatDateTime(iso, locale, timeZone), [locale, timeZone]);
  return { money, units, dateTime, currency, locale, language, timeZone };
}
