import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoOutlet } from '../../../src-main/engine/demo.ts';
import { startEngineThread } from '../../../src-main/host/engine-thread.ts';
import { openLedger } from '../../../src-main/ledger/database.ts';
import { kekFromEnvironmentOrFile } from '../../../src-main/security/key-encryption-key.ts';
import { enrollOutlet } from '../../../src-main/sync/enroll.ts';
import type { SyncServer } from '../../../sync-server/app.ts';
import { queryRows } from '../../../sync-server/db/database.ts';
import {
  BACKEND_START_MS,
  createBackend,
  seedOutlet,
  type TestBackend,
  testServer,
} from '../../sync-server/support.ts';

/** The app's engine thread starts the uploader for an enrolled outlet: a shift close reaches the server by itself. */

const dataDir = mkdtempSync(join(tmpdir(), 'openvend-thread-sync-'));
let backend: TestBackend;
let server: SyncServer;
let url: string;

beforeAll(async () => {
  backend = await createBackend('pglite');
  server = testServer(backend.database, () => new Date());
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
}, BACKEND_START_MS);
afterAll(async () => {
  await server?.app.close();
  await backend?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const waitFor = async (check: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
};

describe('sync in the engine thread', () => {
  it('uploads a closed shift without being asked, and the status bar shows the outlet online', async () => {
    createDemoOutlet(dataDir, new Date());
    const { code } = await seedOutlet(backend.database.db, 'THREAD-1', new Date());
    const ledger = openLedger(dataDir);
    let deviceId: string;
    try {
      ({ deviceId } = await enrollOutlet(ledger.sqlite, kekFromEnvironmentOrFile(dataDir).load(), {
        serverUrl: url,
        code,
        insecureHttp: true,
        now: new Date(),
      }));
    } finally {
      ledger.close();
    }
    const thread = await startEngineThread({ dataDir, host: 'browser', demo: true, logLevel: 'silent' });
    try {
      const call = async (method: string, args: object, session?: string) => {
        const response = await thread.call(method, { args, ...(session ? { session } : {}) });
        if (!response.ok) throw new Error(`${method}: ${response.error.code}`);
        return response.result as Record<string, unknown>;
      };
      const { session } = (await call('auth.login', {
        username: 'cashier',
        password: 'demo-cashier-pass',
      })) as {
        session: string;
      };
      await call('shift.open', {}, session);
      await call(
        'vend.sell',
        { requestId: 'thread-sync-0001', meterNumber: '040400000043', tenderMinor: 15_000 },
        session,
      );
      await call('shift.close', { declaredCashMinor: 15_000 }, session);
      await waitFor(async () => {
        const [row] = await queryRows<{ n: number }>(
          backend.database.db,
          sql`SELECT count(*)::int AS n FROM event WHERE device_id = ${deviceId}`,
        );
        return row!.n === 2;
      }, 'the sale and the shift close on the server');
      const status = (await call('status.get', {}, session)) as { sync: Record<string, unknown> };
      expect(status.sync).toMatchObject({ state: 'online', pendingEvents: 0, quarantinedEvents: 0 });
    } finally {
      await thread.close();
    }
  }, 120_000);
});
