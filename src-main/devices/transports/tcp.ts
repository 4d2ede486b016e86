import { connect, type Socket } from 'node:net';
import { BaseByteTransport, type TransportInfo, toBytes } from './transport.ts';

/**
 * Raw TCP to a network receipt printer (port 9100). One connection per use, closed cleanly (end, then wait for the
 * close): some printers refuse new connections for ~30 s after an unclean close (hardware.md §1.3).
 */
export interface TcpTransportOptions {
  host: string;
  port?: number;
  connectTimeoutMs?: number;
}

export const RAW_PRINT_PORT = 9100;

export class TcpTransport extends BaseByteTransport {
  readonly info: TransportInfo;
  readonly #options: Required<TcpTransportOptions>;
  #socket: Socket | null = null;
  #closing = false;

  constructor(options: TcpTransportOptions) {
    super();
    this.#options = { port: RAW_PRINT_PORT, connectTimeoutMs: 3000, ...options };
    this.info = { kind: 'tcp', path: `${this.#options.host}:${this.#options.port}` };
  }

  async open(): Promise<void> {
    const { host, port, connectTimeoutMs } = this.#options;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`${this.info.path}: no connection after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`${this.info.path}: ${error.message}`));
      });
    });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#closing = false;
    socket.on('data', (chunk) => this.emitData(toBytes(chunk)));
    socket.on('error', () => {}); // followed by 'close'
    socket.on('close', (hadError) => {
      this.emitClose({
        unexpected: !this.#closing,
        detail: `${this.info.path}: connection closed${hadError ? ' with an error' : ''}`,
      });
    });
    this.markOpen();
  }

  async write(bytes: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (!socket || !this.isOpen) throw new Error(`${this.info.path} is not connected`);
    await new Promise<void>((resolve, reject) =>
      socket.write(bytes, (error) =>
        error ? reject(new Error(`${this.info.path}: write failed: ${error.message}`)) : resolve(),
      ),
    );
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    if (!socket || !this.isOpen) return;
    this.#closing = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), 2000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }
}
