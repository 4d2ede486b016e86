import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../src-main/engine/audit-log.ts';
import { loadVendingKeys } from '../../../src-main/engine/master-data.ts';
import { verifyPassword } from '../../../src-main/engine/operators.ts';
import { SyncApi } from '../../../src-main/sync/api.ts';
import { SyncClient } from '../../../src-main/sync/client.ts';
import { readSyncIdentity, unsealDeviceKey } from '../../../src-main/sync/identity.ts';
import { sealToDevice } from '../../../src-main/sync/key-envelope.ts';
import {
  applyMasterPage,
  MASTER_CURSOR_COUNTER,
  pullMasterData,
  readMasterCursor,
} from '../../../src-main/sync/master-pull.ts';
import { vendingKeyCheckValue } from '../../../src-shared/sts/key-check-value.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import {
  type MasterChange,
  MasterDataError,
  type MasterPage,
  supplyGroupEnvelopeSubject,
} from '../../../src-shared/sync/master-data.ts';
import type { SyncServer } from '../../../sync-server/app.ts';
import {
  addFloatTopUp,
  cancelKeyChange,
  importCustomersToServer,
  importMetersToServer,
  publishSupplyGroup,
  publishTariff,
  retireMeter,
  scheduleKeyChange,
  setMeterBlock,
  setOperator,
  setVendingAuthority,
} from '../../../sync-server/master-data.ts';
import { readMeterKeys, virtualMeterFor } from '../../support/engine-fixture.ts';
import {
  BACKEND_START_MS,
  createBackend,
  flatTariffVersion,
  injectTransport,
  newDeviceKey,
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

async function enrolled(on: { backend: TestBackend; server: SyncServer } = { backend, server }) {
  outlet = outletFixture(NOW);
  const transport = injectTransport(on.server);
  await enrollInProcess(outlet, on.backend.database.db, transport, NOW);
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

/**
 * Supply groups, tariffs, meters and key changes, on a server of their own (their utility-wide changes need
 * the KEK to apply, which the heartbeat test above does not give).
 */
describe('master-data pull of keys, tariffs, meters and key changes', () => {
  const SERVER_KEK = randomBytes(32);
  const NEW_KEY = 'efefefefefefefef';
  const keyed = { backend: undefined as unknown as TestBackend, server: undefined as unknown as SyncServer };
  const savedKek = process.env.OPENVEND_SERVER_KEK;
  beforeAll(async () => {
    process.env.OPENVEND_SERVER_KEK = SERVER_KEK.toString('hex');
    keyed.backend = await createBackend('pglite');
    keyed.server = testServer(keyed.backend.database, () => NOW);
  }, BACKEND_START_MS);
  afterAll(async () => {
    if (savedKek === undefined) delete process.env.OPENVEND_SERVER_KEK;
    else process.env.OPENVEND_SERVER_KEK = savedKek;
    await keyed.server?.app.close();
    await keyed.backend?.drop();
  });

  const group = (sgc: string, krn: number, vendingKeyHex: string, name = `SG ${sgc}/${krn}`) => ({
    utilityCode: 'UT',
    sgc,
    name,
    keyType: 2,
    krn,
    baseDate: 2014,
    dkga: 'DKGA02',
    ea: 'EA07',
    ken: 255,
    vendingKeyHex,
    now: NOW,
  });
  const flatVersion = flatTariffVersion;
  const supplyGroups = (sqlite: Database.Database) =>
    sqlite.prepare('SELECT sgc, krn, dkga, name, vending_key_kcv AS kcv FROM supply_group ORDER BY id').all();
  const ledgerState = (sqlite: Database.Database) => ({
    groups: supplyGroups(sqlite),
    tariffs: sqlite.prepare('SELECT * FROM tariff ORDER BY id').all(),
    versions: sqlite.prepare('SELECT * FROM tariff_version ORDER BY id').all(),
    meters: sqlite.prepare('SELECT * FROM meter ORDER BY id').all(),
    customers: sqlite.prepare('SELECT * FROM customer ORDER BY id').all(),
    cursor: readMasterCursor(sqlite),
  });
  const refusal = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(MasterDataError);
      return (error as MasterDataError).code;
    }
    throw new Error('expected a refusal');
  };
  /** A hand-made page after `after` (the outlet skips changes at or below its cursor). */
  const page = (changes: unknown[], after = 0): MasterPage => ({
    changes: changes.map((c, i) => ({ ...(c as object), seq: after + i + 1 })) as MasterChange[],
    cursor: after + changes.length,
    more: false,
  });

  it('stores a supply group from its envelope under the outlet KEK, and refuses without a KEK', async () => {
    const { api, device } = await enrolled(keyed);
    const sqlite = outlet.sqlite;
    const kek = outlet.fixture.kek;
    const db = keyed.backend.database.db;
    await publishSupplyGroup(db, SERVER_KEK, group('654321', 1, NEW_KEY));
    // A group the outlet already holds with the same key: renamed, key kept.
    await publishSupplyGroup(db, SERVER_KEK, group('123456', 1, 'abababababababab', 'Seshego (head office)'));

    const before = ledgerState(sqlite);
    await expect(pullMasterData(sqlite, api, device, () => NOW)).rejects.toMatchObject({
      code: 'MASTER_KEK_REQUIRED',
    });
    expect(ledgerState(sqlite)).toEqual(before);

    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    const kcv = vendingKeyCheckValue(SecretKey.fromHex(NEW_KEY, 'k'), 'DKGA02');
    expect(supplyGroups(sqlite)).toContainEqual({
      sgc: '654321',
      krn: 1,
      dkga: 'DKGA02',
      name: 'SG 654321/1',
      kcv,
    });
    expect(supplyGroups(sqlite)).toContainEqual(
      expect.objectContaining({ sgc: '123456', krn: 1, name: 'Seshego (head office)' }),
    );
    const sealed = one<{ sealed: Buffer }>(
      sqlite,
      "SELECT vending_key_sealed AS sealed FROM supply_group WHERE sgc = '654321'",
    ).sealed;
    expect(sealed.toString('hex')).not.toContain(NEW_KEY);
    const loaded = loadVendingKeys(sqlite, kek).find((k) => k.sgc === '654321')!;
    expect(Buffer.from(loaded.key.bytes()).toString('hex')).toBe(NEW_KEY);
    const audit = sqlite
      .prepare('SELECT * FROM audit_log ORDER BY rowid DESC LIMIT 3')
      .all()
      .map((r) => JSON.stringify(r));
    expect(audit.join('')).not.toMatch(new RegExp(NEW_KEY, 'i'));

    // The whole log again from cursor 0: nothing changes.
    const settled = ledgerState(sqlite);
    sqlite.prepare('UPDATE counter SET value = 0 WHERE name = ?').run(MASTER_CURSOR_COUNTER);
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    expect(ledgerState(sqlite)).toEqual(settled);
  });

  it('refuses a key that fails its check value, is sealed to another device or conflicts, writing nothing', async () => {
    const { device } = await enrolled(keyed);
    const sqlite = outlet.sqlite;
    const kek = outlet.fixture.kek;
    const identity = readSyncIdentity(sqlite)!;
    const key = '777777:1:DKGA02';
    const envelopeFor = (publicKey: string, hex: string) =>
      sealToDevice(
        publicKey,
        { deviceId: device.deviceId, subject: supplyGroupEnvelopeSubject(key) },
        Buffer.from(hex, 'hex'),
      );
    const change = (data: Record<string, unknown>, changeKey = key) => ({
      seq: 1,
      kind: 'supply-group',
      key: changeKey,
      data: {
        name: 'SG 777777',
        keyType: 2,
        baseDate: 2014,
        ea: 'EA07',
        ken: 255,
        kcv: vendingKeyCheckValue(SecretKey.fromHex(NEW_KEY, 'k'), 'DKGA02'),
        vendingKey: envelopeFor(identity.publicKey, NEW_KEY),
        ...data,
      },
    });
    const customerFirst = {
      seq: 1,
      kind: 'customer',
      key: 'BEFORE-KEY',
      data: { name: 'x', address: '', phone: '', location: '', fbeEligible: false },
    };
    const before = ledgerState(sqlite);
    const wrongKcv = page([customerFirst, { ...change({ kcv: '000000' }), seq: 2 }]);
    expect(refusal(() => applyMasterPage(sqlite, wrongKcv, NOW, { ...device, kek }))).toBe(
      'MASTER_KEY_CHECK_FAILED',
    );
    const stranger = newDeviceKey().publicKey;
    const otherDevice = page([change({ vendingKey: envelopeFor(stranger, NEW_KEY) })]);
    expect(refusal(() => applyMasterPage(sqlite, otherDevice, NOW, { ...device, kek }))).toBe(
      'MASTER_KEY_ENVELOPE_INVALID',
    );
    // The envelope of one supply group replayed under another key does not open either.
    const moved = page([change({}, '777777:2:DKGA02')]);
    expect(refusal(() => applyMasterPage(sqlite, moved, NOW, { ...device, kek }))).toBe(
      'MASTER_KEY_ENVELOPE_INVALID',
    );
    // A different key for a group the outlet holds (demo 123456 KRN 1).
    const conflict = page([change({}, '123456:1:DKGA02')]);
    expect(refusal(() => applyMasterPage(sqlite, conflict, NOW, { ...device, kek }))).toBe(
      'MASTER_KEY_CONFLICT',
    );
    expect(ledgerState(sqlite)).toEqual(before);
    expect(one(sqlite, "SELECT count(*) AS n FROM customer WHERE account_no = 'BEFORE-KEY'")).toEqual({
      n: 0,
    });
    // The good one applies.
    applyMasterPage(sqlite, page([change({})]), NOW, { ...device, kek });
    expect(supplyGroups(sqlite)).toContainEqual(expect.objectContaining({ sgc: '777777', krn: 1 }));
  });

  it('adds tariff versions by number and refuses one that differs from the version held', async () => {
    const { api, device } = await enrolled(keyed);
    const sqlite = outlet.sqlite;
    const kek = outlet.fixture.kek;
    const db = keyed.backend.database.db;
    const hq = { code: 'HQ-FLAT', name: 'HQ flat', ti: 1, resource: 'electricity' };
    await publishTariff(db, {
      utilityCode: 'UT',
      tariff: { ...hq, versions: [flatVersion(1, 250_000)] },
      now: NOW,
    });
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    await publishTariff(db, {
      utilityCode: 'UT',
      tariff: { ...hq, versions: [flatVersion(2, 260_000)] },
      now: NOW,
    });
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    const versions = () =>
      sqlite
        .prepare(
          `SELECT v.version, v.effective_from_local AS effective, v.blocks_json AS blocks FROM tariff_version v
             JOIN tariff t ON t.id = v.tariff_id WHERE t.code = 'HQ-FLAT' ORDER BY v.version`,
        )
        .all();
    expect(versions()).toEqual([
      { version: 1, effective: '2026-01-01', blocks: '[{"upToUnits":null,"rateMilliMinorPerKwh":250000}]' },
      { version: 2, effective: '2026-02-01', blocks: '[{"upToUnits":null,"rateMilliMinorPerKwh":260000}]' },
    ]);
    const before = ledgerState(sqlite);
    const changed = page(
      [
        {
          seq: 1,
          kind: 'tariff',
          key: 'HQ-FLAT',
          data: { name: 'HQ flat', ti: 1, resource: 'electricity', versions: [flatVersion(1, 1)] },
        },
      ],
      readMasterCursor(sqlite),
    );
    expect(refusal(() => applyMasterPage(sqlite, changed, NOW))).toBe('MASTER_TARIFF_CONFLICT');
    expect(readMasterCursor(sqlite)).toBe(before.cursor);
    const otherTi = page(
      [
        {
          seq: 1,
          kind: 'tariff',
          key: 'HQ-FLAT',
          data: { name: 'HQ flat', ti: 3, resource: 'electricity', versions: [flatVersion(1, 250_000)] },
        },
      ],
      readMasterCursor(sqlite),
    );
    expect(refusal(() => applyMasterPage(sqlite, otherTi, NOW))).toBe('MASTER_TARIFF_CONFLICT');
    expect(ledgerState(sqlite)).toEqual(before);
  });

  it('applies meters idempotently, keeps their TID and month-to-date, and refuses unknown references', async () => {
    const { api, device } = await enrolled(keyed);
    const sqlite = outlet.sqlite;
    const kek = outlet.fixture.kek;
    const db = keyed.backend.database.db;
    const open = outlet.fixture.open(() => NOW);
    const cashier = outlet.fixture.sessions.cashier;
    const candidates = sqlite
      .prepare(
        `SELECT m.meter_no AS meterNo, m.pan, m.ti, m.key_type AS keyType, m.base_date AS baseDate, c.account_no AS account
           FROM meter m JOIN customer c ON c.id = m.customer_id
          WHERE m.sgc = '123456' AND m.krn = 1 AND m.pending_krn IS NULL AND m.pending_base_date IS NULL
            AND m.pending_ti IS NULL AND m.blocked = 0 ORDER BY m.id LIMIT 2`,
      )
      .all() as Array<{
      meterNo: string;
      pan: string;
      ti: number;
      keyType: number;
      baseDate: number;
      account: string;
    }>;
    const [m1, m2] = candidates as [(typeof candidates)[0], (typeof candidates)[0]];
    expect(m2).toBeDefined();
    open.engine.vend(cashier, { requestId: 'before-master-1', meterNumber: m1.meterNo, tenderMinor: 5_000 });
    const history = () =>
      one<Record<string, unknown>>(
        sqlite,
        `SELECT last_tid, mtd_month, mtd_units, last_purchase_at, base_date, krn, sgc, ti FROM meter WHERE meter_no = ?`,
        m1.meterNo,
      );
    const historyBefore = history();
    expect(historyBefore.last_tid).not.toBeNull();

    // A meter whose tariff this outlet does not hold: the page is refused and the cursor stays.
    const cursor = readMasterCursor(sqlite);
    const orphan = page([
      {
        seq: 1,
        kind: 'meter',
        key: m1.meterNo,
        data: {
          pan: m1.pan,
          iinLength: 6,
          meterType: 'electricity',
          customerAccountNo: '',
          tariffCode: 'NOT-HERE',
          sgc: '123456',
          ti: m1.ti,
          krn: 1,
          keyType: m1.keyType,
          ea: 'EA07',
          dkga: 'DKGA02',
          baseDate: m1.baseDate,
          ken: 255,
        },
      },
    ]);
    expect(refusal(() => applyMasterPage(sqlite, orphan, NOW))).toBe('MASTER_REFERENCE_UNKNOWN');
    expect(readMasterCursor(sqlite)).toBe(cursor);

    // Head office registers both meters (their key data as the outlet has it) on a tariff of its own.
    await publishSupplyGroup(db, SERVER_KEK, group('123456', 1, 'abababababababab'));
    await publishSupplyGroup(db, SERVER_KEK, group('123456', 2, 'cdcdcdcdcdcdcdcd'));
    await publishTariff(db, {
      utilityCode: 'UT',
      tariff: {
        code: 'HQ-DOM',
        name: 'HQ domestic',
        ti: m1.ti,
        resource: 'electricity',
        versions: [flatVersion(1, 250_000)],
      },
      now: NOW,
    });
    await importCustomersToServer(db, {
      utilityCode: 'UT',
      csv: new TextEncoder().encode(`account_no,name\n${m1.account},Head office name\n`),
      now: NOW,
    });
    const line = (m: typeof m1, account: string) =>
      `${m.pan},electricity,${account},HQ-DOM,123456,${m.ti},1,${m.keyType},EA07,DKGA02,${m.baseDate},255\n`;
    const meters = `pan,meter_type,customer_account_no,tariff_code,sgc,ti,krn,key_type,ea,dkga,base_date,ken\n${line(m1, m1.account)}${line(m2, '')}`;
    expect(
      await importMetersToServer(db, { utilityCode: 'UT', csv: new TextEncoder().encode(meters), now: NOW }),
    ).toEqual({
      imported: 2,
      problems: [],
    });
    await scheduleKeyChange(db, { utilityCode: 'UT', meterNo: m1.meterNo, to: { krn: 2 }, now: NOW });
    await scheduleKeyChange(db, { utilityCode: 'UT', meterNo: m2.meterNo, to: { krn: 2 }, now: NOW });
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);

    const hqDom = one<{ id: number }>(sqlite, "SELECT id FROM tariff WHERE code = 'HQ-DOM'").id;
    expect(
      one(
        sqlite,
        'SELECT tariff_id AS tariff, customer_id IS NULL AS noCustomer, pending_krn AS pendingKrn FROM meter WHERE meter_no = ?',
        m2.meterNo,
      ),
    ).toEqual({
      tariff: hqDom,
      noCustomer: 1,
      pendingKrn: 2,
    });
    expect(history()).toEqual(historyBefore);
    expect(one(sqlite, 'SELECT pending_krn AS krn FROM meter WHERE meter_no = ?', m1.meterNo)).toEqual({
      krn: 2,
    });

    // Twice = once: the whole log again from cursor 0.
    const settled = ledgerState(sqlite);
    sqlite.prepare('UPDATE counter SET value = 0 WHERE name = ?').run(MASTER_CURSOR_COUNTER);
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    expect(ledgerState(sqlite)).toEqual(settled);

    // The next vend through the real engine issues the key change tokens first, which the meter accepts.
    const row = readMeterKeys(sqlite).get(m1.meterNo)!;
    expect(row.pendingKrn).toBe(2);
    const meter = virtualMeterFor(row);
    const fresh = outlet.fixture.open(() => NOW);
    const sale = fresh.engine.vend(cashier, {
      requestId: 'after-key-change-1',
      meterNumber: m1.meterNo,
      tenderMinor: 5_000,
    });
    expect(sale.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change', 'credit']);
    for (const token of sale.tokens) expect(meter.apply(token.digits)).toMatchObject({ accepted: true });
    expect(
      one(sqlite, 'SELECT krn, pending_krn AS pending FROM meter WHERE meter_no = ?', m1.meterNo),
    ).toEqual({
      krn: 2,
      pending: null,
    });
    // Applied again after the tokens were issued, the key change schedules nothing.
    sqlite.prepare('UPDATE counter SET value = 0 WHERE name = ?').run(MASTER_CURSOR_COUNTER);
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    expect(
      one(sqlite, 'SELECT krn, pending_krn AS pending FROM meter WHERE meter_no = ?', m1.meterNo),
    ).toEqual({
      krn: 2,
      pending: null,
    });

    // Cancelled: meter 2's pending KRN goes; a TI change its engineer scheduled here stays. Twice = once.
    sqlite.prepare('UPDATE meter SET pending_ti = 7 WHERE meter_no = ?').run(m2.meterNo);
    await cancelKeyChange(db, { utilityCode: 'UT', meterNo: m2.meterNo, now: NOW });
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    const pending2 = () =>
      one(sqlite, 'SELECT pending_krn AS krn, pending_ti AS ti FROM meter WHERE meter_no = ?', m2.meterNo);
    expect(pending2()).toEqual({ krn: null, ti: 7 });

    // Retired (a tombstone): blocked, history kept; applied twice; registered again: unblocked.
    await retireMeter(db, { utilityCode: 'UT', meterNo: m1.meterNo, now: NOW });
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    const retired = () =>
      one(
        sqlite,
        'SELECT blocked, blocked_reason AS reason, last_tid AS tid FROM meter WHERE meter_no = ?',
        m1.meterNo,
      );
    const afterRetire = retired();
    expect(afterRetire).toMatchObject({ blocked: 1, reason: 'retired by head office' });
    const tombstoned = ledgerState(sqlite);
    sqlite.prepare('UPDATE counter SET value = 0 WHERE name = ?').run(MASTER_CURSOR_COUNTER);
    await pullMasterData(sqlite, api, { ...device, kek }, () => NOW);
    expect(ledgerState(sqlite)).toEqual(tombstoned);
    expect(pending2()).toEqual({ krn: null, ti: 7 });
  });
});
