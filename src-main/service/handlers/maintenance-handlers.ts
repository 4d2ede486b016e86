import { verifyAuditChain } from '../../engine/audit-log.ts';
import { backupLedger } from '../../ledger/backup.ts';
import type { HandlerGroup } from '../handler-types.ts';

export const maintenanceHandlers: HandlerGroup<'backup.start' | 'jobs.get' | 'audit.verify'> = {
  'backup.start': (_args, { sqlite, jobs, options, clock }) =>
    jobs.start('backup', async (progress) => {
      const { path, bytes } = await backupLedger(sqlite, options.dataDir, clock(), undefined, (done, total) =>
        progress(done, total, 'copying'),
      );
      return { path, bytes };
    }),
  'jobs.get': ({ jobId }, { jobs }) => jobs.get(jobId),
  'audit.verify': (_args, { sqlite }) => {
    const { ok, entries, problems } = verifyAuditChain(sqlite);
    return { ok, entries, problems: problems.map((p) => `#${p.seq}: ${p.problem}`) };
  },
};
