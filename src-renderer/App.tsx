import type { ReactNode } from 'react';
import { I18nProvider } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { useAppInfo } from './app/app-info.ts';
import { useLocale } from './app/locale.ts';
import { useSession } from './app/session.tsx';
import { ErrorNotice, ProgressBar } from './components/index.ts';
import { AppShell } from './layout/AppShell.tsx';
import { LoginScreen } from './screens/login/LoginScreen.tsx';

/** Before login: app.info (outlet, currency); then the login screen or the shell of the logged-in operator. */
export function App() {
  const { t } = useTranslation('common');
  const { locale } = useLocale();
  const info = useAppInfo();
  const { session } = useSession();
  let content: ReactNode;
  if (info.isPending) {
    content = (
      <main className="ov-splash">
        <h1 className="ov-visually-hidden">OpenVend</h1>
        <ProgressBar label={t('app.starting')} />
      </main>
    );
  } else if (info.isError) {
    content = (
      <main className="ov-splash">
        <h1>{t('app.cannotStart')}</h1>
        <ErrorNotice error={info.error} onRetry={() => void info.refetch()} />
      </main>
    );
  } else if (session) {
    content = <AppShell session={session} />;
  } else {
    content = <LoginScreen />;
  }
  return <I18nProvider locale={locale}>{content}</I18nProvider>;
}
