import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SyncApi } from '../../../src-main/sync/api.ts';
import { sealDueBatches } from '../../../src-main/sync/batches.ts';
import { SyncClient, type SyncLogger, startSyncIfEnrolled } from '../../../src-main/sync/client.ts';
import { readSyncIdentity, unsealDeviceKey } from '../../../src-main/sync/identity.ts';
import { listQuarantine, readSyncStatus, resumeSync } from '../../../src-main/sync/sync-state.ts';
import type { SyncTransport } from '../../../src-main/sync/transport.ts';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { revokeDevice } from '../../../sync-server/admin.ts';
import type { SyncServer } from '../../../sync-server/app.ts';
import { queryRows } from '../../../sync-server/db/database.ts';
import {
  BACKEND_START_MS,
  createBackend,
  injectTransport,
  type TestBackend,
  testServer,
} from '../../sync-server/support.ts';
import { enrollInProcess, type OutletFixture, outletFixture } from './outlet-support.ts';

/**
 * The outlet's sync client against the real server in-process (PGlite, requests through app.inject):
 * enrollment, upload and acknowledgement, quarantine, halts, resend after a server restore, re-enrollment.
 */

const NOW = new Date('2026-03-10T08:00:00Z');
let clock = NOW;
const quiet: SyncLogger = { info: () => {}, warn: () => {} };

let backend: TestBackend;
let server: SyncServer;

beforeAll(async () => {
  backend = await createBackend('pglite');
  server = testServer(backend.database, () => clock);
}, BACKEND_START_MS);
afterAll(async () => {
  await server?.app.close();
  await backend?.drop();
});

let outlet: OutletFixture;
let client: SyncClient | null = null;
afterEach(async () => {
  await client?.stop();
  client = null;
  outlet?.cleanup();
  clock = NOW;
});

/** The in-process transport, counting requests. */
function countingTransport() {
  const inner = injectTransport(server);
  const transport: SyncTransport & { calls: string[] } = {
    calls: [],
    send(method, path, body, headers) {
      transport.calls.push(`${method} ${path}`);
      return inner.send(method, path, body, headers);
    },
    close() {},
  };
  return transport;
}

async function enrolledOutlet() {
  outlet = outletFixture(NOW);
  const transport = countingTransport();
  const enrolled = await enrollInProcess(outlet, backend.database.db, transport, NOW);
  client = new SyncClient({
    sqlite: outlet.sqlite,
    kek: outlet.fixture.kek,
    log: quiet,
    clock: () => clock,
    api: new SyncApi(transport, () => clock),
    policy: { maxEvents: 5, maxBytes: 1024 * 1024, maxAgeMs: 30_000 },
  });
  return { transport, deviceId: enrolled.deviceId, client };
}

const serverEvents = async (deviceId: string) =>
  queryRows<{ event_seq: number; type: string }>(
    backend.database.db,
    sql`SELECT event_seq::int AS event_seq, type FROM event WHERE device_id = ${deviceId} ORDER BY event_seq`,
  );

