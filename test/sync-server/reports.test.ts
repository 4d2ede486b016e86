import type Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeShift, openShift } from '../../src-main/engine/shifts.ts';
import { SyncApi } from '../../src-main/sync/api.ts';
import { SyncClient, type SyncLogger } from '../../src-main/sync/client.ts';
import { enrollOutlet } from '../../src-main/sync/enroll.ts';
import { readSyncStatus } from '../../src-main/sync/sync-state.ts';
import { SYNC_ROUTES } from '../../src-shared/sync/protocol.ts';
import { type EndOfDayReport, endOfDayPath, endOfDayReportSchema } from '../../src-shared/sync/reports.ts';
import { createApiKey, revokeApiKey } from '../../sync-server/api-clients.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { queryRows } from '../../sync-server/db/database.ts';
import { addFloatTopUp, setVendingAuthority } from '../../sync-server/master-data.ts';
import { createEngineFixture, type EngineFixture } from '../support/engine-fixture.ts';
import {
  BACKEND_START_MS,
  BACKENDS,
  createBackend,
  injectTransport,
  seedOutlet,
  type TestBackend,
  testServer,
} from './support.ts';

/**
 * What only head office can know, from two real outlets (engines on their own SQLite ledgers) that sold the same
 * meter while offline, then synced through the real client: the end of day per outlet and operator (JSON and CSV,
 * through the device route and the API-key route), each Z report recomputed from the events, the authoritative
 * month-to-date with the sales priced on a stale one and the money difference, TID collisions, and the central float.
 */

const T0 = new Date('2026-03-10T08:00:00.000Z'); // 10:00 in Johannesburg
const DATE = '2026-03-10';
const quiet: SyncLogger = { info: () => {}, warn: () => {} };

interface Outlet {
  code: string;
  fixture: EngineFixture;
  sqlite: Database.Database;
  vend(meterNumber: string, tenderMinor: number, at: Date): { receiptNo: number };
  client: SyncClient;
}

