import type Database from 'better-sqlite3';
import { LedgerError } from './errors.ts';
import type { BundledMigration } from './migrations/bundle-migrations.ts';

/**
 * Applies migrations by identity, not by timestamp: every bundled migration whose id is not recorded is
 * applied, in bundle order, whatever arrived in between (drizzle's own migrator skips out-of-order ones).
 * A database that records a migration this build does not know was written by a newer version: refused.
 */
export function migrate(
  sqlite: Database.Database,
  migrations: readonly BundledMigration[],
  appVersion: string,
): string[] {
  sqlite.exec(`CREATE TABLE IF NOT EXISTS _migrations (
    id TEXT PRIMARY KEY NOT NULL,
    sha256 TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    app_version TEXT NOT NULL
  )`);
  const applied = sqlite
    .prepare('SELECT id, sha256, app_version AS appVersion FROM _migrations')
    .all() as Array<{
    id: string;
    sha256: string;
    appVersion: string;
  }>;
  const known = new Map(migrations.map((m) => [m.id, m]));
  for (const row of applied) {
    const mine = known.get(row.id);
    if (!mine) {
      throw new LedgerError(
        'LEDGER_NEWER_THAN_APP',
        'This outlet database was written by a newer version of OpenVend. Install that version or newer to open it.',
        `migration ${row.id} (applied by OpenVend ${row.appVersion}) is unknown to OpenVend ${appVersion}`,
      );
    }
    if (mine.sha256 !== row.sha256) {
      throw new LedgerError(
        'LEDGER_MIGRATION_CHANGED',
        'This outlet database does not match this version of OpenVend. Contact support.',
        `migration ${row.id} was applied with sha256 ${row.sha256}, this build has ${mine.sha256}`,
      );
    }
  }
  const done = new Set(applied.map((row) => row.id));
  const record = sqlite.prepare(
    'INSERT INTO _migrations (id, sha256, applied_at, app_version) VALUES (?, ?, ?, ?)',
  );
  const newlyApplied: string[] = [];
  // drizzle-kit rebuilds tables (create new, copy, drop old, rename) with foreign keys off; SQLite ignores that
  // pragma inside a transaction, so it is switched here, and integrity is checked before each migration commits.
  const foreignKeys = sqlite.pragma('foreign_keys', { simple: true });
  sqlite.pragma('foreign_keys = OFF');
  try {
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      sqlite.transaction(() => {
        for (const statement of migration.statements) {
          if (/^PRAGMA\s+foreign_keys\s*=/i.test(statement)) continue;
          sqlite.exec(statement);
        }
        const broken = sqlite.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) {
          throw new LedgerError(
            'LEDGER_MIGRATION_CHANGED',
            'This version of OpenVend cannot upgrade the outlet database. Contact support.',
            `migration ${migration.id} leaves ${broken.length} foreign-key violation(s)`,
          );
        }
        record.run(migration.id, migration.sha256, new Date().toISOString(), appVersion);
      })();
      newlyApplied.push(migration.id);
    }
  } finally {
    sqlite.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return newlyApplied;
}
