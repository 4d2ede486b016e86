import type Database from 'better-sqlite3';
import type { SyncError } from '../../src-shared/sync/errors.ts';
import type { CentralFloat } from '../../src-shared/sync/protocol.ts';
import { appendAudit } from '../engine/audit-log.ts';
import { readSyncIdentity } from './identity.ts';

/**
 * The sync client's persistent state (sync_state, one row) and the outlet's sync status as the status bar
 * and `openvend sync status` show it. Read from the ledger, so any process sees the same picture.
 */

export interface SyncStateRow {
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  failures: number;
  haltedCode: string | null;
}

const EMPTY: SyncStateRow = {
  lastAttemptAt: null,
  lastSuccessAt: null,
  lastErrorCode: null,
  lastErrorMessage: null,
  failures: 0,
  haltedCode: null,
};

export function readSyncState(sqlite: Database.Database): SyncStateRow {
  const row = sqlite
    .prepare(
      `SELECT last_attempt_at AS lastAttemptAt, last_success_at AS lastSuccessAt, last_error_code AS lastErrorCode,
              last_error_message AS lastErrorMessage, failures, halted_code AS haltedCode
         FROM sync_state WHERE id = 1`,
    )
    .get() as SyncStateRow | undefined;
  return row ?? EMPTY;
}

function writeState(sqlite: Database.Database, change: Partial<SyncStateRow>): void {
  const next = { ...readSyncState(sqlite), ...change };
  sqlite
    .prepare(
      `INSERT INTO sync_state (id, last_attempt_at, last_success_at, last_error_code, last_error_message, failures, halted_code)
       VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, last_success_at = excluded.last_success_at,
         last_error_code = excluded.last_error_code, last_error_message = excluded.last_error_message,
         failures = excluded.failures, halted_code = excluded.halted_code`,
    )
    .run(
      next.lastAttemptAt,
      next.lastSuccessAt,
      next.lastErrorCode,
      next.lastErrorMessage,
      next.failures,
      next.haltedCode,
    );
}

export const recordSyncSuccess = (sqlite: Database.Database, now: Date): void =>
  writeState(sqlite, {
    lastAttemptAt: now.toISOString(),
    lastSuccessAt: now.toISOString(),
    lastErrorCode: null,
    lastErrorMessage: null,
    failures: 0,
  });

/** A failed attempt; `halt` for refusals that retrying cannot fix (uploads stop until `sync resume`). */
export function recordSyncFailure(
  sqlite: Database.Database,
  now: Date,
  error: SyncError,
  halt: boolean,
): number {
  const failures = readSyncState(sqlite).failures + 1;
  writeState(sqlite, {
    lastAttemptAt: now.toISOString(),
    lastErrorCode: error.code,
    lastErrorMessage: error.userMessage,
    failures,
    ...(halt ? { haltedCode: error.code } : {}),
  });
  return failures;
}

/** A supervisor's `openvend sync resume`: the halt is lifted and the next attempt starts without delay. */
export const resumeSync = (sqlite: Database.Database): void =>
  writeState(sqlite, { haltedCode: null, failures: 0 });

/** After (re-)enrollment: a clean slate, and the enrollment itself counts as the last contact. */
export const resetSyncState = (sqlite: Database.Database, now: Date): void =>
  writeState(sqlite, { ...EMPTY, lastAttemptAt: now.toISOString(), lastSuccessAt: now.toISOString() });

export interface SyncStatus {
  state: 'not-configured' | 'online' | 'offline';
  enrolled: boolean;
  serverUrl: string | null;
  deviceId: string | null;
  outletCode: string | null;
  /** Events not yet acknowledged by the server, quarantined ones excluded. */
  pendingEvents: number;
  pendingSales: number;
  oldestPendingAt: string | null;
  unacknowledgedBatches: number;
  quarantinedEvents: number;
  lastSuccessAt: string | null;
  lastAttemptAt: string | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  haltedCode: string | null;
  /** The float as head office last counted it (null: head office does not manage this outlet's float). */
  centralFloat: CentralFloat | null;
}

/** Where the last central float heard from the server is kept: rows of the ledger's `counter` table. */
const CENTRAL_FLOAT_COUNTERS = {
  balanceMinor: 'sync.central_float_minor',
  creditLimitMinor: 'sync.central_credit_limit_minor',
  overLimit: 'sync.central_over_limit',
} as const;