describe.each(BACKENDS)('head-office reports (%s)', (backendName) => {
  let backend: TestBackend;
  let server: SyncServer;
  let clock = T0;
  const outlets: Outlet[] = [];

  async function openOutlet(): Promise<Outlet> {
    const fixture = createEngineFixture({ now: T0 });
    const engine = fixture.open(() => clock).engine;
    const transport = injectTransport(server);
    const { outletCode, code } = await seedOutlet(backend.database.db);
    await enrollOutlet(engine.sqlite, fixture.kek, {
      serverUrl: 'http://sync.test',
      code,
      insecureHttp: true,
      now: T0,
      transportFor: () => transport,
    });
    let n = 0;
    const outlet: Outlet = {
      code: outletCode,
      fixture,
      sqlite: engine.sqlite,
      vend(meterNumber, tenderMinor, at) {
        clock = at;
        return engine.vend(fixture.sessions.cashier, {
          requestId: `${outletCode}-${++n}-request`,
          meterNumber,
          tenderMinor,
        });
      },
      client: new SyncClient({
        sqlite: engine.sqlite,
        kek: fixture.kek,
        log: quiet,
        clock: () => clock,
        api: new SyncApi(transport, () => clock),
      }),
    };
    outlets.push(outlet);
    Object.assign(outlet, { engine });
    return outlet;
  }

  const engineOf = (o: Outlet) => (o as unknown as { engine: Parameters<typeof closeShift>[0] }).engine;
  const ledgerTaken = (o: Outlet, kind?: string) =>
    (
      o.sqlite
        .prepare(
          `SELECT coalesce(sum(charges_minor + debt_minor + levies_minor + vat_minor + energy_minor), 0) AS m
             FROM sale ${kind ? 'WHERE kind = ?' : ''}`,
        )
        .get(...(kind ? [kind] : [])) as { m: number }
    ).m;

  let meter: string;
  let a: Outlet;
  let b: Outlet;
  let apiKey: string;

  beforeAll(async () => {
    backend = await createBackend(backendName);
    server = testServer(backend.database, () => clock);
    a = await openOutlet();
    b = await openOutlet();
    // Demo meter 2: the inclining-block tariff (first 50 kWh cheap).
    meter = a.fixture.meterNumbers[1]!;
    // Head office manages outlet A's float: R200 top-up, no credit.
    await addFloatTopUp(backend.database.db, {
      outletCode: a.code,
      amountMinor: 20_000,
      reference: 'DEP-1',
      now: T0,
    });
    await setVendingAuthority(backend.database.db, {
      outletCode: a.code,
      creditLimitMinor: 0,
      validUntil: '2027-01-01T00:00:00Z',
      now: T0,
    });
    // Both outlets offline: A sells first, B thirty seconds later (same minute, same TID), then B again at 11:00.
    a.vend(meter, 30_000, new Date(T0.getTime()));
    b.vend(meter, 10_000, new Date(T0.getTime() + 30_000));
    b.vend(meter, 10_000, new Date(T0.getTime() + 3_600_000));
    const other = a.vend(a.fixture.meterNumbers[2]!, 5_000, new Date(T0.getTime() + 60_000));
    clock = new Date(T0.getTime() + 120_000);
    engineOf(a).reverse(a.fixture.sessions.cashier, {
      requestId: `${a.code}-reversal-1`,
      receiptNo: other.receiptNo,
      reason: 'wrong-amount',
      approvedBy: a.fixture.sessions.supervisor,
    });
    clock = new Date(T0.getTime() + 4 * 3_600_000);
    closeShift(engineOf(a), a.fixture.sessions.cashier, 40_000, clock);
    closeShift(engineOf(b), b.fixture.sessions.cashier, 20_000, clock);
    // Outlet B's Z report is written wrong in its outbox before sealing (a faulty outlet build).
    const z = b.sqlite
      .prepare("SELECT seq, payload_json FROM outbox WHERE event_type = 'shift.closed'")
      .get() as {
      seq: number;
      payload_json: string;
    };
    const payload = JSON.parse(z.payload_json);
    payload.report.total.amountMinor += 100;
    b.sqlite.prepare('UPDATE outbox SET payload_json = ? WHERE seq = ?').run(JSON.stringify(payload), z.seq);
    for (const o of outlets) expect((await o.client.runOnce()).error).toBeNull();
    apiKey = (await createApiKey(backend.database.db, 'UT', 'Finance')).key;
  }, BACKEND_START_MS + 60_000);

  afterAll(async () => {
    for (const o of outlets) {
      await o.client.stop();
      o.fixture.cleanup();
    }
    await server?.app.close();
    await backend?.drop();
  });

  const adminGet = (url: string, key = apiKey) =>
    server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  it('builds the end of day per outlet and operator from the events, equal to the outlets’ ledgers', async () => {
    const response = await adminGet(`${SYNC_ROUTES.adminEndOfDay}?date=${DATE}`);
    expect(response.statusCode).toBe(200);
    const report: EndOfDayReport = endOfDayReportSchema.parse(response.json());
    for (const o of outlets) {
      const row = report.byOutlet.find((r) => r.outletCode === o.code)!;
      expect(row.salesMinor).toBe(ledgerTaken(o, 'sale'));
      expect(row.netMinor).toBe(ledgerTaken(o));
      expect(row.shiftsClosed).toBe(1);
      expect(row.lastUploadAt).not.toBeNull();
    }
    const rowA = report.byOperator.find((r) => r.outletCode === a.code && r.operator === 'cashier')!;
    expect(rowA.salesCount).toBe(2);
    expect(rowA.reversalsCount).toBe(1);
    expect(rowA.reversalsMinor).toBeLessThan(0);
    expect(rowA.cashCountedMinor).toBe(40_000);
    expect(rowA.varianceMinor).toBe(40_000 - ledgerTaken(a));
    expect(report.total.netMinor).toBe(ledgerTaken(a) + ledgerTaken(b));
    expect(report.total.taxMinor).toBeGreaterThan(0);
  });

  it('recomputes every Z report and flags the one whose totals differ from the events', async () => {
    const report = endOfDayReportSchema.parse(
      (await adminGet(`${SYNC_ROUTES.adminEndOfDay}?date=${DATE}`)).json(),
    );
    const shiftOf = (o: Outlet) => report.shifts.find((s) => s.outletCode === o.code)!;
    expect(shiftOf(a)).toMatchObject({ status: 'match', differences: [] });
    expect(shiftOf(b).status).toBe('mismatch');
    expect(shiftOf(b).differences).toEqual([
      { field: 'total.amountMinor', reported: ledgerTaken(b) + 100, recomputed: ledgerTaken(b) },
    ]);
    expect(report.byOutlet.find((r) => r.outletCode === b.code)!.mismatchedShifts).toBe(1);
  });

  it('lets a device read only its own outlet’s end of day, as JSON and as CSV', async () => {
    const api = new SyncApi(injectTransport(server), () => clock);
    const { requireSyncIdentity, unsealDeviceKey } = await import('../../src-main/sync/identity.ts');
    const identity = requireSyncIdentity(a.sqlite);
    const device = { deviceId: identity.deviceId, key: unsealDeviceKey(a.fixture.kek, identity) };
    const { signedHeaders } = await import('../../src-main/sync/api.ts');
    const get = (path: string) =>
      server.app.inject({
        method: 'GET',
        url: path,
        headers: signedHeaders(device, 'GET', path, new Uint8Array(0), clock),
      });
    const json = await get(endOfDayPath(DATE));
    expect(json.statusCode).toBe(200);
    const own = endOfDayReportSchema.parse(json.json());
    expect(own.byOutlet.map((r) => r.outletCode)).toEqual([a.code]);
    const csv = await get(endOfDayPath(DATE, 'csv'));
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^date,scope,outlet,outlet_name,operator,operator_name,salesCount,/);
    expect(lines.filter((l) => l.startsWith(`${DATE},operator,`))).toHaveLength(own.byOperator.length);
    expect(lines.at(-1)).toMatch(new RegExp(`^${DATE},total,`));
    api.close();
    const bad = await get(`${SYNC_ROUTES.endOfDay}?date=10-03-2026`);
    expect(bad.statusCode).toBe(400);
  });

  it('refuses the head-office API without a valid, unrevoked key', async () => {
    expect(
      (await server.app.inject({ method: 'GET', url: `${SYNC_ROUTES.adminEndOfDay}?date=${DATE}` }))
        .statusCode,
    ).toBe(401);
    expect(
      (await adminGet(`${SYNC_ROUTES.adminEndOfDay}?date=${DATE}`, `ovk_${'A'.repeat(43)}`)).json(),
    ).toMatchObject({
      error: { code: 'SYNC_API_KEY_INVALID' },
    });
    const spare = await createApiKey(backend.database.db, 'UT', 'Spare');
    expect((await adminGet(`${SYNC_ROUTES.adminTidCollisions}`, spare.key)).statusCode).toBe(200);
    await revokeApiKey(backend.database.db, spare.id, clock);
    expect((await adminGet(`${SYNC_ROUTES.adminTidCollisions}`, spare.key)).statusCode).toBe(401);
  });

  it('holds the authoritative month-to-date and reports the sales priced on a stale one, with the money difference', async () => {
    const [held] = await queryRows<{ units: number }>(
      backend.database.db,
      sql`SELECT sum(units)::int AS units FROM meter_month WHERE meter_no = ${meter} AND month = '2026-03'`,
    );
    const sold = outlets.reduce(
      (sum, o) =>
        sum +
        (
          o.sqlite
            .prepare(
              "SELECT coalesce(sum(s.units), 0) AS u FROM sale s JOIN meter m ON m.id = s.meter_id WHERE m.meter_no = ? AND s.kind = 'sale'",
            )
            .get(meter) as { u: number }
        ).u,
      0,
    );
    expect(held!.units).toBe(sold);

    const response = await adminGet(`${SYNC_ROUTES.adminStaleMonthToDate}?month=2026-03`);
    const { sales } = response.json() as {
      sales: Array<{
        outletCode: string;
        pricedWithUnits: number;
        authoritativeUnits: number;
        units: number;
        unitsAtAuthoritative: number;
        differenceMinor: number;
      }>;
    };
    const unitsOfA = (
      a.sqlite.prepare('SELECT units FROM sale WHERE receipt_no = 1').get() as { units: number }
    ).units;
    // Both of B's sales missed A's units; A's own sale was priced right.
    expect(sales.map((s) => s.outletCode)).toEqual([b.code, b.code]);
    expect(sales[0]).toMatchObject({ pricedWithUnits: 0, authoritativeUnits: unitsOfA });
    // A's sale used the cheap first block: B's customer got units at the cheap rate they no longer had.
    expect(sales[0]!.unitsAtAuthoritative).toBeLessThan(sales[0]!.units);
    expect(sales[0]!.differenceMinor).toBeGreaterThan(0);
    expect(sales[1]!.authoritativeUnits - sales[1]!.pricedWithUnits).toBe(unitsOfA);
  });

  it('reports the meter given the same TID by two outlets, with both tokens', async () => {
    const { collisions } = (await adminGet(SYNC_ROUTES.adminTidCollisions)).json() as {
      collisions: Array<{
        meterNo: string;
        minute: string;
        tokens: Array<{ outletCode: string; digits: string }>;
      }>;
    };
    expect(collisions).toHaveLength(1);
    expect(collisions[0]!.meterNo).toBe(meter);
    // TIDs count minutes of the utility's wall clock: 08:00 UTC is 10:00 in Johannesburg.
    expect(collisions[0]!.minute).toBe('2026-03-10T10:00');
    expect(collisions[0]!.tokens.map((t) => t.outletCode).sort()).toEqual([a.code, b.code].sort());
    expect(collisions[0]!.tokens.every((t) => /^\d{20}$/.test(t.digits))).toBe(true);
  });

  it('sends the authoritative month-to-date down, so the next sale anywhere is priced with every outlet’s units', async () => {
    const held = async () =>
      (
        await queryRows<{ units: number }>(
          backend.database.db,
          sql`SELECT sum(units)::int AS units FROM meter_month WHERE meter_no = ${meter} AND month = '2026-03'`,
        )
      )[0]!.units;
    // B pulled after A had uploaded: it prices with A's units too.
    expect(engineOf(b).confirmMeter(meter).monthToDateUnits).toBe(await held());
    // A pulled before B uploaded; its next pull (a heartbeat later) brings B's share.
    clock = new Date(clock.getTime() + 5 * 60_000);
    await a.client.runOnce();
    expect(engineOf(a).confirmMeter(meter).monthToDateUnits).toBe(await held());
    openShift(engineOf(b), b.fixture.sessions.cashier, clock);
    const sale = b.vend(meter, 10_000, new Date(clock.getTime() + 60_000));
    clock = new Date(clock.getTime() + 2 * 60_000);
    expect((await b.client.runOnce()).error).toBeNull();
    const { sales } = (await adminGet(`${SYNC_ROUTES.adminStaleMonthToDate}?month=2026-03`)).json() as {
      sales: Array<{ outletCode: string; receiptNo: number }>;
    };
    expect(sales.some((s) => s.outletCode === b.code && s.receiptNo === sale.receiptNo)).toBe(false);
    expect(sales).toHaveLength(2);
  });

  it('counts the float centrally and tells the outlet over its limit on its sync', async () => {
    const status = readSyncStatus(a.sqlite);
    expect(status.centralFloat).toEqual({
      balanceMinor: 20_000 - ledgerTaken(a),
      creditLimitMinor: 0,
      overLimit: true,
    });
    const audit = a.sqlite
      .prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'sync.float-over-limit'")
      .get() as {
      n: number;
    };
    expect(audit.n).toBe(1);
    // Outlet B's float is not managed by head office: nothing is said.
    expect(readSyncStatus(b.sqlite).centralFloat).toBeNull();
    // A top-up brings A back within its limit at the next heartbeat.
    await addFloatTopUp(backend.database.db, {
      outletCode: a.code,
      amountMinor: 100_000,
      reference: 'DEP-2',
      now: clock,
    });
    clock = new Date(clock.getTime() + 10 * 60_000);
    await a.client.runOnce();
    expect(readSyncStatus(a.sqlite).centralFloat?.overLimit).toBe(false);
  });
});
