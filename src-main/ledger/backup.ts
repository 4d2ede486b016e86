import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { APP_VERSION } from '../app-version.ts';
import { BACKUP_DIR, LEDGER_FILE } from './data-dir.ts';
import { LedgerError } from './errors.ts';
import { BUNDLED_MIGRATIONS } from './migrations/bundled.ts';
import { migrate } from './migrator.ts';

export const DEFAULT_BACKUPS_KEPT = 14;

const stamp = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

function quickCheck(path: string): void {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const result = db.pragma('quick_check', { simple: true });
    if (result !== 'ok') throw new Error(String(result));
  } finally {
    db.close();
  }
}

/** A name for the replaced ledger that never overwrites an earlier one. */
function keptName(dataDir: string, at: Date): string {
  const base = join(dataDir, `${LEDGER_FILE}.before-restore-${stamp(at)}`);
  let candidate = base;
  for (let n = 2; existsSync(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

export interface BackupResult {
  path: string;
  bytes: number;
  removed: string[];
}

/** Pages copied per step: small enough that sales go on between steps, large enough to finish quickly. */
const BACKUP_PAGES_PER_STEP = 2_000;

/**
 * Online backup with SQLite's backup API (consistent while sales continue), verified with quick_check,
 * then rotation: only the newest `keep` backups stay.
 */
export async function backupLedger(
  sqlite: Database.Database,
  dataDir: string,
  at: Date,
  keep = DEFAULT_BACKUPS_KEPT,
  onProgress?: (copiedPages: number, totalPages: number) => void,
): Promise<BackupResult> {
  const dir = join(dataDir, BACKUP_DIR);
  const path = join(dir, `outlet-${stamp(at)}.db`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await sqlite.backup(path, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.(totalPages - remainingPages, totalPages);
        return BACKUP_PAGES_PER_STEP;
      },
    });
    // A backup is one self-contained file: leave WAL mode so no -wal/-shm files are created beside it.
    const copy = new Database(path);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    quickCheck(path);
  } catch (error) {
    rmSync(path, { force: true });
    throw new LedgerError(
      'LEDGER_BACKUP_FAILED',
      'The backup could not be written. Check the disk and try again.',
      `${path}: ${(error as Error).message}`,
    );
  }
  const backups = listBackups(dataDir);
  const removed = backups.slice(keep).map((b) => b.path);
  for (const old of removed) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${old}${suffix}`, { force: true });
  }
  return { path, bytes: statSync(path).size, removed };
}

export function listBackups(dataDir: string): Array<{ path: string; bytes: number }> {
  const dir = join(dataDir, BACKUP_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^outlet-\d{8}T\d{6}Z\.db$/.test(name))
    .sort()
    .reverse()
    .map((name) => ({ path: join(dir, name), bytes: statSync(join(dir, name)).size }));
}

/**
 * Restores a backup in place of the ledger (the engine must not be running). The backup is checked first
 * (integrity, and that this version can open it); the current file is kept beside it, never deleted.
 */
export function restoreLedger(
  dataDir: string,
  backupPath: string,
  at: Date,
): { restoredFrom: string; previousKeptAt: string | null } {
  try {
    quickCheck(backupPath);
    const probe = new Database(backupPath, { readonly: true });
    try {
      const applied = probe
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_migrations'")
        .get()
        ? (probe.prepare('SELECT id FROM _migrations').all() as Array<{ id: string }>)
        : [];
      const known = new Set(BUNDLED_MIGRATIONS.map((m) => m.id));
      const unknown = applied.find((m) => !known.has(m.id));
      if (unknown) throw new Error(`backup has migration ${unknown.id}, unknown to OpenVend ${APP_VERSION}`);
    } finally {
      probe.close();
    }
  } catch (error) {
    throw new LedgerError(
      'LEDGER_RESTORE_FAILED',
      'This backup cannot be restored: it is damaged or from a newer OpenVend. Nothing was changed.',
      `${backupPath}: ${(error as Error).message}`,
    );
  }
  const target = join(dataDir, LEDGER_FILE);
  let previousKeptAt: string | null = null;
  if (existsSync(target)) {
    previousKeptAt = keptName(dataDir, at);
    try {
      // Fold the WAL into the main file first, so the kept copy is complete on its own.
      const current = new Database(target);
      try {
        current.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        current.close();
      }
    } catch {
      // A damaged ledger (the usual reason to restore) cannot be checkpointed: keep its WAL beside it as it is.
    }
    renameSync(target, previousKeptAt);
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${previousKeptAt}${suffix}`);
    }
  }
  for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
  copyFileSync(backupPath, target);
  const restored = new Database(target);
  try {
    migrate(restored, BUNDLED_MIGRATIONS, APP_VERSION);
  } finally {
    restored.close();
  }
  return { restoredFrom: basename(backupPath), previousKeptAt };
}
