import i18next, { type Resource } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { LANGUAGES, type Language } from '../../src-shared/bridge/contract.ts';

import { NAMESPACES } from './namespaces.ts';

/**
 * Translations live in `locales/<language>/<namespace>.json`, one namespace per area of the UI, so two people
 * can work on two screens without touching the same file. A unit test checks every language has every key.
 */
export { NAMESPACES, type Namespace } from './namespaces.ts';

/** BCP 47 locale per UI language, for Intl number, currency and date formatting. */
export const LOCALE_OF: Record<Language, string> = { en: 'en-GB', fr: 'fr-FR', pt: 'pt-PT' };

const files = import.meta.glob<Record<string, unknown>>('./locales/*/*.json', {
  eager: true,
  import: 'default',
});

export function loadResources(): Resource {
  const resources: Resource = {};
  for (const [path, content] of Object.entries(files)) {
    const match = /\.\/locales\/(\w+)\/(\w+)\.json$/.exec(path);
    if (!match) continue;
    const [, language = '', namespace = ''] = match;
    resources[language] ??= {};
    (resources[language] as Record<string, unknown>)[namespace] = content;
  }
  return resources;
}

export async function initI18n(language: Language = 'en') {
  await i18next.use(initReactI18next).init({
    resources: loadResources(),
    lng: language,
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    ns: [...NAMESPACES],
    defaultNS: 'common',
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return i18next;
}
