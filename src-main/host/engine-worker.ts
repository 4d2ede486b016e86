import { parentPort, workerData } from 'node:worker_threads';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { startEngineDevices, stopEngineDevices } from '../devices/engine-devices.ts';
import { createEngineService, type RunningService } from '../service/create-service.ts';
import { type SyncClient, startSyncIfEnrolled } from '../sync/client.ts';
import type { EngineThreadOptions, FromEngine, ToEngine } from './engine-thread.ts';
import { createLogger } from './logger.ts';

/**
 * The engine's thread: the ledger (synchronous SQLite), the STS engine and, later, the devices run here, so a slow
 * query or a long import never freezes the window or the HTTP host. Requests are handled one at a time, in order.
 */
const port = parentPort;
if (!port) throw new Error('engine-worker must run in a worker thread');
const options = workerData as EngineThreadOptions;
const log = createLogger(options.logLevel);

let running: RunningService;
let sync: SyncClient | null = null;
try {
  running = createEngineService({ host: options.host, demo: options.demo, dataDir: options.dataDir, log });
  // Uploads to the sync server run in this thread on their own timer, once the outlet is enrolled.
  sync = startSyncIfEnrolled({ sqlite: running.open.ledger.sqlite, dataDir: options.dataDir, log });
  startEngineDevices(running.open, {
    dataDir: options.dataDir,
    simulate: options.simulateDevices ?? process.env.OPENVEND_SIMULATE_DEVICES === '1',
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
