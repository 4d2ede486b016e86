import { randomBytes, randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { SyncError } from '../src-shared/sync/errors.ts';
import {
  type EnrollRequest,
  type EnrollResponse,
  enrollProofString,
  enrollRequestSchema,
  GENESIS_BATCH_HASH,
  SUPPORTED_PROTOCOL_VERSIONS,
  sha256Hex,
} from '../src-shared/sync/protocol.ts';
import { devicePublicKey, verifyEd25519 } from './auth.ts';
import type { ServerDb } from './db/database.ts';
import { device, enrollmentCode, outlet, utility } from './db/schema.ts';

/** Crockford base32 without I, L, O, U: read aloud or typed from a printout without confusion. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A fresh one-time code, 15 symbols (75 bits) in groups of five: 'K3QZ7-…'. */
export function newEnrollmentCode(): string {
  const bytes = randomBytes(15);
  let code = '';
  for (const byte of bytes) code += ALPHABET[byte & 31];
  return code.match(/.{5}/g)!.join('-');
}

/** Only the hash of a code is stored; dashes, spaces and case do not matter when it is typed. */
export const enrollmentCodeHash = (code: string): string =>
  sha256Hex(code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1'));

/**
 * Exchanges a one-time code for a device identity, in one transaction: the code row is locked, must be
 * unused and unexpired, and is marked used by the new device. A wrong, used or expired code gets the same
 * refusal (the detail, for the log, says which).
 */
export async function enrollDevice(
  db: ServerDb,
  body: unknown,
  now: Date,
  serverFingerprint: string | null,
): Promise<EnrollResponse> {
  const parsed = enrollRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new SyncError(
      'SYNC_MALFORMED',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  const request: EnrollRequest = parsed.data;
  if (
    request.protocolVersion < SUPPORTED_PROTOCOL_VERSIONS.min ||
    request.protocolVersion > SUPPORTED_PROTOCOL_VERSIONS.max
  ) {
    throw new SyncError('SYNC_VERSION_UNSUPPORTED', `enrollment with protocol ${request.protocolVersion}`);
  }
  try {
    devicePublicKey(request.publicKey);
  } catch {
    throw new SyncError('SYNC_MALFORMED', 'publicKey is not an Ed25519 public key');
  }
  // The device proves it holds the private key: no one enrolls a key they cannot sign with.
  if (!verifyEd25519(request.publicKey, enrollProofString(request.publicKey, request.code), request.proof)) {
    throw new SyncError('SYNC_MALFORMED', 'the proof of possession does not verify with publicKey');
  }
  const at = now.toISOString();
  return db.transaction(async (tx) => {
    const [found] = await tx
      .select({
        code: enrollmentCode,
        outlet,
        utility,
        expired: sql<boolean>`${enrollmentCode.expiresAt} <= ${at}::timestamptz`,
      })
      .from(enrollmentCode)
      .innerJoin(outlet, eq(outlet.id, enrollmentCode.outletId))
      .innerJoin(utility, eq(utility.id, outlet.utilityId))
      .where(eq(enrollmentCode.codeHash, enrollmentCodeHash(request.code)))
      .for('update', { of: enrollmentCode });
    const problem = !found
      ? 'no such code'
      : found.code.usedAt
        ? `code ${found.code.id} already used`
        : found.expired
          ? `code ${found.code.id} expired at ${found.code.expiresAt}`
          : null;
    if (problem || !found) throw new SyncError('SYNC_ENROLL_CODE_INVALID', problem ?? 'no such code');
    const [taken] = await tx
      .select({ id: device.id })
      .from(device)
      .where(eq(device.publicKey, request.publicKey));
    if (taken) throw new SyncError('SYNC_MALFORMED', `public key already enrolled as device ${taken.id}`);
    const deviceId = randomUUID();
    await tx.insert(device).values({
      id: deviceId,
      outletId: found.outlet.id,
      publicKey: request.publicKey,
      appVersion: request.appVersion,
      enrolledAt: at,
      lastHash: GENESIS_BATCH_HASH,
    });
    await tx.update(enrollmentCode).set({ usedAt: at, deviceId }).where(eq(enrollmentCode.id, found.code.id));
    return {
      deviceId,
      outlet: { code: found.outlet.code, name: found.outlet.name },
      utility: { code: found.utility.code, name: found.utility.name },
      serverFingerprint,
      serverTime: at,
    };
  });
}
