import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Session } from '../app/session.tsx';
import { useShortcuts } from '../app/shortcuts.ts';
import { Notice } from '../components/index.ts';
import { AdminScreen } from '../screens/admin/AdminScreen.tsx';
import { EngineeringScreen } from '../screens/engineering/EngineeringScreen.tsx';
import { HistoryScreen } from '../screens/history/HistoryScreen.tsx';
import { ShiftScreen } from '../screens/shift/ShiftScreen.tsx';
import { SupervisorScreen, type SupervisorSection } from '../screens/supervisor/SupervisorScreen.tsx';
import { VendScreen } from '../screens/vend/VendScreen.tsx';
import { OfflineBanner } from './OfflineBanner.tsx';
import { StatusBar } from './StatusBar.tsx';
import { type ScreenId, screensFor } from './screens.ts';
import { TopBar } from './TopBar.tsx';

/**
 * The logged-in frame: top navigation (F-keys), offline banner, the screen, the status bar. The vend screen stays
 * mounted while another screen is shown, so a look at the history does not lose a sale in progress.
 */
export function AppShell({ session }: { session: Session }) {
  const { t } = useTranslation('common');
  const screens = screensFor(session.permissions);
  const [screen, setScreen] = useState<ScreenId | null>(screens[0]?.id ?? null);
  const [vendResetSignal, setVendResetSignal] = useState(0);
  const [supervisorSection, setSupervisorSection] = useState<SupervisorSection>('end-of-day');

  // The F-keys shown in the navigation; F2 pressed on the vend screen itself starts a new sale (as shown there).
  useShortcuts(
    Object.fromEntries(
      screens.map((def) => [
        def.key,
        () => {
          if (def.id === 'vend' && screen === 'vend') setVendResetSignal((n) => n + 1);
          else setScreen(def.id);
        },
      ]),
    ),
  );

  const canVend = screens.some((s) => s.id === 'vend');
  const openQuarantine = screens.some((s) => s.id === 'supervisor')
    ? () => {
        setSupervisorSection('quarantine');
        setScreen('supervisor');
      }
    : undefined;
  return (
    <div className="ov-app">
      <a className="ov-skip-link" href="#ov-main">
        {t('nav.skipToContent')}
      </a>
      <TopBar screens={screens} current={screen} onOpen={setScreen} />
      <OfflineBanner />
      <main id="ov-main" className="ov-main" tabIndex={-1}>
        {screens.length === 0 ? <Notice tone="warning" title={t('nav.noScreens')} /> : null}
        {canVend ? (
          <div hidden={screen !== 'vend'} className="ov-screen">
            <VendScreen active={screen === 'vend'} resetSignal={vendResetSignal} />
          </div>
        ) : null}
        {screen === 'history' ? (
          <div className="ov-screen">
            <HistoryScreen />
          </div>
        ) : null}
        {screen === 'shift' ? (
          <div className="ov-screen">
            <ShiftScreen />
          </div>
        ) : null}
        {screen === 'supervisor' ? (
          <div className="ov-screen">
            <SupervisorScreen section={supervisorSection} onSectionChange={setSupervisorSection} />
          </div>
        ) : null}
        {screen === 'engineering' ? (
          <div className="ov-screen">
            <EngineeringScreen />
          </div>
        ) : null}
        {screen === 'admin' ? (
          <div className="ov-screen">
            <AdminScreen />
          </div>
        ) : null}
      </main>
      <StatusBar onOpenQuarantine={openQuarantine} />
    </div>
  );
}
