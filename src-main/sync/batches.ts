import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  batchHash,
  batchSigningString,
  GENESIS_BATCH_HASH,
  MAX_BATCH_EVENTS,
  SYNC_PROTOCOL_VERSION,
  SYNC_SCHEMA_VERSION,
  type SyncBatch,
  type SyncEvent,
  type UploadRequest,
} from '../../src-shared/sync/protocol.ts';
import { APP_VERSION } from '../app-version.ts';
import { nodeSha256Hex, signText } from './identity.ts';

/**
 * Sealing: outbox events become numbered, hash-chained, signed batches. A batch is sealed when it is full
 * (count or bytes), when its oldest event is old enough, and always at a shift close: a batch never runs past
 * a `shift.closed` event, so each shift's last batch ends with its Z report. Sealing needs no network.
 * The batch keeps only its header; the events stay in the outbox (batch_id) and the body is rebuilt from
 * them at upload, so an edit after sealing no longer matches the sealed hash (the server quarantines it).
 */

export interface SealPolicy {
  /** Events per batch (the server accepts up to MAX_BATCH_EVENTS). */
  maxEvents: number;
  /** Approximate payload bytes per batch (the server refuses bodies over MAX_BODY_BYTES). */
  maxBytes: number;
  /** A partial batch is sealed once its oldest event is this old. */
  maxAgeMs: number;
}

export const DEFAULT_SEAL_POLICY: SealPolicy = { maxEvents: 100, maxBytes: 1024 * 1024, maxAgeMs: 30_000 };

export const SHIFT_CLOSED_EVENT = 'shift.closed';

interface OutboxRow {
  seq: number;
  createdAt: string;
  eventType: string;
  payloadJson: string;
}

export interface BatchRow {
  id: number;
  deviceId: string;
  seq: number;
  firstEventSeq: number;
  lastEventSeq: number;
  eventCount: number;
  protocolVersion: number;
  schemaVersion: number;
  appVersion: string;
  sealedAt: string;
  prevHash: string;
  hash: string;
  signature: string;
  ackStatus: string | null;
}

const BATCH_COLUMNS = `id, device_id AS deviceId, seq, first_event_seq AS firstEventSeq, last_event_seq AS lastEventSeq,
  event_count AS eventCount, protocol_version AS protocolVersion, schema_version AS schemaVersion,
  app_version AS appVersion, sealed_at AS sealedAt, prev_hash AS prevHash, hash, signature, ack_status AS ackStatus`;

const toEvent = (row: OutboxRow): SyncEvent => ({
  seq: row.seq,
  type: row.eventType,
  createdAt: row.createdAt,
  payload: JSON.parse(row.payloadJson) as SyncEvent['payload'],
});

