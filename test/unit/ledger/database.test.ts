import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../../src-main/engine/demo.ts';
import { LEDGER_FILE } from '../../../src-main/ledger/data-dir.ts';
import { openLedger } from '../../../src-main/ledger/database.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-database-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(work, `d${++dirs}`);

function thrown(action: () => unknown): OpenVendError {
  try {
    action();
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected an OpenVendError, nothing was thrown');
}

/** A real demo ledger, closed (its WAL folded into the file), ready to be damaged. */
function demoLedgerFile(): { dir: string; path: string } {
  const dir = freshDir();
  const ledger = openLedger(dir);
  seedDemo(ledger.sqlite, randomBytes(32), new Date('2026-03-10T08:00:00Z'));
  ledger.close();
  return { dir, path: join(dir, LEDGER_FILE) };
}

function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

const pageSize = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
};

function expectCorruptRefusal(dir: string): OpenVendError {
  const error = thrown(() => openLedger(dir));
  expect(error.code).toBe('LEDGER_CORRUPT');
  expect(error.userMessage).toMatch(/restore the latest backup/i);
  expect(error.userMessage).toContain('openvend restore');
  expect(error.detail).toContain(join(dir, LEDGER_FILE));
  return error;
}

describe('openLedger', () => {
  it('creates the data directory owner-only and the ledger file', () => {
    const dir = freshDir();
    const ledger = openLedger(dir);
    try {
      expect(statSync(dir).isDirectory()).toBe(true);
      if (process.platform !== 'win32') expect(statSync(dir).mode & 0o077).toBe(0);
      expect(ledger.path).toBe(join(dir, LEDGER_FILE));
      expect(statSync(ledger.path).isFile()).toBe(true);
    } finally {
      ledger.close();
    }
  });

  it('sets WAL, synchronous=FULL, foreign_keys=ON and a busy timeout', () => {
    const ledger = openLedger(freshDir());
    try {
      expect(ledger.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(ledger.sqlite.pragma('synchronous', { simple: true })).toBe(2);
      expect(ledger.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(ledger.sqlite.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);
    } finally {
      ledger.close();
    }
  });

  it('enforces foreign keys on the connection it returns', () => {
    const ledger = openLedger(freshDir());
    try {
      expect(() =>
        ledger.sqlite
          .prepare(
            "INSERT INTO sale_line (sale_id, kind, description, amount_minor) VALUES (999, 'energy', 'x', 1)",
          )
          .run(),
      ).toThrow(/FOREIGN KEY/);
    } finally {
      ledger.close();
    }
  });

  it('leaves the WAL mode in the file, so other connections are WAL too', () => {
    const dir = freshDir();
    openLedger(dir).close();
    const other = new Database(join(dir, LEDGER_FILE), { readonly: true });
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      other.close();
    }
  });

  it('a second connection waits for the write lock instead of failing at once', () => {
    const dir = freshDir();
    const a = openLedger(dir);
    const b = openLedger(dir);
    try {
      a.sqlite.exec('BEGIN IMMEDIATE');
      b.sqlite.pragma('busy_timeout = 200');
      const started = Date.now();
      expect(() => b.sqlite.exec("INSERT INTO counter (name, value) VALUES ('x', 1)")).toThrow(
        /busy|locked/i,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      a.sqlite.exec('COMMIT');
      b.sqlite.exec("INSERT INTO counter (name, value) VALUES ('x', 1)");
    } finally {
      a.close();
      b.close();
    }
  });

  it('opens readonly: reads work, writes are refused, no migration is attempted', () => {
    const { dir } = demoLedgerFile();
    const ledger = openLedger(dir, { readonly: true });
    try {
      expect(ledger.sqlite.readonly).toBe(true);
      expect((ledger.sqlite.prepare('SELECT count(*) AS n FROM meter').get() as { n: number }).n).toBe(24);
      expect(ledger.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(() => ledger.sqlite.prepare('DELETE FROM meter').run()).toThrow(/readonly/i);
    } finally {
      ledger.close();
    }
    // The file is unchanged by a readonly open and still opens read-write.
    openLedger(dir).close();
  });

  it('a readonly open of a ledger that is being written sees committed data (WAL)', () => {
    const { dir } = demoLedgerFile();
    const writer = openLedger(dir);
    const reader = openLedger(dir, { readonly: true });
    try {
      writer.sqlite.prepare("INSERT INTO counter (name, value) VALUES ('marker', 42)").run();
      expect(reader.sqlite.prepare("SELECT value FROM counter WHERE name = 'marker'").get()).toEqual({
        value: 42,
      });
    } finally {
      reader.close();
      writer.close();
    }
  });
});

describe('openLedger refuses a damaged file (LEDGER_CORRUPT, "restore a backup")', () => {
  it('garbage over a b-tree page in the middle of a real ledger', () => {
    const { dir, path } = demoLedgerFile();
    const size = pageSize(path);
    const pages = statSync(path).size / size;
    expect(pages).toBeGreaterThan(10);
    const probe = new Database(path, { readonly: true });
    expect(probe.pragma('freelist_count', { simple: true })).toBe(0); // every page is in use
    probe.close();
    overwrite(path, size * Math.floor(pages / 2), Buffer.alloc(size, 0xa5));
    const error = expectCorruptRefusal(dir);
    expect(error.userMessage).toMatch(/damaged|cannot be opened/);
  });

  it('garbage over the last page', () => {
    const { dir, path } = demoLedgerFile();
    const size = pageSize(path);
    overwrite(path, statSync(path).size - size, Buffer.alloc(size, 0x5a));
    expectCorruptRefusal(dir);
  });

  it('garbage over the file header (page 1)', () => {
    const { dir, path } = demoLedgerFile();
    overwrite(path, 0, Buffer.alloc(100, 0x5a));
    expectCorruptRefusal(dir);
  });

  it('a truncated file', () => {
    const { dir, path } = demoLedgerFile();
    truncateSync(path, Math.floor(statSync(path).size / 2));
    expectCorruptRefusal(dir);
  });

  it('a text file where the ledger should be', () => {
    const dir = freshDir();
    openLedger(dir).close();
    overwrite(
      join(dir, LEDGER_FILE),
      0,
      Buffer.from('this is not a database, it is a shopping list\n'.repeat(200)),
    );
    expectCorruptRefusal(dir);
  });

  it('the refusal leaves the damaged file in place (nothing is "repaired" or recreated)', () => {
    const { dir, path } = demoLedgerFile();
    truncateSync(path, 5000);
    const before = readFileSync(path);
    expectCorruptRefusal(dir);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
