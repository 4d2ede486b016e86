import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';

/**
 * The sync wire protocol shared by the outlet (src-main/sync) and the server (sync-server): versions, limits,
 * routes, request signing and the shapes of every body (zod). Pure: hashing is @noble/hashes, signatures are
 * made and checked by the Node layers.
 */

/** The request/response protocol. The server accepts the range below and refuses others with a code. */
export const SYNC_PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS = { min: 1, max: 1 } as const;
/** The event payload schema. Changes are additive only; a server refuses batches newer than it knows. */
export const SYNC_SCHEMA_VERSION = 1;

export const GENESIS_BATCH_HASH = '0'.repeat(64);
export const MAX_BATCH_EVENTS = 500;
/** Request bodies larger than this are refused (413) before they are parsed. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A signed request must be this close to the server's clock (either way). */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

export const SYNC_ROUTES = {
  health: '/health',
  metrics: '/metrics',
  enroll: '/v1/enroll',
  device: '/v1/device',
  batches: '/v1/batches',
  /** GET ?after=<server sequence>&limit=<n>: master-data changes for this outlet (master-data.ts). */
  master: '/v1/master',
  /** GET ?date=YYYY-MM-DD[&format=csv]: the device's own outlet's end of day (src-shared/sync/reports.ts). */
  endOfDay: '/v1/reports/end-of-day',
  /** Head office (bearer API key): every outlet of the key's utility. */
  adminEndOfDay: '/v1/admin/reports/end-of-day',
  adminStaleMonthToDate: '/v1/admin/reports/stale-month-to-date',
  adminTidCollisions: '/v1/admin/reports/tid-collisions',
} as const;

export const SIGNATURE_HEADERS = {
  device: 'x-openvend-device',
  timestamp: 'x-openvend-timestamp',
  nonce: 'x-openvend-nonce',
  signature: 'x-openvend-signature',
} as const;

export const sha256Hex = (text: string): string => bytesToHex(sha256(utf8ToBytes(text)));
export const sha256HexOfBytes = (bytes: Uint8Array): string => bytesToHex(sha256(bytes));

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits');
const base64url = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'expected base64url');
const iso = z.iso.datetime({ offset: false });
const deviceId = z.uuid();
const seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const appVersion = z
  .string()
  .max(40)
  .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'expected a semantic version');

/** What a device signs for every request after enrollment: one line per field, in this order. */
export interface SignedRequestParts {
  method: string;
  /** Path and query exactly as sent. */
  path: string;
  /** sha256 (hex) of the exact body bytes; of the empty string when there is no body. */
  bodySha256: string;
  /** Milliseconds since the epoch, as sent in the timestamp header. */
  timestamp: string;
  nonce: string;
  deviceId: string;
}

export function signingString(parts: SignedRequestParts): string {
  return [
    'OPENVEND-REQUEST-1',
    parts.method.toUpperCase(),
    parts.path,
    parts.bodySha256,
    parts.timestamp,
    parts.nonce,
    parts.deviceId,
  ].join('\n');
}

export const nonceSchema = base64url(64).min(16);
export const signatureSchema = base64url(200);
export const timestampSchema = z.string().regex(/^\d{1,16}$/, 'expected milliseconds since the epoch');

// ---- enrollment --------------------------------------------------------------------------------------

export const enrollRequestSchema = z.strictObject({
  protocolVersion: z.number().int(),
  appVersion,
  code: z.string().trim().min(8).max(64),
  /** Raw Ed25519 public key (32 bytes), base64url. */
  publicKey: base64url(43).length(43),
  /** Proof of possession: the new key's signature over `enrollProofString(publicKey, code)`. */
  proof: signatureSchema,
});
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

export const enrollProofString = (publicKey: string, code: string): string =>
  `OPENVEND-ENROLL-1\n${publicKey}\n${code}`;

export const enrollResponseSchema = z.strictObject({
  deviceId,
  outlet: z.strictObject({ code: z.string(), name: z.string() }),
  utility: z.strictObject({ code: z.string(), name: z.string() }),
  /** SHA-256 of the server's TLS certificate (AA:BB:…), null when the server runs plain HTTP. */
  serverFingerprint: z.string().nullable(),
  serverTime: iso,
});
export type EnrollResponse = z.infer<typeof enrollResponseSchema>;

