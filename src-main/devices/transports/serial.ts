import { loadNative } from '../native.ts';
import { BaseByteTransport, type TransportInfo, toBytes } from './transport.ts';

/**
 * Serial devices through `serialport` 13 (loaded on first use). The port is opened fully raw — 8N1, no XON/XOFF, no
 * RTS/CTS — or the MSR's 0x1C terminator and 0x11/0x13 bytes would vanish (hardware.md §2.1). Modem lines are never
 * touched, so socat ptys work (they refuse the DTR/RTS ioctls).
 */

/** What this transport needs from a serialport stream (SerialPort, SerialPortMock, or a test double). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (error: Error | null) => void): void;
  write(data: Buffer, callback: (error: Error | null | undefined) => void): boolean;
  drain(callback: (error: Error | null) => void): void;
  close(callback: (error: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: (error: (Error & { disconnected?: boolean }) | null) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface SerialPortOpenOptions {
  path: string;
  baudRate: number;
  dataBits: 8;
  parity: 'none';
  stopBits: 1;
  rtscts: false;
  xon: false;
  xoff: false;
  xany: false;
  hupcl: false;
  autoOpen: false;
}

export type SerialPortFactory = (options: SerialPortOpenOptions) => SerialPortLike;

export interface SerialTransportOptions {
  path: string;
  baudRate: number;
  /** Identity of the device found at `path` (from discovery), for messages and status. */
  identity?: Omit<TransportInfo, 'kind' | 'path'>;
  /** Defaults to the real `SerialPort` of the serialport package; tests pass `(o) => new SerialPortMock(o)`. */
  createPort?: SerialPortFactory;
}

interface SerialPortModule {
  SerialPort: {
    new (options: SerialPortOpenOptions): SerialPortLike;
    list(): Promise<SerialPortInfo[]>;
  };
}

export interface SerialPortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

const loadSerialPort = async (): Promise<SerialPortModule> => {
  const module = await loadNative<Partial<SerialPortModule> & { default?: SerialPortModule }>(
    'serialport',
    'serial devices',
  );
  return module.SerialPort ? (module as SerialPortModule) : module.default!;
};

/** Serial ports with their USB identity. Needs udevadm on Linux: errors surface as DeviceUnavailable. */
export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  const { SerialPort } = await loadSerialPort();
  return SerialPort.list();
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class SerialTransport extends BaseByteTransport {
  readonly info: TransportInfo;
  readonly #options: SerialTransportOptions;
  #port: SerialPortLike | null = null;
  #closing = false;

  constructor(options: SerialTransportOptions) {
    super();
    this.#options = options;
    this.info = { kind: 'serial', path: options.path, ...options.identity };
  }

  async open(): Promise<void> {
    let createPort = this.#options.createPort;
    if (!createPort) {
      const { SerialPort } = await loadSerialPort();
      createPort = (o) => new SerialPort(o);
    }
    const port = createPort({
      path: this.#options.path,
      baudRate: this.#options.baudRate,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: false,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) =>
      port.open((error) => (error ? reject(new Error(`${this.info.path}: ${error.message}`)) : resolve())),
    );
    this.#port = port;
    this.#closing = false;
    port.on('data', (chunk) => this.emitData(toBytes(chunk)));
    port.on('close', (error) => {
      this.emitClose({
        unexpected: !this.#closing,
        detail: error ? `${this.info.path}: ${error.message}` : `${this.info.path} closed`,
      });
    });
    // Errors after open end as a close (serialport closes a port whose read fails); keep them from crashing.
    port.on('error', () => {});
    this.markOpen();
  }

  async write(bytes: Uint8Array): Promise<void> {
    const port = this.#port;
    if (!port || !this.isOpen) throw new Error(`${this.info.path} is not open`);
    await new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(bytes), (error) => (error ? reject(error) : undefined));
      port.drain((error) => (error ? reject(error) : resolve()));
    }).catch((error: unknown) => {
      throw new Error(`${this.info.path}: write failed: ${message(error)}`);
    });
  }

  async close(): Promise<void> {
    const port = this.#port;
    if (!port || !this.isOpen) return;
    this.#closing = true;
    if (!port.isOpen) {
      this.emitClose({ unexpected: false, detail: `${this.info.path} closed` });
      return;
    }
    await new Promise<void>((resolve) => port.close(() => resolve()));
    this.emitClose({ unexpected: false, detail: `${this.info.path} closed` });
  }
}
