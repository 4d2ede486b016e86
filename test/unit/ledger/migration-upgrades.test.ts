import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { outletSettings } from '../../../src-main/engine/outlet-settings.ts';
import { LEDGER_FILE } from '../../../src-main/ledger/data-dir.ts';
import { openLedger } from '../../../src-main/ledger/database.ts';
import { BUNDLED_MIGRATIONS } from '../../../src-main/ledger/migrations/bundled.ts';
import { migrate } from '../../../src-main/ledger/migrator.ts';

/**
 * Upgrade tests of the real migrations, after the pattern of `upgradeFrom` in migrations.test.ts: a ledger
 * written by an earlier release (only the first migrations applied, rows written in plain SQL against that
 * schema), then opened the way the app opens it.
 */

const work = mkdtempSync(join(tmpdir(), 'openvend-upgrades-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;

const tableNames = (sqlite: Database.Database) =>
  (
    sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> '_migrations' ORDER BY name")
      .all() as Array<{
      name: string;
    }>
  ).map((r) => r.name);

function dumpAll(sqlite: Database.Database): Record<string, Array<Record<string, unknown>>> {
  const out: Record<string, Array<Record<string, unknown>>> = {};
  for (const name of tableNames(sqlite)) {
    const order = name === 'sqlite_sequence' ? 'name' : 'rowid';
    out[name] = sqlite.prepare(`SELECT * FROM "${name}" ORDER BY ${order}`).all() as Array<
      Record<string, unknown>
    >;
  }
  return out;
}

const appliedIds = (sqlite: Database.Database) =>
  (sqlite.prepare('SELECT id FROM _migrations ORDER BY rowid').all() as Array<{ id: string }>).map(
    (r) => r.id,
  );

function upgradeFrom(prefixLength: number, seed: (old: Database.Database) => void) {
  const dataDir = join(work, `d${++dirs}`);
  mkdirSync(dataDir, { recursive: true });
  const old = new Database(join(dataDir, LEDGER_FILE));
  old.pragma('journal_mode = WAL');
  old.pragma('foreign_keys = ON');
  migrate(old, BUNDLED_MIGRATIONS.slice(0, prefixLength), 'previous-release');
  seed(old);
  const seeded = dumpAll(old);
  const before = new Set(appliedIds(old));
  old.close();
  const ledger = openLedger(dataDir);
  return {
    dataDir,
    sqlite: ledger.sqlite,
    seeded,
    newlyApplied: appliedIds(ledger.sqlite).filter((id) => !before.has(id)),
    close: () => ledger.close(),
  };
}

/** Every column but the ones a migration added, so old rows can be compared with what they became. */
const without = (rows: Array<Record<string, unknown>> | undefined, ...columns: string[]) =>
  (rows ?? []).map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => !columns.includes(k))));

const NOW = '2026-03-10T08:00:00.000Z';

