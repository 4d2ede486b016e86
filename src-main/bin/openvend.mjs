#!/usr/bin/env node
// The `openvend` launcher. It runs the compiled bundle in dist/node when that is current (npm ci builds it), and
// otherwise the TypeScript sources through tsx, so an edited checkout never runs stale code. `start` rebuilds a
// stale bundle first (about a second), so the desktop app starts quickly.
import { fileURLToPath } from 'node:url';
import { buildCliBundle, cliBundleIsCurrent } from './build-stamp.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fromSource = process.env.OPENVEND_FROM_SOURCE === '1';
let current = !fromSource && cliBundleIsCurrent(root);
if (!current && !fromSource && process.argv[2] === 'start') {
  try {
    await buildCliBundle(root);
    current = true;
  } catch {
    // No esbuild (a production install without dev tools): run from source.
  }
}
let runCli;
if (current) {
  ({ runCli } = await import('../../dist/node/openvend.mjs'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import('../cli/main.ts'));
}
process.exitCode = await runCli(process.argv);
