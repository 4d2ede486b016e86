import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BridgeErrorView, BridgeResponse } from '../../src-shared/bridge/contract.ts';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import type { SpoolJob, SpoolPrint } from '../devices/drivers/spooler-printer.ts';
import { EngineError } from '../engine/errors.ts';
import { REPO_ROOT } from './renderer-build.ts';

export interface EngineThreadOptions {
  dataDir: string;
  host: 'electron' | 'browser';
  demo: boolean;
  logLevel?: string;
  /** Wire the simulated printer and card devices into the engine (`--simulate-devices`). */
  simulateDevices?: boolean;
}

/** What the worker receives: the options plus whether the host has a print path for spooler printers. */
export interface EngineWorkerData extends EngineThreadOptions {
  spooler: boolean;
}

/** Services of the host process the engine thread may ask for (functions: they cannot travel in workerData). */
export interface EngineHostHooks {
  /** The desktop shell's print path for printers behind the OS spooler (Electron only). */
  spool?: SpoolPrint;
}

export type ToEngine =
  | { type: 'call'; id: number; method: string; request: unknown }
  | { type: 'spooled'; id: number; error: BridgeErrorView | null }
  | { type: 'close' };
export type FromEngine =
  | { type: 'ready' }
  | { type: 'spool'; id: number; job: SpoolJob }
  | { type: 'failed'; error: BridgeErrorView }
  | { type: 'reply'; id: number; response: BridgeResponse }
  | { type: 'closed' };

/** Anything that answers bridge calls: the engine thread, or an in-process service in tests. */
export interface BridgeCaller {
  call(method: string, request: unknown): Promise<BridgeResponse>;
}

export interface EngineThread extends BridgeCaller {
  close(): Promise<void>;
}

/**
 * The engine thread's entry: the compiled one when this code runs from the CLI bundle (dist/node), else the
 * development bootstrap beside this file (tsx). The desktop app passes its own bundle explicitly.
 */
const defaultEntry = (): URL | string =>
  process.env.OPENVEND_BUNDLED_VERSION
    ? join(REPO_ROOT, 'dist', 'node', 'engine-worker.mjs')
    : new URL('./engine-worker.mjs', import.meta.url);

/**
 * Starts the engine in a worker thread and resolves once the ledger is open (or rejects with the engine's
 * own error, e.g. a damaged or too-new ledger). Calls are matched to replies by id; if the thread dies, every
 * waiting call gets a clear error instead of hanging.
 */
export function startEngineThread(
  options: EngineThreadOptions,
  entry: URL | string = defaultEntry(),
  hooks: EngineHostHooks = {},
): Promise<EngineThread> {
  const workerData: EngineWorkerData = { ...options, spooler: hooks.spool !== undefined };
  const worker = new Worker(entry, { workerData });
  const waiting = new Map<number, (response: BridgeResponse) => void>();
  let nextId = 1;
  let stopped: BridgeErrorView | null = null;
  let onClosed: (() => void) | null = null;

  const stop = (error: BridgeErrorView) => {
    stopped ??= error;
    for (const resolve of waiting.values()) resolve({ ok: false, error: stopped });
    waiting.clear();
  };

  return new Promise((resolve, reject) => {
    worker.on('message', (message: FromEngine) => {
      switch (message.type) {
        case 'ready':
          resolve(thread);
          break;
        case 'failed':
          reject(
            new EngineError(
              'ENGINE_START_FAILED',
              message.error.userMessage,
              `${message.error.code}: ${message.error.detail}`,
            ),
          );
          break;
        case 'reply':
          waiting.get(message.id)?.(message.response);
          waiting.delete(message.id);
          break;
        case 'closed':
          onClosed?.();
          break;
        case 'spool':
          void runSpool(hooks.spool, message.job).then((error) =>
            worker.postMessage({ type: 'spooled', id: message.id, error } satisfies ToEngine),
          );
          break;
      }
    });
    worker.on('error', (error) => {
      stop({
        code: 'ENGINE_STOPPED',
        userMessage: 'The OpenVend engine stopped. Restart OpenVend.',
        detail: String(error),
      });
      reject(error);
    });
    worker.on('exit', (code) => {
      stop({
        code: 'ENGINE_STOPPED',
        userMessage: 'The OpenVend engine stopped. Restart OpenVend.',
        detail: `exit ${code}`,
      });
      onClosed?.();
    });

    const thread: EngineThread = {
      call(method, request) {
        if (stopped) return Promise.resolve({ ok: false, error: stopped });
        const id = nextId++;
        return new Promise((done) => {
          waiting.set(id, done);
          worker.postMessage({ type: 'call', id, method, request } satisfies ToEngine);
        });
      },
      close() {
        if (stopped) return Promise.resolve();
        return new Promise<void>((done) => {
          onClosed = () => {
            onClosed = null;
            done();
          };
          worker.postMessage({ type: 'close' } satisfies ToEngine);
        }).then(() => worker.terminate().then(() => undefined));
      },
    };
  });
}

/** Runs a spool job for the engine thread; the failure (never thrown) goes back as an error view. */
export async function runSpool(
  spool: SpoolPrint | undefined,
  job: SpoolJob,
): Promise<BridgeErrorView | null> {
  if (!spool) {
    return {
      code: 'DEVICE_UNAVAILABLE',
      userMessage: 'This OpenVend has no system print path.',
      detail: 'spool request without a host print path',
    };
  }
  try {
    await spool(job);
    return null;
  } catch (error) {
    return isOpenVendError(error)
      ? { code: error.code, userMessage: error.userMessage, detail: error.detail }
      : {
          code: 'PRINTER_FAULT',
          userMessage:
            'The system print queue did not take the receipt. Check the printer in the system settings.',
          detail: String(error),
        };
  }
}
