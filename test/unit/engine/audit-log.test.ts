import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, GENESIS_HASH, verifyAuditChain } from '../../../src-main/engine/audit-log.ts';
import { type Ledger, openLedger } from '../../../src-main/ledger/database.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-audit-'));
const ledgers: Ledger[] = [];
afterAll(() => {
  for (const l of ledgers) l.close();
  rmSync(work, { recursive: true, force: true });
});
let dirs = 0;
const NOW = new Date('2026-03-10T08:00:00Z');
const ENTRIES = 40;

/** A ledger with `n` audit entries of varied shape (operator or none, nested details). */
function chain(n = ENTRIES): Database.Database {
  const ledger = openLedger(join(work, `d${++dirs}`));
  ledgers.push(ledger);
  for (let i = 1; i <= n; i++) {
    appendAudit(
      ledger.sqlite,
      {
        operatorId: i % 3 === 0 ? null : i % 4,
        action: i % 2 ? 'sale.vend' : 'shift.open',
        entity: 'sale',
        entityId: String(1000 + i),
        details: { amountMinor: i * 150, meter: `0404000000${i}`, nested: { ok: true, list: [i, 'x'] } },
      },
      new Date(NOW.getTime() + i * 1000),
    );
  }
  return ledger.sqlite;
}

interface Row {
  seq: number;
  at: string;
  operator_id: number | null;
  action: string;
  entity: string;
  entity_id: string;
  details_json: string;
  prev_hash: string;
  hash: string;
}
const rowAt = (sqlite: Database.Database, seq: number) =>
  sqlite.prepare('SELECT * FROM audit_log WHERE seq = ?').get(seq) as Row;

/** The entry hash as documented (an attacker who knows the formula can recompute it). */
const recompute = (r: Omit<Row, 'hash'>) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        r.prev_hash,
        r.seq,
        r.at,
        r.operator_id,
        r.action,
        r.entity,
        r.entity_id,
        r.details_json,
      ]),
    )
    .digest('hex');

const problemSeqs = (sqlite: Database.Database) => verifyAuditChain(sqlite).problems.map((p) => p.seq);

describe('appendAudit', () => {
  it('numbers entries from 1 and links each to the previous hash, starting from the genesis hash', () => {
    const sqlite = chain(3);
    const rows = sqlite.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Row[];
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
    for (const r of rows) {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(recompute(r)).toBe(r.hash);
    }
    expect(JSON.parse(rows[0]!.details_json)).toEqual({
      amountMinor: 150,
      meter: '04040000001',
      nested: { ok: true, list: [1, 'x'] },
    });
  });

  it('returns the seq and hash it wrote', () => {
    const sqlite = chain(2);
    const written = appendAudit(
      sqlite,
      { operatorId: 1, action: 'x', entity: 'y', entityId: 'z', details: {} },
      NOW,
    );
    expect(written).toEqual({ seq: 3, hash: rowAt(sqlite, 3).hash });
  });

  it('rolls back with the transaction it is part of', () => {
    const sqlite = chain(2);
    expect(() =>
      sqlite.transaction(() => {
        appendAudit(sqlite, { operatorId: null, action: 'a', entity: 'b', entityId: 'c', details: {} }, NOW);
        throw new Error('the change it records failed');
      })(),
    ).toThrow(/failed/);
    expect(verifyAuditChain(sqlite)).toEqual({ ok: true, entries: 2, problems: [] });
  });
});

