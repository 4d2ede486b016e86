import { sql } from 'drizzle-orm';
import type { BundledMigration } from '../../src-main/ledger/migrations/bundle-migrations.ts';
import { ServerError } from '../errors.ts';
import { queryRows, type ServerDb } from './database.ts';

/** Any fixed 64-bit key: every instance takes this lock before it looks at the migrations. */
const MIGRATION_LOCK = 0x4f56_5359_4e43; // "OVSYNC", below 2^53

/**
 * Applies the bundled migrations by identity (every id not yet recorded, in bundle order), all in one
 * transaction under an advisory lock, so two instances starting together migrate once. A database that
 * records a migration this build does not know was written by a newer server: refused, nothing changed.
 */
export async function migrateServerDatabase(
  db: ServerDb,
  migrations: readonly BundledMigration[],
  appVersion: string,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`CREATE TABLE IF NOT EXISTS _migrations (
      id text PRIMARY KEY NOT NULL,
      sha256 text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      app_version text NOT NULL
    )`);
    const applied = await queryRows<{ id: string; sha256: string; app_version: string }>(
      tx,
      sql`SELECT id, sha256, app_version FROM _migrations`,
    );
    const known = new Map(migrations.map((m) => [m.id, m]));
    for (const row of applied) {
      const mine = known.get(row.id);
      if (!mine) {
        throw new ServerError(
          'SERVER_DB_NEWER',
          'This database was written by a newer OpenVend sync server. Run that version or newer.',
          `migration ${row.id} (applied by ${row.app_version}) is unknown to sync server ${appVersion}`,
        );
      }
      if (mine.sha256 !== row.sha256) {
        throw new ServerError(
          'SERVER_MIGRATION_CHANGED',
          'This database does not match this version of the sync server. Contact support.',
          `migration ${row.id} was applied with sha256 ${row.sha256}, this build has ${mine.sha256}`,
        );
      }
    }
    const done = new Set(applied.map((row) => row.id));
    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      for (const statement of migration.statements) await tx.execute(sql.raw(statement));
      await tx.execute(
        sql`INSERT INTO _migrations (id, sha256, app_version) VALUES (${migration.id}, ${migration.sha256}, ${appVersion})`,
      );
      newlyApplied.push(migration.id);
    }
    return newlyApplied;
  });
}
