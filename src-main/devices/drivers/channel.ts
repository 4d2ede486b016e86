import {
  type DeviceKind,
  DeviceNotFoundError,
  DeviceTimeoutError,
  DisconnectedError,
} from '../../../src-shared/devices/device-errors.ts';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { DeviceCancelledError } from '../errors.ts';
import type { ByteTransport } from '../transports/transport.ts';

/** One command in flight per device: callers queue in order; a failed command never blocks the next. */
export class CommandQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(fn).finally(() => this.#pending--);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** True while a command runs or waits. */
  get busy(): boolean {
    return this.#pending > 0;
  }
}

export interface ExchangeOptions<T> {
  /** The command's name, for error details. */
  command: string;
  /** Bytes to send; absent to only wait (e.g. for the rest of a reply). */
  bytes?: Uint8Array;
  /** Fed every chunk received after the write starts; returns the result once complete, may throw a typed error. */
  collect(chunk: Uint8Array): T | undefined;
  timeoutMs: number;
  /** Cancels a wait for a person (swipe, card); `onAbort` runs before the cancellation is reported. */
  signal?: AbortSignal;
  onAbort?(): Promise<void>;
  /** Runs before the timeout is reported (e.g. reset the parser, send a device reset). */
  onTimeout?(): Promise<void>;
}

const text = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A driver's link to its device: the command queue plus `exchange` (write, collect the reply from however many
 * chunks, with a timeout, cancellation and disconnect detection). Bytes that arrive while no exchange waits are
 * dropped, which drains stale input before every command.
 */
export class DeviceChannel {
  readonly queue = new CommandQueue();
  readonly transport: ByteTransport;
  readonly device: DeviceKind;

  constructor(transport: ByteTransport, device: DeviceKind) {
    this.transport = transport;
    this.device = device;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  async open(): Promise<void> {
    if (this.transport.isOpen) return;
    try {
      await this.transport.open();
    } catch (error) {
      if (isOpenVendError(error)) throw error;
      throw new DeviceNotFoundError(this.device, `${this.transport.info.path}: ${text(error)}`);
    }
  }

  /** Sends bytes that get no reply. */
  async send(command: string, bytes: Uint8Array): Promise<void> {
    this.#requireOpen(command);
    try {
      await this.transport.write(bytes);
    } catch (error) {
      throw new DisconnectedError(this.device, `${command}: ${text(error)}`);
    }
  }

  exchange<T>(options: ExchangeOptions<T>): Promise<T> {
    this.#requireOpen(options.command);
    const { command, signal } = options;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const cleanup = () => {
        offData();
        offClose();
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const settle = (fn: () => void, before?: () => Promise<void>) => {
        if (settled) return;
        settled = true;
        cleanup();
        if (!before) return fn();
        void before()
          .catch(() => undefined)
          .finally(fn);
      };
      const offData = this.transport.onData((chunk) => {
        try {
          const result = options.collect(chunk);
          if (result !== undefined) settle(() => resolve(result));
        } catch (error) {
          settle(() => reject(error));
        }
      });
      const offClose = this.transport.onClose((event) =>
        settle(() => reject(new DisconnectedError(this.device, `${command}: ${event.detail}`))),
      );
      const timer = setTimeout(
        () =>
          settle(
            () =>
              reject(
                new DeviceTimeoutError(
                  this.device,
                  `${command}: no complete reply within ${options.timeoutMs} ms`,
                ),
              ),
            options.onTimeout,
          ),
        options.timeoutMs,
      );
      const onAbort = () =>
        settle(() => reject(new DeviceCancelledError(`${command} cancelled`)), options.onAbort);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (options.bytes) {
        this.transport
          .write(options.bytes)
          .catch((error: unknown) =>
            settle(() => reject(new DisconnectedError(this.device, `${command}: ${text(error)}`))),
          );
      }
    });
  }

  #requireOpen(command: string): void {
    if (!this.transport.isOpen) {
      throw new DisconnectedError(this.device, `${command}: ${this.transport.info.path} is not open`);
    }
  }
}

/** Resolves or rejects with the promise, or rejects with `onTimeout()` after `ms` (for request/response links). */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
