import { useTranslation } from 'react-i18next';
import { useStatus } from './use-status.ts';

/**
 * Sync state in words. Offline is loud (sales are kept locally and sent later); "no sync server configured" is a
 * calm line, because until enrolment that is the normal state of an outlet.
 */
export function OfflineBanner() {
  const { t } = useTranslation('common');
  const { data: status } = useStatus();
  if (!status) return null;
  if (status.sync.state === 'offline') {
    return (
      <div className="ov-banner ov-banner--offline" role="status">
        <strong>{t('sync.offlineTitle')}</strong> {t('sync.offlineText')}
        {status.sync.pendingSales > 0 ? ` ${t('sync.waiting', { count: status.sync.pendingSales })}` : null}
      </div>
    );
  }
  if (status.sync.state === 'not-configured') {
    return (
      <div className="ov-banner ov-banner--calm" role="status">
        {t('sync.notConfigured')}
      </div>
    );
  }
  return null;
}
