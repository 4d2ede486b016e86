import { useTranslation } from 'react-i18next';
import { useAppInfo } from '../app/app-info.ts';
import { useSession } from '../app/session.tsx';
import { Button, Kbd } from '../components/index.ts';
import { LanguageSwitcher } from './LanguageSwitcher.tsx';
import type { ScreenDef, ScreenId } from './screens.ts';

export interface TopBarProps {
  screens: readonly ScreenDef[];
  current: ScreenId | null;
  onOpen: (id: ScreenId) => void;
}

/** Outlet name, the screens the operator may use (with their F-keys), language and logout. */
export function TopBar({ screens, current, onOpen }: TopBarProps) {
  const { t } = useTranslation('common');
  const { data: info } = useAppInfo();
  const { logout } = useSession();
  return (
    <header className="ov-topbar">
      <div className="ov-topbar__brand">
        <span className="ov-topbar__app">OpenVend</span>
        {info ? <span className="ov-topbar__outlet">{info.outlet.name}</span> : null}
      </div>
      <nav className="ov-topbar__nav" aria-label={t('nav.label')}>
        <ul>
          {screens.map((screen) => (
            <li key={screen.id}>
              <button
                type="button"
                className="ov-nav-item"
                aria-current={current === screen.id ? 'page' : undefined}
                aria-keyshortcuts={screen.key}
                onClick={() => onOpen(screen.id)}
              >
                <span>{t(`nav.${screen.id}`)}</span>
                <span aria-hidden="true">
                  <Kbd>{screen.key}</Kbd>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <div className="ov-topbar__tools">
        <LanguageSwitcher loggedIn className="ov-topbar__language" />
        <Button variant="quiet" className="ov-topbar__logout" onPress={() => void logout()}>
          {t('nav.logout')}
        </Button>
      </div>
    </header>
  );
}