/** Seals every batch that is due; returns how many. `force` seals a partial batch whatever its age. */
export function sealDueBatches(
  sqlite: Database.Database,
  device: { deviceId: string; key: KeyObject },
  now: Date,
  policy: SealPolicy = DEFAULT_SEAL_POLICY,
  options: { force?: boolean } = {},
): number {
  const maxEvents = Math.min(Math.max(1, policy.maxEvents), MAX_BATCH_EVENTS);
  const pending = sqlite.prepare(
    `SELECT seq, created_at AS createdAt, event_type AS eventType, payload_json AS payloadJson
       FROM outbox WHERE sent_at IS NULL AND batch_id IS NULL ORDER BY seq LIMIT ?`,
  );
  const head = sqlite.prepare(
    'SELECT seq, hash FROM sync_batch WHERE device_id = ? ORDER BY seq DESC LIMIT 1',
  );
  const insert = sqlite.prepare(
    `INSERT INTO sync_batch (device_id, seq, first_event_seq, last_event_seq, event_count, protocol_version,
       schema_version, app_version, sealed_at, prev_hash, hash, signature)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const claim = sqlite.prepare(
    'UPDATE outbox SET batch_id = ? WHERE seq BETWEEN ? AND ? AND batch_id IS NULL AND sent_at IS NULL',
  );
  const sealOne = sqlite.transaction((): boolean => {
    const rows = pending.all(maxEvents) as OutboxRow[];
    if (rows.length === 0) return false;
    const take: OutboxRow[] = [];
    let bytes = 0;
    let cut = rows.length === maxEvents;
    for (const row of rows) {
      if (take.length > 0 && bytes + row.payloadJson.length > policy.maxBytes) {
        cut = true;
        break;
      }
      take.push(row);
      bytes += row.payloadJson.length;
      if (row.eventType === SHIFT_CLOSED_EVENT) {
        cut = true;
        break;
      }
    }
    const oldest = Date.parse(take[0]!.createdAt);
    if (!cut && !options.force && now.getTime() - oldest < policy.maxAgeMs) return false;
    const previous = head.get(device.deviceId) as { seq: number; hash: string } | undefined;
    const batch: SyncBatch = {
      protocolVersion: SYNC_PROTOCOL_VERSION,
      schemaVersion: SYNC_SCHEMA_VERSION,
      appVersion: APP_VERSION,
      deviceId: device.deviceId,
      seq: (previous?.seq ?? 0) + 1,
      prevHash: previous?.hash ?? GENESIS_BATCH_HASH,
      sealedAt: now.toISOString(),
      events: take.map(toEvent),
    };
    const hash = batchHash(batch, nodeSha256Hex);
    const signature = signText(device.key, batchSigningString(hash));
    const first = take[0]!.seq;
    const last = take[take.length - 1]!.seq;
    const batchId = Number(
      insert.run(
        device.deviceId,
        batch.seq,
        first,
        last,
        take.length,
        batch.protocolVersion,
        batch.schemaVersion,
        batch.appVersion,
        batch.sealedAt,
        batch.prevHash,
        hash,
        signature,
      ).lastInsertRowid,
    );
    const claimed = claim.run(batchId, first, last).changes;
    if (claimed !== take.length) {
      throw new Error(`sealing batch ${batch.seq}: claimed ${claimed} outbox rows, expected ${take.length}`);
    }
    return true;
  });
  let sealed = 0;
  while (sealOne.immediate()) sealed++;
  return sealed;
}

/** The batch exactly as sealed, rebuilt from its header and its outbox rows. */
export function uploadRequestFor(sqlite: Database.Database, batch: BatchRow): UploadRequest {
  const rows = sqlite
    .prepare(
      `SELECT seq, created_at AS createdAt, event_type AS eventType, payload_json AS payloadJson
         FROM outbox WHERE batch_id = ? ORDER BY seq`,
    )
    .all(batch.id) as OutboxRow[];
  return {
    batch: {
      protocolVersion: batch.protocolVersion,
      schemaVersion: batch.schemaVersion,
      appVersion: batch.appVersion,
      deviceId: batch.deviceId,
      seq: batch.seq,
      prevHash: batch.prevHash,
      sealedAt: batch.sealedAt,
      events: rows.map(toEvent),
    },
    hash: batch.hash,
    signature: batch.signature,
  };
}

/** Batches of this device the server has not acknowledged, oldest first. */
export function unacknowledgedBatches(sqlite: Database.Database, deviceId: string, limit = 50): BatchRow[] {
  return sqlite
    .prepare(
      `SELECT ${BATCH_COLUMNS} FROM sync_batch WHERE device_id = ? AND ack_status IS NULL ORDER BY seq LIMIT ?`,
    )
    .all(deviceId, limit) as BatchRow[];
}

/** Batches from `fromSeq` on, acknowledged or not: what a server that lost them (restored) needs again. */
export function batchesFrom(
  sqlite: Database.Database,
  deviceId: string,
  fromSeq: number,
  limit = 50,
): BatchRow[] {
  return sqlite
    .prepare(`SELECT ${BATCH_COLUMNS} FROM sync_batch WHERE device_id = ? AND seq >= ? ORDER BY seq LIMIT ?`)
    .all(deviceId, fromSeq, limit) as BatchRow[];
}