export function readCentralFloat(sqlite: Database.Database): CentralFloat | null {
  const rows = sqlite
    .prepare("SELECT name, value FROM counter WHERE name LIKE 'sync.central_%'")
    .all() as Array<{ name: string; value: number }>;
  const value = (name: string) => rows.find((r) => r.name === name)?.value;
  const balanceMinor = value(CENTRAL_FLOAT_COUNTERS.balanceMinor);
  if (balanceMinor === undefined) return null;
  return {
    balanceMinor,
    creditLimitMinor: value(CENTRAL_FLOAT_COUNTERS.creditLimitMinor) ?? 0,
    overLimit: value(CENTRAL_FLOAT_COUNTERS.overLimit) === 1,
  };
}

/**
 * Keeps the float head office sent with an acknowledgement or heartbeat. Going over the limit (or back under it) is
 * audited once, at the change, so the supervisor can see when head office said so.
 */
export function recordCentralFloat(sqlite: Database.Database, float: CentralFloat, now: Date): void {
  sqlite
    .transaction(() => {
      const before = readCentralFloat(sqlite);
      const upsert = sqlite.prepare(
        'INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      );
      upsert.run(CENTRAL_FLOAT_COUNTERS.balanceMinor, float.balanceMinor);
      upsert.run(CENTRAL_FLOAT_COUNTERS.creditLimitMinor, float.creditLimitMinor);
      upsert.run(CENTRAL_FLOAT_COUNTERS.overLimit, float.overLimit ? 1 : 0);
      if ((before?.overLimit ?? false) !== float.overLimit) {
        appendAudit(
          sqlite,
          {
            operatorId: null,
            action: float.overLimit ? 'sync.float-over-limit' : 'sync.float-within-limit',
            entity: 'outlet',
            entityId: 'float',
            details: { balanceMinor: float.balanceMinor, creditLimitMinor: float.creditLimitMinor },
          },
          now,
        );
      }
    })
    .immediate();
}

export function readSyncStatus(sqlite: Database.Database): SyncStatus {
  const identity = readSyncIdentity(sqlite);
  const state = readSyncState(sqlite);
  const queue = sqlite
    .prepare(
      `SELECT count(*) AS pendingEvents, coalesce(sum(o.event_type LIKE 'sale.%'), 0) AS pendingSales,
              min(o.created_at) AS oldestPendingAt
         FROM outbox o
        WHERE o.sent_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.outbox_seq = o.seq AND q.resolved_at IS NULL)`,
    )
    .get() as { pendingEvents: number; pendingSales: number; oldestPendingAt: string | null };
  const { quarantinedEvents } = sqlite
    .prepare('SELECT count(*) AS quarantinedEvents FROM sync_quarantine WHERE resolved_at IS NULL')
    .get() as { quarantinedEvents: number };
  const { unacknowledgedBatches } = identity
    ? (sqlite
        .prepare(
          'SELECT count(*) AS unacknowledgedBatches FROM sync_batch WHERE device_id = ? AND ack_status IS NULL',
        )
        .get(identity.deviceId) as { unacknowledgedBatches: number })
    : { unacknowledgedBatches: 0 };
  return {
    state: !identity ? 'not-configured' : state.haltedCode || state.failures > 0 ? 'offline' : 'online',
    enrolled: identity !== null,
    serverUrl: identity?.serverUrl ?? null,
    deviceId: identity?.deviceId ?? null,
    outletCode: identity?.outletCode ?? null,
    ...queue,
    unacknowledgedBatches,
    quarantinedEvents,
    lastSuccessAt: state.lastSuccessAt,
    lastAttemptAt: state.lastAttemptAt,
    lastErrorCode: state.lastErrorCode,
    lastErrorMessage: state.lastErrorMessage,
    haltedCode: state.haltedCode,
    centralFloat: readCentralFloat(sqlite),
  };
}

export interface QuarantinedEvent {
  outboxSeq: number;
  batchId: number;
  eventType: string;
  createdAt: string;
  reasonCode: string;
  reasonMessage: string;
  quarantinedAt: string;
  payloadJson: string;
}

/** What the supervisor sees: every refused event with its reason and its original payload. */
export function listQuarantine(sqlite: Database.Database): QuarantinedEvent[] {
  return sqlite
    .prepare(
      `SELECT q.outbox_seq AS outboxSeq, q.batch_id AS batchId, q.event_type AS eventType, o.created_at AS createdAt,
              q.reason_code AS reasonCode, q.reason_message AS reasonMessage, q.quarantined_at AS quarantinedAt,
              o.payload_json AS payloadJson
         FROM sync_quarantine q JOIN outbox o ON o.seq = q.outbox_seq
        WHERE q.resolved_at IS NULL ORDER BY q.outbox_seq`,
    )
    .all() as QuarantinedEvent[];
}
