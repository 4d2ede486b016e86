import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { APP_VERSION } from '../app-version.ts';
import { LEDGER_FILE } from './data-dir.ts';
import { LedgerError } from './errors.ts';
import { BUNDLED_MIGRATIONS } from './migrations/bundled.ts';
import { migrate } from './migrator.ts';
import * as schema from './schema.ts';

export type LedgerDb = BetterSQLite3Database<typeof schema>;

export interface Ledger {
  sqlite: Database.Database;
  db: LedgerDb;
  path: string;
  close(): void;
}

/**
 * Opens (creating if needed) the outlet's SQLite ledger.
 *
 * - WAL: readers never block the writer, and a crash leaves the last committed state.
 * - synchronous = FULL: in WAL mode NORMAL may lose the last commits on power loss; FULL fsyncs the WAL at
 *   every commit, so a sale is durable when the call returns. Measured cost: see `npm run bench:vend`.
 * - foreign keys on; a busy timeout so a second engine instance waits for the write lock instead of failing.
 * - quick_check at every open: a damaged file is refused before anything is sold against it.
 */
export function openLedger(dataDir: string, options: { readonly?: boolean } = {}): Ledger {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LEDGER_FILE);
  const sqlite = new Database(path, { readonly: options.readonly ?? false });
  try {
    sqlite.pragma('busy_timeout = 10000');
    if (!options.readonly) {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = FULL');
    }
    sqlite.pragma('foreign_keys = ON');
    const check = sqlite.pragma('quick_check', { simple: true });
    if (check !== 'ok') {
      throw new LedgerError(
        'LEDGER_CORRUPT',
        'The outlet database is damaged. Restore the latest backup (openvend restore) before selling.',
        `quick_check on ${path}: ${String(check)}`,
      );
    }
    if (!options.readonly) {
      try {
        migrate(sqlite, BUNDLED_MIGRATIONS, APP_VERSION);
      } catch (error) {
        if (error instanceof LedgerError) throw error;
        // A failed upgrade is not damage: a restored backup would fail the same way, so say so.
        throw new LedgerError(
          'LEDGER_MIGRATION_FAILED',
          'This version of OpenVend could not upgrade the outlet database; nothing was changed. Keep using the previous version and contact support.',
          `${path}: ${(error as Error).message}`,
        );
      }
    }
  } catch (error) {
    sqlite.close();
    if (error instanceof LedgerError) throw error;
    throw new LedgerError(
      'LEDGER_CORRUPT',
      'The outlet database cannot be opened. Restore the latest backup (openvend restore) before selling.',
      `${path}: ${(error as Error).message}`,
    );
  }
  return { sqlite, db: drizzle(sqlite, { schema }), path, close: () => sqlite.close() };
}