/** An outlet as release 0000 wrote it, in plain SQL against the 0000 schema. */
function seedAt0000(old: Database.Database): void {
  old.exec(`
    INSERT INTO utility (id, name, address, tax_ref, currency_code, currency_minor_units, time_zone, receipt_footer)
      VALUES (1, 'Old Utility', '1 Road', 'VAT 1', 'ZAR', 2, 'Africa/Johannesburg', 'Thanks');
    INSERT INTO outlet (id, code, name, address, terminal_id, float_balance_minor, low_float_threshold_minor,
        authority_credit_limit_minor, authority_used_minor, authority_valid_until)
      VALUES (1, 'OUT-7', 'Old Outlet', '2 Street', 'T0007', 95000, 10000, 1000000, 5000, '2027-01-01T00:00:00.000Z');
    INSERT INTO operator (username, display_name, role, password_hash, failed_attempts, locked_until, active)
      VALUES ('boss', 'Old Boss', 'admin', 'scrypt$16384$8$1$AAAA$BBBB', 0, NULL, 1),
             ('till', 'Old Till', 'cashier', 'scrypt$16384$8$1$CCCC$DDDD', 2, '2026-03-10T08:15:00.000Z', 0);
    INSERT INTO customer (account_no, name, address, phone, location, fbe_eligible) VALUES ('A1', 'Ann', '', '', '', 1);
    INSERT INTO tariff (code, name, ti, resource) VALUES ('T1', 'Tariff', 1, 'electricity');
    INSERT INTO meter (pan, meter_no, meter_type, customer_id, tariff_id, sgc, ti, krn, key_type, ea, dkga, base_date, last_tid)
      VALUES ('600727040400000019', '040400000019', 'electricity', 1, 1, '123456', 1, 1, 2, 'EA07', 'DKGA02', 2014, 6410040);
    INSERT INTO counter (name, value) VALUES ('receipt', 1), ('z_report', 0);
    INSERT INTO sale (request_id, receipt_no, kind, meter_id, operator_id, created_at, tender_minor, energy_minor, vat_minor, units)
      VALUES ('old-request-1', 1, 'sale', 1, 2, '${NOW}', 5000, 4348, 652, 290);
    INSERT INTO token (sale_id, seq, meter_id, kind, digits, token_class, subclass, tid, base_date, units)
      VALUES (1, 1, 1, 'credit', '12345678901234567890', 0, 0, 6410040, 2014, 290);
    INSERT INTO float_movement (created_at, kind, amount_minor, balance_after_minor, sale_id, reference)
      VALUES ('${NOW}', 'topup', 100000, 100000, NULL, 'opening float'),
             ('${NOW}', 'sale', -5000, 95000, 1, 'receipt 1');
  `);
}

describe('upgrading a ledger written at migration 0000', () => {
  it('keeps every row; 0001 leaves operator languages unset and gives receipts 42 columns', () => {
    const upgrade = upgradeFrom(1, seedAt0000);
    try {
      expect(upgrade.newlyApplied).toEqual(BUNDLED_MIGRATIONS.slice(1).map((m) => m.id));
      const after = dumpAll(upgrade.sqlite);
      // Later migrations may add tables (0003: sync); every old table must still be there.
      expect(Object.keys(after)).toEqual(expect.arrayContaining(Object.keys(upgrade.seeded)));
      for (const table of Object.keys(upgrade.seeded)) {
        const added =
          {
            operator: ['language'],
            outlet: ['receipt_columns'],
            float_movement: ['request_id'],
            meter: ['mtd_remote_month', 'mtd_remote_units'],
          }[table] ?? [];
        expect(without(after[table], ...added), table).toEqual(upgrade.seeded[table]);
      }
      expect(after.operator!.map((o) => o.language)).toEqual([null, null]);
      expect(after.outlet!.map((o) => o.receipt_columns)).toEqual([42]);
      expect(outletSettings(upgrade.sqlite).receiptColumns).toBe(42);
      // 0005: no other outlet's month-to-date is known until head office sends it.
      expect(after.meter!.map((m) => [m.mtd_remote_month, m.mtd_remote_units])).toEqual([[null, 0]]);
      expect(upgrade.sqlite.pragma('foreign_key_check')).toEqual([]);
    } finally {
      upgrade.close();
    }
  });

  it('0002 gives old float movements no request id (several may lack one) and indexes token digits', () => {
    const upgrade = upgradeFrom(1, seedAt0000);
    try {
      const sqlite = upgrade.sqlite;
      expect(sqlite.prepare('SELECT request_id AS r FROM float_movement ORDER BY id').all()).toEqual([
        { r: null },
        { r: null },
      ]);
      const indexes = (
        sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as Array<{
          name: string;
        }>
      ).map((i) => i.name);
      expect(indexes).toEqual(expect.arrayContaining(['float_movement_request', 'token_digits']));
      const plan = sqlite
        .prepare("EXPLAIN QUERY PLAN SELECT id FROM token WHERE digits = '12345678901234567890'")
        .all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join()).toContain('token_digits');
      // Request ids are unique once given.
      const insert = sqlite.prepare(
        "INSERT INTO float_movement (created_at, kind, amount_minor, balance_after_minor, reference, request_id) VALUES (?, 'top-up', 1, 1, 'x', ?)",
      );
      insert.run(NOW, 'request-0001');
      expect(() => insert.run(NOW, 'request-0001')).toThrow(/UNIQUE/);
    } finally {
      upgrade.close();
    }
  });
});
