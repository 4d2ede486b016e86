import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeShift } from '../../../src-main/engine/shifts.ts';
import { KEK_FILE } from '../../../src-main/security/key-encryption-key.ts';
import { supervisorHandlers } from '../../../src-main/service/handlers/supervisor-handlers.ts';
import { SyncClient } from '../../../src-main/sync/client.ts';
import { enrollOutlet } from '../../../src-main/sync/enroll.ts';
import { revokeDevice } from '../../../sync-server/admin.ts';
import type { SyncServer } from '../../../sync-server/app.ts';
import { createEngineFixture, deterministicVend, type EngineFixture } from '../../support/engine-fixture.ts';
import { createServiceFixture, type ServiceFixture } from '../../support/service-fixture.ts';
import {
  BACKEND_START_MS,
  createBackend,
  seedOutlet,
  type TestBackend,
  testServer,
} from '../../sync-server/support.ts';
import { call, refusal, rowCount, type ServiceKit, serviceKit } from './service-kit.ts';

/**
 * The supervisor handlers against the real sync server (PGlite) listening on a loopback port: the outlet enrolls,
 * sells, closes a shift and uploads through the real client, then asks head office for its end of day over the
 * same pinned-identity HTTP path the desktop app uses. Not enrolled and unreachable become typed errors; the
 * quarantine lists what the server refused, with the original payload.
 */

const NOW = new Date('2026-03-10T08:00:00.000Z');
const quiet = { info: () => {}, warn: () => {} };

let backend: TestBackend;
let server: SyncServer;
let serverUrl: string;

beforeAll(async () => {
  backend = await createBackend('pglite');
  server = testServer(backend.database, () => NOW);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  serverUrl = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
}, BACKEND_START_MS);
afterAll(async () => {
  await server?.app.close();
  await backend?.drop();
});

let fixture: EngineFixture;
let kit: ServiceKit;
afterEach(() => fixture?.cleanup());

/** A demo outlet whose data folder holds its KEK file, as `openvend init` leaves it. */
function freshOutlet() {
  fixture = createEngineFixture({ now: NOW });
  writeFileSync(join(fixture.dataDir, KEK_FILE), `${fixture.kek.toString('hex')}\n`, { mode: 0o600 });
  kit = serviceKit(fixture, NOW);
  return kit;
}

async function enroll(): Promise<{ outletCode: string; deviceId: string }> {
  const { outletCode, code } = await seedOutlet(backend.database.db);
  const { deviceId } = await enrollOutlet(kit.open.ledger.sqlite, fixture.kek, {
    serverUrl,
    code,
    insecureHttp: true,
    now: NOW,
  });
  return { outletCode, deviceId };
}

/** Everything waiting, sealed and uploaded now by the real client. */
async function upload() {
  const client = new SyncClient({
    sqlite: kit.open.ledger.sqlite,
    kek: fixture.kek,
    log: quiet,
    clock: () => NOW,
  });
  try {
    const report = await client.runOnce({ forceSeal: true });
    expect(report.error).toBeNull();
    return report;
  } finally {
    await client.stop();
  }
}

const supervisor = () => kit.context(fixture.sessions.supervisor);
const syncStateRows = () => rowCount(kit.open.ledger.sqlite, 'sync_state');

