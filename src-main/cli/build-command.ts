import type { Command } from 'commander';
import { buildCliBundle } from '../bin/build-stamp.mjs';
import { buildElectronBundles } from '../host/electron-build.ts';
import { ensureRendererBuilt, REPO_ROOT } from '../host/renderer-build.ts';

export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description(
      'Build the UI (Vite, into dist/renderer) and the Electron bundles (esbuild, into dist/electron)',
    )
    .option('--if-stale', 'only rebuild the UI when its sources changed since the last build')
    .action(async (options: { ifStale?: boolean }) => {
      const built = await ensureRendererBuilt({ force: options.ifStale !== true, quiet: true });
      process.stdout.write(built ? 'UI built in dist/renderer.\n' : 'UI build is current.\n');
      await buildCliBundle(REPO_ROOT);
      process.stdout.write('CLI and engine thread compiled into dist/node.\n');
      const bundles = await buildElectronBundles();
      process.stdout.write(`Electron bundles: ${bundles.length} in dist/electron.\n`);
    });
}
