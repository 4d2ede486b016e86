import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * Append-only, hash-chained audit log. Each entry's hash covers its own fields and the previous entry's
 * hash, so an edit or a deletion anywhere breaks the chain; SQLite's AUTOINCREMENT high-water mark also
 * exposes entries deleted from the end.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  operatorId: number | null;
  action: string;
  entity: string;
  entityId: string;
  details: Record<string, unknown>;
}

interface StoredEntry {
  seq: number;
  at: string;
  operatorId: number | null;
  action: string;
  entity: string;
  entityId: string;
  detailsJson: string;
  prevHash: string;
  hash: string;
}

const entryHash = (
  prevHash: string,
  seq: number,
  at: string,
  e: Omit<StoredEntry, 'seq' | 'at' | 'prevHash' | 'hash'>,
) =>
  createHash('sha256')
    .update(JSON.stringify([prevHash, seq, at, e.operatorId, e.action, e.entity, e.entityId, e.detailsJson]))
    .digest('hex');

/** Appends one entry; call inside the transaction that makes the change it records. */
export function appendAudit(
  sqlite: Database.Database,
  entry: AuditEntry,
  at: Date,
): { seq: number; hash: string } {
  const last = sqlite.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
    | { seq: number; hash: string }
    | undefined;
  const highWater = (
    sqlite.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").get() as
      | { seq: number }
      | undefined
  )?.seq;
  const seq = Math.max(last?.seq ?? 0, highWater ?? 0) + 1;
  const prevHash = last?.hash ?? GENESIS_HASH;
  const detailsJson = JSON.stringify(entry.details);
  const iso = at.toISOString();
  const hash = entryHash(prevHash, seq, iso, { ...entry, detailsJson });
  sqlite
    .prepare(
      'INSERT INTO audit_log (seq, at, operator_id, action, entity, entity_id, details_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(seq, iso, entry.operatorId, entry.action, entry.entity, entry.entityId, detailsJson, prevHash, hash);
  return { seq, hash };
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  problems: Array<{ seq: number; problem: string }>;
}

export function verifyAuditChain(sqlite: Database.Database): AuditVerification {
  const rows = sqlite
    .prepare(
      'SELECT seq, at, operator_id AS operatorId, action, entity, entity_id AS entityId, details_json AS detailsJson, prev_hash AS prevHash, hash FROM audit_log ORDER BY seq',
    )
    .all() as StoredEntry[];
  const problems: AuditVerification['problems'] = [];
  let expectedPrev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const row of rows) {
    if (row.seq !== expectedSeq)
      problems.push({ seq: row.seq, problem: `entries ${expectedSeq}..${row.seq - 1} are missing` });
    if (row.prevHash !== expectedPrev)
      problems.push({
        seq: row.seq,
        problem: 'previous-hash link broken (an entry before it was changed or removed)',
      });
    if (entryHash(row.prevHash, row.seq, row.at, row) !== row.hash)
      problems.push({ seq: row.seq, problem: 'entry was modified after it was written' });
    expectedPrev = row.hash;
    expectedSeq = row.seq + 1;
  }
  const highWater = (
    sqlite.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").get() as
      | { seq: number }
      | undefined
  )?.seq;
  if (highWater !== undefined && highWater >= expectedSeq) {
    problems.push({
      seq: highWater,
      problem: `entries ${expectedSeq}..${highWater} at the end were deleted`,
    });
  }
  return { ok: problems.length === 0, entries: rows.length, problems };
}
