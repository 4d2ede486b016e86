import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { nodeSha256Hex } from '../src-main/sync/identity.ts';
import { SyncError } from '../src-shared/sync/errors.ts';
import {
  nonceSchema,
  SIGNATURE_HEADERS,
  SIGNATURE_WINDOW_MS,
  signatureSchema,
  signingString,
  timestampSchema,
} from '../src-shared/sync/protocol.ts';
import { queryRows, type ServerDb } from './db/database.ts';
import { device } from './db/schema.ts';

export type DeviceRow = typeof device.$inferSelect;

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** Parsing a public key is pure, so caching it keeps the server stateless. */
const keyCache = new Map<string, KeyObject>();
export function devicePublicKey(publicKey: string): KeyObject {
  let key = keyCache.get(publicKey);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(publicKey, key);
  }
  return key;
}

export function verifyEd25519(publicKey: string, text: string, signature: string): boolean {
  try {
    return verify(
      null,
      Buffer.from(text, 'utf8'),
      devicePublicKey(publicKey),
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    return false;
  }
}

const header = (headers: SignedRequest['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? undefined : value;
};

/**
 * Checks a device-signed request: headers present and well formed, timestamp within ±5 minutes, device
 * known, signature over method, path, body hash, timestamp, nonce and device id, device not revoked, nonce
 * never seen (recorded until its timestamp leaves the window). The order matters: nothing is written for a
 * request whose signature does not verify.
 */
export async function authenticateDevice(
  db: ServerDb,
  request: SignedRequest,
  now: Date,
  /** Read-only calls (GET /v1/device) answer a quarantined or revoked device too, so it learns its state. */
  options: { readOnly: boolean },
): Promise<DeviceRow> {
  const deviceId = header(request.headers, SIGNATURE_HEADERS.device);
  const timestamp = header(request.headers, SIGNATURE_HEADERS.timestamp);
  const nonce = header(request.headers, SIGNATURE_HEADERS.nonce);
  const signature = header(request.headers, SIGNATURE_HEADERS.signature);
  if (!deviceId || !timestamp || !nonce || !signature) {
    throw new SyncError('SYNC_UNSIGNED', 'device, timestamp, nonce or signature header missing');
  }
  if (
    !timestampSchema.safeParse(timestamp).success ||
    !nonceSchema.safeParse(nonce).success ||
    !signatureSchema.safeParse(signature).success ||
    deviceId.length > 64
  ) {
    throw new SyncError('SYNC_SIGNATURE_INVALID', 'malformed signature headers');
  }
  const sentAt = Number(timestamp);
  if (Math.abs(now.getTime() - sentAt) > SIGNATURE_WINDOW_MS) {
    throw new SyncError(
      'SYNC_CLOCK_SKEW',
      `request time ${new Date(sentAt).toISOString()} is more than 5 minutes from server time ${now.toISOString()}`,
    );
  }
  const [row] = await db.select().from(device).where(eq(device.id, deviceId)).limit(1);
  if (!row) throw new SyncError('SYNC_DEVICE_UNKNOWN', `no device ${deviceId}`);
  const text = signingString({
    method: request.method,
    path: request.url,
    bodySha256: nodeSha256Hex(request.body),
    timestamp,
    nonce,
    deviceId,
  });
  if (!verifyEd25519(row.publicKey, text, signature)) {
    throw new SyncError(
      'SYNC_SIGNATURE_INVALID',
      `signature of ${request.method} ${request.url} does not verify`,
    );
  }
  if (row.status === 'revoked' && !options.readOnly) {
    throw new SyncError('SYNC_DEVICE_REVOKED', `device ${deviceId} is revoked`);
  }
  if (row.status === 'quarantined' && !options.readOnly) {
    throw new SyncError('SYNC_DEVICE_QUARANTINED', `device ${deviceId} is quarantined: ${row.statusReason}`);
  }
  const expiresAt = new Date(sentAt + SIGNATURE_WINDOW_MS + 60_000).toISOString();
  const fresh = await queryRows<{ nonce: string }>(
    db,
    sql`INSERT INTO request_nonce (device_id, nonce, expires_at) VALUES (${deviceId}, ${nonce}, ${expiresAt})
        ON CONFLICT DO NOTHING RETURNING nonce`,
  );
  if (fresh.length === 0) throw new SyncError('SYNC_REPLAYED', `nonce ${nonce} already used by ${deviceId}`);
  return row;
}

/** Nonces whose timestamps can no longer pass the window; any instance may prune. */
export async function pruneNonces(db: ServerDb, now: Date): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    db,
    sql`WITH gone AS (DELETE FROM request_nonce WHERE expires_at < ${now.toISOString()} RETURNING 1)
        SELECT count(*)::int AS n FROM gone`,
  );
  return rows[0]?.n ?? 0;
}
