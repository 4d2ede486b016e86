import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenVendError, type OpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { SYNC_ROUTES } from '../../src-shared/sync/protocol.ts';
import {
  createEnrollmentCode,
  createOutlet,
  createUtility,
  listDevices,
  listOutlets,
  releaseDevice,
  revokeDevice,
} from '../../sync-server/admin.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { queryRows } from '../../sync-server/db/database.ts';
import { enrollmentCodeHash } from '../../sync-server/enrollment.ts';
import {
  BACKEND_START_MS,
  BACKENDS,
  createBackend,
  enrollPayload,
  enrollTestDevice,
  errorCode,
  seedOutlet,
  TEST_NOW,
  type TestBackend,
  testServer,
} from './support.ts';

async function refusal(action: Promise<unknown>): Promise<OpenVendError> {
  try {
    await action;
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe.each(BACKENDS)('enrollment and administration (%s)', (backendName) => {
  let backend: TestBackend;
  let server: SyncServer;
  let clockNow = TEST_NOW;

  beforeAll(async () => {
    backend = await createBackend(backendName);
    server = testServer(backend.database, () => clockNow);
  }, BACKEND_START_MS);
  afterAll(async () => {
    await server?.app.close();
    await backend?.drop();
  });

  const enroll = (code: string, extra: object = {}) =>
    server.app.inject({
      method: 'POST',
      url: SYNC_ROUTES.enroll,
      payload: { ...enrollPayload(code), ...extra },
    });

  it('exchanges a one-time code for a device id; the code cannot be used twice', async () => {
    const { outletCode, code } = await seedOutlet(backend.database.db);
    const first = await enroll(code.toLowerCase().replace(/-/g, ' '));
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({
      deviceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      outlet: { code: outletCode, name: `Outlet ${outletCode}` },
      utility: { code: 'UT', name: 'Test Utility' },
      serverFingerprint: null,
      serverTime: TEST_NOW.toISOString(),
    });
    const again = await enroll(code);
    expect(again.statusCode).toBe(403);
    expect(errorCode(again)).toBe('SYNC_ENROLL_CODE_INVALID');
    const [row] = await queryRows<{ used: boolean; device_id: string }>(
      backend.database.db,
      sql`SELECT used_at IS NOT NULL AS used, device_id FROM enrollment_code WHERE code_hash = ${enrollmentCodeHash(code)}`,
    );
    expect(row).toEqual({ used: true, device_id: (first.json() as { deviceId: string }).deviceId });
  });

  it('refuses a wrong or expired code with the same code, and enrolls nothing', async () => {
    const { code } = await seedOutlet(backend.database.db);
    const devicesBefore = (await listDevices(backend.database.db)).length;
    expect(errorCode(await enroll('ZZZZZ-ZZZZZ-ZZZZZ'))).toBe('SYNC_ENROLL_CODE_INVALID');
    clockNow = new Date(TEST_NOW.getTime() + 3_600_000);
    try {
      const expired = await enroll(code);
      expect(expired.statusCode).toBe(403);
      expect(errorCode(expired)).toBe('SYNC_ENROLL_CODE_INVALID');
    } finally {
      clockNow = TEST_NOW;
    }
    expect((await listDevices(backend.database.db)).length).toBe(devicesBefore);
    // Still valid a second earlier.
    expect((await enroll(code)).statusCode).toBe(200);
  });

  it('refuses bad enrollment requests: malformed key, reused key, other protocol', async () => {
    const { code } = await seedOutlet(backend.database.db);
    // A key the sender cannot sign with (here all zeros), a proof by another key, a malformed key.
    expect(errorCode(await enroll(code, { publicKey: 'A'.repeat(43) }))).toBe('SYNC_MALFORMED');
    expect(errorCode(await enroll(code, { proof: enrollPayload(code).proof }))).toBe('SYNC_MALFORMED');
    expect(errorCode(await enroll(code, { publicKey: 'short' }))).toBe('SYNC_MALFORMED');
    expect((await enroll(code, { protocolVersion: 7 })).statusCode).toBe(426);
    const device = await enrollTestDevice(server, backend.database.db);
    const reused = await server.app.inject({
      method: 'POST',
      url: SYNC_ROUTES.enroll,
      payload: enrollPayload(code, device),
    });
    expect(reused.statusCode).toBe(400);
    expect(errorCode(reused)).toBe('SYNC_MALFORMED');
    // None of these used the code up.
    expect((await enroll(code)).statusCode).toBe(200);
  });

  it('gives one code to exactly one of two devices enrolling at the same time', async () => {
    const { code } = await seedOutlet(backend.database.db);
    const answers = await Promise.all([enroll(code), enroll(code), enroll(code)]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 403, 403]);
  });

  it('administers utilities, outlets, codes and devices with clear refusals', async () => {
    const db = backend.database.db;
    await createUtility(db, { code: 'ADM', name: 'Admin Utility' });
    expect((await refusal(createUtility(db, { code: 'ADM', name: 'Again' }))).code).toBe('ADMIN_EXISTS');
    expect((await refusal(createUtility(db, { code: 'bad code!', name: 'x' }))).code).toBe('ADMIN_INVALID');
    expect((await refusal(createUtility(db, { code: 'OK', name: '  ' }))).code).toBe('ADMIN_INVALID');
    expect((await refusal(createOutlet(db, { utilityCode: 'NOPE', code: 'O1', name: 'x' }))).code).toBe(
      'ADMIN_NOT_FOUND',
    );
    await createOutlet(db, { utilityCode: 'ADM', code: 'ADM-1', name: 'Admin Outlet' });
    expect((await refusal(createOutlet(db, { utilityCode: 'ADM', code: 'ADM-1', name: 'x' }))).code).toBe(
      'ADMIN_EXISTS',
    );
    expect(await listOutlets(db)).toContainEqual({
      code: 'ADM-1',
      name: 'Admin Outlet',
      utilityCode: 'ADM',
      devices: 0,
    });
    expect(
      (await refusal(createEnrollmentCode(db, { outletCode: 'ADM-1', ttlMs: 1_000, now: TEST_NOW }))).code,
    ).toBe('ADMIN_INVALID');
    expect(
      (await refusal(createEnrollmentCode(db, { outletCode: 'NOPE', ttlMs: 60_000, now: TEST_NOW }))).code,
    ).toBe('ADMIN_NOT_FOUND');
    const created = await createEnrollmentCode(db, { outletCode: 'ADM-1', ttlMs: 86_400_000, now: TEST_NOW });
    expect(created).toEqual({
      code: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/),
      outletCode: 'ADM-1',
      expiresAt: '2026-03-11T08:00:00.000Z',
    });
    // Only the hash is stored.
    const stored = await queryRows<{ code_hash: string }>(db, sql`SELECT code_hash FROM enrollment_code`);
    expect(stored.some((r) => r.code_hash.includes(created.code))).toBe(false);

    const device = await enrollTestDevice(server, db);
    expect((await refusal(revokeDevice(db, { deviceId: 'nope', reason: '', now: TEST_NOW }))).code).toBe(
      'ADMIN_NOT_FOUND',
    );
    expect(await releaseDevice(db, { deviceId: device.deviceId, reason: 'checked', now: TEST_NOW })).toEqual({
      deviceId: device.deviceId,
      status: 'active',
      previousStatus: 'active',
    });
    await revokeDevice(db, { deviceId: device.deviceId, reason: 'lost', now: TEST_NOW });
    expect(
      (await refusal(releaseDevice(db, { deviceId: device.deviceId, reason: '', now: TEST_NOW }))).code,
    ).toBe('ADMIN_INVALID');
    expect((await listDevices(db)).find((d) => d.deviceId === device.deviceId)).toMatchObject({
      status: 'revoked',
      statusReason: 'lost',
    });
  });
});
