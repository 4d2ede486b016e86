import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src-main/engine/operators.ts';
import { MASTER_PAGE_MAX, type MasterPage, masterPath } from '../../src-shared/sync/master-data.ts';
import { createOutlet, createUtility } from '../../sync-server/admin.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { queryRows } from '../../sync-server/db/database.ts';
import {
  addFloatTopUp,
  importCustomersToServer,
  masterPage,
  setMeterBlock,
  setOperator,
  setVendingAuthority,
} from '../../sync-server/master-data.ts';
import {
  BACKEND_START_MS,
  BACKENDS,
  createBackend,
  enrollTestDevice,
  errorCode,
  signedInject,
  TEST_NOW,
  type TestBackend,
  type TestDevice,
  testServer,
} from './support.ts';

const csv = (text: string) => new TextEncoder().encode(text);
const CUSTOMERS =
  'account_no,name,address,phone,location,fbe_eligible\nA-1,Ada,1 Main St,+27 11 555,erf 1,yes\nA-2,Ben,,,,no\n';

describe.each(BACKENDS)('master data download (%s)', (backendName) => {
  let backend: TestBackend;
  let server: SyncServer;
  let device: TestDevice & { outletCode: string };
  let outletId: number;

  beforeAll(async () => {
    backend = await createBackend(backendName);
    server = testServer(backend.database);
    device = await enrollTestDevice(server, backend.database.db);
    const [row] = await queryRows<{ id: number }>(
      backend.database.db,
      sql`SELECT id FROM outlet WHERE code = ${device.outletCode}`,
    );
    outletId = row!.id;
  }, BACKEND_START_MS);
  afterAll(async () => {
    await server?.app.close();
    await backend?.drop();
  });

  const pull = async (after: number, limit = 100) => {
    const response = await signedInject(server, device, { method: 'GET', url: masterPath(after, limit) });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as MasterPage;
  };

  it('imports customers, blocks meters, credits floats and sets authority as ordered, paged changes', async () => {
    const db = backend.database.db;
    expect(
      await importCustomersToServer(db, { utilityCode: 'UT', csv: csv(CUSTOMERS), now: TEST_NOW }),
    ).toEqual({
      imported: 2,
      problems: [],
    });
    await setMeterBlock(db, { utilityCode: 'UT', meterNo: '01234567890', reason: 'tampered', now: TEST_NOW });
    await setMeterBlock(db, { utilityCode: 'UT', meterNo: '01234567890', reason: null, now: TEST_NOW });
    await addFloatTopUp(db, {
      outletCode: device.outletCode,
      amountMinor: 50_000,
      reference: 'DEP-1',
      now: TEST_NOW,
    });
    await setVendingAuthority(db, {
      outletCode: device.outletCode,
      creditLimitMinor: 1_000_000,
      validUntil: '2027-01-31T22:00:00.000Z',
      now: TEST_NOW,
    });

    const all = await pull(0);
    expect(all.more).toBe(false);
    expect(all.changes.map((c) => [c.kind, c.key, c.data === null])).toEqual([
      ['customer', 'A-1', false],
      ['customer', 'A-2', false],
      ['meter.block', '01234567890', false],
      ['meter.block', '01234567890', true],
      ['float.top-up', 'DEP-1', false],
      ['authority', 'outlet', false],
    ]);
    expect(all.changes[0]!.data).toEqual({
      name: 'Ada',
      address: '1 Main St',
      phone: '+27 11 555',
      location: 'erf 1',
      fbeEligible: true,
    });
    const seqs = all.changes.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(all.cursor).toBe(seqs.at(-1));

    // Paging by cursor: the same changes, in the same order, nothing skipped or repeated.
    const first = await pull(0, 4);
    expect(first.more).toBe(true);
    const second = await pull(first.cursor, 4);
    expect(second.more).toBe(false);
    expect([...first.changes, ...second.changes]).toEqual(all.changes);
    expect(await pull(all.cursor)).toEqual({ changes: [], cursor: all.cursor, more: false });
  });

  it('shows an outlet its utility-wide changes and its own, never another outlet’s or utility’s', async () => {
    const db = backend.database.db;
    await createOutlet(db, { utilityCode: 'UT', code: 'OTHER-1', name: 'Other' });
    await createUtility(db, { code: 'UT2', name: 'Other utility' });
    const before = (await pull(0)).cursor;
    await addFloatTopUp(db, { outletCode: 'OTHER-1', amountMinor: 100, reference: 'DEP-X', now: TEST_NOW });
    await importCustomersToServer(db, {
      utilityCode: 'UT2',
      csv: csv('account_no,name\nZ-1,Zed\n'),
      now: TEST_NOW,
    });
    expect((await pull(before)).changes).toEqual([]);
    const own = await masterPage(
      db,
      { outletId, deviceId: device.deviceId, publicKey: device.publicKey },
      { after: before, limit: 10 },
    );
    expect(own.changes).toEqual([]);
  });

  it('refuses bad input with a clear error and writes nothing', async () => {
    const db = backend.database.db;
    const before = (await pull(0)).cursor;
    const bad = await importCustomersToServer(db, {
      utilityCode: 'UT',
      csv: csv('account_no,name,fbe_eligible,colour\nB-1,,maybe,red\n'),
      now: TEST_NOW,
    });
    expect(bad.imported).toBe(0);
    expect(bad.problems.map((p) => p.message)).toEqual(['Unknown column colour.']);
    const rows = await importCustomersToServer(db, {
      utilityCode: 'UT',
      csv: csv('account_no,name,fbe_eligible\nB-1,,maybe\n\nB-2,Ok,no\nB-2,Again,no\n'),
      now: TEST_NOW,
    });
    expect(rows.imported).toBe(0);
    // Line numbers count the blank line too.
    expect(rows.problems.map((p) => p.line)).toEqual([2, 2, 5]);
    expect(
      (await importCustomersToServer(db, { utilityCode: 'UT', csv: csv(''), now: TEST_NOW })).problems,
    ).toHaveLength(1);
    await expect(
      importCustomersToServer(db, { utilityCode: 'NOPE', csv: csv(CUSTOMERS), now: TEST_NOW }),
    ).rejects.toMatchObject({ code: 'ADMIN_NOT_FOUND' });
    await expect(
      addFloatTopUp(db, { outletCode: device.outletCode, amountMinor: 0, reference: 'R', now: TEST_NOW }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    await expect(
      addFloatTopUp(db, { outletCode: device.outletCode, amountMinor: 10.5, reference: 'R', now: TEST_NOW }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    await expect(
      addFloatTopUp(db, { outletCode: device.outletCode, amountMinor: 1, reference: 'DEP-1', now: TEST_NOW }),
    ).rejects.toMatchObject({ code: 'ADMIN_EXISTS' });
    await expect(
      setVendingAuthority(db, {
        outletCode: device.outletCode,
        creditLimitMinor: -1,
        validUntil: '2027-01-01T00:00:00Z',
        now: TEST_NOW,
      }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    await expect(
      setVendingAuthority(db, {
        outletCode: device.outletCode,
        creditLimitMinor: 1,
        validUntil: 'next year',
        now: TEST_NOW,
      }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    await expect(
      setMeterBlock(db, { utilityCode: 'UT', meterNo: 'abc', reason: 'x', now: TEST_NOW }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    expect((await pull(0)).cursor).toBe(before);
  });

  it('sends operators as password hashes only, keeping the hash when only the role changes', async () => {
    const db = backend.database.db;
    const before = (await pull(0)).cursor;
    const base = { utilityCode: 'UT', username: 'thandi', displayName: 'Thandi', now: TEST_NOW };
    await setOperator(db, { ...base, role: 'cashier', password: 'correct horse', active: true });
    await setOperator(db, { ...base, role: 'supervisor', password: null, active: true });
    const page = await pull(before);
    expect(page.changes.map((c) => c.kind)).toEqual(['operator', 'operator']);
    const [first, second] = page.changes.map((c) => c.data as { passwordHash: string; role: string });
    expect(JSON.stringify(page)).not.toContain('correct horse');
    expect(verifyPassword('correct horse', first!.passwordHash)).toBe(true);
    expect(second).toMatchObject({ role: 'supervisor', passwordHash: first!.passwordHash });
    await expect(
      setOperator(db, { ...base, username: 'newbie', role: 'cashier', password: null, active: true }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    await expect(
      setOperator(db, {
        ...base,
        username: 'Bad Name',
        role: 'cashier',
        password: 'long enough',
        active: true,
      }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    await expect(
      setOperator(db, { ...base, role: 'cashier', password: 'short', active: true }),
    ).rejects.toMatchObject({
      code: 'ADMIN_INVALID',
    });
    await expect(
      setOperator(db, { ...base, role: 'overlord', password: 'long enough', active: true }),
    ).rejects.toMatchObject({ code: 'ADMIN_INVALID' });
    expect((await pull(0)).cursor).toBe(page.cursor);
  });

  it('serves only signed requests with a well-formed cursor', async () => {
    const unsigned = await server.app.inject({ method: 'GET', url: masterPath(0, 10) });
    expect(unsigned.statusCode).toBe(401);
    expect(errorCode(unsigned)).toBe('SYNC_UNSIGNED');
    for (const url of [
      '/v1/master?after=-1',
      '/v1/master?after=x',
      `/v1/master?limit=${MASTER_PAGE_MAX + 1}`,
      '/v1/master?evil=1',
    ]) {
      const response = await signedInject(server, device, { method: 'GET', url });
      expect(response.statusCode, url).toBe(400);
      expect(errorCode(response)).toBe('SYNC_MALFORMED');
    }
  });
});
