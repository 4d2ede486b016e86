import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_BATCH_HASH, SYNC_ROUTES, type UploadRequest } from '../../src-shared/sync/protocol.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { queryRows } from '../../sync-server/db/database.ts';
import {
  BACKEND_START_MS,
  BACKENDS,
  chainOfBatches,
  createBackend,
  enrollTestDevice,
  errorCode,
  sampleEvents,
  sealTestBatch,
  signedInject,
  type TestBackend,
  type TestDevice,
  testServer,
} from './support.ts';

describe.each(BACKENDS)('batch ingestion, exactly once (%s)', (backendName) => {
  let backend: TestBackend;
  let server: SyncServer;

  beforeAll(async () => {
    backend = await createBackend(backendName);
    server = testServer(backend.database);
  }, BACKEND_START_MS);
  afterAll(async () => {
    await server?.app.close();
    await backend?.drop();
  });

  const upload = (device: TestDevice, body: UploadRequest | object) => signedInject(server, device, { body });

  async function deviceState(deviceId: string) {
    const [row] = await queryRows<{ status: string; last_seq: number; last_hash: string; events: number }>(
      backend.database.db,
      sql`SELECT status, last_seq::int AS last_seq, last_hash,
                 (SELECT count(*)::int FROM event e WHERE e.device_id = d.id) AS events
            FROM device d WHERE id = ${deviceId}`,
    );
    return row!;
  }

  it('applies a batch and its events in one go, and acknowledges it', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const [first] = chainOfBatches(device, 1, 5);
    const response = await upload(device, first!);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ status: 'applied', seq: 1, rejected: [] });
    expect(await deviceState(device.deviceId)).toEqual({
      status: 'active',
      last_seq: 1,
      last_hash: first!.hash,
      events: 5,
    });
    const stored = await queryRows<{ event_seq: number; type: string; payload: { requestId: string } }>(
      backend.database.db,
      sql`SELECT event_seq::int AS event_seq, type, payload FROM event WHERE device_id = ${device.deviceId} ORDER BY event_seq`,
    );
    expect(stored.map((e) => e.event_seq)).toEqual(first!.batch.events.map((e) => e.seq));
    expect(stored[0]!.payload).toEqual(first!.batch.events[0]!.payload);
  });

  it('acknowledges a batch sent again as a duplicate and stores nothing twice', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const [first, second] = chainOfBatches(device, 2, 3);
    expect((await upload(device, first!)).statusCode).toBe(200);
    expect((await upload(device, second!)).statusCode).toBe(200);
    for (const again of [first!, second!, first!]) {
      const response = await upload(device, again);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'duplicate', seq: again.batch.seq, rejected: [] });
    }
    expect(await deviceState(device.deviceId)).toMatchObject({ last_seq: 2, events: 6 });
  });

  it('refuses a gap with the last sequence it holds, then takes the batches in order (out of order delivery)', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const [b1, b2, b3] = chainOfBatches(device, 3, 2);
    const early = await upload(device, b3!);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ error: { code: 'SYNC_SEQ_GAP', class: 'resend', lastSeq: 0 } });
    expect((await upload(device, b2!)).json()).toMatchObject({ error: { code: 'SYNC_SEQ_GAP', lastSeq: 0 } });
    expect((await upload(device, b1!)).json()).toMatchObject({ status: 'applied', seq: 1 });
    expect((await upload(device, b3!)).json()).toMatchObject({ error: { lastSeq: 1 } });
    expect((await upload(device, b2!)).json()).toMatchObject({ status: 'applied', seq: 2 });
    expect((await upload(device, b3!)).json()).toMatchObject({ status: 'applied', seq: 3 });
    expect(await deviceState(device.deviceId)).toMatchObject({ status: 'active', last_seq: 3, events: 6 });
  });

  it('quarantines a broken chain: a batch that does not follow the last one received', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const [b1] = chainOfBatches(device, 1, 2);
    await upload(device, b1!);
    const stray = sealTestBatch(device, 2, GENESIS_BATCH_HASH, sampleEvents(2));
    const response = await upload(device, stray);
    expect(response.statusCode).toBe(422);
    expect(errorCode(response)).toBe('SYNC_CHAIN_BROKEN');
    expect(await deviceState(device.deviceId)).toMatchObject({
      status: 'quarantined',
      last_seq: 1,
      events: 2,
    });
  });

  it('quarantines a fork: another batch under a sequence already received', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const [b1] = chainOfBatches(device, 1, 2);
    await upload(device, b1!);
    const fork = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(2));
    const response = await upload(device, fork);
    expect(response.statusCode).toBe(422);
    expect(errorCode(response)).toBe('SYNC_CHAIN_BROKEN');
    const [incident] = await queryRows<{ kind: string }>(
      backend.database.db,
      sql`SELECT kind FROM device_incident WHERE device_id = ${device.deviceId}`,
    );
    expect(incident!.kind).toBe('fork');
  });

  it('quarantines events that go backwards (an outbox sequence already received)', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const b1 = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(3, { firstSeq: 10 }));
    await upload(device, b1);
    const b2 = sealTestBatch(device, 2, b1.hash, sampleEvents(2, { firstSeq: 12 }));
    expect(errorCode(await upload(device, b2))).toBe('SYNC_CHAIN_BROKEN');
  });

  it('applies a batch with an event it cannot use, keeping that event apart as rejected', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const events = sampleEvents(3, { firstSeq: 1 });
    events[1] = { seq: 2, type: 'audit.mystery', createdAt: events[1]!.createdAt, payload: { x: 1 } };
    events[2] = { ...events[2]!, payload: { receiptNo: -1 } };
    const b1 = sealTestBatch(device, 1, GENESIS_BATCH_HASH, events);
    const response = await upload(device, b1);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'applied',
      seq: 1,
      rejected: [
        { seq: 2, code: 'SYNC_EVENT_UNKNOWN_TYPE', message: 'unknown event type audit.mystery' },
        { seq: 3, code: 'SYNC_EVENT_INVALID', message: expect.stringContaining('receiptNo') },
      ],
    });
    expect(await deviceState(device.deviceId)).toMatchObject({ last_seq: 1, events: 1 });
    const kept = await queryRows<{ event_seq: number; reason_code: string; payload: unknown }>(
      backend.database.db,
      sql`SELECT event_seq::int AS event_seq, reason_code, payload FROM rejected_event WHERE device_id = ${device.deviceId} ORDER BY event_seq`,
    );
    expect(kept).toEqual([
      { event_seq: 2, reason_code: 'SYNC_EVENT_UNKNOWN_TYPE', payload: { x: 1 } },
      { event_seq: 3, reason_code: 'SYNC_EVENT_INVALID', payload: { receiptNo: -1 } },
    ]);
    // The duplicate of a batch with rejected events is still a plain duplicate.
    expect((await upload(device, b1)).json()).toEqual({ status: 'duplicate', seq: 1, rejected: [] });
  });

  it('refuses incompatible protocol or schema versions with 426 and a code, before anything else', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    for (const overrides of [{ protocolVersion: 2 }, { schemaVersion: 99 }, { protocolVersion: 0 }]) {
      const batch = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(1), overrides);
      const response = await upload(device, { ...batch, futureField: 'a newer client adds this' });
      expect(response.statusCode).toBe(426);
      expect(response.json()).toMatchObject({
        error: { code: 'SYNC_VERSION_UNSUPPORTED', class: 'rejected' },
      });
    }
    expect(await deviceState(device.deviceId)).toMatchObject({ status: 'active', last_seq: 0 });
  });

  it('counts what it did on /metrics (Prometheus text)', async () => {
    const response = await server.app.inject({ method: 'GET', url: SYNC_ROUTES.metrics });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    expect(text).toMatch(/openvend_sync_batches_total\{outcome="applied"\} \d+/);
    expect(text).toMatch(/openvend_sync_batches_total\{outcome="duplicate"\} 4/);
    expect(text).toMatch(/openvend_sync_batches_total\{outcome="gap"\} 3/);
    expect(text).toMatch(/openvend_sync_batches_total\{outcome="quarantined"\} 3/);
    expect(text).toMatch(/openvend_sync_events_total\{result="rejected"\} 2/);
    expect(text).toMatch(/openvend_sync_refusals_total\{code="SYNC_VERSION_UNSUPPORTED"\} 3/);
    expect(text).toContain('openvend_sync_batch_apply_seconds_bucket');
  });

  it('answers /health with the database kind', async () => {
    const response = await server.app.inject({ method: 'GET', url: SYNC_ROUTES.health });
    expect(response.json()).toMatchObject({ status: 'ok', database: backendName, protocol: 1 });
  });
});
