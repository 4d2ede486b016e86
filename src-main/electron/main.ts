import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, protocol, session } from 'electron';
import { startEngineThread } from '../host/engine-thread.ts';
import { createLogger } from '../host/logger.ts';
import { resolveDataDir } from '../ledger/data-dir.ts';
import { serveAppRequest } from './app-protocol.ts';
import { registerBridgeHandlers } from './bridge-ipc.ts';
import { createSpoolerPrint, printWindowOptions } from './spooler-print.ts';
import {
  APP_SCHEME,
  APP_START_URL,
  denyAllPermissions,
  lockDownContents,
  mainWindowOptions,
} from './window-security.ts';

/**
 * The desktop shell (thin: everything it calls is tested in plain Node). Bundled by esbuild into
 * dist/electron/main.mjs next to preload.cjs, engine-worker.mjs and the renderer build in dist/renderer.
 */
const log = createLogger();
const here = fileURLToPath(new URL('.', import.meta.url));
const rendererDir = join(here, '..', 'renderer');

if (!app.requestSingleInstanceLock()) {
  // Two windows on one ledger would be two cashiers on one drawer: the second start focuses the first.
  app.quit();
} else {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
  app.on('web-contents-created', (_event, contents) => lockDownContents(contents));
  void start();
}

async function start() {
  await app.whenReady();
  denyAllPermissions(session.defaultSession);
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(request, rendererDir));

  const engine = await startEngineThread(
    {
      dataDir: resolveDataDir(),
      host: 'electron',
      demo: process.env.OPENVEND_DEMO === '1',
    },
    join(here, 'engine-worker.mjs'),
    { spool: createSpoolerPrint(() => new BrowserWindow(printWindowOptions())) },
  );
  registerBridgeHandlers(ipcMain, engine, log);

  const window = new BrowserWindow(mainWindowOptions(join(here, 'preload.cjs')));
  window.once('ready-to-show', () => window.show());
  await window.loadURL(APP_START_URL);

  app.on('second-instance', () => {
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => {
    void engine.close().finally(() => app.quit());
  });
}