const unsent = () =>
  (outlet.sqlite.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').get() as { n: number }).n;

describe('the outlet sync client', () => {
  it('uploads every sale and the shift close exactly once and shows the outlet online', async () => {
    const { deviceId, client } = await enrolledOutlet();
    outlet.vend(7);
    outlet.closeShift();
    const before = readSyncStatus(outlet.sqlite);
    expect(before).toMatchObject({
      state: 'online',
      pendingEvents: 8,
      pendingSales: 7,
      quarantinedEvents: 0,
    });
    const report = await client.runOnce();
    // 5 + (2 sales and the close: cut at the shift close), nothing left over.
    expect(report).toMatchObject({ sealed: 2, applied: 2, duplicates: 0, rejectedEvents: 0, error: null });
    expect(unsent()).toBe(0);
    const events = await serverEvents(deviceId);
    expect(events).toHaveLength(8);
    expect(events.at(-1)!.type).toBe('shift.closed');
    clock = new Date(NOW.getTime() + 1_000);
    expect(await client.runOnce()).toMatchObject({ sealed: 0, applied: 0 });
    expect(readSyncStatus(outlet.sqlite)).toMatchObject({
      state: 'online',
      pendingEvents: 0,
      oldestPendingAt: null,
      lastSuccessAt: NOW.toISOString(),
      unacknowledgedBatches: 0,
    });
  });

  it('keeps events the server cannot use in the quarantine, shows them, and goes on', async () => {
    const { deviceId, client } = await enrolledOutlet();
    outlet.vend(1);
    outlet.sqlite
      .prepare(
        "INSERT INTO outbox (created_at, event_type, payload_json) VALUES (?, 'audit.unknown', '{\"x\":1}')",
      )
      .run(NOW.toISOString());
    outlet.vend(1);
    const report = await client.runOnce({ forceSeal: true });
    expect(report).toMatchObject({ applied: 1, rejectedEvents: 1, error: null, halted: null });
    expect(listQuarantine(outlet.sqlite)).toEqual([
      expect.objectContaining({
        eventType: 'audit.unknown',
        reasonCode: 'SYNC_EVENT_UNKNOWN_TYPE',
        payloadJson: '{"x":1}',
      }),
    ]);
    expect(readSyncStatus(outlet.sqlite)).toMatchObject({
      state: 'online',
      pendingEvents: 0,
      quarantinedEvents: 1,
    });
    expect((await serverEvents(deviceId)).map((e) => e.type)).toEqual(['sale.sale', 'sale.sale']);
  });
});

describe('halts and recovery', () => {
  it('a tampered batch: its events go to the quarantine, uploads stop, head office sees the device quarantined', async () => {
    const { deviceId, client, transport } = await enrolledOutlet();
    outlet.vend(2);
    await client.runOnce({ forceSeal: true });
    outlet.vend(2);
    const identity = readSyncIdentity(outlet.sqlite)!;
    sealDueBatches(
      outlet.sqlite,
      { deviceId, key: unsealDeviceKey(outlet.fixture.kek, identity) },
      NOW,
      undefined,
      {
        force: true,
      },
    );
    outlet.sqlite
      .prepare(
        'UPDATE outbox SET payload_json = replace(payload_json, \'"tenderMinor":\', \'"tenderMinor":1\') WHERE seq = (SELECT max(seq) FROM outbox)',
      )
      .run();
    const report = await client.runOnce();
    expect(report.error?.code).toBe('SYNC_BATCH_TAMPERED');
    expect(report.halted).toBe('SYNC_BATCH_TAMPERED');
    expect(listQuarantine(outlet.sqlite).map((q) => q.reasonCode)).toEqual([
      'SYNC_BATCH_TAMPERED',
      'SYNC_BATCH_TAMPERED',
    ]);
    expect(readSyncStatus(outlet.sqlite)).toMatchObject({
      state: 'offline',
      haltedCode: 'SYNC_BATCH_TAMPERED',
      quarantinedEvents: 2,
      pendingEvents: 0,
    });
    const [device] = await queryRows<{ status: string }>(
      backend.database.db,
      sql`SELECT status FROM device WHERE id = ${deviceId}`,
    );
    expect(device!.status).toBe('quarantined');
    // Halted: nothing more is sent, selling goes on and new events wait.
    const calls = transport.calls.length;
    outlet.vend(1);
    expect(await client.runOnce({ forceSeal: true })).toMatchObject({
      halted: 'SYNC_BATCH_TAMPERED',
      applied: 0,
    });
    expect(transport.calls.length).toBe(calls);
    expect(readSyncStatus(outlet.sqlite).pendingEvents).toBe(1);
  });

  it('a revoked device halts with a clear code; its events stay waiting, not quarantined', async () => {
    const { deviceId, client } = await enrolledOutlet();
    await revokeDevice(backend.database.db, { deviceId, reason: 'replaced', now: NOW });
    outlet.vend(3);
    const report = await client.runOnce({ forceSeal: true });
    expect(report).toMatchObject({ halted: 'SYNC_DEVICE_REVOKED', applied: 0 });
    expect(readSyncStatus(outlet.sqlite)).toMatchObject({
      state: 'offline',
      lastErrorCode: 'SYNC_DEVICE_REVOKED',
      pendingEvents: 3,
      quarantinedEvents: 0,
    });
    resumeSync(outlet.sqlite);
    expect((await client.runOnce()).halted).toBe('SYNC_DEVICE_REVOKED');
  });

  it('resends from the server’s last sequence when the server lost batches (restored from a backup)', async () => {
    const { deviceId, client } = await enrolledOutlet();
    outlet.vend(10);
    await client.runOnce();
    expect(await serverEvents(deviceId)).toHaveLength(10);
    // The server goes back to after batch 1 (a restore); the outlet still believes batch 2 arrived.
    await backend.database.db.transaction(async (tx) => {
      const lost = sql`SELECT id FROM event WHERE device_id = ${deviceId} AND batch_seq = 2`;
      await tx.execute(sql`DELETE FROM sale_fact WHERE event_id IN (${lost})`);
      await tx.execute(sql`DELETE FROM token_fact WHERE event_id IN (${lost})`);
      await tx.execute(sql`DELETE FROM event WHERE device_id = ${deviceId} AND batch_seq = 2`);
      await tx.execute(sql`DELETE FROM batch WHERE device_id = ${deviceId} AND seq = 2`);
      await tx.execute(sql`UPDATE device SET last_seq = 1, last_event_seq = 5,
        last_hash = (SELECT hash FROM batch WHERE device_id = ${deviceId} AND seq = 1) WHERE id = ${deviceId}`);
    });
    outlet.vend(5);
    const report = await client.runOnce();
    expect(report).toMatchObject({ applied: 2, error: null });
    const events = await serverEvents(deviceId);
    expect(events.map((e) => e.event_seq)).toEqual(
      (outlet.sqlite.prepare('SELECT seq FROM outbox ORDER BY seq').all() as Array<{ seq: number }>).map(
        (r) => r.seq,
      ),
    );
  });

  it('when idle, contacts the server now and then (heartbeat) and so notices a quarantine', async () => {
    const { deviceId, client, transport } = await enrolledOutlet();
    expect(await client.runOnce()).toMatchObject({ error: null });
    expect(transport.calls.filter((c) => c.startsWith('GET /v1/device'))).toHaveLength(0);
    clock = new Date(NOW.getTime() + 60_000);
    expect(await client.runOnce()).toMatchObject({ error: null });
    expect(transport.calls.filter((c) => c.startsWith('GET /v1/device'))).toHaveLength(1);
    expect(readSyncStatus(outlet.sqlite).lastSuccessAt).toBe(clock.toISOString());
    await backend.database.db.execute(sql`UPDATE device SET status = 'quarantined' WHERE id = ${deviceId}`);
    clock = new Date(NOW.getTime() + 120_000);
    expect((await client.runOnce()).halted).toBe('SYNC_DEVICE_QUARANTINED');
  });

  it('re-enrolls with --replace: batches the server confirms are not sent again, the rest are resealed', async () => {
    const first = await enrolledOutlet();
    outlet.vend(5);
    await first.client.runOnce();
    outlet.vend(5);
    await first.client.runOnce();
    // The second batch arrived but its acknowledgement was lost; a third was sealed and never sent.
    outlet.sqlite.exec('UPDATE sync_batch SET ack_status = NULL, acked_at = NULL WHERE seq = 2');
    outlet.sqlite.exec(
      'UPDATE outbox SET sent_at = NULL WHERE batch_id = (SELECT id FROM sync_batch WHERE seq = 2)',
    );
    outlet.vend(5);
    sealDueBatches(
      outlet.sqlite,
      {
        deviceId: first.deviceId,
        key: unsealDeviceKey(outlet.fixture.kek, readSyncIdentity(outlet.sqlite)!),
      },
      NOW,
      undefined,
      { force: true },
    );
    await first.client.stop();
    // A ledger whose chain differs from the server's (an older backup restored) is not re-enrolled blindly.
    const hash2 = (
      outlet.sqlite.prepare('SELECT hash FROM sync_batch WHERE seq = 2').get() as { hash: string }
    ).hash;
    outlet.sqlite.prepare("UPDATE sync_batch SET hash = 'other' WHERE seq = 2").run();
    const differs = await enrollInProcess(outlet, backend.database.db, first.transport, NOW, {
      replace: true,
    }).catch((e: unknown) => e);
    expect(differs).toMatchObject({ code: 'SYNC_CHAIN_BROKEN' });
    expect(readSyncIdentity(outlet.sqlite)!.deviceId).toBe(first.deviceId);
    outlet.sqlite.prepare('UPDATE sync_batch SET hash = ? WHERE seq = 2').run(hash2);
    const replaced = await enrollInProcess(outlet, backend.database.db, first.transport, NOW, {
      replace: true,
    });
    expect(replaced).toMatchObject({ abandonedBatches: 1 });
    expect(replaced.deviceId).not.toBe(first.deviceId);
    client = new SyncClient({
      sqlite: outlet.sqlite,
      kek: outlet.fixture.kek,
      log: quiet,
      clock: () => clock,
      api: new SyncApi(first.transport, () => clock),
    });
    expect(await client.runOnce({ forceSeal: true })).toMatchObject({ applied: 1, error: null });
    const old = await serverEvents(first.deviceId);
    const fresh = await serverEvents(replaced.deviceId);
    expect(old).toHaveLength(10);
    expect(fresh).toHaveLength(5);
    expect(new Set([...old, ...fresh].map((e) => e.event_seq)).size).toBe(15);
    expect(unsent()).toBe(0);
  });
});

describe('enrollment and start-up on the outlet', () => {
  it('stores the identity with the private key sealed under the KEK, and refuses a second enrollment', async () => {
    const { deviceId } = await enrolledOutlet();
    const identity = readSyncIdentity(outlet.sqlite)!;
    expect(identity).toMatchObject({ deviceId, serverUrl: 'http://sync.test', serverFingerprint: null });
    expect(() => unsealDeviceKey(Buffer.alloc(32, 7), identity)).toThrow(/cannot be opened/);
    expect(unsealDeviceKey(outlet.fixture.kek, identity).asymmetricKeyType).toBe('ed25519');
    // The sealed blob does not contain the key in clear (PKCS#8 DER starts 30 2e 02 01 00 30 05 06 03 2b 65 70).
    expect(identity.privateKeySealed.includes(Buffer.from('302e020100300506032b6570', 'hex'))).toBe(false);
    const again = await enrollInProcess(outlet, backend.database.db, countingTransport(), NOW).catch(
      (e: unknown) => e,
    );
    expect(isOpenVendError(again) && again.code).toBe('SYNC_ALREADY_ENROLLED');
    const audit = outlet.sqlite
      .prepare("SELECT entity_id AS id FROM audit_log WHERE action = 'sync.enroll'")
      .all();
    expect(audit).toEqual([{ id: deviceId }]);
  });

  it('does not start for an outlet that is not enrolled, which shows as not configured', () => {
    outlet = outletFixture(NOW);
    outlet.vend(2);
    expect(
      startSyncIfEnrolled({ sqlite: outlet.sqlite, dataDir: outlet.fixture.dataDir, log: quiet }),
    ).toBeNull();
    expect(readSyncStatus(outlet.sqlite)).toMatchObject({
      state: 'not-configured',
      pendingSales: 2,
      enrolled: false,
    });
    expect(() => new SyncClient({ sqlite: outlet.sqlite, kek: outlet.fixture.kek, log: quiet })).toThrow(
      expect.objectContaining({ code: 'SYNC_NOT_ENROLLED' }),
    );
  });
});
