import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDataDir } from '../src-main/ledger/data-dir.ts';
import { ServerError } from './errors.ts';

/** The server's folder: --data-dir, else OPENVEND_SERVER_DATA_DIR, else `server/` in the OS app-data folder. */
export function resolveServerDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  if (env.OPENVEND_SERVER_DATA_DIR) return env.OPENVEND_SERVER_DATA_DIR;
  return join(resolveDataDir(undefined, { ...env, OPENVEND_DATA_DIR: '' }), 'server');
}

export const PGLITE_DIR = 'pgdata';
const LOCK_FILE = 'server.lock';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * The embedded database (PGlite) allows one process per folder: the server and `server admin` take this
 * lock first. A lock left by a process that is gone is taken over.
 */
export function lockDataDir(dataDir: string, purpose: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }), {
        flag: 'wx',
        mode: 0o600,
      });
      return { release: () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: { pid?: number; purpose?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
      } catch {
        // Unreadable: written by a process that died mid-write.
      }
      if (typeof holder.pid === 'number' && alive(holder.pid)) {
        throw new ServerError(
          'SERVER_DATA_DIR_LOCKED',
          `The sync server's embedded database in ${dataDir} is in use (${holder.purpose ?? 'another process'}, pid ${holder.pid}). Stop it first, or use PostgreSQL (DATABASE_URL) to run admin commands beside a running server.`,
          path,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new ServerError('SERVER_DATA_DIR_LOCKED', `Cannot lock ${dataDir}.`, path);
}
