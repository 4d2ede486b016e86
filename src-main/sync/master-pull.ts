import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import { SyncError } from '../../src-shared/sync/errors.ts';
import type { MasterChange, MasterPage } from '../../src-shared/sync/master-data.ts';
import { appendAudit } from '../engine/audit-log.ts';
import { FLOAT_TOP_UP_KIND, moveFloat } from '../engine/float.ts';
import type { SyncApi } from './api.ts';

/**
 * The outlet side of the master-data download: pages of changes after the stored cursor (the server sequence,
 * never a time), each page applied in ONE SQLite transaction together with the new cursor and one audit entry.
 * Every change is idempotent (upsert by key (customers, operators), top-ups by their server reference, tombstones as "unblocked"),
 * so a page applied again after a crash between the commit and the next request changes nothing.
 */

/** Where the cursor lives: a row of the ledger's `counter` table (no new table needed). */
export const MASTER_CURSOR_COUNTER = 'sync.master_cursor';
/** Top-ups from head office are stored with this request-id prefix: the unique index credits each once. */
export const SERVER_TOP_UP_PREFIX = 'server:';

export function readMasterCursor(sqlite: Database.Database): number {
  const row = sqlite.prepare('SELECT value FROM counter WHERE name = ?').get(MASTER_CURSOR_COUNTER) as
    | { value: number }
    | undefined;
  return row?.value ?? 0;
}

export interface PageOutcome {
  applied: number;
  /** Blocks or unblocks for meters this outlet does not hold (kept in the audit entry, nothing else to do). */
  unknownMeters: number;
}

function applyChange(sqlite: Database.Database, change: MasterChange, now: Date, outcome: PageOutcome) {
  switch (change.kind) {
    case 'customer': {
      const c = change.data;
      sqlite
        .prepare(
          `INSERT INTO customer (account_no, name, address, phone, location, fbe_eligible) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (account_no) DO UPDATE SET name = excluded.name, address = excluded.address,
             phone = excluded.phone, location = excluded.location, fbe_eligible = excluded.fbe_eligible`,
        )
        .run(change.key, c.name, c.address, c.phone, c.location, c.fbeEligible ? 1 : 0);
      break;
    }
    case 'meter.block': {
      const result = sqlite
        .prepare('UPDATE meter SET blocked = ?, blocked_reason = ? WHERE meter_no = ?')
        .run(change.data ? 1 : 0, change.data?.reason ?? null, change.key);
      if (result.changes === 0) outcome.unknownMeters++;
      break;
    }
    case 'operator': {
      const o = change.data;
      sqlite
        .prepare(
          `INSERT INTO operator (username, display_name, role, password_hash, active) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
             password_hash = excluded.password_hash, active = excluded.active`,
        )
        .run(change.key, o.displayName, o.role, o.passwordHash, o.active ? 1 : 0);
      break;
    }
    case 'float.top-up': {
      const requestId = `${SERVER_TOP_UP_PREFIX}${change.key}`;
      const seen = sqlite.prepare('SELECT 1 FROM float_movement WHERE request_id = ?').get(requestId);
      if (!seen) {
        moveFloat(sqlite, {
          now,
          kind: FLOAT_TOP_UP_KIND,
          amountMinor: change.data.amountMinor,
          reference: change.data.reference,
          requestId,
        });
      }
      break;
    }
    case 'authority':
      sqlite
        .prepare('UPDATE outlet SET authority_credit_limit_minor = ?, authority_valid_until = ? WHERE id = 1')
        .run(change.data.creditLimitMinor, change.data.validUntil);
      break;
  }
  outcome.applied++;
}

/** Applies one page in one transaction: the changes past the cursor, the new cursor and an audit entry. */
export function applyMasterPage(sqlite: Database.Database, page: MasterPage, now: Date): PageOutcome {
  return sqlite
    .transaction((): PageOutcome => {
      if (!sqlite.prepare('SELECT 1 FROM outlet WHERE id = 1').get()) {
        throw new SyncError('SYNC_NOT_ENROLLED', 'master data: no outlet row', {
          userMessage: 'Set up this outlet before it receives master data.',
        });
      }
      const from = readMasterCursor(sqlite);
      const outcome: PageOutcome = { applied: 0, unknownMeters: 0 };
      const kinds: Record<string, number> = {};
      let cursor = from;
      for (const change of page.changes) {
        if (change.seq <= cursor) continue; // already applied (a page fetched twice)
        applyChange(sqlite, change, now, outcome);
        kinds[change.kind] = (kinds[change.kind] ?? 0) + 1;
        cursor = change.seq;
      }
      cursor = Math.max(cursor, page.cursor);
      if (cursor === from) return outcome;
      sqlite
        .prepare(
          'INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
        )
        .run(MASTER_CURSOR_COUNTER, cursor);
      appendAudit(
        sqlite,
        {
          operatorId: null,
          action: 'sync.master-data',
          entity: 'master_data',
          entityId: String(cursor),
          details: { from, to: cursor, kinds, unknownMeters: outcome.unknownMeters },
        },
        now,
      );
      return outcome;
    })
    .immediate();
}

/** Pulls and applies pages until the server has nothing more; returns the number of changes applied. */
export async function pullMasterData(
  sqlite: Database.Database,
  api: SyncApi,
  device: { deviceId: string; key: KeyObject },
  clock: () => Date,
  pageSize = 500,
): Promise<{ applied: number; pages: number; cursor: number }> {
  let applied = 0;
  let pages = 0;
  // An outlet not set up yet has nowhere to put master data; it pulls once it is.
  if (!sqlite.prepare('SELECT 1 FROM outlet WHERE id = 1').get()) return { applied, pages, cursor: 0 };
  for (;;) {
    const page = await api.masterPage(device, readMasterCursor(sqlite), pageSize);
    pages++;
    applied += applyMasterPage(sqlite, page, clock()).applied;
    if (!page.more) return { applied, pages, cursor: readMasterCursor(sqlite) };
  }
}
