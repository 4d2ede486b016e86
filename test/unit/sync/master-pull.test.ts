import type Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../src-main/engine/audit-log.ts';
import { verifyPassword } from '../../../src-main/engine/operators.ts';
import { SyncApi } from '../../../src-main/sync/api.ts';
import { SyncClient } from '../../../src-main/sync/client.ts';
import { readSyncIdentity, unsealDeviceKey } from '../../../src-main/sync/identity.ts';
import {
  applyMasterPage,
  MASTER_CURSOR_COUNTER,
  pullMasterData,
  readMasterCursor,
} from '../../../src-main/sync/master-pull.ts';
import type { MasterPage } from '../../../src-shared/sync/master-data.ts';
import type { SyncServer } from '../../../sync-server/app.ts';
import {
  addFloatTopUp,
  importCustomersToServer,
  setMeterBlock,
  setOperator,
  setVendingAuthority,
} from '../../../sync-server/master-data.ts';
import {
  BACKEND_START_MS,
  createBackend,
  injectTransport,
  type TestBackend,
  testServer,
} from '../../sync-server/support.ts';
import { enrollInProcess, type OutletFixture, outletFixture } from './outlet-support.ts';

/** The outlet pulling master data from the real server in-process (PGlite), applying it to its ledger. */

const NOW = new Date('2026-03-10T08:00:00Z');
let backend: TestBackend;
let server: SyncServer;
let outlet: OutletFixture;

beforeAll(async () => {
  backend = await createBackend('pglite');
  server = testServer(backend.database, () => NOW);
}, BACKEND_START_MS);
afterAll(async () => {
  await server?.app.close();
  await backend?.drop();
});
afterEach(() => outlet?.cleanup());

async function enrolled() {
  outlet = outletFixture(NOW);
  const transport = injectTransport(server);
  await enrollInProcess(outlet, backend.database.db, transport, NOW);
  const identity = readSyncIdentity(outlet.sqlite)!;
  const device = { deviceId: identity.deviceId, key: unsealDeviceKey(outlet.fixture.kek, identity) };
  return { api: new SyncApi(transport, () => NOW), device, outletCode: identity.outletCode };
}

const one = <T>(sqlite: Database.Database, query: string, ...args: unknown[]) =>
  sqlite.prepare(query).get(...args) as T;
const outletRow = (sqlite: Database.Database) =>
  one<{ float: number; limit: number; until: string }>(
    sqlite,
    'SELECT float_balance_minor AS float, authority_credit_limit_minor AS "limit", authority_valid_until AS until FROM outlet WHERE id = 1',
  );
const meterRow = (sqlite: Database.Database, meterNo: string) =>
  one<{ blocked: number; reason: string | null }>(
    sqlite,
    'SELECT blocked, blocked_reason AS reason FROM meter WHERE meter_no = ?',
    meterNo,
  );
const snapshot = (sqlite: Database.Database) => ({
  outlet: outletRow(sqlite),
  customers: sqlite.prepare('SELECT * FROM customer ORDER BY account_no').all(),
  meters: sqlite.prepare('SELECT meter_no, blocked, blocked_reason FROM meter ORDER BY meter_no').all(),
  floats: sqlite
    .prepare('SELECT kind, amount_minor, reference, request_id FROM float_movement ORDER BY id')
    .all(),
});

