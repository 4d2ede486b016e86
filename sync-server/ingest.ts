import { and, eq } from 'drizzle-orm';
import { nodeSha256Hex } from '../src-main/sync/identity.ts';
import { SyncError, type SyncErrorCode } from '../src-shared/sync/errors.ts';
import { eventProblem } from '../src-shared/sync/events.ts';
import {
  batchHash,
  batchSigningString,
  type RejectedEvent,
  SUPPORTED_PROTOCOL_VERSIONS,
  SYNC_SCHEMA_VERSION,
  type UploadRequest,
  type UploadResponse,
  uploadRequestSchema,
  versionProbeSchema,
} from '../src-shared/sync/protocol.ts';
import { type DeviceRow, verifyEd25519 } from './auth.ts';
import { insertJsonRows, type ServerDb, type ServerTx } from './db/database.ts';
import { batch, device, deviceIncident, type event, outlet, rejectedEvent } from './db/schema.ts';
import { centralFloat, projectEvents } from './projections.ts';

/** What became of an upload: acknowledged (with the response), or refused (with the error to send). */
export type IngestResult =
  | { outcome: 'applied' | 'duplicate'; response: UploadResponse }
  | { outcome: 'gap' | 'quarantined' | 'refused'; error: SyncError };

/** Version gate: read before the strict parse so a newer client hears "unsupported", not "malformed". */
export function parseUpload(body: unknown): UploadRequest {
  const probe = versionProbeSchema.safeParse(body);
  if (probe.success) {
    const { protocolVersion, schemaVersion } = probe.data.batch;
    if (
      protocolVersion < SUPPORTED_PROTOCOL_VERSIONS.min ||
      protocolVersion > SUPPORTED_PROTOCOL_VERSIONS.max ||
      schemaVersion < 1 ||
      schemaVersion > SYNC_SCHEMA_VERSION
    ) {
      throw new SyncError(
        'SYNC_VERSION_UNSUPPORTED',
        `protocol ${protocolVersion} / schema ${schemaVersion}; this server accepts protocol ${SUPPORTED_PROTOCOL_VERSIONS.min}–${SUPPORTED_PROTOCOL_VERSIONS.max}, schema ≤ ${SYNC_SCHEMA_VERSION}`,
      );
    }
  }
  const parsed = uploadRequestSchema.safeParse(body);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
      .join('; ');
    throw new SyncError('SYNC_MALFORMED', detail);
  }
  return parsed.data;
}

interface Quarantine {
  code: Extract<SyncErrorCode, 'SYNC_BATCH_TAMPERED' | 'SYNC_CHAIN_BROKEN'>;
  kind: string;
  detail: string;
}

async function quarantine(tx: ServerTx, row: DeviceRow, upload: UploadRequest, q: Quarantine, now: string) {
  await tx
    .update(device)
    .set({ status: 'quarantined', statusReason: `${q.kind}: ${q.detail}`, statusChangedAt: now })
    .where(eq(device.id, row.id));
  const { events, ...header } = upload.batch;
  await tx.insert(deviceIncident).values({
    deviceId: row.id,
    kind: q.kind,
    detail: q.detail,
    batchSeq: upload.batch.seq,
    evidence: {
      header,
      eventSeqs: events.map((e) => e.seq),
      claimedHash: upload.hash,
      expectedPrevHash: row.lastHash,
      lastSeq: row.lastSeq,
    },
  });
}

const EVENT_COLUMNS = [
  ['device_id', 'text'],
  ['outlet_id', 'integer'],
  ['event_seq', 'bigint'],
  ['batch_seq', 'bigint'],
  ['type', 'text'],
  ['created_at', 'timestamptz'],
  ['payload', 'jsonb'],
  ['received_at', 'timestamptz'],
] as const;

/** An outlet's utility never changes: cached per database (a pure lookup, so instances stay stateless). */
const utilityOfOutlet = new WeakMap<ServerDb, Map<number, number>>();
async function utilityOf(db: ServerDb, tx: ServerTx, outletId: number): Promise<number> {
  let cache = utilityOfOutlet.get(db);
  if (!cache) {
    cache = new Map();
    utilityOfOutlet.set(db, cache);
  }
  let utilityId = cache.get(outletId);
  if (utilityId === undefined) {
    const [owner] = await tx
      .select({ utilityId: outlet.utilityId })
      .from(outlet)
      .where(eq(outlet.id, outletId));
    utilityId = owner!.utilityId;
    cache.set(outletId, utilityId);
  }
  return utilityId;
}

/**
 * Applies one batch of an authenticated device in ONE transaction, with the device row locked (FOR UPDATE),
 * so any number of server instances serialise per device and never lose or double an event:
 * - seq ≤ last: the same hash → "duplicate" (acknowledged again); another hash → a fork: quarantine;
 * - seq > last + 1: refused as a gap, with the server's last sequence (the outlet resends from there);
 * - seq = last + 1: hash, signature, chain (prev hash) and event order must hold, else quarantine;
 *   then the batch, its events (and the events the server cannot use, kept apart) and the chain head.
 * A quarantine is committed before the refusal is returned.
 */
