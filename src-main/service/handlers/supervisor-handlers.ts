import { kekFromEnvironmentOrFile } from '../../security/key-encryption-key.ts';
import { readSyncIdentity } from '../../sync/identity.ts';
import { fetchEndOfDay, fetchEndOfDayCsv } from '../../sync/reports.ts';
import { listQuarantine } from '../../sync/sync-state.ts';
import type { HandlerGroup, SessionContext } from '../handler-types.ts';

/** The receipt number of a sale event's payload; null for other events or a payload that cannot be read. */
function receiptNoOf(payloadJson: string): number | null {
  try {
    const receiptNo = (JSON.parse(payloadJson) as { receiptNo?: unknown } | null)?.receiptNo;
    return Number.isSafeInteger(receiptNo) && (receiptNo as number) > 0 ? (receiptNo as number) : null;
  } catch {
    return null;
  }
}

// The device key is sealed under the same KEK the uploader opens it with (engine thread, startSyncIfEnrolled).
const reportOptions = ({ options, clock }: SessionContext) => ({
  loadKek: () => kekFromEnvironmentOrFile(options.dataDir).load(),
  clock,
});

export const supervisorHandlers: HandlerGroup<'sync.endOfDay' | 'sync.endOfDayCsv' | 'sync.quarantine'> = {
  'sync.endOfDay': ({ date }, context) => fetchEndOfDay(context.sqlite, date, reportOptions(context)),
  'sync.endOfDayCsv': async ({ date }, context) => {
    const csv = await fetchEndOfDayCsv(context.sqlite, date, reportOptions(context));
    // Named by the outlet code head office knows it under (the report's own), else the local one.
    const outletCode = readSyncIdentity(context.sqlite)?.outletCode ?? context.engine.outlet().code;
    return { fileName: `end-of-day-${outletCode.replace(/[^\w.-]+/g, '_')}-${date}.csv`, csv };
  },
  'sync.quarantine': (_args, { sqlite }) =>
    listQuarantine(sqlite).map((row) => ({ ...row, receiptNo: receiptNoOf(row.payloadJson) })),
};