/**
 * The outlet's float as head office counts it (its top-ups less every sale it received, reversals netted) against
 * the credit limit of its vending authority. Sent with every acknowledgement, so an outlet over its limit hears it
 * on its next sync.
 */
export const centralFloatSchema = z.strictObject({
  balanceMinor: z.number().int().safe(),
  creditLimitMinor: z.number().int().min(0).safe(),
  /** balance + credit limit below zero. */
  overLimit: z.boolean(),
});
export type CentralFloat = z.infer<typeof centralFloatSchema>;

export const deviceInfoSchema = z.strictObject({
  deviceId,
  outletCode: z.string(),
  status: z.enum(['active', 'quarantined', 'revoked']),
  lastSeq: z.number().int().nonnegative(),
  lastHash: hex64,
  serverTime: iso,
  float: centralFloatSchema.optional(),
});
export type DeviceInfo = z.infer<typeof deviceInfoSchema>;

// ---- upload ------------------------------------------------------------------------------------------

/**
 * An event payload. Bodies reach the schema through JSON.parse (server) or from the outbox's JSON (outlet), so any
 * value present is JSON already; z.json()'s recursive walk cost ~1 ms per 100-event batch for nothing.
 */
const jsonPayload = z.custom<z.core.util.JSONType>((value) => value !== undefined, 'expected a JSON payload');

/** One outbox row on the wire. `seq` is the outbox sequence: unique and increasing per device. */
export const syncEventSchema = z.strictObject({
  seq,
  type: z
    .string()
    .max(64)
    .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'expected a dotted event type'),
  createdAt: iso,
  payload: jsonPayload,
});
export type SyncEvent = z.infer<typeof syncEventSchema>;

/** A sealed batch: its hash is sha256 over its canonical JSON, and covers the previous batch's hash. */
export const syncBatchSchema = z.strictObject({
  protocolVersion: z.number().int(),
  schemaVersion: z.number().int(),
  appVersion,
  deviceId,
  seq,
  prevHash: hex64,
  sealedAt: iso,
  events: z.array(syncEventSchema).min(1).max(MAX_BATCH_EVENTS),
});
export type SyncBatch = z.infer<typeof syncBatchSchema>;

/** `sha256` defaults to the pure implementation; the Node layers pass node:crypto's (far faster on large batches). */
export const batchHash = (batch: SyncBatch, sha256: (text: string) => string = sha256Hex): string =>
  sha256(canonicalJson(batch));
/** What the device's Ed25519 key signs for a batch: its hash, tagged so a request signature cannot be reused. */
export const batchSigningString = (hash: string): string => `OPENVEND-BATCH-1\n${hash}`;

export const uploadRequestSchema = z.strictObject({
  batch: syncBatchSchema,
  hash: hex64,
  signature: signatureSchema,
});
export type UploadRequest = z.infer<typeof uploadRequestSchema>;

/** Read before the strict parse, so that a newer client gets "version unsupported", not "malformed". */
export const versionProbeSchema = z.object({
  batch: z.object({ protocolVersion: z.number(), schemaVersion: z.number() }),
});

export const rejectedEventSchema = z.strictObject({
  seq,
  code: z.string(),
  message: z.string(),
});
export type RejectedEvent = z.infer<typeof rejectedEventSchema>;

export const uploadResponseSchema = z.strictObject({
  /** applied: stored now; duplicate: the server already had this exact batch. */
  status: z.enum(['applied', 'duplicate']),
  seq,
  /** Events the server kept apart as rejected (the batch itself was applied). */
  rejected: z.array(rejectedEventSchema),
  float: centralFloatSchema.optional(),
});
export type UploadResponse = z.infer<typeof uploadResponseSchema>;

/** Every refusal: the code says what happened, the class what the outlet should do. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    class: z.enum(['retry', 'resend', 'rejected']),
    lastSeq: z.number().int().nonnegative().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