describe('master-data pull on the outlet', () => {
  it('applies customers, blocks, top-ups and authority by cursor, in audited page transactions', async () => {
    const { api, device, outletCode } = await enrolled();
    const sqlite = outlet.sqlite;
    const db = backend.database.db;
    const meterNo = outlet.fixture.vendableMeters[0]!;
    const floatBefore = outletRow(sqlite).float;
    const auditBefore = one<{ n: number }>(sqlite, 'SELECT count(*) AS n FROM audit_log').n;

    const csv = 'account_no,name,phone,fbe_eligible\nHQ-1,Head Office Customer,+27 1,yes\nHQ-2,Second,,no\n';
    await importCustomersToServer(db, { utilityCode: 'UT', csv: new TextEncoder().encode(csv), now: NOW });
    await setMeterBlock(db, { utilityCode: 'UT', meterNo, reason: 'meter tampered', now: NOW });
    await addFloatTopUp(db, { outletCode, amountMinor: 25_000, reference: 'DEP-77', now: NOW });
    await setVendingAuthority(db, {
      outletCode,
      creditLimitMinor: 900_000,
      validUntil: '2027-01-31T22:00:00.000Z',
      now: NOW,
    });

    const pulled = await pullMasterData(sqlite, api, device, () => NOW, 2);
    expect(pulled).toMatchObject({ applied: 5, pages: 3 });
    expect(readMasterCursor(sqlite)).toBe(pulled.cursor);
    expect(
      one(sqlite, 'SELECT name, phone, fbe_eligible AS fbe FROM customer WHERE account_no = ?', 'HQ-1'),
    ).toEqual({
      name: 'Head Office Customer',
      phone: '+27 1',
      fbe: 1,
    });
    expect(meterRow(sqlite, meterNo)).toEqual({ blocked: 1, reason: 'meter tampered' });
    expect(outletRow(sqlite)).toEqual({
      float: floatBefore + 25_000,
      limit: 900_000,
      until: '2027-01-31T22:00:00.000Z',
    });
    // One audit entry per page, and the chain still verifies.
    expect(one<{ n: number }>(sqlite, 'SELECT count(*) AS n FROM audit_log').n).toBe(auditBefore + 3);
    expect(verifyAuditChain(sqlite).ok).toBe(true);

    // Nothing new: no change, no audit entry.
    expect(await pullMasterData(sqlite, api, device, () => NOW)).toMatchObject({ applied: 0, pages: 1 });

    // An update and a tombstone (unblock), pulled, then the whole log applied again from cursor 0: no change.
    await importCustomersToServer(db, {
      utilityCode: 'UT',
      csv: new TextEncoder().encode('account_no,name\nHQ-2,Renamed\n'),
      now: NOW,
    });
    await setMeterBlock(db, { utilityCode: 'UT', meterNo, reason: null, now: NOW });
    await pullMasterData(sqlite, api, device, () => NOW);
    expect(meterRow(sqlite, meterNo)).toEqual({ blocked: 0, reason: null });
    expect(one<{ name: string }>(sqlite, 'SELECT name FROM customer WHERE account_no = ?', 'HQ-2').name).toBe(
      'Renamed',
    );
    const settled = snapshot(sqlite);
    sqlite.prepare('UPDATE counter SET value = 0 WHERE name = ?').run(MASTER_CURSOR_COUNTER);
    await pullMasterData(sqlite, api, device, () => NOW);
    expect(snapshot(sqlite)).toEqual(settled);
  });

  it('creates, changes and retires operators from their hashes', async () => {
    const { api, device } = await enrolled();
    const sqlite = outlet.sqlite;
    const base = { utilityCode: 'UT', username: 'lindiwe', displayName: 'Lindiwe', now: NOW };
    await setOperator(backend.database.db, {
      ...base,
      role: 'cashier',
      password: 'pass phrase 1',
      active: true,
    });
    await pullMasterData(sqlite, api, device, () => NOW);
    const row = () =>
      one<{ role: string; hash: string; active: number }>(
        sqlite,
        'SELECT role, password_hash AS hash, active FROM operator WHERE username = ?',
        'lindiwe',
      );
    expect(row()).toMatchObject({ role: 'cashier', active: 1 });
    expect(verifyPassword('pass phrase 1', row().hash)).toBe(true);
    await setOperator(backend.database.db, { ...base, role: 'supervisor', password: null, active: false });
    await pullMasterData(sqlite, api, device, () => NOW);
    expect(row()).toMatchObject({ role: 'supervisor', active: 0 });
    expect(verifyPassword('pass phrase 1', row().hash)).toBe(true);
  });

  it('applies a page all or nothing', async () => {
    await enrolled();
    const sqlite = outlet.sqlite;
    const before = snapshot(sqlite);
    const broken = {
      changes: [
        { seq: 1, kind: 'float.top-up', key: 'T-1', data: { amountMinor: 500, reference: 'T-1' } },
        // A change the ledger refuses (bypassing the wire schema): NOT NULL name.
        {
          seq: 2,
          kind: 'customer',
          key: 'C-1',
          data: { name: null, address: '', phone: '', location: '', fbeEligible: false },
        },
      ],
      cursor: 2,
      more: false,
    } as unknown as MasterPage;
    expect(() => applyMasterPage(sqlite, broken, NOW)).toThrow(/NOT NULL/);
    expect(snapshot(sqlite)).toEqual(before);
    expect(readMasterCursor(sqlite)).toBe(0);
  });

  it('is pulled by the sync client on its heartbeat cadence', async () => {
    const { api, outletCode } = await enrolled();
    await addFloatTopUp(backend.database.db, {
      outletCode,
      amountMinor: 1_000,
      reference: 'DEP-C',
      now: NOW,
    });
    const floatBefore = outletRow(outlet.sqlite).float;
    const client = new SyncClient({
      sqlite: outlet.sqlite,
      kek: outlet.fixture.kek,
      log: { info: () => {}, warn: () => {} },
      clock: () => NOW,
      api,
    });
    const report = await client.runOnce();
    expect(report.error).toBeNull();
    // The utility-wide changes of the tests above reach this new outlet too, and its own top-up.
    expect(report.masterChanges).toBeGreaterThanOrEqual(1);
    expect(outletRow(outlet.sqlite).float).toBe(floatBefore + 1_000);
    // Within the heartbeat interval it does not ask again.
    expect((await client.runOnce()).masterChanges).toBe(0);
    await client.stop();
  });
});
