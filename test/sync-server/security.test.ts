import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders } from '../../src-main/sync/api.ts';
import {
  GENESIS_BATCH_HASH,
  MAX_BODY_BYTES,
  SIGNATURE_HEADERS,
  SYNC_ROUTES,
} from '../../src-shared/sync/protocol.ts';
import { revokeDevice } from '../../sync-server/admin.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { queryRows } from '../../sync-server/db/database.ts';
import {
  BACKEND_START_MS,
  BACKENDS,
  countRows,
  createBackend,
  enrollTestDevice,
  errorCode,
  newDeviceKey,
  sampleEvents,
  sealTestBatch,
  signedInject,
  TEST_NOW,
  type TestBackend,
  testServer,
} from './support.ts';

describe.each(BACKENDS)('sync server security (%s)', (backendName) => {
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

  const healthy = async () => {
    const response = await server.app.inject({ method: 'GET', url: SYNC_ROUTES.health });
    expect(response.statusCode).toBe(200);
  };

  it('refuses an unsigned request (401 SYNC_UNSIGNED) and writes nothing', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const upload = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(2));
    const response = await server.app.inject({
      method: 'POST',
      url: SYNC_ROUTES.batches,
      headers: { 'content-type': 'application/json' },
      payload: upload,
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: { code: 'SYNC_UNSIGNED', message: expect.any(String), class: 'rejected' },
    });
    expect(await countRows(backend.database.db, 'batch')).toBe(0);
  });

  it('refuses a request signed by another key, or whose body changed after signing (401 SYNC_SIGNATURE_INVALID)', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const upload = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(2));
    const impostor = { ...device, ...newDeviceKey() };
    const wrongKey = await signedInject(server, impostor, { body: upload });
    expect(wrongKey.statusCode).toBe(401);
    expect(errorCode(wrongKey)).toBe('SYNC_SIGNATURE_INVALID');

    const body = Buffer.from(JSON.stringify(upload));
    const headers = signedHeaders(device, 'POST', SYNC_ROUTES.batches, body, TEST_NOW);
    const altered = Buffer.from(body);
    altered.writeUInt8(altered.readUInt8(altered.length - 3) ^ 0x01, altered.length - 3);
    const changed = await server.app.inject({
      method: 'POST',
      url: SYNC_ROUTES.batches,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: altered,
    });
    expect(changed.statusCode).toBe(401);
    expect(errorCode(changed)).toBe('SYNC_SIGNATURE_INVALID');

    const garbage = await signedInject(server, device, {
      body: upload,
      headers: { [SIGNATURE_HEADERS.signature]: 'not-a-signature!' },
    });
    expect(garbage.statusCode).toBe(401);
    expect(errorCode(garbage)).toBe('SYNC_SIGNATURE_INVALID');
    // A bad request signature proves nothing about the device: it is not quarantined.
    const [row] = await queryRows<{ status: string }>(
      backend.database.db,
      sql`SELECT status FROM device WHERE id = ${device.deviceId}`,
    );
    expect(row!.status).toBe('active');
  });

  it('refuses a replayed request (same nonce) even when the first one was applied', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const upload = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(2));
    const nonce = 'fixed-nonce-0123456789abcdef';
    const first = await signedInject(server, device, { body: upload, nonce });
    expect(first.statusCode, first.body).toBe(200);
    const replay = await signedInject(server, device, { body: upload, nonce });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ error: { code: 'SYNC_REPLAYED', class: 'retry' } });
  });

  it('refuses timestamps more than 5 minutes off, either way (SYNC_CLOCK_SKEW, retry)', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    for (const offset of [-301_000, 301_000]) {
      const response = await signedInject(server, device, {
        method: 'GET',
        url: SYNC_ROUTES.device,
        now: new Date(TEST_NOW.getTime() + offset),
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'SYNC_CLOCK_SKEW', class: 'retry' } });
    }
    const inside = await signedInject(server, device, {
      method: 'GET',
      url: SYNC_ROUTES.device,
      now: new Date(TEST_NOW.getTime() - 299_000),
    });
    expect(inside.statusCode).toBe(200);
  });

  it('refuses an unknown device (401 SYNC_DEVICE_UNKNOWN)', async () => {
    const stranger = { deviceId: '7d1f3c2a-1b2c-4d3e-8f4a-5b6c7d8e9f00', ...newDeviceKey() };
    const response = await signedInject(server, stranger, { method: 'GET', url: SYNC_ROUTES.device });
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SYNC_DEVICE_UNKNOWN');
  });

  it('refuses every upload of a revoked device (403 SYNC_DEVICE_REVOKED); it may still read its state', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    await revokeDevice(backend.database.db, { deviceId: device.deviceId, reason: 'stolen', now: TEST_NOW });
    const upload = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(1));
    const response = await signedInject(server, device, { body: upload });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: { code: 'SYNC_DEVICE_REVOKED', class: 'rejected' } });
    const info = await signedInject(server, device, { method: 'GET', url: SYNC_ROUTES.device });
    expect(info.json()).toMatchObject({ status: 'revoked', lastSeq: 0 });
  });

  it('quarantines the device when a sealed batch was changed by one byte, and refuses it from then on', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const upload = sealTestBatch(device, 1, GENESIS_BATCH_HASH, sampleEvents(3));
    // One byte of one event changed after sealing (the request itself is validly signed by the device).
    const tampered = structuredClone(upload);
    const payload = tampered.batch.events[1]!.payload as { requestId: string };
    payload.requestId = payload.requestId.replace(/.$/, (c) => (c === '1' ? '2' : '1'));
    const refused = await signedInject(server, device, { body: tampered });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ error: { code: 'SYNC_BATCH_TAMPERED', class: 'rejected' } });
    const [row] = await queryRows<{ status: string; status_reason: string }>(
      backend.database.db,
      sql`SELECT status, status_reason FROM device WHERE id = ${device.deviceId}`,
    );
    expect(row).toMatchObject({
      status: 'quarantined',
      status_reason: expect.stringContaining('hash-mismatch'),
    });
    const [incident] = await queryRows<{ kind: string; batch_seq: number }>(
      backend.database.db,
      sql`SELECT kind, batch_seq::int AS batch_seq FROM device_incident WHERE device_id = ${device.deviceId}`,
    );
    expect(incident).toEqual({ kind: 'hash-mismatch', batch_seq: 1 });
    // Even the untouched batch is refused now, and nothing of the device was stored.
    const after = await signedInject(server, device, { body: upload });
    expect(after.statusCode).toBe(403);
    expect(errorCode(after)).toBe('SYNC_DEVICE_QUARANTINED');
    const [stored] = await queryRows<{ n: number }>(
      backend.database.db,
      sql`SELECT count(*)::int AS n FROM event WHERE device_id = ${device.deviceId}`,
    );
    expect(stored!.n).toBe(0);
  });

  it('quarantines the device when the batch signature is not its own', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const other = { ...device, ...newDeviceKey() };
    const forged = sealTestBatch(other, 1, GENESIS_BATCH_HASH, sampleEvents(1));
    const response = await signedInject(server, device, { body: forged });
    expect(response.statusCode).toBe(422);
    expect(errorCode(response)).toBe('SYNC_BATCH_TAMPERED');
    const [row] = await queryRows<{ status_reason: string }>(
      backend.database.db,
      sql`SELECT status_reason FROM device WHERE id = ${device.deviceId}`,
    );
    expect(row!.status_reason).toContain('bad-signature');
  });

  it('refuses an oversized body with 413 before reading it, and stays up', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const huge = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const response = await signedInject(server, device, { body: huge });
    expect(response.statusCode).toBe(413);
    expect(errorCode(response)).toBe('SYNC_BODY_TOO_LARGE');
    await healthy();
  });

  it('refuses malformed bodies with 4xx and a code, and stays up', async () => {
    const device = await enrollTestDevice(server, backend.database.db);
    const cases: Array<{ body: Buffer | object; status: number; code: string }> = [
      { body: Buffer.from('{"batch": [1, 2'), status: 400, code: 'SYNC_MALFORMED' },
      { body: Buffer.from([0xff, 0xfe, 0x00, 0x01]), status: 400, code: 'SYNC_MALFORMED' },
      { body: Buffer.from('null'), status: 400, code: 'SYNC_MALFORMED' },
      { body: { batch: { seq: 'one' } }, status: 400, code: 'SYNC_MALFORMED' },
      {
        body: { ...sealTestBatch(device, 1, GENESIS_BATCH_HASH, []), extra: true },
        status: 400,
        code: 'SYNC_MALFORMED',
      },
      { body: Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`), status: 400, code: 'SYNC_MALFORMED' },
    ];
    for (const c of cases) {
      const response = await signedInject(server, device, { body: c.body });
      expect(response.statusCode, response.body).toBe(c.status);
      expect(errorCode(response)).toBe(c.code);
    }
    const enroll = await server.app.inject({
      method: 'POST',
      url: SYNC_ROUTES.enroll,
      headers: { 'content-type': 'text/plain' },
      payload: 'code=123',
    });
    expect(enroll.statusCode).toBe(400);
    expect(errorCode(enroll)).toBe('SYNC_MALFORMED');
    const unknown = await server.app.inject({ method: 'DELETE', url: '/v1/batches/1' });
    expect(unknown.statusCode).toBe(404);
    expect(errorCode(unknown)).toBe('SYNC_NOT_FOUND');
    await healthy();
  });

  it('prunes nonces only once their timestamps have left the window', async () => {
    const before = await countRows(backend.database.db, 'request_nonce');
    expect(before).toBeGreaterThan(0);
    const { pruneNonces } = await import('../../sync-server/auth.ts');
    expect(await pruneNonces(backend.database.db, TEST_NOW)).toBe(0);
    expect(await pruneNonces(backend.database.db, new Date(TEST_NOW.getTime() + 7 * 60_000))).toBe(before);
  });
});
