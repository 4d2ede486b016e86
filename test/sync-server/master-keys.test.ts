import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPan } from '../../src-main/engine/demo.ts';
import { openFromDevice } from '../../src-main/sync/key-envelope.ts';
import { vendingKeyCheckValue } from '../../src-shared/sts/key-check-value.ts';
import { SecretKey } from '../../src-shared/sts/secret-key.ts';
import {
  type MasterPage,
  masterPath,
  supplyGroupEnvelopeSubject,
} from '../../src-shared/sync/master-data.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { queryRows } from '../../sync-server/db/database.ts';
import {
  cancelKeyChange,
  importCustomersToServer,
  importMetersToServer,
  publishSupplyGroup,
  publishTariff,
  retireMeter,
  scheduleKeyChange,
  scheduleRollover,
} from '../../sync-server/master-data.ts';
import {
  BACKEND_START_MS,
  BACKENDS,
  createBackend,
  enrollTestDevice,
  errorCode,
  flatTariffVersion,
  signedInject,
  TEST_NOW,
  type TestBackend,
  type TestDevice,
  testServer,
} from './support.ts';

/** Supply groups with their keys, versioned tariffs, meters and key changes on the server (both backends). */

const SERVER_KEK = randomBytes(32);
const KEY_1 = 'abababababababab';
const KEY_2 = 'cdcdcdcdcdcdcdcd';
const csv = (text: string) => new TextEncoder().encode(text);

const group = (krn: number, vendingKeyHex: string, name = `Group KRN ${krn}`) => ({
  utilityCode: 'UT',
  sgc: '123456',
  name,
  keyType: 2,
  krn,
  baseDate: 1993,
  dkga: 'DKGA02',
  ea: 'EA07',
  ken: 255,
  vendingKeyHex,
  now: TEST_NOW,
});

const version = flatTariffVersion;
const tariff = (versions: ReturnType<typeof version>[], extra: Record<string, unknown> = {}) => ({
  code: 'HQ-FLAT',
  name: 'Head office flat',
  ti: 1,
  resource: 'electricity',
  versions,
  ...extra,
});

const METER_HEADER =
  'pan,meter_type,customer_account_no,tariff_code,sgc,ti,krn,key_type,ea,dkga,base_date,ken\n';
const meterLine = (n: number, krn = 1, account = 'C-1') =>
  `${demoPan(n)},electricity,${account},HQ-FLAT,123456,1,${krn},2,EA07,DKGA02,1993,255\n`;
const meterNo = (n: number) => demoPan(n).slice(6);

