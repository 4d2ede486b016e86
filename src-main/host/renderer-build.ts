import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceHash, stampIsCurrent, writeStamp } from '../bin/build-stamp.mjs';

/**
 * The repository (or packaged app) root: the nearest folder above this module whose package.json is ours. Found by
 * walking up, because this code runs from src-main/host, from a bundle in dist/node (or one of its chunks) and from
 * dist/electron inside the packaged app.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'openvend'
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no openvend package.json above ${from}`);
  }
}

export const REPO_ROOT = findRoot(fileURLToPath(new URL('.', import.meta.url)));
export const RENDERER_DIST = join(REPO_ROOT, 'dist', 'renderer');
const STAMP = '.openvend-build.json';
const INPUTS = ['src-renderer', 'src-shared', 'vite.config.ts', 'package-lock.json'];

/** A hash of everything the renderer build reads: a different hash means the build in dist/ is stale. */
export const rendererSourceHash = (root = REPO_ROOT): string => sourceHash(root, INPUTS);

export const rendererBuildIsCurrent = (root = REPO_ROOT): boolean =>
  stampIsCurrent(join(root, 'dist', 'renderer', STAMP), root, INPUTS);

/**
 * Builds the renderer with Vite when its sources changed since the last build (npm ci builds it once through the
 * `prepare` script, so a normal start finds it current and starts at once). Returns whether it built.
 */
export async function ensureRendererBuilt(
  options: { force?: boolean; quiet?: boolean } = {},
): Promise<boolean> {
  if (!options.force && rendererBuildIsCurrent()) return false;
  const release = await buildLock();
  try {
    // Another process may have built it while this one waited for the lock.
    if (!options.force && rendererBuildIsCurrent()) return false;
    const hash = rendererSourceHash();
    await viteBuild(options.quiet === true);
    writeStamp(join(RENDERER_DIST, STAMP), hash);
    return true;
  } finally {
    release();
  }
}

/**
 * Vite runs in its own process with NODE_ENV=production: a build started from a test process (NODE_ENV=test)
 * would otherwise compile JSX for React's development runtime and ship a blank page.
 */
function viteBuild(quiet: boolean): Promise<void> {
  const vite = join(
    dirname(createRequire(join(REPO_ROOT, 'package.json')).resolve('vite/package.json')),
    'bin',
    'vite.js',
  );
  const args = [
    vite,
    'build',
    '--config',
    join(REPO_ROOT, 'vite.config.ts'),
    ...(quiet ? ['--logLevel', 'warn'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`vite build failed (exit ${code}); run "npm run build" to see why`)),
    );
  });
}

const LOCK = join(REPO_ROOT, 'dist', '.renderer-build.lock');
/** A lock older than this belongs to a build that died. */
const STALE_LOCK_MS = 5 * 60_000;

/** One build at a time across processes (two starts or test files must not write dist/renderer together). */
async function buildLock(): Promise<() => void> {
  mkdirSync(dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
