import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './renderer-build.ts';

/** Where we remember that fetching the Electron runtime failed, so each start does not wait for it again. */
const FETCH_MARKER = join(REPO_ROOT, 'node_modules', '.cache', 'openvend', 'electron-fetch.json');

/** The Electron binary installed with the electron package, or null when its download was skipped or failed. */
export function electronBinary(): string | null {
  try {
    const path = createRequire(join(REPO_ROOT, 'package.json'))('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

export interface ElectronFetchOutcome {
  binary: string | null;
  /** Why there is no binary (shown to the user). */
  reason: string;
}

/**
 * Tries once to fetch the Electron runtime through Electron's own installer. A failure is remembered, so later
 * starts go straight to browser mode; `retry` tries again (e.g. after the network was fixed).
 */
export function fetchElectronOnce(
  options: { retry?: boolean; timeoutMs?: number } = {},
): ElectronFetchOutcome {
  const existing = electronBinary();
  if (existing) return { binary: existing, reason: '' };
  if (!options.retry && existsSync(FETCH_MARKER)) {
    const { reason, at } = JSON.parse(readFileSync(FETCH_MARKER, 'utf8')) as { reason: string; at: string };
    return {
      binary: null,
      reason: `${reason} (tried at ${at}; run "npm start -- --retry-electron" to try again)`,
    };
  }
  let installer: string;
  try {
    installer = join(
      dirname(createRequire(join(REPO_ROOT, 'package.json')).resolve('electron/package.json')),
      'install.js',
    );
  } catch {
    return { binary: null, reason: 'the electron package is not installed' };
  }
  const run = spawnSync(process.execPath, [installer], {
    cwd: dirname(installer),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
  });
  const binary = electronBinary();
  if (binary) return { binary, reason: '' };
  const output = `${run.stderr ?? ''}${run.stdout ?? ''}`;
  const networkLine = output
    .split('\n')
    .find((line) => /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(line));
  const reason = networkLine
    ? `the Electron runtime could not be downloaded (${networkLine.trim()})`
    : `the Electron runtime could not be installed (exit ${run.status ?? run.signal})`;
  mkdirSync(dirname(FETCH_MARKER), { recursive: true });
  writeFileSync(FETCH_MARKER, `${JSON.stringify({ reason, at: new Date().toISOString() })}\n`);
  return { binary: null, reason };
}