describe.each(BACKENDS)('supply groups, tariffs, meters and key changes (%s)', (backendName) => {
  let backend: TestBackend;
  let server: SyncServer;
  let device: TestDevice & { outletCode: string };
  const savedKek = process.env.OPENVEND_SERVER_KEK;

  beforeAll(async () => {
    process.env.OPENVEND_SERVER_KEK = SERVER_KEK.toString('hex');
    backend = await createBackend(backendName);
    server = testServer(backend.database);
    device = await enrollTestDevice(server, backend.database.db);
  }, BACKEND_START_MS);
  afterAll(async () => {
    if (savedKek === undefined) delete process.env.OPENVEND_SERVER_KEK;
    else process.env.OPENVEND_SERVER_KEK = savedKek;
    await server?.app.close();
    await backend?.drop();
  });

  const pull = async (after: number) => {
    const response = await signedInject(server, device, { method: 'GET', url: masterPath(after, 500) });
    expect(response.statusCode, response.body).toBe(200);
    return { page: response.json() as MasterPage, body: response.body };
  };
  const lastSeq = async () =>
    (
      await queryRows<{ seq: number | null }>(
        backend.database.db,
        sql`SELECT max(id)::int AS seq FROM master_change`,
      )
    )[0]!.seq ?? 0;
  const refused = async (run: Promise<unknown>) => {
    const error = (await run.then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string } | null;
    expect(error).not.toBeNull();
    return error!.code;
  };

  it('stores a vending key sealed and sends it only as an envelope the device opens', async () => {
    const db = backend.database.db;
    const published = await publishSupplyGroup(db, SERVER_KEK, group(1, KEY_1));
    const kcv = vendingKeyCheckValue(SecretKey.fromHex(KEY_1, 'k'), 'DKGA02');
    expect(published).toMatchObject({ key: '123456:1:DKGA02', kcv });

    const stored = await queryRows<{ data: unknown }>(
      db,
      sql`SELECT data FROM master_change WHERE kind = 'supply-group'`,
    );
    const storedText = JSON.stringify(stored);
    expect(storedText).not.toMatch(new RegExp(KEY_1, 'i'));
    expect(storedText).toContain('vendingKeySealed');

    const { page, body } = await pull(0);
    // Never in clear on the wire: neither hex (any case) nor base64 of the key bytes.
    expect(body).not.toMatch(new RegExp(KEY_1, 'i'));
    expect(body).not.toContain(Buffer.from(KEY_1, 'hex').toString('base64'));
    expect(body).not.toContain(Buffer.from(KEY_1, 'hex').toString('base64url'));
    const [change] = page.changes;
    expect(change).toMatchObject({ kind: 'supply-group', key: '123456:1:DKGA02' });
    if (change?.kind !== 'supply-group') throw new Error('expected a supply group');
    expect(change.data).toMatchObject({ name: 'Group KRN 1', keyType: 2, baseDate: 1993, ea: 'EA07', kcv });
    expect(change.data).not.toHaveProperty('vendingKeySealed');
    const opened = openFromDevice(
      device.key,
      { deviceId: device.deviceId, subject: supplyGroupEnvelopeSubject(change.key) },
      change.data.vendingKey,
    );
    expect(Buffer.from(opened).toString('hex')).toBe(KEY_1);

    // The same key again (a new name) is fine; another key under the same KRN is refused.
    await publishSupplyGroup(db, SERVER_KEK, group(1, KEY_1, 'Renamed'));
    const before = await lastSeq();
    expect(await refused(publishSupplyGroup(db, SERVER_KEK, group(1, KEY_2)))).toBe('ADMIN_EXISTS');
    expect(await refused(publishSupplyGroup(db, SERVER_KEK, group(2, 'abcd')))).toBe('ADMIN_INVALID');
    expect(await refused(publishSupplyGroup(db, SERVER_KEK, { ...group(2, KEY_2), sgc: '12x456' }))).toBe(
      'ADMIN_INVALID',
    );
    expect(await lastSeq()).toBe(before);
  });

  it('answers a server error, never a key, when the server KEK is missing or wrong', async () => {
    delete process.env.OPENVEND_SERVER_KEK;
    const previousDir = process.env.OPENVEND_SERVER_DATA_DIR;
    process.env.OPENVEND_SERVER_DATA_DIR = `/nonexistent-${randomBytes(4).toString('hex')}`;
    try {
      const missing = await signedInject(server, device, { method: 'GET', url: masterPath(0, 10) });
      expect(missing.statusCode).toBe(500);
      expect(errorCode(missing)).toBe('SYNC_SERVER_ERROR');
      process.env.OPENVEND_SERVER_KEK = randomBytes(32).toString('hex');
      const wrong = await signedInject(server, device, { method: 'GET', url: masterPath(0, 10) });
      expect(wrong.statusCode).toBe(500);
      expect(wrong.body).not.toMatch(new RegExp(KEY_1, 'i'));
    } finally {
      process.env.OPENVEND_SERVER_KEK = SERVER_KEK.toString('hex');
      if (previousDir === undefined) delete process.env.OPENVEND_SERVER_DATA_DIR;
      else process.env.OPENVEND_SERVER_DATA_DIR = previousDir;
    }
    expect((await pull(0)).page.changes.length).toBeGreaterThan(0);
  });

  it('versions tariffs: new versions are appended, a published version never changes', async () => {
    const db = backend.database.db;
    const first = await publishTariff(db, {
      utilityCode: 'UT',
      tariff: tariff([version(1, 250_000)]),
      now: TEST_NOW,
    });
    expect(first).toMatchObject({ code: 'HQ-FLAT', added: 1 });
    // The same version again: nothing to send.
    expect(
      await publishTariff(db, { utilityCode: 'UT', tariff: tariff([version(1, 250_000)]), now: TEST_NOW }),
    ).toMatchObject({ seq: null, added: 0 });
    const second = await publishTariff(db, {
      utilityCode: 'UT',
      tariff: tariff([version(2, 275_000)]),
      now: TEST_NOW,
    });
    expect(second.added).toBe(1);
    const { page } = await pull(first.seq!);
    const last = page.changes.at(-1)!;
    expect(last).toMatchObject({ kind: 'tariff', key: 'HQ-FLAT', seq: second.seq });
    if (last.kind !== 'tariff') throw new Error('expected a tariff');
    expect(last.data.versions.map((v) => [v.version, v.blocks[0]!.rateMilliMinorPerKwh])).toEqual([
      [1, 250_000],
      [2, 275_000],
    ]);

    const before = await lastSeq();
    const republish = publishTariff(db, {
      utilityCode: 'UT',
      tariff: tariff([version(1, 999_000)]),
      now: TEST_NOW,
    });
    expect(await refused(republish)).toBe('ADMIN_EXISTS');
    expect(
      await refused(
        publishTariff(db, { utilityCode: 'UT', tariff: tariff([version(3, 1)], { ti: 7 }), now: TEST_NOW }),
      ),
    ).toBe('ADMIN_INVALID');
    const unsellable = { ...version(3, 1), minVendMinor: 900_000 };
    expect(
      await refused(publishTariff(db, { utilityCode: 'UT', tariff: tariff([unsellable]), now: TEST_NOW })),
    ).toBe('ADMIN_INVALID');
    expect(
      await refused(
        publishTariff(db, {
          utilityCode: 'UT',
          tariff: { ...tariff([version(3, 1)]), colour: 'red' },
          now: TEST_NOW,
        }),
      ),
    ).toBe('ADMIN_INVALID');
    expect(await lastSeq()).toBe(before);
  });

  it('imports meters only with their tariff, supply group and customer published, and keeps their key', async () => {
    const db = backend.database.db;
    const before = await lastSeq();
    const unknown = await importMetersToServer(db, {
      utilityCode: 'UT',
      csv: csv(`${METER_HEADER}${meterLine(1)}${meterLine(2, 3)}`),
      now: TEST_NOW,
    });
    expect(unknown.imported).toBe(0);
    expect(unknown.problems.map((p) => p.message).join('\n')).toMatch(/Customer C-1 is not published/);
    expect(unknown.problems.map((p) => p.message).join('\n')).toMatch(
      /Supply group 123456:3:DKGA02 is not published/,
    );
    const badCheckDigit = `${demoPan(3).slice(0, 17)}${(Number(demoPan(3).at(-1)) + 1) % 10}`;
    const bad = await importMetersToServer(db, {
      utilityCode: 'UT',
      csv: csv(`${METER_HEADER}${badCheckDigit},electricity,,HQ-FLAT,123456,1,1,2,EA07,DKGA09,1993,255\n`),
      now: TEST_NOW,
    });
    expect(bad.problems.map((p) => p.message).join('\n')).toMatch(/pan:.*\n.*dkga/s);
    expect(await lastSeq()).toBe(before);

    await importCustomersToServer(db, {
      utilityCode: 'UT',
      csv: csv('account_no,name\nC-1,Ada\n'),
      now: TEST_NOW,
    });
    const ok = await importMetersToServer(db, {
      utilityCode: 'UT',
      csv: csv(`${METER_HEADER}${meterLine(1)}${meterLine(2, 1, '')}`),
      now: TEST_NOW,
    });
    expect(ok).toEqual({ imported: 2, problems: [] });
    const { page } = await pull(before);
    const meter = page.changes.find((c) => c.kind === 'meter' && c.key === meterNo(1));
    expect(meter?.data).toMatchObject({ pan: demoPan(1), iinLength: 6, tariffCode: 'HQ-FLAT', krn: 1 });

    // Another customer is fine; another key revision is a key change, not an import.
    const moved = await importMetersToServer(db, {
      utilityCode: 'UT',
      csv: csv(`${METER_HEADER}${meterLine(1, 1, '')}`),
      now: TEST_NOW,
    });
    expect(moved.imported).toBe(1);
    await publishSupplyGroup(db, SERVER_KEK, group(2, KEY_2));
    const rekey = await importMetersToServer(db, {
      utilityCode: 'UT',
      csv: csv(`${METER_HEADER}${meterLine(1, 2, '')}`),
      now: TEST_NOW,
    });
    expect(rekey.imported).toBe(0);
    expect(rekey.problems[0]!.message).toMatch(/other key data \(krn\).*key change/);
  });

  it('schedules, merges, rolls over and cancels key changes', async () => {
    const db = backend.database.db;
    expect(
      await refused(
        scheduleKeyChange(db, { utilityCode: 'UT', meterNo: meterNo(1), to: { krn: 4 }, now: TEST_NOW }),
      ),
    ).toBe('ADMIN_INVALID');
    expect(
      await refused(
        scheduleKeyChange(db, { utilityCode: 'UT', meterNo: meterNo(9), to: { krn: 2 }, now: TEST_NOW }),
      ),
    ).toBe('ADMIN_NOT_FOUND');
    expect(
      await refused(scheduleKeyChange(db, { utilityCode: 'UT', meterNo: meterNo(1), to: {}, now: TEST_NOW })),
    ).toBe('ADMIN_INVALID');
    const scheduled = await scheduleKeyChange(db, {
      utilityCode: 'UT',
      meterNo: meterNo(1),
      to: { krn: 2 },
      now: TEST_NOW,
    });
    expect(scheduled.keyChange).toEqual({ sgc: null, ti: null, krn: 2, baseDate: null, cancelled: false });

    // The roll-over keeps meter 1's KRN change and reaches meter 2 as well.
    const rollover = await scheduleRollover(db, {
      utilityCode: 'UT',
      sgc: '123456',
      toBaseDate: 2014,
      now: TEST_NOW,
    });
    expect(rollover).toEqual({ scheduled: 2, meters: [meterNo(1), meterNo(2)] });
    const again = await scheduleRollover(db, {
      utilityCode: 'UT',
      sgc: '123456',
      toBaseDate: 2014,
      now: TEST_NOW,
    });
    expect(again.scheduled).toBe(0);
    const { page } = await pull(scheduled.seq);
    expect(page.changes.map((c) => [c.kind, c.key, c.data])).toEqual([
      ['meter.key-change', meterNo(1), { sgc: null, ti: null, krn: 2, baseDate: 2014, cancelled: false }],
      ['meter.key-change', meterNo(2), { sgc: null, ti: null, krn: null, baseDate: 2014, cancelled: false }],
    ]);

    await cancelKeyChange(db, { utilityCode: 'UT', meterNo: meterNo(2), now: TEST_NOW });
    expect((await pull(page.cursor)).page.changes.map((c) => c.data)).toEqual([
      { sgc: null, ti: null, krn: null, baseDate: 2014, cancelled: true },
    ]);
    expect(
      await refused(cancelKeyChange(db, { utilityCode: 'UT', meterNo: meterNo(2), now: TEST_NOW })),
    ).toBe('ADMIN_NOT_FOUND');
  });

  it('retires a meter with a tombstone, once', async () => {
    const db = backend.database.db;
    const { seq } = await retireMeter(db, { utilityCode: 'UT', meterNo: meterNo(2), now: TEST_NOW });
    expect((await pull(seq - 1)).page.changes).toEqual([{ seq, kind: 'meter', key: meterNo(2), data: null }]);
    expect(await refused(retireMeter(db, { utilityCode: 'UT', meterNo: meterNo(2), now: TEST_NOW }))).toBe(
      'ADMIN_NOT_FOUND',
    );
    expect(await refused(retireMeter(db, { utilityCode: 'UT', meterNo: '12', now: TEST_NOW }))).toBe(
      'ADMIN_INVALID',
    );
  });
});
