import { join } from 'node:path';
import { REPO_ROOT } from './renderer-build.ts';

export const ELECTRON_DIST = join(REPO_ROOT, 'dist', 'electron');

/** Native modules and Electron itself stay outside the bundles (electron-builder unpacks and rebuilds the natives). */
const EXTERNAL = ['electron', 'better-sqlite3', 'serialport', 'node-hid', 'pcsclite'];

/** Bundles the Electron main process, the sandboxed preload and the engine thread into dist/electron. */
export async function buildElectronBundles(): Promise<string[]> {
  const { build } = await import('esbuild');
  const entries = {
    main: join(REPO_ROOT, 'src-main', 'electron', 'main.ts'),
    preload: join(REPO_ROOT, 'src-main', 'electron', 'preload.ts'),
    'engine-worker': join(REPO_ROOT, 'src-main', 'host', 'engine-worker.ts'),
  };
  await build({
    entryPoints: entries,
    outdir: ELECTRON_DIST,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    sourcemap: true,
    logLevel: 'warning',
  });
  return Object.keys(entries).map((name) => join(ELECTRON_DIST, `${name}.cjs`));
}
