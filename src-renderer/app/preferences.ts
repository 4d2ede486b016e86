import { LANGUAGES, type Language } from '../../src-shared/bridge/contract.ts';
import { isLanguage } from './locale.ts';

const LANGUAGE_KEY = 'openvend.language';

/** The language of the login screen: the last one used on this computer, else the browser's, else English. */
export function initialLanguage(): Language {
  try {
    const stored = window.localStorage.getItem(LANGUAGE_KEY);
    if (isLanguage(stored)) return stored;
  } catch {
    // Storage can be disabled; the browser language still works.
  }
  const browser = (navigator.language || 'en').slice(0, 2).toLowerCase();
  return (LANGUAGES as readonly string[]).includes(browser) ? (browser as Language) : 'en';
}

export function rememberLanguage(language: Language): void {
  try {
    window.localStorage.setItem(LANGUAGE_KEY, language);
  } catch {
    // Not remembered: the operator's own language still comes back at login.
  }
}
