import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stsSelfTest } from '../../src-shared/sts/self-test.ts';
import { createDemoOutlet } from '../engine/demo.ts';
import { startBrowserMode } from '../host/browser-mode.ts';
import { buildElectronBundles, ELECTRON_DIST } from '../host/electron-build.ts';
import { fetchElectronOnce } from '../host/electron-runtime.ts';
import { ensureRendererBuilt } from '../host/renderer-build.ts';
import { LEDGER_FILE, resolveDataDir } from '../ledger/data-dir.ts';
import { CliInputError, EXIT } from './io.ts';

interface StartOptions {
  dataDir?: string;
  demo?: boolean;
  browser?: boolean;
  port: string;
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  retryElectron?: boolean;
  simulateDevices?: boolean;
}

/** The default browser-mode port; when it is taken, a free one is used and printed. */
export const DEFAULT_PORT = 4270;

const say = (line: string) => process.stdout.write(`${line}\n`);

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new CliInputError(`--port ${text} is not a port number`);
  return port;
}

/** A fresh demo outlet in a new temporary folder (demo keys and passwords: never for real money). */
function freshDemoDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openvend-demo-'));
  createDemoOutlet(dir, new Date());
  return dir;
}

export function registerStartCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('start')
    .description(
      'Start the OpenVend desktop app; without the Electron runtime, the same UI in browser mode on 127.0.0.1',
    )
    .option('--data-dir <dir>', 'outlet data folder (default: OPENVEND_DATA_DIR or the OS app-data folder)')
    .option('--demo', 'start on a fresh demo outlet in a new temporary folder')
    .option('--browser', 'browser mode even when the Electron runtime is present (e.g. a second screen)')
    .option('--port <n>', 'browser mode port (0 = any free port)', String(DEFAULT_PORT))
    .option(
      '--listen <address>',
      'address to serve on; anything but loopback needs --tls-cert and --tls-key',
      '127.0.0.1',
    )
    .option('--tls-cert <file>', 'TLS certificate (PEM) for serving other computers')
    .option('--tls-key <file>', 'TLS private key (PEM) for serving other computers')
    .option('--retry-electron', 'try again to fetch the Electron runtime after an earlier failure')
    .option('--simulate-devices', 'use simulated receipt printer and card devices (demos, training, tests)')
    .action(async (options: StartOptions) => {
      const selfTest = stsSelfTest();
      if (selfTest.failed.length > 0) {
        process.stderr.write(
          `STS engine failed its self-test (${selfTest.failed.join(', ')}): not starting.\n`,
        );
        setExitCode(EXIT.failed);
        return;
      }
      let dataDir = resolveDataDir(options.dataDir);
      let demo = options.demo === true;
      if (demo) dataDir = freshDemoDir();
      else if (!existsSync(join(dataDir, LEDGER_FILE))) {
        if (options.dataDir)
          throw new CliInputError(`There is no outlet in ${dataDir}. Run "openvend init" first.`);
        say(
          `No outlet is set up in ${dataDir} yet: starting a demo outlet instead (set one up with "openvend init").`,
        );
        dataDir = freshDemoDir();
        demo = true;
      }
      if (demo) say(`Demo outlet in ${dataDir} (demo keys and passwords: never for real money).`);
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
        throw new CliInputError('Give both --tls-cert and --tls-key, or neither.');
      }

      if (!options.browser) {
        const electron = fetchElectronOnce({ retry: options.retryElectron === true });
        if (electron.binary) {
          await ensureRendererBuilt({ quiet: true });
          await buildElectronBundles();
          say('Starting the OpenVend desktop app…');
          const child = spawn(electron.binary, [join(ELECTRON_DIST, 'main.mjs')], {
            stdio: 'inherit',
            env: {
              ...process.env,
              OPENVEND_DATA_DIR: dataDir,
              OPENVEND_DEMO: demo ? '1' : '',
              OPENVEND_SIMULATE_DEVICES: options.simulateDevices ? '1' : '',
            },
          });
          await new Promise<void>((resolve) =>
            child.on('exit', (code) => {
              setExitCode(code ?? EXIT.failed);
              resolve();
            }),
          );
          return;
        }
        say(`Browser mode: ${electron.reason}.`);
      }

      const simulateDevices = options.simulateDevices === true;
      if (simulateDevices)
        say('Simulated devices: receipt printer, magnetic card encoder and IC card reader.');
      const started = await startBrowserMode({
        dataDir,
        demo,
        simulateDevices,
        port: parsePort(options.port),
        hostname: options.listen,
        ...(options.tlsCert && options.tlsKey ? { tls: { cert: options.tlsCert, key: options.tlsKey } } : {}),
      }).catch(async (error: unknown) => {
        if ((error as { code?: string }).code !== 'EADDRINUSE' || options.port === '0') throw error;
        say(`Port ${options.port} is taken: using a free port.`);
        return startBrowserMode({ dataDir, demo, simulateDevices, port: 0, hostname: options.listen });
      });
      say(`OpenVend is running. Open this address in a browser on this computer: ${started.host.pairUrl}`);
      say(demo ? 'Stop with Ctrl+C (the demo outlet is deleted then).' : 'Stop with Ctrl+C.');
      await new Promise<void>((resolve) => {
        const stop = () => {
          void started.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      if (demo) rmSync(dataDir, { recursive: true, force: true });
    });
}
