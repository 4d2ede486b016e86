import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncApi } from '../../src-main/sync/api.ts';
import { createTransport } from '../../src-main/sync/transport.ts';
import { SyncError } from '../../src-shared/sync/errors.ts';
import { GENESIS_BATCH_HASH, type UploadRequest } from '../../src-shared/sync/protocol.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { queryRows, type ServerDatabase } from '../../sync-server/db/database.ts';
import {
  BACKEND_START_MS,
  BACKENDS,
  chainOfBatches,
  createBackend,
  enrollTestDevice,
  TEST_NOW,
  type TestBackend,
  type TestDevice,
  testServer,
} from './support.ts';

const DEVICES = 6;
const BATCHES = 8;
const EVENTS_PER_BATCH = 25;
const WORKERS_PER_DEVICE = 3;

/**
 * Two server instances (each with its own connection pool) behind real HTTP on loopback, one database.
 * Every device uploads its chain through several concurrent workers that pick an instance per request,
 * so the same batch regularly reaches both instances at once. A worker follows the protocol: applied or
 * duplicate → next batch; gap → resend from the server's last sequence + 1.
 */
describe.each(BACKENDS)('two server instances ingesting concurrently (%s)', (backendName) => {
  let backend: TestBackend;
  let second: ServerDatabase;
  const servers: SyncServer[] = [];
  const apis: SyncApi[] = [];

  beforeAll(async () => {
    backend = await createBackend(backendName);
    second = await backend.connect();
    for (const database of [backend.database, second]) {
      const server = testServer(database);
      await server.app.listen({ host: '127.0.0.1', port: 0 });
      const address = server.app.server.address() as { port: number };
      servers.push(server);
      apis.push(
        new SyncApi(
          createTransport({
            serverUrl: `http://127.0.0.1:${address.port}`,
            certificatePem: null,
            fingerprint: null,
          }),
          () => TEST_NOW,
        ),
      );
    }
  }, BACKEND_START_MS);

  afterAll(async () => {
    for (const api of apis) api.close();
    for (const server of servers) await server.app.close();
    await backend?.drop();
  });

  async function worker(device: TestDevice, chain: UploadRequest[], pick: () => SyncApi) {
    const outcomes = { applied: 0, duplicate: 0, gap: 0 };
    let next = 0;
    while (next < chain.length) {
      try {
        const response = await pick().upload(device, chain[next]!);
        outcomes[response.status]++;
        next++;
      } catch (error) {
        if (error instanceof SyncError && error.code === 'SYNC_SEQ_GAP' && error.lastSeq !== undefined) {
          outcomes.gap++;
          next = error.lastSeq;
        } else {
          throw error;
        }
      }
    }
    return outcomes;
  }

  it('stores every event exactly once and keeps every chain intact', async () => {
    const db = backend.database.db;
    const devices: TestDevice[] = [];
    for (let i = 0; i < DEVICES; i++) devices.push(await enrollTestDevice(servers[i % 2]!, db));
    const chains = devices.map((d) => chainOfBatches(d, BATCHES, EVENTS_PER_BATCH, 1));
    let turn = 0;
    // Deterministic alternation, shifted per worker, so both instances see every batch.
    const results = await Promise.all(
      devices.flatMap((device, d) =>
        Array.from({ length: WORKERS_PER_DEVICE }, (_, w) =>
          worker(device, chains[d]!, () => apis[(turn++ + w) % 2]!).then((r) => ({ d, ...r })),
        ),
      ),
    );

    for (let d = 0; d < DEVICES; d++) {
      const mine = results.filter((r) => r.d === d);
      // Each batch was applied by exactly one instance; all other deliveries were duplicates.
      expect(mine.reduce((sum, r) => sum + r.applied, 0)).toBe(BATCHES);
      expect(mine.reduce((sum, r) => sum + r.applied + r.duplicate, 0)).toBe(BATCHES * WORKERS_PER_DEVICE);
    }
    const perDevice = await queryRows<{
      device_id: string;
      n: number;
      distinct_seqs: number;
      min: number;
      max: number;
    }>(
      db,
      sql`SELECT device_id, count(*)::int AS n, count(DISTINCT event_seq)::int AS distinct_seqs,
                 min(event_seq)::int AS min, max(event_seq)::int AS max
            FROM event GROUP BY device_id`,
    );
    expect(perDevice).toHaveLength(DEVICES);
    for (const row of perDevice) {
      expect(row).toMatchObject({ n: 200, distinct_seqs: 200, min: 1, max: BATCHES * EVENTS_PER_BATCH });
    }
    for (const device of devices) {
      const batches = await queryRows<{ seq: number; hash: string; prev_hash: string }>(
        db,
        sql`SELECT seq::int AS seq, hash, prev_hash FROM batch WHERE device_id = ${device.deviceId} ORDER BY seq`,
      );
      expect(batches.map((b) => b.seq)).toEqual(Array.from({ length: BATCHES }, (_, i) => i + 1));
      let prev = GENESIS_BATCH_HASH;
      for (const batch of batches) {
        expect(batch.prev_hash).toBe(prev);
        prev = batch.hash;
      }
      const [head] = await queryRows<{ last_seq: number; last_hash: string; status: string }>(
        db,
        sql`SELECT last_seq::int AS last_seq, last_hash, status FROM device WHERE id = ${device.deviceId}`,
      );
      expect(head).toEqual({ last_seq: BATCHES, last_hash: prev, status: 'active' });
    }
    const [problems] = await queryRows<{ incidents: number; rejected: number }>(
      db,
      sql`SELECT (SELECT count(*)::int FROM device_incident) AS incidents, (SELECT count(*)::int FROM rejected_event) AS rejected`,
    );
    expect(problems).toEqual({ incidents: 0, rejected: 0 });
  });
});
