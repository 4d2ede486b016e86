import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { is } from 'drizzle-orm';
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../src-main/engine/audit-log.ts';
import { seedDemo } from '../../../src-main/engine/demo.ts';
import { loadVendingKeys } from '../../../src-main/engine/master-data.ts';
import { LEDGER_FILE } from '../../../src-main/ledger/data-dir.ts';
import { openLedger } from '../../../src-main/ledger/database.ts';
import {
  type BundledMigration,
  readMigrationFolder,
} from '../../../src-main/ledger/migrations/bundle-migrations.ts';
import { BUNDLED_MIGRATIONS } from '../../../src-main/ledger/migrations/bundled.ts';
import { migrate } from '../../../src-main/ledger/migrator.ts';
import * as schema from '../../../src-main/ledger/schema.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-migrations-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(work, `d${++dirs}`);
const rawDb = () => new Database(join(work, `raw${++dirs}.db`));

function thrown(action: () => unknown): OpenVendError {
  try {
    action();
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected an OpenVendError, nothing was thrown');
}

const appliedIds = (sqlite: Database.Database) =>
  (sqlite.prepare('SELECT id FROM _migrations ORDER BY rowid').all() as Array<{ id: string }>).map(
    (r) => r.id,
  );
const tableNames = (sqlite: Database.Database) =>
  (
    sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>
  ).map((r) => r.name);
const schemaDump = (sqlite: Database.Database) =>
  sqlite.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();

/** Every row of every table, for "data intact" comparisons. */
function dumpAll(sqlite: Database.Database): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const name of tableNames(sqlite)) {
    if (name === '_migrations') continue;
    const order = name === 'sqlite_sequence' ? 'name' : 'rowid';
    out[name] = sqlite.prepare(`SELECT * FROM "${name}" ORDER BY ${order}`).all();
  }
  return out;
}

const synthetic = (id: string, ...statements: string[]): BundledMigration => ({
  id,
  sha256: `sha-of-${id}`,
  statements,
});
const m1 = synthetic('0001_one', 'CREATE TABLE t1 (id integer PRIMARY KEY, v text)');
const m2 = synthetic('0002_two', 'CREATE TABLE t2 (id integer PRIMARY KEY, v text)');
const m3 = synthetic('0003_three', 'CREATE TABLE t3 (id integer PRIMARY KEY, v text)');

const schemaTables: Array<[string, SQLiteTable]> = Object.entries(schema as Record<string, unknown>).flatMap(
  ([name, value]): Array<[string, SQLiteTable]> => (is(value, SQLiteTable) ? [[name, value]] : []),
);

describe('the migration bundle', () => {
  it('is up to date with the SQL folder (run `npm run db:generate` when this fails)', () => {
    expect(readMigrationFolder()).toEqual(BUNDLED_MIGRATIONS);
  });

  it('has unique ids and one sha256 per migration', () => {
    const ids = BUNDLED_MIGRATIONS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of BUNDLED_MIGRATIONS) {
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.statements.length).toBeGreaterThan(0);
    }
  });
});

