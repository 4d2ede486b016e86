import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import { Button, ErrorNotice, KeyValueList, Notice, ProgressBar } from '../../components/index.ts';
import { useAdminFormat } from './admin-format.ts';

/** How often a running backup is asked for its progress. */
const POLL_MS = 300;

/** Backup of the ledger (with progress) and the check of the audit trail's hash chain. */
export function MaintenanceTab() {
  return (
    <div className="ov-admin-columns">
      <BackupPanel />
      <AuditPanel />
    </div>
  );
}

function BackupPanel() {
  const { t } = useTranslation('admin');
  const { bytes } = useAdminFormat();
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useBridgeMutation('backup.start', { onSuccess: (job) => setJobId(job.jobId) });
  const poll = useBridgeQuery(
    'jobs.get',
    { jobId: jobId ?? '' },
    {
      enabled: jobId !== null,
      staleTime: 0,
      refetchInterval: (query) =>
        query.state.data && query.state.data.state !== 'running' ? false : POLL_MS,
    },
  );
  // The answer of backup.start is the job's first state; polling takes over from there.
  const job = (poll.data?.jobId === jobId ? poll.data : undefined) ?? start.data ?? null;
  const running = start.isPending || job?.state === 'running';

  return (
    <section className="ov-panel" aria-labelledby="ov-admin-backup-title">
      <h2 id="ov-admin-backup-title">{t('maintenance.backupTitle')}</h2>
      <p className="ov-muted ov-admin-note">{t('maintenance.backupHint')}</p>
      <div className="ov-actions">
        <Button
          variant="primary"
          isPending={running}
          onPress={() => {
            if (running) return;
            setJobId(null);
            start.mutate({});
          }}
        >
          {t('maintenance.backupStart')}
        </Button>
      </div>
      {running ? (
        <ProgressBar
          label={t('maintenance.backupRunning')}
          value={job && job.total > 0 ? job.done : null}
          maxValue={job && job.total > 0 ? job.total : 100}
        />
      ) : null}
      <ErrorNotice error={start.error ?? poll.error} title={t('maintenance.backupFailed')} />
      {job?.state === 'failed' ? (
        <ErrorNotice
          error={job.error ?? { code: 'BACKUP_FAILED', userMessage: job.message }}
          title={t('maintenance.backupFailed')}
        />
      ) : null}
      {job?.state === 'done' && job.result ? (
        <Notice tone="success" live="status" title={t('maintenance.backupDone')}>
          <KeyValueList
            items={[
              {
                label: t('maintenance.backupFile'),
                value: <span className="ov-mono ov-admin-path">{job.result.path}</span>,
              },
              { label: t('maintenance.backupSize'), value: bytes(job.result.bytes) },
            ]}
          />
        </Notice>
      ) : null}
    </section>
  );
}

function AuditPanel() {
  const { t } = useTranslation('admin');
  const verify = useBridgeMutation('audit.verify');
  const result = verify.data;
  return (
    <section className="ov-panel" aria-labelledby="ov-admin-audit-title">
      <h2 id="ov-admin-audit-title">{t('maintenance.auditTitle')}</h2>
      <p className="ov-muted ov-admin-note">{t('maintenance.auditHint')}</p>
      <div className="ov-actions">
        <Button
          variant="primary"
          isPending={verify.isPending}
          onPress={() => verify.isPending || verify.mutate({})}
        >
          {t('maintenance.auditStart')}
        </Button>
      </div>
      {verify.isPending ? <ProgressBar label={t('maintenance.auditRunning')} /> : null}
      <ErrorNotice error={verify.error} title={t('maintenance.auditFailed')} />
      {result && !verify.isPending ? (
        result.ok ? (
          <Notice tone="success" live="status" title={t('maintenance.auditOk')}>
            {t('maintenance.auditEntries', { count: result.entries })}
          </Notice>
        ) : (
          <Notice tone="danger" live="alert" title={t('maintenance.auditBroken')}>
            <p>
              {t('maintenance.auditBrokenText', { count: result.problems.length, entries: result.entries })}
            </p>
            <ul className="ov-admin-problems">
              {result.problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </Notice>
        )
      ) : null}
    </section>
  );
}
