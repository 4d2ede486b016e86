import { useCallback } from 'react';
import { useFormat } from '../../app/app-info.ts';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Dates the engine keeps as local calendar days (tariff effective dates) or as instants (authority expiry), and
 * byte counts, in the UI locale. A calendar day is formatted as such, never shifted through a time zone.
 */
export function useAdminFormat() {
  const { locale, dateTime } = useFormat();
  const day = useCallback(
    (text: string) => {
      const match = DAY.exec(text);
      if (!match) return dateTime(text);
      const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
      return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
    },
    [locale, dateTime],
  );
  const bytes = useCallback(
    (count: number) => {
      const [unit, value] =
        count >= 1024 * 1024
          ? (['megabyte', count / (1024 * 1024)] as const)
          : count >= 1024
            ? (['kilobyte', count / 1024] as const)
            : (['byte', count] as const);
      return new Intl.NumberFormat(locale, { style: 'unit', unit, maximumFractionDigits: 1 }).format(value);
    },
    [locale],
  );
  return { day, bytes };
}
