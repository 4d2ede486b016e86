import { asc, eq, sql } from 'drizzle-orm';
import type { ServerDb } from './db/database.ts';
import { device, deviceIncident, enrollmentCode, outlet, utility } from './db/schema.ts';
import { enrollmentCodeHash, newEnrollmentCode } from './enrollment.ts';
import { ServerError } from './errors.ts';

/**
 * Head-office administration, run by `openvend server admin …` directly against the server's database
 * (the server itself need not be running; with PGlite it must not be, see the README).
 */

const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

function requireCode(value: string, what: string): string {
  if (!CODE.test(value)) {
    throw new ServerError(
      'ADMIN_INVALID',
      `The ${what} code must be 1–32 letters, digits, dots, dashes or underscores.`,
      value,
    );
  }
  return value;
}

function requireName(value: string, what: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > 200) {
    throw new ServerError(
      'ADMIN_INVALID',
      `The ${what} name must be 1–200 characters.`,
      JSON.stringify(value),
    );
  }
  return name;
}

const isUniqueViolation = (error: unknown): boolean => {
  const cause = (error as { cause?: { code?: string }; code?: string }) ?? {};
  return cause.code === '23505' || cause.cause?.code === '23505';
};

export async function createUtility(db: ServerDb, input: { code: string; name: string }) {
  const values = { code: requireCode(input.code, 'utility'), name: requireName(input.name, 'utility') };
  try {
    const [row] = await db.insert(utility).values(values).returning();
    return row!;
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ServerError('ADMIN_EXISTS', `A utility with code ${values.code} already exists.`);
    throw error;
  }
}

async function utilityByCode(db: ServerDb, code: string) {
  const [row] = await db.select().from(utility).where(eq(utility.code, code));
  if (!row) throw new ServerError('ADMIN_NOT_FOUND', `There is no utility with code ${code}.`);
  return row;
}

async function outletByCode(db: ServerDb, code: string) {
  const [row] = await db.select().from(outlet).where(eq(outlet.code, code));
  if (!row) throw new ServerError('ADMIN_NOT_FOUND', `There is no outlet with code ${code}.`);
  return row;
}

export async function createOutlet(db: ServerDb, input: { utilityCode: string; code: string; name: string }) {
  const owner = await utilityByCode(db, input.utilityCode);
  const values = {
    utilityId: owner.id,
    code: requireCode(input.code, 'outlet'),
    name: requireName(input.name, 'outlet'),
  };
  try {
    const [row] = await db.insert(outlet).values(values).returning();
    return { ...row!, utilityCode: owner.code };
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ServerError('ADMIN_EXISTS', `An outlet with code ${values.code} already exists.`);
    throw error;
  }
}

export async function listOutlets(db: ServerDb) {
  return db
    .select({
      code: outlet.code,
      name: outlet.name,
      utilityCode: utility.code,
      devices: sql<number>`(SELECT count(*)::int FROM device d WHERE d.outlet_id = ${outlet.id})`,
    })
    .from(outlet)
    .innerJoin(utility, eq(utility.id, outlet.utilityId))
    .orderBy(asc(outlet.code));
}

export const MAX_CODE_TTL_MS = 30 * 24 * 3_600_000;

/** A one-time code for one outlet; only its hash is stored, so it is shown once, here. */
export async function createEnrollmentCode(
  db: ServerDb,
  input: { outletCode: string; ttlMs: number; now: Date },
) {
  if (!Number.isInteger(input.ttlMs) || input.ttlMs < 60_000 || input.ttlMs > MAX_CODE_TTL_MS) {
    throw new ServerError(
      'ADMIN_INVALID',
      'An enrollment code must be valid for between 1 minute and 30 days.',
      `${input.ttlMs} ms`,
    );
  }
  const target = await outletByCode(db, input.outletCode);
  const code = newEnrollmentCode();
  const expiresAt = new Date(input.now.getTime() + input.ttlMs).toISOString();
  await db.insert(enrollmentCode).values({
    outletId: target.id,
    codeHash: enrollmentCodeHash(code),
    createdAt: input.now.toISOString(),
    expiresAt,
  });
  return { code, outletCode: target.code, expiresAt };
}

async function setDeviceStatus(
  db: ServerDb,
  deviceId: string,
  status: 'active' | 'revoked',
  reason: string,
  now: Date,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(device).where(eq(device.id, deviceId)).for('update');
    if (!row) throw new ServerError('ADMIN_NOT_FOUND', `There is no device ${deviceId}.`);
    if (row.status === 'revoked') {
      throw new ServerError(
        'ADMIN_INVALID',
        `Device ${deviceId} is revoked; a revoked device stays revoked (enroll a new one).`,
      );
    }
    const at = now.toISOString();
    await tx
      .update(device)
      .set({ status, statusReason: reason, statusChangedAt: at })
      .where(eq(device.id, deviceId));
    await tx.insert(deviceIncident).values({
      deviceId,
      kind: status === 'revoked' ? 'revoked' : 'released',
      detail: reason,
      createdAt: at,
    });
    return { deviceId, status, previousStatus: row.status };
  });
}

/** Refuses every later request of the device (SYNC_DEVICE_REVOKED); final. */
export const revokeDevice = (db: ServerDb, input: { deviceId: string; reason: string; now: Date }) =>
  setDeviceStatus(db, input.deviceId, 'revoked', input.reason.trim() || 'revoked by head office', input.now);

/** Lets a quarantined device upload again (after an investigation); a broken chain quarantines it again. */
export const releaseDevice = (db: ServerDb, input: { deviceId: string; reason: string; now: Date }) =>
  setDeviceStatus(db, input.deviceId, 'active', input.reason.trim() || 'released by head office', input.now);

export async function listDevices(db: ServerDb) {
  return db
    .select({
      deviceId: device.id,
      outletCode: outlet.code,
      status: device.status,
      statusReason: device.statusReason,
      appVersion: device.appVersion,
      enrolledAt: device.enrolledAt,
      lastSeenAt: device.lastSeenAt,
      lastSeq: device.lastSeq,
    })
    .from(device)
    .innerJoin(outlet, eq(outlet.id, device.outletId))
    .orderBy(asc(outlet.code), asc(device.enrolledAt));
}
