import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundledMigration } from '../../src-main/ledger/migrations/bundle-migrations.ts';
import { isOpenVendError, type OpenVendError } from '../../src-shared/errors/openvend-error.ts';
import {
  readServerMigrations,
  SERVER_MIGRATIONS_DIR,
} from '../../sync-server/db/bundle-server-migrations.ts';
import { SERVER_MIGRATIONS } from '../../sync-server/db/bundled.ts';
import { queryRows, type ServerDb } from '../../sync-server/db/database.ts';
import { migrateServerDatabase } from '../../sync-server/db/migrator.ts';
import { BACKEND_START_MS, BACKENDS, createBackend, type TestBackend } from './support.ts';

describe('the server migration bundle', () => {
  it('matches the drizzle-kit folder (run npm run db:generate:server after a schema change)', () => {
    expect(readServerMigrations()).toEqual(SERVER_MIGRATIONS);
  });

  it('has a journal whose timestamps strictly increase', () => {
    const journal = JSON.parse(
      readFileSync(new URL('meta/_journal.json', SERVER_MIGRATIONS_DIR), 'utf8'),
    ) as {
      entries: Array<{ when: number; tag: string }>;
    };
    const whens = journal.entries.map((e) => e.when);
    expect([...whens].sort((a, b) => a - b)).toEqual(whens);
    expect(new Set(whens).size).toBe(whens.length);
  });
});

const synthetic = (id: string, table: string): BundledMigration => ({
  id,
  sha256: `sha-${id}`,
  statements: [`CREATE TABLE ${table} (x integer)`],
});

async function refusal(action: Promise<unknown>): Promise<OpenVendError> {
  try {
    await action;
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const applied = async (db: ServerDb) =>
  (await queryRows<{ id: string }>(db, sql`SELECT id FROM _migrations ORDER BY id`)).map((r) => r.id);

describe.each(BACKENDS)('server migrations (%s)', (backendName) => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await createBackend(backendName);
  }, BACKEND_START_MS);
  afterAll(async () => {
    await backend?.drop();
  });

  it('creates every table once; a second run applies nothing', async () => {
    const db = backend.database.db;
    expect(await applied(db)).toEqual(SERVER_MIGRATIONS.map((m) => m.id));
    expect(await migrateServerDatabase(db, SERVER_MIGRATIONS, 'test')).toEqual([]);
    const tables = await queryRows<{ table_name: string }>(
      db,
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      '_migrations',
      'api_client',
      'batch',
      'device',
      'device_incident',
      'enrollment_code',
      'event',
      'master_change',
      'meter_month',
      'outlet',
      'outlet_float',
      'rejected_event',
      'request_nonce',
      'sale_fact',
      'shift_reconciliation',
      'token_fact',
      'utility',
    ]);
  });

  it('applies by identity: a migration merged out of order is still applied', async () => {
    const db = backend.database.db;
    const [a, b, c] = [
      synthetic('9000_a', 'mig_a'),
      synthetic('9001_b', 'mig_b'),
      synthetic('9002_c', 'mig_c'),
    ];
    // A build that knew a and c ran first; the next build also has b, bundled between them.
    expect(await migrateServerDatabase(db, [...SERVER_MIGRATIONS, a!, c!], 'old')).toEqual([
      '9000_a',
      '9002_c',
    ]);
    expect(await migrateServerDatabase(db, [...SERVER_MIGRATIONS, a!, b!, c!], 'new')).toEqual(['9001_b']);
    expect(await applied(db)).toEqual([...SERVER_MIGRATIONS.map((m) => m.id), '9000_a', '9001_b', '9002_c']);
  });

  it('refuses a database written by a newer server, and one whose migration changed; nothing is applied', async () => {
    const db = backend.database.db;
    const before = await applied(db);
    const newer = await refusal(
      migrateServerDatabase(db, [...SERVER_MIGRATIONS, synthetic('9000_a', 'mig_a')], 'x'),
    );
    expect(newer.code).toBe('SERVER_DB_NEWER');
    const known = [
      ...SERVER_MIGRATIONS,
      ...['9000_a', '9001_b', '9002_c'].map((id) => synthetic(id, `t_${id}`)),
    ];
    const changed = known.map((m) => (m.id === '9001_b' ? { ...m, sha256: 'edited' } : m));
    expect((await refusal(migrateServerDatabase(db, changed, 'x'))).code).toBe('SERVER_MIGRATION_CHANGED');
    const failing = [
      ...known,
      { id: '9003_bad', sha256: 'x', statements: ['CREATE TABLE mig_d (x int)', 'NOT SQL'] },
    ];
    await expect(migrateServerDatabase(db, failing, 'x')).rejects.toThrow();
    expect(await applied(db)).toEqual(before);
    const [table] = await queryRows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'mig_d'`,
    );
    expect(table!.n).toBe(0);
  });

  it('migrates once when several instances start together', async () => {
    const instances = await Promise.all([backend.connect(), backend.connect(), backend.connect()]);
    const extra = synthetic('9004_e', 'mig_e');
    const known = [
      ...SERVER_MIGRATIONS,
      ...['9000_a', '9001_b', '9002_c'].map((id) => synthetic(id, `t_${id}`)),
    ];
    const results = await Promise.all(
      instances.map((i) => migrateServerDatabase(i.db, [...known, extra], 'x')),
    );
    expect(results.flat()).toEqual(['9004_e']);
    for (const instance of instances) await instance.close();
  });
});
