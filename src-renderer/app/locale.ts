import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Language } from '../../src-shared/bridge/contract.ts';
import { LOCALE_OF } from '../i18n/index.ts';

export const isLanguage = (value: string | undefined | null): value is Language =>
  (LANGUAGES as readonly string[]).includes(value ?? '');

/** The current UI language and its BCP 47 locale for Intl formatting; re-renders when the language changes. */
export function useLocale(): { language: Language; locale: string } {
  const { i18n } = useTranslation();
  const language = isLanguage(i18n.resolvedLanguage) ? i18n.resolvedLanguage : 'en';
  return { language, locale: LOCALE_OF[language] };
}

/** The decimal separator of a locale ("." or ","), for echoing amounts the way cashiers type them. */
export function decimalSeparatorOf(locale: string): string {
  return (
    new Intl.NumberFormat(locale).formatToParts(1.5).find((part) => part.type === 'decimal')?.value ?? '.'
  );
}

/** The currency symbol of a locale ("R", "ZAR", "€"…), shown in front of money inputs. */
export function currencySymbolOf(currencyCode: string, locale: string): string {
  return (
    new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: currencyCode,
      currencyDisplay: 'narrowSymbol',
    })
      .formatToParts(0)
      .find((part) => part.type === 'currency')?.value ?? currencyCode
  );
}

/** Local date and time of an ISO instant, in the UI locale. */
export function formatDateTime(iso: string, locale: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    ...(timeZone ? { timeZone } : {}),
  }).format(date);
}

export function formatTime(iso: string, locale: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(
    date,
  );
}