describe('verifyAuditChain', () => {
  it(`an untouched chain of ${ENTRIES} entries verifies`, () => {
    expect(verifyAuditChain(chain())).toEqual({ ok: true, entries: ENTRIES, problems: [] });
  });

  it('an empty log verifies', () => {
    expect(verifyAuditChain(chain(0))).toEqual({ ok: true, entries: 0, problems: [] });
  });

  const edits: Array<[string, string, unknown]> = [
    ['at', 'at', '2026-03-10T09:00:00.000Z'],
    ['operator_id (number → other)', 'operator_id', 3],
    ['operator_id (→ null)', 'operator_id', null],
    ['action', 'action', 'sale.reverse'],
    ['entity', 'entity', 'shift'],
    ['entity_id', 'entity_id', '9999'],
    [
      'details_json (amount)',
      'details_json',
      '{"amountMinor":1,"meter":"x","nested":{"ok":true,"list":[1,"x"]}}',
    ],
    ['details_json (whitespace only)', 'details_json', null],
    ['prev_hash', 'prev_hash', 'f'.repeat(64)],
    ['hash', 'hash', 'e'.repeat(64)],
  ];
  for (const target of [1, 17, ENTRIES]) {
    it.each(edits)(`finds an edited %s of entry ${target} at that entry`, (_, column, value) => {
      const sqlite = chain();
      const original = rowAt(sqlite, target);
      const newValue =
        column === 'details_json' && value === null ? original.details_json.replace(':', ': ') : value;
      expect(newValue).not.toEqual((original as unknown as Record<string, unknown>)[column]);
      sqlite.prepare(`UPDATE audit_log SET ${column} = ? WHERE seq = ?`).run(newValue, target);
      const result = verifyAuditChain(sqlite);
      expect(result.ok).toBe(false);
      expect(result.problems.map((p) => p.seq)).toContain(target);
      // Nothing before the edited entry is blamed.
      expect(Math.min(...result.problems.map((p) => p.seq))).toBe(target);
    });
  }

  it('finds a deleted middle entry (the gap and the broken link)', () => {
    const sqlite = chain();
    sqlite.prepare('DELETE FROM audit_log WHERE seq = 20').run();
    const result = verifyAuditChain(sqlite);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { seq: 21, problem: expect.stringMatching(/entries 20\.\.20 are missing/) },
        { seq: 21, problem: expect.stringMatching(/previous-hash link broken/) },
      ]),
    );
  });

  it('finds deleted entries at the end (SQLite’s AUTOINCREMENT high-water mark remembers them)', () => {
    const sqlite = chain();
    sqlite.prepare('DELETE FROM audit_log WHERE seq > ?').run(ENTRIES - 3);
    const result = verifyAuditChain(sqlite);
    expect(result.ok).toBe(false);
    expect(result.entries).toBe(ENTRIES - 3);
    expect(result.problems).toEqual([
      { seq: ENTRIES, problem: `entries ${ENTRIES - 2}..${ENTRIES} at the end were deleted` },
    ]);
  });

  it('finds the whole log deleted', () => {
    const sqlite = chain();
    sqlite.prepare('DELETE FROM audit_log').run();
    expect(problemSeqs(sqlite)).toEqual([ENTRIES]);
  });

  it('after entries at the end were deleted, new entries do not reuse their numbers (the gap stays visible)', () => {
    const sqlite = chain();
    sqlite.prepare('DELETE FROM audit_log WHERE seq > ?').run(ENTRIES - 2);
    const { seq } = appendAudit(
      sqlite,
      { operatorId: null, action: 'a', entity: 'b', entityId: 'c', details: {} },
      NOW,
    );
    expect(seq).toBe(ENTRIES + 1);
    expect(problemSeqs(sqlite)).toContain(ENTRIES + 1);
  });

  it('finds an entry rewritten with a correctly recomputed hash, at the next entry (its link no longer matches)', () => {
    const sqlite = chain();
    const forged = { ...rowAt(sqlite, 12), details_json: '{"amountMinor":1}' };
    const hash = recompute(forged);
    sqlite
      .prepare('UPDATE audit_log SET details_json = ?, hash = ? WHERE seq = 12')
      .run(forged.details_json, hash);
    const result = verifyAuditChain(sqlite);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { seq: 13, problem: expect.stringMatching(/previous-hash link broken/) },
    ]);
  });

  it('finds two entries swapped (reordered) even with their hashes recomputed in place', () => {
    const sqlite = chain();
    const a = rowAt(sqlite, 8);
    const b = rowAt(sqlite, 9);
    const swap = sqlite.prepare(
      'UPDATE audit_log SET at = ?, operator_id = ?, action = ?, entity = ?, entity_id = ?, details_json = ?, hash = ? WHERE seq = ?',
    );
    sqlite.transaction(() => {
      const newA = { ...b, seq: 8, prev_hash: a.prev_hash };
      const newB = { ...a, seq: 9, prev_hash: b.prev_hash };
      swap.run(
        newA.at,
        newA.operator_id,
        newA.action,
        newA.entity,
        newA.entity_id,
        newA.details_json,
        recompute(newA),
        8,
      );
      swap.run(
        newB.at,
        newB.operator_id,
        newB.action,
        newB.entity,
        newB.entity_id,
        newB.details_json,
        recompute(newB),
        9,
      );
    })();
    expect(problemSeqs(sqlite)).toEqual([9, 10]);
  });

  it('finds an entry moved to another seq (renumbered)', () => {
    const sqlite = chain();
    sqlite.prepare('UPDATE audit_log SET seq = 500 WHERE seq = 5').run();
    const seqs = problemSeqs(sqlite);
    expect(seqs).toContain(6); // entries 5..5 missing
    expect(seqs).toContain(500);
  });

  it('finds a forged entry inserted at the end with a made-up hash', () => {
    const sqlite = chain();
    const last = rowAt(sqlite, ENTRIES);
    sqlite
      .prepare(
        "INSERT INTO audit_log (seq, at, operator_id, action, entity, entity_id, details_json, prev_hash, hash) VALUES (?, ?, NULL, 'x', 'y', 'z', '{}', ?, ?)",
      )
      .run(ENTRIES + 1, NOW.toISOString(), last.hash, 'a'.repeat(64));
    expect(problemSeqs(sqlite)).toEqual([ENTRIES + 1]);
  });
});
