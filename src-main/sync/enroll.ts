import type Database from 'better-sqlite3';
import { SyncError } from '../../src-shared/sync/errors.ts';
import { enrollProofString, SYNC_PROTOCOL_VERSION } from '../../src-shared/sync/protocol.ts';
import { APP_VERSION } from '../app-version.ts';
import { appendAudit } from '../engine/audit-log.ts';
import { SyncApi } from './api.ts';
import {
  generateDeviceKey,
  readSyncIdentity,
  type SyncIdentity,
  sealDeviceKey,
  signText,
  unsealDeviceKey,
} from './identity.ts';
import { resetSyncState } from './sync-state.ts';
import {
  createTransport,
  normalizeFingerprint,
  parseServerUrl,
  probeServerCertificate,
  type SyncTransport,
} from './transport.ts';

export interface EnrollOptions {
  serverUrl: string;
  code: string;
  /** The fingerprint head office printed with the code; without it the first certificate seen is trusted. */
  fingerprint?: string | undefined;
  /** Plain HTTP: local development only. */
  insecureHttp?: boolean;
  /** Enroll again as a new device: unacknowledged batches of the old one are resealed under the new one. */
  replace?: boolean;
  now: Date;
  /** Tests: how to reach the server (default: the pinned HTTPS transport). */
  transportFor?: (server: {
    serverUrl: string;
    certificatePem: string | null;
    fingerprint: string | null;
  }) => SyncTransport;
}

export interface EnrollResult {
  deviceId: string;
  outletCode: string;
  outletName: string;
  utilityName: string;
  serverFingerprint: string | null;
  /** No fingerprint was given: the certificate presented now is pinned from here on. */
  trustedOnFirstUse: boolean;
  abandonedBatches: number;
}

/**
 * Enrolls this outlet: checks the server certificate against the given fingerprint before the code is sent,
 * makes an Ed25519 key pair, exchanges the one-time code for a device id, then stores the identity (private
 * key sealed under the KEK) and pins the certificate, in one SQLite transaction.
 */
export async function enrollOutlet(
  sqlite: Database.Database,
  kek: Buffer,
  options: EnrollOptions,
): Promise<EnrollResult> {
  const previous = readSyncIdentity(sqlite);
  if (previous && !options.replace) throw new SyncError('SYNC_ALREADY_ENROLLED', 'sync_identity present');
  if (previous) await settleWithPreviousIdentity(sqlite, kek, previous, options);
  const url = parseServerUrl(options.serverUrl);
  const serverUrl = url.origin;
  let certificatePem: string | null = null;
  let fingerprint: string | null = null;
  if (url.protocol === 'http:') {
    if (!options.insecureHttp) {
      throw new SyncError('SYNC_MALFORMED', `plain http ${serverUrl}`, {
        userMessage:
          'The server address must start with https:// (plain http only with --insecure-http, for testing).',
      });
    }
  } else {
    const presented = await probeServerCertificate(serverUrl);
    if (options.fingerprint && normalizeFingerprint(options.fingerprint) !== presented.fingerprint) {
      throw new SyncError(
        'SYNC_SERVER_IDENTITY',
        `expected ${normalizeFingerprint(options.fingerprint)}, the server presented ${presented.fingerprint}`,
        {
          userMessage:
            'The server presented a different certificate than head office said. Nothing was sent.',
        },
      );
    }
    certificatePem = presented.pem;
    fingerprint = presented.fingerprint;
  }
  const server = { serverUrl, certificatePem, fingerprint };
  const api = new SyncApi((options.transportFor ?? createTransport)(server), () => options.now);
  const key = generateDeviceKey();
  let response: Awaited<ReturnType<SyncApi['enroll']>>;
  try {
    response = await api.enroll({
      protocolVersion: SYNC_PROTOCOL_VERSION,
      appVersion: APP_VERSION,
      code: options.code,
      publicKey: key.publicKey,
      proof: signText(key.privateKey, enrollProofString(key.publicKey, options.code)),
    });
  } finally {
    api.close();
  }
  if (response.serverFingerprint !== fingerprint) {
    throw new SyncError(
      'SYNC_SERVER_IDENTITY',
      `the server says its certificate is ${response.serverFingerprint}, the connection presented ${fingerprint}`,
      {
        userMessage:
          'The server is reached through a different certificate than its own (a proxy?). Not enrolled.',
      },
    );
  }
  const sealed = sealDeviceKey(kek, key.privateKey);
  const abandonedBatches = sqlite
    .transaction(() => {
      // Batches of a previous identity that never reached the server: their events are sealed again.
      const abandoned = sqlite
        .prepare("UPDATE sync_batch SET ack_status = 'abandoned', acked_at = ? WHERE ack_status IS NULL")
        .run(options.now.toISOString()).changes;
      sqlite
        .prepare(
          "UPDATE outbox SET batch_id = NULL WHERE sent_at IS NULL AND batch_id IN (SELECT id FROM sync_batch WHERE ack_status = 'abandoned')",
        )
        .run();
      sqlite
        .prepare(
          `INSERT INTO sync_identity (id, server_url, device_id, outlet_code, server_certificate_pem, server_fingerprint,
             public_key, private_key_sealed, enrolled_at)
           VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET server_url = excluded.server_url, device_id = excluded.device_id,
             outlet_code = excluded.outlet_code, server_certificate_pem = excluded.server_certificate_pem,
             server_fingerprint = excluded.server_fingerprint, public_key = excluded.public_key,
             private_key_sealed = excluded.private_key_sealed, enrolled_at = excluded.enrolled_at`,
        )
        .run(
          serverUrl,
          response.deviceId,
          response.outlet.code,
          certificatePem,
          fingerprint,
          key.publicKey,
          sealed,
          options.now.toISOString(),
        );
      resetSyncState(sqlite, options.now);
      appendAudit(
        sqlite,
        {
          operatorId: null,
          action: 'sync.enroll',
          entity: 'sync',
          entityId: response.deviceId,
          details: {
            serverUrl,
            outlet: response.outlet.code,
            fingerprint,
            replaced: options.replace ?? false,
          },
        },
        options.now,
      );
      return abandoned;
    })
    .immediate();
  return {
    deviceId: response.deviceId,
    outletCode: response.outlet.code,
    outletName: response.outlet.name,
    utilityName: response.utility.name,
    serverFingerprint: fingerprint,
    trustedOnFirstUse: fingerprint !== null && !options.fingerprint,
    abandonedBatches,
  };
}