describe('sync.endOfDay and sync.endOfDayCsv', () => {
  it('not enrolled: a typed refusal in cashier language, nothing asked and nothing written', async () => {
    freshOutlet();
    const before = syncStateRows();
    const error = await refusal(() =>
      call(supervisorHandlers, 'sync.endOfDay', { date: '2026-03-10' }, supervisor()),
    );
    expect(error.code).toBe('REPORT_NOT_ENROLLED');
    expect(error.userMessage).toMatch(/not linked to the head-office server.*Sales go on\./);
    expect(error.detail).toContain('no sync_identity');
    const csv = await refusal(() =>
      call(supervisorHandlers, 'sync.endOfDayCsv', { date: '2026-03-10' }, supervisor()),
    );
    expect(csv.code).toBe('REPORT_NOT_ENROLLED');
    expect(syncStateRows()).toBe(before);
  });

  it("the day's sales and Z report come back from head office, per operator and for the outlet, and as CSV", async () => {
    freshOutlet();
    const { outletCode } = await enroll();
    const engine = kit.open.engine;
    const sales = [1, 2, 3].map((n) =>
      engine.vend(fixture.sessions.cashier, deterministicVend('eod', n, fixture.vendableMeters)),
    );
    const ledger = kit.open.ledger.sqlite
      .prepare(
        `SELECT count(*) AS n, sum(tender_minor - change_minor) AS taken, sum(vat_minor) AS vat
             FROM sale WHERE operator_id = ? AND kind = 'sale'`,
      )
      .get(fixture.sessions.cashier.id) as { n: number; taken: number; vat: number };
    expect(ledger.n).toBe(sales.length);
    const z = closeShift(engine, fixture.sessions.cashier, ledger.taken + 500, NOW);
    const uploaded = await upload();
    expect(uploaded.applied).toBeGreaterThan(0);
    const date = (
      JSON.parse(
        (
          kit.open.ledger.sqlite
            .prepare("SELECT payload_json AS p FROM outbox WHERE event_type = 'shift.closed'")
            .get() as { p: string }
        ).p,
      ) as { businessDate: string }
    ).businessDate;

    const report = await call(supervisorHandlers, 'sync.endOfDay', { date }, supervisor());
    expect(report.date).toBe(date);
    const cashier = report.byOperator.find((row) => row.operator === 'cashier');
    expect(cashier).toMatchObject({
      outletCode,
      salesCount: sales.length,
      salesMinor: ledger.taken,
      taxMinor: ledger.vat,
      shiftsClosed: 1,
      cashCountedMinor: ledger.taken + 500,
      cashExpectedMinor: z.cash.expectedMinor,
      varianceMinor: z.cash.varianceMinor,
      mismatchedShifts: 0,
    });
    expect(report.byOutlet).toEqual([
      expect.objectContaining({ outletCode, salesCount: sales.length, salesMinor: ledger.taken }),
    ]);
    expect(report.byOutlet[0]!.lastUploadAt).not.toBeNull();
    expect(report.shifts).toEqual([
      expect.objectContaining({ outletCode, operator: 'cashier', status: 'match', differences: [] }),
    ]);

    // Another day holds nothing for this outlet.
    const empty = await call(supervisorHandlers, 'sync.endOfDay', { date: '2026-01-01' }, supervisor());
    expect(empty.byOperator).toEqual([]);
    expect(empty.shifts).toEqual([]);

    const csv = await call(supervisorHandlers, 'sync.endOfDayCsv', { date }, supervisor());
    expect(csv.fileName).toBe(`end-of-day-${outletCode}-${date}.csv`);
    const lines = csv.csv.trim().split(/\r?\n/);
    expect(lines.length).toBeGreaterThan(1);
    expect(csv.csv).toContain('cashier');
    expect(csv.csv).not.toMatch(/^\s*[{[]/);
  }, 60_000);

  it('head office unreachable: a typed refusal that says sales go on; the uploader state is left alone', async () => {
    freshOutlet();
    await enroll();
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    kit.open.ledger.sqlite.prepare("UPDATE sync_identity SET server_url = 'http://127.0.0.1:1'").run();
    const state = kit.open.ledger.sqlite.prepare('SELECT * FROM sync_state').all();
    const error = await refusal(() =>
      call(supervisorHandlers, 'sync.endOfDay', { date: '2026-03-10' }, supervisor()),
    );
    expect(error.code).toBe('REPORT_SERVER_UNREACHABLE');
    expect(error.userMessage).toBe(
      'The head-office server cannot be reached; the end-of-day view needs a connection. Sales go on.',
    );
    expect(error.detail).toContain('SYNC_UNAVAILABLE');
    const csv = await refusal(() =>
      call(supervisorHandlers, 'sync.endOfDayCsv', { date: '2026-03-10' }, supervisor()),
    );
    expect(csv.code).toBe('REPORT_SERVER_UNREACHABLE');
    expect(kit.open.ledger.sqlite.prepare('SELECT * FROM sync_state').all()).toEqual(state);
  });

  it("a refusal by head office keeps the server's reason (revoked device), for JSON and CSV alike", async () => {
    freshOutlet();
    const { deviceId } = await enroll();
    await revokeDevice(backend.database.db, { deviceId, reason: 'stolen', now: NOW });
    for (const method of ['sync.endOfDay', 'sync.endOfDayCsv'] as const) {
      const error = await refusal(() =>
        call(supervisorHandlers, method, { date: '2026-03-10' }, supervisor()),
      );
      expect(error.code).toBe('SYNC_DEVICE_REVOKED');
      expect(error.userMessage).toMatch(/revoked by head office/);
    }
  });
});

describe('sync.quarantine', () => {
  it('is empty on a fresh outlet', async () => {
    freshOutlet();
    expect(await call(supervisorHandlers, 'sync.quarantine', {}, supervisor())).toEqual([]);
  });

  it('lists the events head office refused, with the reason, receipt number and the payload as kept', async () => {
    freshOutlet();
    await enroll();
    const engine = kit.open.engine;
    engine.vend(fixture.sessions.cashier, deterministicVend('q', 1, fixture.vendableMeters));
    // Events the server cannot use (their payload fails its type's check): a sale without its ledger row, and
    // an event of a type it does not know. Written as the engine writes outbox rows.
    const broken = [
      { type: 'sale.sale', payload: { receiptNo: 424_242, requestId: 'broken-sale', saleId: 9_999 } },
      { type: 'float.mystery', payload: { note: 'not a known event' } },
    ];
    const insert = kit.open.ledger.sqlite.prepare(
      'INSERT INTO outbox (created_at, event_type, payload_json) VALUES (?, ?, ?)',
    );
    for (const event of broken) insert.run(NOW.toISOString(), event.type, JSON.stringify(event.payload));
    const uploaded = await upload();
    expect(uploaded.rejectedEvents).toBe(2);

    const list = await call(supervisorHandlers, 'sync.quarantine', {}, supervisor());
    expect(list).toHaveLength(2);
    expect(list.map((row) => [row.eventType, row.receiptNo])).toEqual([
      ['sale.sale', 424_242],
      ['float.mystery', null],
    ]);
    for (const [index, row] of list.entries()) {
      expect(JSON.parse(row.payloadJson)).toEqual(broken[index]!.payload);
      expect(row.reasonCode).toMatch(/^[A-Z_]+$/);
      expect(row.reasonMessage.length).toBeGreaterThan(0);
      expect(row.createdAt).toBe(NOW.toISOString());
    }
    // The status bar counts the same events.
    const { quarantinedEvents } = kit.open.ledger.sqlite
      .prepare('SELECT count(*) AS quarantinedEvents FROM sync_quarantine WHERE resolved_at IS NULL')
      .get() as { quarantinedEvents: number };
    expect(quarantinedEvents).toBe(2);
  });
});

describe('through the dispatcher: who may ask, and what is refused', () => {
  let service: ServiceFixture;
  beforeAll(() => {
    service = createServiceFixture({ now: NOW });
  });
  afterAll(async () => service?.cleanup());

  it.each(['sync.endOfDay', 'sync.endOfDayCsv', 'sync.quarantine'] as const)(
    '%s: a cashier and an engineer are refused, a supervisor and an administrator are let in',
    async (method) => {
      const args = method === 'sync.quarantine' ? {} : { date: '2026-03-10' };
      for (const who of ['cashier', 'engineer']) {
        const response = await service.raw(method, { args, session: await service.login(who) });
        expect(response).toMatchObject({ ok: false, error: { code: 'AUTH_FORBIDDEN' } });
      }
      for (const who of ['super', 'admin']) {
        const response = await service.raw(method, { args, session: await service.login(who) });
        // Past the permission check: the quarantine answers, the end of day says the outlet is not enrolled.
        if (method === 'sync.quarantine') expect(response).toEqual({ ok: true, result: [] });
        else expect(response).toMatchObject({ ok: false, error: { code: 'REPORT_NOT_ENROLLED' } });
      }
    },
  );

  it('a date that is not a real calendar date, or an extra field, is refused before any handler runs', async () => {
    const session = await service.login('super');
    for (const args of [
      { date: '2026-02-30' },
      { date: '10/03/2026' },
      { date: '2026-03-10', outlet: 'X' },
      {},
    ]) {
      const response = await service.raw('sync.endOfDay', { args, session });
      expect(response).toMatchObject({ ok: false, error: { code: 'BRIDGE_INVALID_ARGUMENTS' } });
    }
  });
});
