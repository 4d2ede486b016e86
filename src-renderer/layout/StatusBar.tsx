import { Button as AriaButton } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../app/app-info.ts';
import { formatTime } from '../app/locale.ts';
import { useStatus } from './use-status.ts';

export interface StatusBarProps {
  /** Opens the sync quarantine; given only to operators who may see it (the count is then a button). */
  onOpenQuarantine?: (() => void) | undefined;
}

/**
 * Always at the bottom: operator and role, shift, float (low-float warning), sync state and queue, and the events
 * head office refused (quarantined) when there are any.
 */
export function StatusBar({ onOpenQuarantine }: StatusBarProps = {}) {
  const { t } = useTranslation('common');
  const { money, locale, timeZone } = useFormat();
  const { data: status, isError } = useStatus({ poll: true });
  return (
    <section className="ov-statusbar" aria-label={t('status.label')}>
      {status ? (
        <>
          <span className="ov-statusbar__item">
            <span className="ov-statusbar__label">{t('status.operator')}</span> {status.operator.displayName}{' '}
            ({t(`role.${status.operator.role}`)})
          </span>
          <span className="ov-statusbar__item">
            <span className="ov-statusbar__label">{t('status.shift')}</span>{' '}
            {status.shift
              ? t('status.shiftOpenSince', { time: formatTime(status.shift.openedAt, locale, timeZone) })
              : t('status.noShift')}
          </span>
          <span
            className={`ov-statusbar__item${status.lowFloat || status.sync.centralFloat?.overLimit ? ' ov-statusbar__item--warning' : ''}`}
          >
            <span className="ov-statusbar__label">{t('status.float')}</span> {money(status.floatBalanceMinor)}
            {status.lowFloat ? <strong className="ov-statusbar__flag">{t('status.lowFloat')}</strong> : null}
            {status.sync.centralFloat?.overLimit ? (
              <strong
                className="ov-statusbar__flag"
                title={t('status.overLimitDetail', { balance: money(status.sync.centralFloat.balanceMinor) })}
              >
                {t('status.overLimit')}
              </strong>
            ) : null}
          </span>
          <span
            className={`ov-statusbar__item${status.sync.state === 'offline' ? ' ov-statusbar__item--warning' : ''}`}
          >
            <span className="ov-statusbar__label">{t('status.sync')}</span>{' '}
            {t(`sync.state.${status.sync.state}`)}
            {' · '}
            {t('status.waitingToSync', { count: status.sync.pendingSales })}
            {status.sync.quarantinedEvents > 0 ? (
              <>
                {' · '}
                {onOpenQuarantine ? (
                  <AriaButton
                    className="ov-statusbar__link"
                    aria-label={`${t('status.quarantined', { count: status.sync.quarantinedEvents })}: ${t('status.openQuarantine')}`}
                    onPress={onOpenQuarantine}
                  >
                    {t('status.quarantined', { count: status.sync.quarantinedEvents })}
                  </AriaButton>
                ) : (
                  <strong className="ov-text-danger">
                    {t('status.quarantined', { count: status.sync.quarantinedEvents })}
                  </strong>
                )}
              </>
            ) : null}
          </span>
        </>
      ) : (
        <span className="ov-statusbar__item">{isError ? t('status.unavailable') : t('status.loading')}</span>
      )}
    </section>
  );
}
