import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKUP_DIR, LEDGER_FILE, resolveDataDir } from '../../../src-main/ledger/data-dir.ts';

const allEnv = {
  OPENVEND_DATA_DIR: '/srv/openvend-env',
  XDG_DATA_HOME: '/home/thandi/.data',
  APPDATA: 'C:\\Users\\thandi\\AppData\\Roaming',
};

describe('resolveDataDir', () => {
  it('an explicit --data-dir wins over everything', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(resolveDataDir('/explicit/dir', allEnv, platform)).toBe('/explicit/dir');
    }
  });

  it('OPENVEND_DATA_DIR wins over the platform default', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(resolveDataDir(undefined, allEnv, platform)).toBe('/srv/openvend-env');
    }
  });

  it('an empty --data-dir or OPENVEND_DATA_DIR counts as not given', () => {
    expect(resolveDataDir('', { OPENVEND_DATA_DIR: '/srv/x' }, 'linux')).toBe('/srv/x');
    expect(resolveDataDir(undefined, { OPENVEND_DATA_DIR: '', XDG_DATA_HOME: '/xdg' }, 'linux')).toBe(
      join('/xdg', 'openvend'),
    );
  });

  it('linux: $XDG_DATA_HOME/openvend, else ~/.local/share/openvend', () => {
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: '/home/thandi/.data' }, 'linux')).toBe(
      join('/home/thandi/.data', 'openvend'),
    );
    expect(resolveDataDir(undefined, {}, 'linux')).toBe(join(homedir(), '.local', 'share', 'openvend'));
  });

  it('other unixes (freebsd) use the XDG rule too', () => {
    expect(resolveDataDir(undefined, {}, 'freebsd')).toBe(join(homedir(), '.local', 'share', 'openvend'));
  });

  // Regression (found in review): `env.XDG_DATA_HOME ?? …` treats an empty (or relative) XDG_DATA_HOME as set, giving the
  // relative path "openvend" (the ledger would land in whatever the current directory is). The XDG spec
  // says to ignore an empty or relative value. See the report.
  it('linux: an empty or relative XDG_DATA_HOME is ignored (XDG base-directory spec)', () => {
    const fallback = join(homedir(), '.local', 'share', 'openvend');
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: '' }, 'linux')).toBe(fallback);
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: 'relative/dir' }, 'linux')).toBe(fallback);
  });

  it('darwin: ~/Library/Application Support/OpenVend (XDG_DATA_HOME and APPDATA are not used)', () => {
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: '/x', APPDATA: '/y' }, 'darwin')).toBe(
      join(homedir(), 'Library', 'Application Support', 'OpenVend'),
    );
  });

  it('win32: %APPDATA%\\OpenVend, else ~/AppData/Roaming/OpenVend', () => {
    expect(resolveDataDir(undefined, { APPDATA: allEnv.APPDATA, XDG_DATA_HOME: '/x' }, 'win32')).toBe(
      join(allEnv.APPDATA, 'OpenVend'),
    );
    expect(resolveDataDir(undefined, {}, 'win32')).toBe(join(homedir(), 'AppData', 'Roaming', 'OpenVend'));
  });

  it('every default is absolute', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(isAbsolute(resolveDataDir(undefined, {}, platform))).toBe(true);
    }
  });

  it('defaults to process.env and process.platform', () => {
    const saved = process.env.OPENVEND_DATA_DIR;
    process.env.OPENVEND_DATA_DIR = '/from/process/env';
    try {
      expect(resolveDataDir()).toBe('/from/process/env');
    } finally {
      if (saved === undefined) delete process.env.OPENVEND_DATA_DIR;
      else process.env.OPENVEND_DATA_DIR = saved;
    }
  });

  it('names the ledger file and the backup folder', () => {
    expect(LEDGER_FILE).toBe('outlet.db');
    expect(BACKUP_DIR).toBe('backups');
  });
});
