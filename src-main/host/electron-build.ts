import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { APP_VERSION } from '../app-version.ts';
import { REPO_ROOT } from './renderer-build.ts';

export const ELECTRON_DIST = join(REPO_ROOT, 'dist', 'electron');

/** Native modules and Electron itself stay outside the bundles (electron-builder unpacks and rebuilds the natives). */
const EXTERNAL = [
  'electron',
  'better-sqlite3',
  'serialport',
  '@serialport/*',
  'node-hid',
  '@pokusew/pcsclite',
];

/**
 * Bundles the Electron main process and the engine thread (ESM, .mjs) and the sandboxed preload (CommonJS: a
 * sandboxed preload cannot be an ES module) into dist/electron.
 */
export async function buildElectronBundles(): Promise<string[]> {
  const { build } = await import('esbuild');
  rmSync(ELECTRON_DIST, { recursive: true, force: true });
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node20',
    external: EXTERNAL,
    sourcemap: true,
    logLevel: 'warning' as const,
    define: { 'process.env.OPENVEND_BUNDLED_VERSION': JSON.stringify(APP_VERSION) },
  };
  await build({
    ...common,
    entryPoints: {
      main: join(REPO_ROOT, 'src-main', 'electron', 'main.ts'),
      'engine-worker': join(REPO_ROOT, 'src-main', 'host', 'engine-worker.ts'),
    },
    outdir: ELECTRON_DIST,
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    // Bundled CommonJS dependencies (pino, fastify's helpers) still call require(): give them one.
    banner: {
      js: "import { createRequire as __openvendRequire } from 'node:module'; const require = __openvendRequire(import.meta.url);",
    },
  });
  await build({
    ...common,
    entryPoints: { preload: join(REPO_ROOT, 'src-main', 'electron', 'preload.ts') },
    outdir: ELECTRON_DIST,
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
  });
  return ['main.mjs', 'engine-worker.mjs', 'preload.cjs'].map((name) => join(ELECTRON_DIST, name));
}
