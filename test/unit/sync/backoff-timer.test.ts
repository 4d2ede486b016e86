import { afterEach, describe, expect, it, vi } from 'vitest';
import { SyncApi } from '../../../src-main/sync/api.ts';
import { backoffDelayMs, SyncClient, type SyncLogger } from '../../../src-main/sync/client.ts';
import { generateDeviceKey, sealDeviceKey } from '../../../src-main/sync/identity.ts';
import { readSyncStatus, resetSyncState } from '../../../src-main/sync/sync-state.ts';
import type { SyncTransport, TransportResponse } from '../../../src-main/sync/transport.ts';
import { SyncError } from '../../../src-shared/sync/errors.ts';
import { type OutletFixture, outletFixture } from './outlet-support.ts';

const NOW = new Date('2026-03-10T08:00:00Z');
const quiet: SyncLogger = { info: () => {}, warn: () => {} };

describe('backoffDelayMs', () => {
  it('doubles per failure between half and all of the ceiling, capped', () => {
    const backoff = { baseMs: 1_000, maxMs: 60_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, () => 0, backoff))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, () => 0.999_999, backoff))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
    expect(backoffDelayMs(50, () => 0.5, backoff)).toBe(45_000);
    expect(backoffDelayMs(0, () => 0, backoff)).toBe(500);
  });
});

/** Answers uploads from a script: each upload takes the next entry (a status with a body, or a network failure). */
function scriptedTransport(script: Array<'down' | 503 | 'ok'>) {
  const calls: number[] = [];
  const transport: SyncTransport = {
    async send(method, path, body) {
      // Master-data pulls (after a successful upload) answer "nothing new" and are not part of the script.
      if (method === 'GET' && path.startsWith('/v1/master')) {
        return { status: 200, body: Buffer.from(JSON.stringify({ changes: [], cursor: 0, more: false })) };
      }
      calls.push(Date.now());
      const step = script.shift() ?? 'ok';
      if (step === 'down') throw new SyncError('SYNC_UNAVAILABLE', 'connection refused');
      if (step === 503) {
        const error = { error: { code: 'SYNC_UNAVAILABLE', message: 'busy', class: 'retry' } };
        return { status: 503, body: Buffer.from(JSON.stringify(error)) } satisfies TransportResponse;
      }
      const seq = (JSON.parse(body!.toString('utf8')) as { batch: { seq: number } }).batch.seq;
      return { status: 200, body: Buffer.from(JSON.stringify({ status: 'applied', seq, rejected: [] })) };
    },
    close() {},
  };
  return { transport, calls };
}

let outlet: OutletFixture;
let client: SyncClient | null = null;
afterEach(async () => {
  await client?.stop();
  client = null;
  vi.useRealTimers();
  outlet?.cleanup();
});

/** An outlet with an identity row (no server needed: the transport is scripted). */
function enrolledOffline(): OutletFixture {
  outlet = outletFixture(NOW);
  const key = generateDeviceKey();
  outlet.sqlite
    .prepare(
      `INSERT INTO sync_identity (id, server_url, device_id, outlet_code, public_key, private_key_sealed, enrolled_at)
       VALUES (1, 'http://sync.test', '0b8e1f7a-2c3d-4e5f-8a9b-0c1d2e3f4a5b', 'OUT', ?, ?, ?)`,
    )
    .run(key.publicKey, sealDeviceKey(outlet.fixture.kek, key.privateKey), NOW.toISOString());
  resetSyncState(outlet.sqlite, NOW);
  return outlet;
}

describe('the sync client timer', () => {
  it('retries on its own timer with exponential backoff and jitter until the server answers, then idles', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    enrolledOffline();
    outlet.vend(3);
    const { transport, calls } = scriptedTransport(['down', 503, 'down', 'ok']);
    client = new SyncClient({
      sqlite: outlet.sqlite,
      kek: outlet.fixture.kek,
      log: quiet,
      random: () => 0.5,
      api: new SyncApi(transport),
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      idleMs: 10_000,
      policy: { maxEvents: 100, maxBytes: 1 << 20, maxAgeMs: 0 },
    });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(readSyncStatus(outlet.sqlite)).toMatchObject({
      state: 'offline',
      lastErrorCode: 'SYNC_UNAVAILABLE',
    });
    // Failure 1 → 750 ms (ceiling 1 s, jitter 0.5), failure 2 → 1.5 s, failure 3 → 3 s: no new sale needed.
    await vi.advanceTimersByTimeAsync(749);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(calls).toHaveLength(4);
    const gaps = calls.slice(1).map((at, i) => at - calls[i]!);
    expect(gaps).toEqual([750, 1_500, 3_000]);
    expect(readSyncStatus(outlet.sqlite)).toMatchObject({ state: 'online', pendingEvents: 0 });
    // Back to the idle pause; the next sale is picked up by the timer, not by the sale.
    outlet.vend(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(5);
    expect(readSyncStatus(outlet.sqlite).pendingEvents).toBe(0);
  });

  it('stops cleanly: no run after stop()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    enrolledOffline();
    const { transport, calls } = scriptedTransport(['down', 'down', 'down']);
    client = new SyncClient({
      sqlite: outlet.sqlite,
      kek: outlet.fixture.kek,
      log: quiet,
      api: new SyncApi(transport),
    });
    outlet.vend(1);
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    await client.stop();
    const before = calls.length;
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(calls.length).toBe(before);
  });
});
