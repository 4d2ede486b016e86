/**
 * The transport layer under every device driver (hardware.md §5): bytes in, bytes out, and a close event that says
 * whether the device went away on its own (unplug, cable, printer switched off). Drivers never see serialport,
 * node:net, node-hid or pcsclite; tests and simulators plug in the in-memory pair.
 */

export type TransportKind = 'serial' | 'tcp' | 'hid' | 'pcsc' | 'memory';

/** Who is at the other end: identity is VID/PID/serial number, never the COM name alone. */
export interface TransportInfo {
  kind: TransportKind;
  /** The path, address or reader name the transport was opened on (for messages and logs only). */
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
}

export interface CloseEvent {
  /** true when the device went away by itself; false after our own close(). */
  unexpected: boolean;
  detail: string;
}

export type DataListener = (chunk: Uint8Array) => void;
export type CloseListener = (event: CloseEvent) => void;

/** A byte stream to one device (serial, TCP 9100, HID with its framing, or in memory). */
export interface ByteTransport extends AsyncIterable<Uint8Array> {
  readonly info: TransportInfo;
  readonly isOpen: boolean;
  open(): Promise<void>;
  /** Resolves once the bytes have left this computer (drained); rejects when the device is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Every received chunk, however the device split its replies. Returns the unsubscribe function. */
  onData(listener: DataListener): () => void;
  /** Fires once when the transport closes, by close() or by a disconnect. */
  onClose(listener: CloseListener): () => void;
  close(): Promise<void>;
}

/** Listener plumbing and async iteration shared by every byte transport. */
export abstract class BaseByteTransport implements ByteTransport {
  abstract readonly info: TransportInfo;
  readonly #dataListeners = new Set<DataListener>();
  readonly #closeListeners = new Set<CloseListener>();
  #open = false;

  get isOpen(): boolean {
    return this.#open;
  }

  abstract open(): Promise<void>;
  abstract write(bytes: Uint8Array): Promise<void>;
  abstract close(): Promise<void>;

  onData(listener: DataListener): () => void {
    this.#dataListeners.add(listener);
    return () => this.#dataListeners.delete(listener);
  }

  onClose(listener: CloseListener): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  protected markOpen(): void {
    this.#open = true;
  }

  protected emitData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    for (const listener of [...this.#dataListeners]) listener(chunk);
  }

  /** Called by implementations exactly when the link is gone; later calls are ignored. */
  protected emitClose(event: CloseEvent): void {
    if (!this.#open) return;
    this.#open = false;
    for (const listener of [...this.#closeListeners]) listener(event);
  }

  /** Received chunks until the transport closes (chunks that arrive while nobody iterates are queued). */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const queue: Uint8Array[] = [];
    let wake: (() => void) | null = null;
    let done = !this.#open;
    const offData = this.onData((chunk) => {
      queue.push(chunk);
      wake?.();
    });
    const offClose = this.onClose(() => {
      done = true;
      wake?.();
    });
    const finish = (): IteratorResult<Uint8Array> => {
      offData();
      offClose();
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        const chunk = queue.shift();
        return chunk ? { done: false, value: chunk } : finish();
      },
      return: async () => finish(),
    };
  }
}

/** Copies into a plain Uint8Array (Node Buffers from pools must not be kept by reference). */
export const toBytes = (data: Uint8Array | readonly number[]): Uint8Array => Uint8Array.from(data);
