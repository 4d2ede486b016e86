import { parentPort, workerData } from 'node:worker_threads';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { type SpoolPrint, spoolFailure } from '../devices/drivers/spooler-printer.ts';
import { startEngineDevices, stopEngineDevices } from '../devices/engine-devices.ts';
import { createEngineService, type RunningService } from '../service/create-service.ts';
import { type SyncClient, startSyncIfEnrolled } from '../sync/client.ts';
import type { EngineWorkerData, FromEngine, ToEngine } from './engine-thread.ts';
import { createLogger } from './logger.ts';

/**
 * The engine's thread: the ledger (synchronous SQLite), the STS engine and, later, the devices run here, so a slow
 * query or a long import never freezes the window or the HTTP host. Requests are handled one at a time, in order.
 */
const port = parentPort;
if (!port) throw new Error('engine-worker must run in a worker thread');
const options = workerData as EngineWorkerData;
const log = createLogger(options.logLevel);

// Printers behind the OS spooler print through the host (Electron main): ask it, and wait for its answer.
const spoolWaiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let nextSpoolId = 1;
const spool: SpoolPrint | null = options.spooler
  ? (job) =>
      new Promise<void>((resolve, reject) => {
        const id = nextSpoolId++;
        spoolWaiting.set(id, { resolve, reject });
        port.postMessage({ type: 'spool', id, job } satisfies FromEngine);
      })
  : null;

let running: RunningService;
let sync: SyncClient | null = null;
try {
  running = createEngineService({ host: options.host, demo: options.demo, dataDir: options.dataDir, log });
  // Uploads to the sync server run in this thread on their own timer, once the outlet is enrolled.
  sync = startSyncIfEnrolled({ sqlite: running.open.ledger.sqlite, dataDir: options.dataDir, log });
  startEngineDevices(running.open, {
    dataDir: options.dataDir,
    simulate: options.simulateDevices ?? process.env.OPENVEND_SIMULATE_DEVICES === '1',
    spool,
  });
  port.postMessage({ type: 'ready' } satisfies FromEngine);
} catch (error) {
  const failure = isOpenVendError(error)
    ? { code: error.code, userMessage: error.userMessage, detail: error.detail }
    : { code: 'ENGINE_START_FAILED', userMessage: 'OpenVend could not start.', detail: String(error) };
  port.postMessage({ type: 'failed', error: failure } satisfies FromEngine);
  process.exit(1);
}

port.on('message', async (message: ToEngine) => {
  if (message.type === 'spooled') {
    const waiting = spoolWaiting.get(message.id);
    spoolWaiting.delete(message.id);
    if (message.error) waiting?.reject(spoolFailure(message.error));
    else waiting?.resolve();
    return;
  }
  if (message.type === 'close') {
    await sync?.stop();
    await stopEngineDevices(running.open);
    await running.close();
    port.postMessage({ type: 'closed' } satisfies FromEngine);
    port.close();
    return;
  }
  const response = await running.service.dispatch(message.method, message.request);
  port.postMessage({ type: 'reply', id: message.id, response } satisfies FromEngine);
});
