import i18next from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Language } from '../../src-shared/bridge/contract.ts';
import { useBridge } from '../app/bridge-context.tsx';
import { useLocale } from '../app/locale.ts';
import { rememberLanguage } from '../app/preferences.ts';
import { Select } from '../components/index.ts';

/** Language names in their own language, so anyone can find theirs. */
const NATIVE_NAMES: Record<Language, string> = { en: 'English', fr: 'Français', pt: 'Português' };

/**
 * Switches the UI language at once; with an operator logged in it is also stored as their language
 * (auth.setLanguage), so it comes back at their next login.
 */
export function LanguageSwitcher({ loggedIn, className }: { loggedIn: boolean; className?: string }) {
  const { t } = useTranslation('common');
  const { language } = useLocale();
  const client = useBridge();
  const [failed, setFailed] = useState(false);
  return (
    <Select<Language>
      className={['ov-language', className].filter(Boolean).join(' ')}
      label={t('language.label')}
      options={LANGUAGES.map((id) => ({ id, label: NATIVE_NAMES[id] }))}
      value={language}
      errorMessage={failed ? t('language.notSaved') : null}
      onChange={(next) => {
        void i18next.changeLanguage(next);
        rememberLanguage(next);
        setFailed(false);
        if (loggedIn) {
          client.call('auth.setLanguage', { language: next }).catch(() => setFailed(true));
        }
      }}
    />
  );
}