describe('a fresh ledger', () => {
  const ledger = openLedger(freshDir());
  afterAll(() => ledger.close());

  it('records every bundled migration in _migrations, with its sha256 and the app version', () => {
    const rows = ledger.sqlite
      .prepare('SELECT id, sha256, applied_at AS appliedAt, app_version AS appVersion FROM _migrations')
      .all() as Array<{ id: string; sha256: string; appliedAt: string; appVersion: string }>;
    expect(rows.map((r) => [r.id, r.sha256])).toEqual(BUNDLED_MIGRATIONS.map((m) => [m.id, m.sha256]));
    for (const row of rows) {
      expect(Number.isNaN(Date.parse(row.appliedAt))).toBe(false);
      expect(row.appVersion.length).toBeGreaterThan(0);
    }
  });

  it('has exactly the tables of schema.ts (plus _migrations and sqlite_sequence)', () => {
    expect(schemaTables.length).toBeGreaterThan(10);
    const expected = [
      ...schemaTables.map(([, t]) => getTableConfig(t).name),
      '_migrations',
      'sqlite_sequence',
    ];
    expect(tableNames(ledger.sqlite)).toEqual(expected.sort());
  });

  it.each(schemaTables)(
    'table of %s matches its drizzle definition: columns, indexes, foreign keys',
    (_, table) => {
      const config = getTableConfig(table);
      const columns = ledger.sqlite.prepare(`PRAGMA table_info("${config.name}")`).all() as Array<{
        name: string;
        type: string;
        notnull: number;
        dflt_value: string | null;
        pk: number;
      }>;
      expect(columns.map((c) => c.name).sort()).toEqual(config.columns.map((c) => c.name).sort());
      for (const column of config.columns) {
        const actual = columns.find((c) => c.name === column.name)!;
        expect({ column: column.name, type: actual.type.toLowerCase() }).toEqual({
          column: column.name,
          type: column.getSQLType().toLowerCase(),
        });
        expect({ column: column.name, notNull: actual.notnull === 1 || actual.pk > 0 }).toEqual({
          column: column.name,
          notNull: column.notNull || column.primary,
        });
        expect({ column: column.name, pk: actual.pk > 0 }).toEqual({
          column: column.name,
          pk: column.primary,
        });
        expect({ column: column.name, hasDefault: actual.dflt_value !== null }).toEqual({
          column: column.name,
          hasDefault: column.hasDefault && column.default !== undefined,
        });
      }

      const indexes = (
        ledger.sqlite.prepare(`PRAGMA index_list("${config.name}")`).all() as Array<{
          name: string;
          unique: number;
          origin: string;
        }>
      ).filter((i) => i.origin === 'c');
      const expectedIndexes = [
        ...config.indexes.map((i) => ({ name: i.config.name, unique: i.config.unique })),
        ...config.columns.filter((c) => c.isUnique).map((c) => ({ name: c.uniqueName!, unique: true })),
      ];
      expect(
        indexes
          .map((i) => ({ name: i.name, unique: i.unique === 1 }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      ).toEqual(expectedIndexes.sort((a, b) => a.name.localeCompare(b.name)));

      const foreignKeys = (
        ledger.sqlite.prepare(`PRAGMA foreign_key_list("${config.name}")`).all() as Array<{
          table: string;
          from: string;
          to: string;
        }>
      ).map((fk) => `${fk.from}->${fk.table}.${fk.to}`);
      const expectedForeignKeys = config.foreignKeys.flatMap((fk) => {
        const ref = fk.reference();
        const target = getTableConfig(ref.foreignTable).name;
        return ref.columns.map((c, i) => `${c.name}->${target}.${ref.foreignColumns[i]!.name}`);
      });
      expect(foreignKeys.sort()).toEqual(expectedForeignKeys.sort());
    },
  );

  it('opening it again applies nothing and changes nothing', () => {
    const dir = freshDir();
    openLedger(dir).close();
    const before = new Database(join(dir, LEDGER_FILE), { readonly: true });
    const rowsBefore = before.prepare('SELECT * FROM _migrations').all();
    const schemaBefore = schemaDump(before);
    before.close();
    openLedger(dir).close();
    const after = new Database(join(dir, LEDGER_FILE), { readonly: true });
    expect(after.prepare('SELECT * FROM _migrations').all()).toEqual(rowsBefore);
    expect(schemaDump(after)).toEqual(schemaBefore);
    after.close();
  });

  it('migrate() on an up-to-date ledger returns no newly applied migration', () => {
    expect(migrate(ledger.sqlite, BUNDLED_MIGRATIONS, 'test')).toEqual([]);
    expect(appliedIds(ledger.sqlite)).toEqual(BUNDLED_MIGRATIONS.map((m) => m.id));
  });
});

describe('migrate(): applied by identity', () => {
  it('applies a migration that arrives "out of order" (m2 merged after m3 was applied)', () => {
    const sqlite = rawDb();
    expect(migrate(sqlite, [m1, m3], '1.0.0')).toEqual([m1.id, m3.id]);
    expect(tableNames(sqlite)).not.toContain('t2');
    // drizzle's own migrator compares timestamps and would skip m2 here; ours applies every unknown id.
    expect(migrate(sqlite, [m1, m2, m3], '1.1.0')).toEqual([m2.id]);
    expect(tableNames(sqlite)).toEqual(expect.arrayContaining(['t1', 't2', 't3']));
    expect(appliedIds(sqlite)).toEqual([m1.id, m3.id, m2.id]);
    expect(migrate(sqlite, [m1, m2, m3], '1.1.0')).toEqual([]);
    sqlite.close();
  });

  it('refuses a ledger that records a migration this build does not know (LEDGER_NEWER_THAN_APP), changing nothing', () => {
    const sqlite = rawDb();
    migrate(sqlite, [m1], '2.0.0');
    sqlite
      .prepare('INSERT INTO _migrations (id, sha256, applied_at, app_version) VALUES (?, ?, ?, ?)')
      .run('0099_from_the_future', 'f'.repeat(64), '2030-01-01T00:00:00.000Z', '9.9.9');
    const before = { schema: schemaDump(sqlite), rows: sqlite.prepare('SELECT * FROM _migrations').all() };

    const error = thrown(() => migrate(sqlite, [m1, m2], '1.0.0'));
    expect(error.code).toBe('LEDGER_NEWER_THAN_APP');
    expect(error.userMessage).toMatch(/newer version of OpenVend/);
    expect(error.detail).toContain('0099_from_the_future');
    expect(error.detail).toContain('9.9.9');
    expect(error.detail).toContain('1.0.0');
    // m2 was not applied, nothing was recorded.
    expect(schemaDump(sqlite)).toEqual(before.schema);
    expect(sqlite.prepare('SELECT * FROM _migrations').all()).toEqual(before.rows);
    sqlite.close();
  });

  it('openLedger refuses a ledger written by a newer OpenVend and leaves its data alone', () => {
    const dir = freshDir();
    openLedger(dir).close();
    const path = join(dir, LEDGER_FILE);
    const writer = new Database(path);
    writer
      .prepare('INSERT INTO _migrations (id, sha256, applied_at, app_version) VALUES (?, ?, ?, ?)')
      .run('0042_newer', 'e'.repeat(64), '2030-01-01T00:00:00.000Z', '3.0.0');
    const before = { schema: schemaDump(writer), rows: writer.prepare('SELECT * FROM _migrations').all() };
    writer.close();

    const error = thrown(() => openLedger(dir));
    expect(error.code).toBe('LEDGER_NEWER_THAN_APP');
    expect(error.userMessage).toMatch(/newer version/);
    expect(error.detail).toContain('0042_newer');

    const after = new Database(path, { readonly: true });
    expect(schemaDump(after)).toEqual(before.schema);
    expect(after.prepare('SELECT * FROM _migrations').all()).toEqual(before.rows);
    after.close();
  });

  it('refuses a ledger whose recorded sha256 differs from the bundled one (LEDGER_MIGRATION_CHANGED)', () => {
    const sqlite = rawDb();
    migrate(sqlite, [m1], '1.0.0');
    const edited = { ...m1, sha256: 'sha-of-an-edited-file' };
    const error = thrown(() => migrate(sqlite, [edited, m2], '1.0.1'));
    expect(error.code).toBe('LEDGER_MIGRATION_CHANGED');
    expect(error.detail).toContain(m1.id);
    expect(error.detail).toContain('sha-of-an-edited-file');
    expect(tableNames(sqlite)).not.toContain('t2');
    expect(appliedIds(sqlite)).toEqual([m1.id]);
    sqlite.close();
  });

  it('rolls back the whole migration when one of its statements fails (not recorded, no half-applied table)', () => {
    const sqlite = rawDb();
    const broken = synthetic(
      '0002_broken',
      'CREATE TABLE half (id integer PRIMARY KEY)',
      'INSERT INTO half (id) VALUES (1)',
      'INSERT INTO no_such_table (x) VALUES (1)',
    );
    expect(() => migrate(sqlite, [m1, broken, m3], '1.0.0')).toThrow(/no_such_table/);
    // m1 was committed on its own; the broken migration left nothing; m3 never ran.
    expect(appliedIds(sqlite)).toEqual([m1.id]);
    expect(tableNames(sqlite)).not.toContain('half');
    expect(tableNames(sqlite)).not.toContain('t3');
    // Once fixed, it applies.
    const fixed = synthetic('0002_broken', 'CREATE TABLE half (id integer PRIMARY KEY)');
    expect(migrate(sqlite, [m1, fixed, m3], '1.0.1')).toEqual([fixed.id, m3.id]);
    sqlite.close();
  });
});

/**
 * UPGRADE TEST PATTERN — copy this for every migration that changes data or rebuilds a table.
 *
 *   const { sqlite } = upgradeFrom(N, (old) => { ...INSERTs written against the schema before migration N... });
 *   ...assert the rows survived, transformed as the migration intends...
 *
 * 1. A ledger is built with only the first `prefixLength` migrations of `migrations` (the schema an outlet
 *    running the previous release has).
 * 2. `seed` writes realistic rows into it. Write them with plain SQL against that *old* schema: today's engine
 *    code only knows the newest schema. (For the current single migration, seedDemo is the old schema.)
 * 3. The rest is applied the way the app does it: through `openLedger` (WAL, synchronous FULL, foreign keys ON,
 *    then `migrate`) for the real bundle; with the same pragmas and `migrate` for a synthetic list.
 * 4. The caller checks the data. `newlyApplied` says which migrations ran during the upgrade.
 */
function upgradeFrom(
  prefixLength: number,
  seed: (sqlite: Database.Database) => void,
  migrations: readonly BundledMigration[] = BUNDLED_MIGRATIONS,
): {
  dataDir: string;
  sqlite: Database.Database;
  seeded: Record<string, unknown[]>;
  newlyApplied: string[];
  close(): void;
} {
  const dataDir = freshDir();
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LEDGER_FILE);
  const old = new Database(path);
  old.pragma('journal_mode = WAL');
  old.pragma('foreign_keys = ON');
  migrate(old, migrations.slice(0, prefixLength), 'previous-release');
  seed(old);
  const seeded = dumpAll(old);
  const before = new Set(appliedIds(old));
  old.close();

  let sqlite: Database.Database;
  let close: () => void;
  if (migrations === BUNDLED_MIGRATIONS) {
    const ledger = openLedger(dataDir);
    sqlite = ledger.sqlite;
    close = () => ledger.close();
  } else {
    sqlite = new Database(path);
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    migrate(sqlite, migrations, 'this-release');
    close = () => sqlite.close();
  }
  const newlyApplied = appliedIds(sqlite).filter((id) => !before.has(id));
  return { dataDir, sqlite, seeded, newlyApplied, close };
}

describe('upgrade tests (template for data-changing migrations)', () => {
  const kek = randomBytes(32);
  const seedNow = new Date('2026-03-10T08:00:00Z');

  it('a demo outlet written at the latest bundled migration survives opening with the full bundle intact', () => {
    const upgrade = upgradeFrom(BUNDLED_MIGRATIONS.length, (old) => {
      seedDemo(old, kek, seedNow);
    });
    try {
      expect(upgrade.newlyApplied).toEqual([]);
      expect(dumpAll(upgrade.sqlite)).toEqual(upgrade.seeded);
      expect(upgrade.seeded.meter).toHaveLength(24);
      expect(verifyAuditChain(upgrade.sqlite).ok).toBe(true);
      expect(loadVendingKeys(upgrade.sqlite, kek)).toHaveLength(3);
    } finally {
      upgrade.close();
    }
  });

  it('a future additive migration with a backfill keeps every row and fills the new column', () => {
    const addEmail = synthetic(
      '0001_customer_email',
      "ALTER TABLE `customer` ADD `email` text DEFAULT '' NOT NULL;",
      "UPDATE `customer` SET `email` = lower(replace(`name`, ' ', '.')) || '@example.test';",
    );
    const upgrade = upgradeFrom(BUNDLED_MIGRATIONS.length, (old) => seedDemo(old, kek, seedNow), [
      ...BUNDLED_MIGRATIONS,
      addEmail,
    ]);
    try {
      expect(upgrade.newlyApplied).toEqual([addEmail.id]);
      const customers = upgrade.sqlite.prepare('SELECT * FROM customer ORDER BY id').all() as Array<
        Record<string, unknown>
      >;
      expect(customers.map(({ email: _email, ...rest }) => rest)).toEqual(upgrade.seeded.customer);
      for (const c of customers) expect(c.email).toMatch(/^[a-z.]+@example\.test$/);
      expect(upgrade.sqlite.pragma('foreign_key_check')).toEqual([]);
    } finally {
      upgrade.close();
    }
  });

  // drizzle-kit writes SQLite column changes as a table rebuild wrapped in `PRAGMA foreign_keys=OFF/ON`.
  // Those pragmas are no-ops inside the transaction migrate() opens, and openLedger turns foreign keys ON
  // first, so DROP TABLE of a referenced table fails (or, with ON DELETE CASCADE, deletes child rows).
  // Regression (found in review): see the report — migrate() must switch foreign keys off outside its transaction and run
  // PRAGMA foreign_key_check before committing.
  it('a drizzle-kit table rebuild of a referenced table (customer ← meter, debt) keeps every row', () => {
    const rebuildCustomer = synthetic(
      '0001_customer_rebuild',
      'PRAGMA foreign_keys=OFF;',
      "CREATE TABLE `__new_customer` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`account_no` text NOT NULL,\n\t`name` text NOT NULL,\n\t`address` text DEFAULT '' NOT NULL,\n\t`phone` text DEFAULT '' NOT NULL,\n\t`location` text DEFAULT 'unknown' NOT NULL,\n\t`fbe_eligible` integer DEFAULT false NOT NULL\n);",
      'INSERT INTO `__new_customer`("id", "account_no", "name", "address", "phone", "location", "fbe_eligible") SELECT "id", "account_no", "name", "address", "phone", "location", "fbe_eligible" FROM `customer`;',
      'DROP TABLE `customer`;',
      'ALTER TABLE `__new_customer` RENAME TO `customer`;',
      'PRAGMA foreign_keys=ON;',
      'CREATE UNIQUE INDEX `customer_account_no_unique` ON `customer` (`account_no`);',
    );
    const upgrade = upgradeFrom(BUNDLED_MIGRATIONS.length, (old) => seedDemo(old, kek, seedNow), [
      ...BUNDLED_MIGRATIONS,
      rebuildCustomer,
    ]);
    try {
      expect(upgrade.newlyApplied).toEqual([rebuildCustomer.id]);
      expect(dumpAll(upgrade.sqlite)).toEqual(upgrade.seeded);
      expect(upgrade.sqlite.pragma('foreign_key_check')).toEqual([]);
    } finally {
      upgrade.close();
    }
  });
});
