import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LEDGER_FILE } from '../../../src-main/ledger/data-dir.ts';
import { openLedger } from '../../../src-main/ledger/database.ts';
import { BUNDLED_MIGRATIONS } from '../../../src-main/ledger/migrations/bundled.ts';
import { migrate } from '../../../src-main/ledger/migrator.ts';
import { generateDeviceKey, sealDeviceKey } from '../../../src-main/sync/identity.ts';
import { recordSyncFailure } from '../../../src-main/sync/sync-state.ts';
import { SyncError } from '../../../src-shared/sync/errors.ts';
import { createServiceFixture, type ServiceFixture } from '../../support/service-fixture.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-sync-status-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let service: ServiceFixture | null = null;
afterEach(async () => {
  await service?.cleanup();
  service = null;
});

describe('status.get (the status bar)', () => {
  it('shows the sync state from the ledger: not configured, then online, offline and quarantined counts', async () => {
    service = createServiceFixture();
    const token = await service.login('cashier');
    const sqlite = service.running.open.ledger.sqlite;
    const vend = (n: number) =>
      service!.call(
        'vend.sell',
        {
          requestId: `status-${n}-0001`,
          meterNumber: service!.fixture.vendableMeters[0]!,
          tenderMinor: 10_000,
        },
        token,
      );
    await vend(1);
    expect((await service.call('status.get', {}, token)).sync).toEqual({
      state: 'not-configured',
      pendingEvents: 1,
      pendingSales: 1,
      oldestPendingAt: service.fixture.now.toISOString(),
      lastSuccessAt: null,
      quarantinedEvents: 0,
      centralFloat: null,
    });

    const key = generateDeviceKey();
    sqlite
      .prepare(
        `INSERT INTO sync_identity (id, server_url, device_id, outlet_code, public_key, private_key_sealed, enrolled_at)
         VALUES (1, 'http://sync.test', '0b8e1f7a-2c3d-4e5f-8a9b-0c1d2e3f4a5b', 'OUT', ?, ?, ?)`,
      )
      .run(
        key.publicKey,
        sealDeviceKey(service.fixture.kek, key.privateKey),
        service.fixture.now.toISOString(),
      );
    sqlite.exec(
      `INSERT INTO sync_state (id, last_success_at, failures) VALUES (1, '2026-03-10T07:59:00.000Z', 0)`,
    );
    // One sale sent and acknowledged, one refused by the server and kept in the quarantine.
    await vend(2);
    sqlite.exec(`INSERT INTO sync_batch (id, device_id, seq, first_event_seq, last_event_seq, event_count, protocol_version,
        schema_version, app_version, sealed_at, prev_hash, hash, signature, ack_status)
      VALUES (1, 'd', 1, 1, 1, 1, 1, 1, '0.1.0', '2026-03-10T08:00:00.000Z', '0', 'h', 's', 'applied')`);
    sqlite.exec(`UPDATE outbox SET batch_id = 1, sent_at = '2026-03-10T08:00:00.000Z' WHERE seq = 1`);
    sqlite.exec(`INSERT INTO sync_quarantine (outbox_seq, batch_id, event_type, reason_code, reason_message, quarantined_at)
      VALUES (2, 1, 'sale.sale', 'SYNC_EVENT_INVALID', 'x', '2026-03-10T08:00:00.000Z')`);
    expect((await service.call('status.get', {}, token)).sync).toEqual({
      state: 'online',
      pendingEvents: 0,
      pendingSales: 0,
      oldestPendingAt: null,
      lastSuccessAt: '2026-03-10T07:59:00.000Z',
      quarantinedEvents: 1,
      centralFloat: null,
    });
    recordSyncFailure(sqlite, service.fixture.now, new SyncError('SYNC_UNAVAILABLE', 'down'), false);
    expect((await service.call('status.get', {}, token)).sync.state).toBe('offline');
  });
});

describe('ledger migration 0003 (sync tables)', () => {
  it('upgrades a ledger with outbox events: they stay, unsealed and unsent, ready for the first batch', () => {
    const dataDir = join(work, 'upgrade');
    mkdirSync(dataDir, { recursive: true });
    const old = new Database(join(dataDir, LEDGER_FILE));
    const before = BUNDLED_MIGRATIONS.filter((m) => m.id < '0003');
    migrate(old, before, 'previous-release');
    old.exec(`INSERT INTO outbox (created_at, event_type, payload_json) VALUES
      ('2026-03-10T08:00:00.000Z', 'sale.sale', '{"receiptNo":1}'), ('2026-03-10T08:01:00.000Z', 'shift.closed', '{}')`);
    old.close();
    const ledger = openLedger(dataDir);
    try {
      expect(
        ledger.sqlite.prepare('SELECT seq, sent_at AS sentAt, batch_id AS batchId FROM outbox').all(),
      ).toEqual([
        { seq: 1, sentAt: null, batchId: null },
        { seq: 2, sentAt: null, batchId: null },
      ]);
      const tables = ledger.sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sync_%' ORDER BY name")
        .all();
      expect(tables).toEqual([
        { name: 'sync_batch' },
        { name: 'sync_identity' },
        { name: 'sync_quarantine' },
        { name: 'sync_state' },
      ]);
      const plan = ledger.sqlite
        .prepare(
          'EXPLAIN QUERY PLAN SELECT seq FROM outbox WHERE sent_at IS NULL AND batch_id IS NULL ORDER BY seq',
        )
        .all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join()).toContain('outbox_pending');
    } finally {
      ledger.close();
    }
  });
});
