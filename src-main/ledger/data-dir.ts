import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where the outlet's data lives: an explicit --data-dir, else OPENVEND_DATA_DIR, else the OS's
 * per-user application-data folder.
 */
export function resolveDataDir(
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string {
  if (explicit) return explicit;
  if (env.OPENVEND_DATA_DIR) return env.OPENVEND_DATA_DIR;
  switch (platform) {
    case 'win32':
      return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'OpenVend');
    case 'darwin':
      return join(homedir(), 'Library', 'Application Support', 'OpenVend');
    default: {
      // The XDG spec: an empty or relative XDG_DATA_HOME is ignored.
      const xdg = env.XDG_DATA_HOME;
      return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'share'), 'openvend');
    }
  }
}

export const LEDGER_FILE = 'outlet.db';
export const BACKUP_DIR = 'backups';
