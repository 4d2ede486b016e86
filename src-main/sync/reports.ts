import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import { END_OF_DAY_ERRORS } from '../../src-shared/bridge/supervisor-schemas.ts';
import { OpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { SyncError } from '../../src-shared/sync/errors.ts';
import type { EndOfDayReport } from '../../src-shared/sync/reports.ts';
import { SyncApi } from './api.ts';
import { readSyncIdentity, type SyncIdentity, unsealDeviceKey } from './identity.ts';
import { createTransport, type PinnedServer, type SyncTransport } from './transport.ts';

/**
 * The outlet asking head office for its reports (the supervisor screen). Read only, on demand: nothing is
 * written to the ledger, and a failure never touches the uploader's state or selling.
 */

/** A supervisor waits for this screen: a dead link should say so soon, not after the uploader's 30 s. */
const REPORT_TIMEOUT_MS = 10_000;

/** Failures that mean "no answer from head office", whatever the cause on the way. */
const UNREACHABLE = new Set(['SYNC_UNAVAILABLE', 'SYNC_SERVER_ERROR']);

export class ReportError extends OpenVendError {}

export interface ReportOptions {
  /** Asked only once the outlet is known to be enrolled: an outlet without a server needs no key. */
  loadKek: () => Buffer;
  clock?: () => Date;
  /** Tests: how to reach the server (default: the pinned transport of the stored identity). */
  transportFor?: (server: PinnedServer) => SyncTransport;
}

async function withServer<T>(
  sqlite: Database.Database,
  options: ReportOptions,
  what: string,
  call: (api: SyncApi, device: { deviceId: string; key: KeyObject }) => Promise<T>,
): Promise<T> {
  const identity: SyncIdentity | null = readSyncIdentity(sqlite);
  if (!identity) {
    throw new ReportError(
      END_OF_DAY_ERRORS.notEnrolled,
      'This outlet is not linked to the head-office server yet, so the end-of-day view is not available. Sales go on.',
      `${what}: no sync_identity row`,
    );
  }
  const device = { deviceId: identity.deviceId, key: unsealDeviceKey(options.loadKek(), identity) };
  const server: PinnedServer = {
    serverUrl: identity.serverUrl,
    certificatePem: identity.serverCertificatePem,
    fingerprint: identity.serverFingerprint,
    timeoutMs: REPORT_TIMEOUT_MS,
  };
  const api = new SyncApi((options.transportFor ?? createTransport)(server), options.clock);
  try {
    return await call(api, device);
  } catch (error) {
    if (error instanceof SyncError && UNREACHABLE.has(error.code)) {
      throw new ReportError(
        END_OF_DAY_ERRORS.offline,
        'The head-office server cannot be reached; the end-of-day view needs a connection. Sales go on.',
        `${what}: ${error.code} ${error.detail}`,
      );
    }
    throw error;
  } finally {
    api.close();
  }
}

/** This outlet's end of day for a business date, as head office computed it from the uploaded events. */
export const fetchEndOfDay = (
  sqlite: Database.Database,
  date: string,
  options: ReportOptions,
): Promise<EndOfDayReport> =>
  withServer(sqlite, options, `end of day ${date}`, (api, device) => api.endOfDay(device, date));

/** The same report as the server's CSV export. */
export const fetchEndOfDayCsv = (
  sqlite: Database.Database,
  date: string,
  options: ReportOptions,
): Promise<string> =>
  withServer(sqlite, options, `end of day CSV ${date}`, (api, device) => api.endOfDayCsv(device, date));
