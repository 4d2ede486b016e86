import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { SyncError } from '../../src-shared/sync/errors.ts';
import type { UploadResponse } from '../../src-shared/sync/protocol.ts';
import { kekFromEnvironmentOrFile } from '../security/key-encryption-key.ts';
import { SyncApi } from './api.ts';
import {
  type BatchRow,
  batchesFrom,
  DEFAULT_SEAL_POLICY,
  type SealPolicy,
  sealDueBatches,
  unacknowledgedBatches,
  uploadRequestFor,
} from './batches.ts';
import { readSyncIdentity, requireSyncIdentity, type SyncIdentity, unsealDeviceKey } from './identity.ts';
import { pullMasterData } from './master-pull.ts';
import { readSyncState, recordCentralFloat, recordSyncFailure, recordSyncSuccess } from './sync-state.ts';
import { createTransport } from './transport.ts';

/** The part of a pino logger the client uses. */
export interface SyncLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 2_000, maxMs: 5 * 60_000 };

/**
 * Exponential backoff with "equal jitter": after n consecutive failures wait between half and all of
 * base·2^(n−1), capped; the jitter keeps a fleet of outlets from retrying in step after an outage.
 */
export function backoffDelayMs(
  failures: number,
  random: () => number,
  backoff: Backoff = DEFAULT_BACKOFF,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Refusals tied to the batch itself: its events go to the quarantine. Other refusals only halt uploads. */
const BATCH_REFUSALS = new Set([
  'SYNC_BATCH_TAMPERED',
  'SYNC_CHAIN_BROKEN',
  'SYNC_MALFORMED',
  'SYNC_BODY_TOO_LARGE',
]);

export interface SyncRunReport {
  sealed: number;
  applied: number;
  duplicates: number;
  rejectedEvents: number;
  /** Master-data changes applied in this run (pulled when the heartbeat interval has passed). */
  masterChanges: number;
  /** The failure that ended the run, if any. */
  error: SyncError | null;
  halted: string | null;
}

export interface SyncClientOptions {
  sqlite: Database.Database;
  kek: Buffer;
  log: SyncLogger;
  clock?: () => Date;
  random?: () => number;
  /** Defaults to the pinned HTTPS transport of the stored identity. */
  api?: SyncApi;
  policy?: SealPolicy;
  backoff?: Backoff;
  /** Pause between runs when all is well (sealing by age needs a tick too). */
  idleMs?: number;
  /** With nothing to upload, the server is contacted (heartbeat) when the last contact is older than this. */
  heartbeatMs?: number;
}

const asSyncError = (error: unknown): SyncError =>
  error instanceof SyncError
    ? error
    : isOpenVendError(error)
      ? // e.g. master data the outlet cannot apply yet: retried, with its own message for the supervisor.
        new SyncError('SYNC_UNAVAILABLE', `${error.code}: ${error.detail}`, {
          userMessage: error.userMessage,
        })
      : new SyncError('SYNC_UNAVAILABLE', String(error));

/**
 * The outlet's uploader, inside the engine thread: on a timer it seals due batches and uploads every
 * unacknowledged batch in order, each acknowledged in one SQLite transaction. Failures that may pass are
 * retried with backoff and jitter; refusals that cannot (revoked, quarantined, tampered, version) halt the
 * uploads and, for a refused batch, put its events in the quarantine, never dropping them. Selling never
 * waits for any of this.
 */
export class SyncClient {
  readonly #sqlite: Database.Database;
  readonly #log: SyncLogger;
  readonly #clock: () => Date;
  readonly #random: () => number;
  readonly #api: SyncApi;
  readonly #policy: SealPolicy;
  readonly #backoff: Backoff;
  readonly #idleMs: number;
  readonly #heartbeatMs: number;
  readonly #identity: SyncIdentity;
  /** The device key signs; the outlet's KEK seals vending keys that arrive with master data. */
  readonly #device: { deviceId: string; key: KeyObject; kek: Buffer };
  #timer: NodeJS.Timeout | null = null;
  #inflight: Promise<SyncRunReport> | null = null;
  #stopped = true;
  /** When master data was last pulled (ms), in memory: after a restart the first run pulls. */
  #masterPulledAt: number | null = null;

  constructor(options: SyncClientOptions) {
    this.#sqlite = options.sqlite;
    this.#log = options.log;
    this.#clock = options.clock ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#policy = options.policy ?? DEFAULT_SEAL_POLICY;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#idleMs = options.idleMs ?? 5_000;
    this.#heartbeatMs = options.heartbeatMs ?? 60_000;
    this.#identity = requireSyncIdentity(options.sqlite);
    this.#device = {
      deviceId: this.#identity.deviceId,
      key: unsealDeviceKey(options.kek, this.#identity),
      kek: options.kek,
    };
    this.#api =
      options.api ??
      new SyncApi(
        createTransport({
          serverUrl: this.#identity.serverUrl,
          certificatePem: this.#identity.serverCertificatePem,
          fingerprint: this.#identity.serverFingerprint,
        }),
        this.#clock,
      );
  }

  get deviceId(): string {
    return this.#identity.deviceId;
  }

  /** Runs now, then keeps running on its timer until `stop()`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inflight?.catch(() => undefined);
    this.#api.close();
  }

  /** The delay before the next run after a report: backoff after a retryable failure, else the idle pause. */
  delayAfter(report: SyncRunReport): number {
    if (report.error && !report.halted) {
      return backoffDelayMs(readSyncState(this.#sqlite).failures, this.#random, this.#backoff);
    }
    return this.#idleMs;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.runOnce().then(
        (report) => {
          if (!this.#stopped) this.#schedule(this.delayAfter(report));
        },
        (error: unknown) => {
          // Not a refusal (those are in the report): e.g. the ledger busy while sealing. Try again later.
          this.#log.warn({ err: error }, 'sync run failed');
          if (!this.#stopped) this.#schedule(backoffDelayMs(5, this.#random, this.#backoff));
        },
      );
    }, delayMs);
    this.#timer.unref();
  }

  /** One run (also `openvend sync push`); concurrent calls share the run in flight. */
  runOnce(options: { forceSeal?: boolean } = {}): Promise<SyncRunReport> {
    this.#inflight ??= this.#run(options.forceSeal ?? false).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #run(forceSeal: boolean): Promise<SyncRunReport> {
    const report: SyncRunReport = {
      sealed: 0,
      applied: 0,
      duplicates: 0,
      rejectedEvents: 0,
      masterChanges: 0,
      error: null,
      halted: null,
    };
    report.sealed = sealDueBatches(this.#sqlite, this.#device, this.#clock(), this.#policy, {
      force: forceSeal,
    });
    const state = readSyncState(this.#sqlite);
    if (state.haltedCode) {
      report.halted = state.haltedCode;
      return report;
    }
    let contacted = false;
    let current: BatchRow | null = null;
    let resendFrom: number | null = null;
    let resends = 0;
    try {
      for (;;) {
        const queue: BatchRow[] =
          resendFrom === null
            ? unacknowledgedBatches(this.#sqlite, this.#device.deviceId)
            : batchesFrom(this.#sqlite, this.#device.deviceId, resendFrom);
        resendFrom = null;
        if (queue.length === 0) break;
        for (const batch of queue) {
          current = batch;
          let response: UploadResponse;
          try {
            response = await this.#api.upload(this.#device, uploadRequestFor(this.#sqlite, batch));
          } catch (error) {
            const failure = asSyncError(error);
            if (
              failure.errorClass === 'resend' &&
              failure.lastSeq !== undefined &&
              failure.lastSeq + 1 < batch.seq
            ) {
              // The server lost batches (restored from a backup) or one was skipped: resend from its head.
              if (++resends > 3) throw failure;
              this.#log.warn(
                { from: failure.lastSeq + 1, sent: batch.seq },
                'sync server asks to resend batches',
              );
              resendFrom = failure.lastSeq + 1;
              break;
            }
            throw failure;
          }
          contacted = true;
          this.#acknowledge(batch, response);
          if (response.float) recordCentralFloat(this.#sqlite, response.float, this.#clock());
          if (response.status === 'applied') report.applied++;
          else report.duplicates++;
          report.rejectedEvents += response.rejected.length;
        }
      }
      current = null;
      if (!contacted && this.#heartbeatDue(state.lastSuccessAt)) {
        const info = await this.#api.device(this.#device);
        if (info.status !== 'active') {
          const code = info.status === 'revoked' ? 'SYNC_DEVICE_REVOKED' : 'SYNC_DEVICE_QUARANTINED';
          throw new SyncError(code, `heartbeat: device ${info.status}`);
        }
        if (info.float) recordCentralFloat(this.#sqlite, info.float, this.#clock());
        contacted = true;
      }
      const now = this.#clock().getTime();
      if (this.#masterPulledAt === null || now - this.#masterPulledAt >= this.#heartbeatMs) {
        const pulled = await pullMasterData(this.#sqlite, this.#api, this.#device, this.#clock);
        this.#masterPulledAt = now;
        report.masterChanges = pulled.applied;
        contacted = true;
      }
      if (contacted) recordSyncSuccess(this.#sqlite, this.#clock());
    } catch (error) {
      const failure = asSyncError(error);
      report.error = failure;
      const halt = failure.errorClass === 'rejected';
      if (halt) report.halted = failure.code;
      const refused = current;
      this.#sqlite
        .transaction(() => {
          if (halt && refused && BATCH_REFUSALS.has(failure.code)) this.#quarantineBatch(refused, failure);
          recordSyncFailure(this.#sqlite, this.#clock(), failure, halt);
        })
        .immediate();
      (halt ? this.#log.warn : this.#log.info).call(
        this.#log,
        { code: failure.code, detail: failure.detail },
        'sync upload failed',
      );
    }
    return report;
  }

  #heartbeatDue(lastSuccessAt: string | null): boolean {
    return !lastSuccessAt || this.#clock().getTime() - Date.parse(lastSuccessAt) >= this.#heartbeatMs;
  }

  #acknowledge(batch: BatchRow, response: UploadResponse): void {
    const at = this.#clock().toISOString();
    this.#sqlite
      .transaction(() => {
        this.#sqlite
          .prepare('UPDATE sync_batch SET ack_status = ?, acked_at = ? WHERE id = ? AND ack_status IS NULL')
          .run(response.status, at, batch.id);
        this.#sqlite
          .prepare('UPDATE outbox SET sent_at = ? WHERE batch_id = ? AND sent_at IS NULL')
          .run(at, batch.id);
        const keep = this.#sqlite.prepare(
          `INSERT INTO sync_quarantine (outbox_seq, batch_id, event_type, reason_code, reason_message, quarantined_at)
           SELECT seq, batch_id, event_type, ?, ?, ? FROM outbox WHERE seq = ? AND batch_id = ?
           ON CONFLICT(outbox_seq) DO NOTHING`,
        );
        for (const rejected of response.rejected)
          keep.run(rejected.code, rejected.message, at, rejected.seq, batch.id);
      })
      .immediate();
  }

  /** A batch the server refused: marked so, and its events go to the quarantine (never dropped). */
  #quarantineBatch(batch: BatchRow, failure: SyncError): void {
    const at = this.#clock().toISOString();
    this.#sqlite
      .prepare("UPDATE sync_batch SET ack_status = 'rejected', acked_at = ? WHERE id = ?")
      .run(at, batch.id);
    this.#sqlite
      .prepare(
        `INSERT INTO sync_quarantine (outbox_seq, batch_id, event_type, reason_code, reason_message, quarantined_at)
         SELECT seq, batch_id, event_type, ?, ?, ? FROM outbox WHERE batch_id = ?
         ON CONFLICT(outbox_seq) DO NOTHING`,
      )
      .run(failure.code, failure.userMessage, at, batch.id);
  }
}

/**
 * Starts the uploader for an enrolled outlet (the engine thread calls this); null when the outlet is not
 * enrolled or its key cannot be opened, in which case selling goes on and the reason is logged.
 */
export function startSyncIfEnrolled(options: {
  sqlite: Database.Database;
  dataDir: string;
  log: SyncLogger;
  kek?: Buffer;
}): SyncClient | null {
  if (!readSyncIdentity(options.sqlite)) return null;
  try {
    const client = new SyncClient({
      sqlite: options.sqlite,
      kek: options.kek ?? kekFromEnvironmentOrFile(options.dataDir).load(),
      log: options.log,
    });
    client.start();
    options.log.info({ deviceId: client.deviceId }, 'sync client started');
    return client;
  } catch (error) {
    options.log.warn({ code: isOpenVendError(error) ? error.code : 'INTERNAL' }, 'sync client not started');
    return null;
  }
}