/**
 * Before a replacement identity reseals the old one's unacknowledged batches, the server says (through the
 * old identity, even revoked) how far it got: batches up to its last sequence arrived, and are not resealed,
 * so no event reaches the server twice under two identities. Without that answer, or when the server's chain
 * is not this ledger's (an older backup restored), the replacement is refused.
 */
async function settleWithPreviousIdentity(
  sqlite: Database.Database,
  kek: Buffer,
  previous: SyncIdentity,
  options: EnrollOptions,
): Promise<void> {
  const server = {
    serverUrl: previous.serverUrl,
    certificatePem: previous.serverCertificatePem,
    fingerprint: previous.serverFingerprint,
  };
  const api = new SyncApi((options.transportFor ?? createTransport)(server), () => options.now);
  let lastSeq: number;
  let lastHash: string;
  try {
    ({ lastSeq, lastHash } = await api.device({
      deviceId: previous.deviceId,
      key: unsealDeviceKey(kek, previous),
    }));
  } catch (error) {
    const reason = error instanceof SyncError ? error.code : String(error);
    throw new SyncError('SYNC_UNAVAILABLE', `previous identity ${previous.deviceId}: ${reason}`, {
      userMessage:
        'The server must confirm what this outlet already uploaded before it can be enrolled again. Try again when the server can be reached.',
    });
  } finally {
    api.close();
  }
  // The chain hash at the server's head covers every batch before it: the same hash, the same batches.
  const local = sqlite
    .prepare('SELECT hash FROM sync_batch WHERE device_id = ? AND seq = ?')
    .get(previous.deviceId, lastSeq) as { hash: string } | undefined;
  if (lastSeq > 0 && local?.hash !== lastHash) {
    throw new SyncError(
      'SYNC_CHAIN_BROKEN',
      `server head ${lastSeq}/${lastHash}, local ${local?.hash ?? 'none'}`,
      {
        userMessage:
          "This outlet's records and the server's differ (was an older backup restored?). Contact head office before enrolling again.",
      },
    );
  }
  const at = options.now.toISOString();
  sqlite
    .transaction(() => {
      sqlite
        .prepare(
          "UPDATE sync_batch SET ack_status = 'applied', acked_at = ? WHERE device_id = ? AND ack_status IS NULL AND seq <= ?",
        )
        .run(at, previous.deviceId, lastSeq);
      sqlite
        .prepare(
          `UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND batch_id IN
             (SELECT id FROM sync_batch WHERE device_id = ? AND ack_status = 'applied')`,
        )
        .run(at, previous.deviceId);
    })
    .immediate();
}
