import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SyncClient } from '../../../src-main/sync/client.ts';
import { enrollOutlet } from '../../../src-main/sync/enroll.ts';
import { readSyncIdentity } from '../../../src-main/sync/identity.ts';
import {
  createTransport,
  normalizeFingerprint,
  probeServerCertificate,
} from '../../../src-main/sync/transport.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { SyncError } from '../../../src-shared/sync/errors.ts';
import { buildSyncServer, type SyncServer } from '../../../sync-server/app.ts';
import { CERT_FILE, KEY_FILE, loadOrCreateTls, TLS_DIR } from '../../../sync-server/tls.ts';
import { BACKEND_START_MS, createBackend, seedOutlet, type TestBackend } from '../../sync-server/support.ts';
import { type OutletFixture, outletFixture } from './outlet-support.ts';

/**
 * Real HTTPS on loopback: the server's self-signed certificate (made with openssl), the outlet pinning it at
 * enrollment, and refusing a server that presents another certificate before anything is sent.
 */

const work = mkdtempSync(join(tmpdir(), 'openvend-pinning-'));
let backend: TestBackend;
const servers: Array<{ server: SyncServer; url: string; fingerprint: string; requests: string[] }> = [];

async function httpsServer(dir: string) {
  const tls = loadOrCreateTls(join(work, dir));
  const server = buildSyncServer({
    database: backend.database,
    logger: false,
    tls: { key: tls.key, cert: tls.cert },
    fingerprint: tls.fingerprint,
  });
  const requests: string[] = [];
  server.app.addHook('onRequest', async (request) => {
    requests.push(`${request.method} ${request.url}`);
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.app.server.address() as { port: number };
  const entry = { server, url: `https://127.0.0.1:${port}`, fingerprint: tls.fingerprint, requests };
  servers.push(entry);
  return entry;
}

beforeAll(async () => {
  backend = await createBackend('pglite');
}, BACKEND_START_MS);
afterAll(async () => {
  for (const { server } of servers) await server.app.close();
  await backend?.drop();
  rmSync(work, { recursive: true, force: true });
});

let outlet: OutletFixture | null = null;
afterEach(() => {
  outlet?.cleanup();
  outlet = null;
});

async function refusal(action: Promise<unknown>): Promise<OpenVendError> {
  try {
    await action;
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the server certificate', () => {
  it('is made once with owner-only files and reused (its fingerprint never changes by itself)', () => {
    const first = loadOrCreateTls(join(work, 'made'));
    expect(first.generated).toBe(true);
    expect(first.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const dir = join(work, 'made', TLS_DIR);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, CERT_FILE)).mode & 0o777).toBe(0o600);
    const again = loadOrCreateTls(join(work, 'made'));
    expect(again).toMatchObject({ generated: false, fingerprint: first.fingerprint });
    expect(() => loadOrCreateTls(join(work, 'x'), { certPath: join(dir, CERT_FILE) })).toThrow(
      /both --tls-cert/,
    );
  });
});

describe('enrollment over HTTPS with a pinned certificate', () => {
  it('checks the fingerprint before sending the code, then pins the certificate for every upload', async () => {
    const main = await httpsServer('main');
    const probe = await probeServerCertificate(main.url);
    expect(probe.fingerprint).toBe(main.fingerprint);
    outlet = outletFixture(new Date());
    const { code } = await seedOutlet(backend.database.db, undefined, new Date());

    const wrong = await refusal(
      enrollOutlet(outlet.sqlite, outlet.fixture.kek, {
        serverUrl: main.url,
        code,
        fingerprint: `SHA256:${'ab'.repeat(32)}`,
        now: new Date(),
      }),
    );
    expect(wrong.code).toBe('SYNC_SERVER_IDENTITY');
    expect(main.requests).toEqual([]);
    expect(readSyncIdentity(outlet.sqlite)).toBeNull();

    // Any spelling of the right fingerprint is accepted; the same code still works (it was never sent).
    const result = await enrollOutlet(outlet.sqlite, outlet.fixture.kek, {
      serverUrl: `${main.url}/`,
      code,
      fingerprint: main.fingerprint.toLowerCase().replace(/:/g, ' '),
      now: new Date(),
    });
    expect(result).toMatchObject({ serverFingerprint: main.fingerprint, trustedOnFirstUse: false });
    expect(readSyncIdentity(outlet.sqlite)).toMatchObject({
      serverUrl: main.url,
      serverFingerprint: main.fingerprint,
      serverCertificatePem: expect.stringContaining('BEGIN CERTIFICATE'),
    });

    outlet.vend(3);
    const client = new SyncClient({
      sqlite: outlet.sqlite,
      kek: outlet.fixture.kek,
      log: { info: () => {}, warn: () => {} },
    });
    try {
      expect(await client.runOnce({ forceSeal: true })).toMatchObject({ applied: 1, error: null });
    } finally {
      await client.stop();
    }
    // The master-data pull goes through the same pinned channel.
    expect(main.requests).toEqual([
      'POST /v1/enroll',
      'POST /v1/batches',
      'GET /v1/master?after=0&limit=500',
    ]);
  });

  it('sends nothing to a server presenting another certificate (a retryable identity error)', async () => {
    const main = await httpsServer('main');
    const impostor = await httpsServer('impostor');
    expect(impostor.fingerprint).not.toBe(main.fingerprint);
    const pinned = await probeServerCertificate(main.url);
    const transport = createTransport({
      serverUrl: impostor.url,
      certificatePem: pinned.pem,
      fingerprint: pinned.fingerprint,
    });
    try {
      const error = await transport
        .send('POST', '/v1/batches', Buffer.from('{}'), {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SyncError);
      expect(error).toMatchObject({ code: 'SYNC_SERVER_IDENTITY', errorClass: 'retry' });
    } finally {
      transport.close();
    }
    expect(impostor.requests).toEqual([]);
  });

  it('trusts the first certificate only when no fingerprint is given, and says so; refuses plain http', async () => {
    const main = await httpsServer('main');
    outlet = outletFixture(new Date());
    const refused = await refusal(
      enrollOutlet(outlet.sqlite, outlet.fixture.kek, {
        serverUrl: main.url.replace('https:', 'http:'),
        code: 'AAAAA-AAAAA',
        now: new Date(),
      }),
    );
    expect(refused.code).toBe('SYNC_MALFORMED');
    expect(refused.userMessage).toContain('https://');
    const { code } = await seedOutlet(backend.database.db, undefined, new Date());
    const result = await enrollOutlet(outlet.sqlite, outlet.fixture.kek, {
      serverUrl: main.url,
      code,
      now: new Date(),
    });
    expect(result).toMatchObject({ trustedOnFirstUse: true, serverFingerprint: main.fingerprint });
  });

  it('normalises fingerprints written in any usual form', () => {
    const canonical = `AB:${'01:'.repeat(30)}FF`;
    expect(normalizeFingerprint(canonical.toLowerCase())).toBe(canonical);
    expect(normalizeFingerprint(`SHA256=${canonical.replace(/:/g, '')}`)).toBe(canonical);
  });
});
