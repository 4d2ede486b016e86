import { createPublicKey, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BatchRow,
  batchesFrom,
  type SealPolicy,
  sealDueBatches,
  unacknowledgedBatches,
  uploadRequestFor,
} from '../../../src-main/sync/batches.ts';
import { generateDeviceKey } from '../../../src-main/sync/identity.ts';
import {
  batchHash,
  batchSigningString,
  GENESIS_BATCH_HASH,
  uploadRequestSchema,
} from '../../../src-shared/sync/protocol.ts';
import { type OutletFixture, outletFixture } from './outlet-support.ts';

const NOW = new Date('2026-03-10T08:00:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const DEVICE_ID = '3f0c2a9e-8d1b-4c5e-9a7f-1b2c3d4e5f60';
const POLICY: SealPolicy = { maxEvents: 4, maxBytes: 1024 * 1024, maxAgeMs: 30_000 };

let outlet: OutletFixture;
afterEach(() => outlet?.cleanup());

function setUp() {
  outlet = outletFixture(NOW);
  const key = generateDeviceKey();
  return { device: { deviceId: DEVICE_ID, key: key.privateKey }, publicKey: key.publicKey };
}

const allBatches = (): BatchRow[] => batchesFrom(outlet.sqlite, DEVICE_ID, 1, 1000);
const unsealed = () =>
  (outlet.sqlite.prepare('SELECT count(*) AS n FROM outbox WHERE batch_id IS NULL').get() as { n: number }).n;

describe('sealing outbox events into batches', () => {
  it('seals full batches at once and waits with a partial one until it is old enough', () => {
    const { device } = setUp();
    outlet.vend(10);
    expect(sealDueBatches(outlet.sqlite, device, NOW, POLICY)).toBe(2);
    expect(allBatches().map((b) => [b.seq, b.eventCount])).toEqual([
      [1, 4],
      [2, 4],
    ]);
    expect(unsealed()).toBe(2);
    expect(sealDueBatches(outlet.sqlite, device, later(29_999), POLICY)).toBe(0);
    expect(sealDueBatches(outlet.sqlite, device, later(30_000), POLICY)).toBe(1);
    expect(allBatches().map((b) => b.eventCount)).toEqual([4, 4, 2]);
    expect(unsealed()).toBe(0);
    expect(sealDueBatches(outlet.sqlite, device, later(60_000), POLICY, { force: true })).toBe(0);
  });

  it('always ends a batch at a shift close, however few events it has', () => {
    const { device } = setUp();
    outlet.vend(2);
    outlet.closeShift();
    const closes = outlet.sqlite.prepare("SELECT seq FROM outbox WHERE event_type = 'shift.closed'").all();
    expect(closes).toHaveLength(1);
    expect(sealDueBatches(outlet.sqlite, device, NOW, POLICY)).toBe(1);
    const [batch] = allBatches();
    const body = uploadRequestFor(outlet.sqlite, batch!).batch;
    expect(body.events.map((e) => e.type)).toEqual(['sale.sale', 'sale.sale', 'shift.closed']);
  });

  it('cuts a batch by size too (never empty: one large event still makes a batch)', () => {
    const { device } = setUp();
    outlet.vend(3);
    const tiny: SealPolicy = { maxEvents: 100, maxBytes: 10, maxAgeMs: 0 };
    expect(sealDueBatches(outlet.sqlite, device, NOW, tiny)).toBe(3);
    expect(allBatches().map((b) => b.eventCount)).toEqual([1, 1, 1]);
  });

  it('chains batches by hash, numbers them 1, 2, 3… and signs each with the device key', () => {
    const { device, publicKey } = setUp();
    outlet.vend(9);
    sealDueBatches(outlet.sqlite, device, NOW, POLICY, { force: true });
    const batches = allBatches();
    expect(batches.map((b) => b.seq)).toEqual([1, 2, 3]);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    let prev = GENESIS_BATCH_HASH;
    let lastEvent = 0;
    for (const row of batches) {
      const request = uploadRequestFor(outlet.sqlite, row);
      expect(uploadRequestSchema.parse(request)).toEqual(request);
      expect(request.batch.prevHash).toBe(prev);
      expect(batchHash(request.batch)).toBe(row.hash);
      expect(
        verify(null, Buffer.from(batchSigningString(row.hash)), key, Buffer.from(row.signature, 'base64url')),
      ).toBe(true);
      expect(request.batch.events[0]!.seq).toBeGreaterThan(lastEvent);
      lastEvent = request.batch.events.at(-1)!.seq;
      prev = row.hash;
    }
    // Every outbox event is in exactly one batch, in order.
    const rows = outlet.sqlite
      .prepare('SELECT seq, batch_id AS batchId FROM outbox ORDER BY seq')
      .all() as Array<{
      seq: number;
      batchId: number;
    }>;
    expect(rows.every((r) => r.batchId !== null)).toBe(true);
    expect(rows.map((r) => r.batchId)).toEqual([...rows.map((r) => r.batchId)].sort((a, b) => a - b));
  });

  it('rebuilds the sealed body exactly; an outbox row edited after sealing no longer matches its seal', () => {
    const { device } = setUp();
    outlet.vend(2);
    sealDueBatches(outlet.sqlite, device, NOW, POLICY, { force: true });
    const [row] = unacknowledgedBatches(outlet.sqlite, DEVICE_ID);
    expect(batchHash(uploadRequestFor(outlet.sqlite, row!).batch)).toBe(row!.hash);
    outlet.sqlite
      .prepare(
        'UPDATE outbox SET payload_json = replace(payload_json, \'"receiptNo":1,\', \'"receiptNo":7,\') WHERE seq = (SELECT min(seq) FROM outbox)',
      )
      .run();
    expect(batchHash(uploadRequestFor(outlet.sqlite, row!).batch)).not.toBe(row!.hash);
  });

  it('keeps numbering after events already sent, and never seals an event twice', () => {
    const { device } = setUp();
    outlet.vend(4);
    sealDueBatches(outlet.sqlite, device, NOW, POLICY);
    outlet.sqlite.prepare('UPDATE outbox SET sent_at = ?').run(NOW.toISOString());
    outlet.vend(4);
    // The second call finds nothing left to seal.
    expect(
      sealDueBatches(outlet.sqlite, device, NOW, POLICY) + sealDueBatches(outlet.sqlite, device, NOW, POLICY),
    ).toBe(1);
    expect(allBatches().map((b) => [b.seq, b.firstEventSeq])).toEqual([
      [1, 1],
      [2, 5],
    ]);
  });
});
