// Build stamps (a hash of the sources a build read, stored beside its output) and the CLI bundle. Plain
// JavaScript, because the `openvend` launcher uses it before any TypeScript can be loaded; typed by
// build-stamp.d.mts.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function* files(path) {
  if (!existsSync(path)) return;
  if (statSync(path).isFile()) {
    yield path;
    return;
  }
  for (const entry of readdirSync(path).sort()) yield* files(join(path, entry));
}

/** SHA-256 over the relative paths and contents of the inputs (files or folders) under root. */
export function sourceHash(root, inputs) {
  const hash = createHash('sha256');
  for (const input of inputs) {
    for (const file of files(join(root, input))) {
      hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

/** True when the stamp file records the current hash of the inputs. */
export function stampIsCurrent(stampFile, root, inputs) {
  if (!existsSync(stampFile)) return false;
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8')).hash === sourceHash(root, inputs);
  } catch {
    return false;
  }
}

export function writeStamp(stampFile, hash) {
  writeFileSync(stampFile, `${JSON.stringify({ hash, builtAt: new Date().toISOString() })}\n`);
}

/** What the CLI bundle is built from: a change to any of these makes dist/node stale. */
export const CLI_BUNDLE_INPUTS = ['src-main', 'src-shared', 'sync-server', 'package-lock.json'];

const cliStamp = (root) => join(root, 'dist', 'node', '.openvend-build.json');

export const cliBundleIsCurrent = (root) => stampIsCurrent(cliStamp(root), root, CLI_BUNDLE_INPUTS);

/**
 * Compiles the CLI and the engine thread into dist/node (esbuild, ESM, dependencies left to node_modules), so
 * `openvend` starts without compiling TypeScript at run time. About a second; `npm ci` runs it once.
 */
export async function buildCliBundle(root) {
  const { build } = await import('esbuild');
  const hash = sourceHash(root, CLI_BUNDLE_INPUTS);
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // Built beside the live bundle and swapped in, so a launcher starting meanwhile never finds it half-written.
  const out = join(root, 'dist', 'node');
  const next = `${out}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  await build({
    entryPoints: {
      openvend: join(root, 'src-main', 'cli', 'main.ts'),
      // Same name as the development bootstrap beside engine-thread.ts, so the thread finds it either way.
      'engine-worker': join(root, 'src-main', 'host', 'engine-worker.ts'),
    },
    outdir: next,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Each command family in its own chunk, loaded on demand (see buildProgram in src-main/cli/main.ts).
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    define: { 'process.env.OPENVEND_BUNDLED_VERSION': JSON.stringify(version) },
  });
  writeStamp(join(next, '.openvend-build.json'), hash);
  const old = `${out}.old-${process.pid}`;
  if (existsSync(out)) renameSync(out, old);
  renameSync(next, out);
  rmSync(old, { recursive: true, force: true });
}