export async function ingestBatch(
  db: ServerDb,
  authenticated: DeviceRow,
  upload: UploadRequest,
  now: Date,
): Promise<IngestResult> {
  const b = upload.batch;
  const at = now.toISOString();
  const computedHash = batchHash(b, nodeSha256Hex);
  const hashOk = computedHash === upload.hash;
  const signatureOk =
    hashOk && verifyEd25519(authenticated.publicKey, batchSigningString(upload.hash), upload.signature);

  return db.transaction(async (tx): Promise<IngestResult> => {
    const [row] = await tx.select().from(device).where(eq(device.id, authenticated.id)).for('update');
    if (!row) throw new SyncError('SYNC_DEVICE_UNKNOWN', `device ${authenticated.id} disappeared`);
    // Re-read under the lock: another instance may have quarantined or revoked it meanwhile.
    if (row.status === 'revoked') {
      return { outcome: 'refused', error: new SyncError('SYNC_DEVICE_REVOKED', `device ${row.id}`) };
    }
    if (row.status === 'quarantined') {
      const error = new SyncError('SYNC_DEVICE_QUARANTINED', `device ${row.id}: ${row.statusReason}`);
      return { outcome: 'refused', error };
    }
    const refuse = async (q: Quarantine): Promise<IngestResult> => {
      await quarantine(tx, row, upload, q, at);
      return { outcome: 'quarantined', error: new SyncError(q.code, q.detail) };
    };
    if (b.deviceId !== row.id) {
      return refuse({
        code: 'SYNC_BATCH_TAMPERED',
        kind: 'wrong-device',
        detail: `batch ${b.seq} names device ${b.deviceId}`,
      });
    }
    if (!hashOk) {
      return refuse({
        code: 'SYNC_BATCH_TAMPERED',
        kind: 'hash-mismatch',
        detail: `batch ${b.seq}: content hashes to ${computedHash}, sealed as ${upload.hash}`,
      });
    }
    if (b.seq <= row.lastSeq) {
      const [stored] = await tx
        .select({ hash: batch.hash })
        .from(batch)
        .where(and(eq(batch.deviceId, row.id), eq(batch.seq, b.seq)));
      if (stored?.hash === upload.hash) {
        const float = await centralFloat(tx, row.outletId);
        const response: UploadResponse = { status: 'duplicate', seq: b.seq, rejected: [] };
        return { outcome: 'duplicate', response: float ? { ...response, float } : response };
      }
      return refuse({
        code: 'SYNC_CHAIN_BROKEN',
        kind: 'fork',
        detail: `batch ${b.seq} differs from the batch ${b.seq} already received (${stored?.hash ?? 'missing'})`,
      });
    }
    if (b.seq > row.lastSeq + 1) {
      return {
        outcome: 'gap',
        error: new SyncError('SYNC_SEQ_GAP', `batch ${b.seq} sent, server holds up to ${row.lastSeq}`, {
          lastSeq: row.lastSeq,
        }),
      };
    }
    if (!signatureOk) {
      return refuse({
        code: 'SYNC_BATCH_TAMPERED',
        kind: 'bad-signature',
        detail: `batch ${b.seq}: the device signature does not verify`,
      });
    }
    if (b.prevHash !== row.lastHash) {
      return refuse({
        code: 'SYNC_CHAIN_BROKEN',
        kind: 'chain',
        detail: `batch ${b.seq} follows ${b.prevHash}, the last batch received is ${row.lastHash}`,
      });
    }
    let previous = row.lastEventSeq;
    for (const e of b.events) {
      if (e.seq <= previous) {
        return refuse({
          code: 'SYNC_CHAIN_BROKEN',
          kind: 'event-order',
          detail: `batch ${b.seq}: event ${e.seq} does not follow event ${previous}`,
        });
      }
      previous = e.seq;
    }

    const rejected: RejectedEvent[] = [];
    const accepted: Array<typeof event.$inferInsert> = [];
    const kept: Array<typeof rejectedEvent.$inferInsert> = [];
    for (const e of b.events) {
      const common = {
        deviceId: row.id,
        eventSeq: e.seq,
        batchSeq: b.seq,
        type: e.type,
        createdAt: e.createdAt,
        payload: e.payload,
        receivedAt: at,
      };
      const problem = eventProblem(e);
      if (problem) {
        rejected.push({ seq: e.seq, ...problem });
        kept.push({ ...common, reasonCode: problem.code, reasonMessage: problem.message });
      } else {
        accepted.push({ ...common, outletId: row.outletId });
      }
    }
    await tx.insert(batch).values({
      deviceId: row.id,
      seq: b.seq,
      hash: upload.hash,
      prevHash: b.prevHash,
      signature: upload.signature,
      eventCount: b.events.length,
      firstEventSeq: b.events[0]!.seq,
      lastEventSeq: previous,
      protocolVersion: b.protocolVersion,
      schemaVersion: b.schemaVersion,
      appVersion: b.appVersion,
      sealedAt: b.sealedAt,
      receivedAt: at,
    });
    if (accepted.length > 0) {
      const ids = await insertJsonRows<{ id: number; event_seq: number }>(
        tx,
        'event',
        EVENT_COLUMNS,
        accepted,
        'id, event_seq',
      );
      const idOf = new Map(ids.map((r) => [Number(r.event_seq), Number(r.id)]));
      await projectEvents(
        tx,
        { utilityId: await utilityOf(db, tx, row.outletId), outletId: row.outletId, deviceId: row.id, now },
        accepted.map((e) => ({ id: idOf.get(e.eventSeq)!, type: e.type, payload: e.payload })),
      );
    }
    if (kept.length > 0) await tx.insert(rejectedEvent).values(kept);
    await tx
      .update(device)
      .set({
        lastSeq: b.seq,
        lastHash: upload.hash,
        lastEventSeq: previous,
        lastSeenAt: at,
        appVersion: b.appVersion,
      })
      .where(eq(device.id, row.id));
    const float = await centralFloat(tx, row.outletId);
    const response: UploadResponse = { status: 'applied', seq: b.seq, rejected };
    return { outcome: 'applied', response: float ? { ...response, float } : response };
  });
}
