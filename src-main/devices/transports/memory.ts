import { BaseByteTransport, type TransportInfo, toBytes } from './transport.ts';

/**
 * An in-memory cable: two byte transports, what one writes the other receives (on a later tick, as real I/O).
 * The host end goes to a driver, the device end to a simulator. `unplug()` pulls the cable: both ends close as a
 * disconnect, and writes fail, as with a USB device pulled out mid-job.
 */
export interface MemoryLink {
  host: MemoryTransport;
  device: MemoryTransport;
  unplug(detail?: string): void;
}

export class MemoryTransport extends BaseByteTransport {
  readonly info: TransportInfo;
  peer: MemoryTransport | null = null;
  #unplugged = false;
  /** Bytes this end has written, for tests. */
  readonly written: number[] = [];

  constructor(info: TransportInfo) {
    super();
    this.info = info;
  }

  async open(): Promise<void> {
    if (this.#unplugged) throw new Error(`${this.info.path} is unplugged`);
    this.markOpen();
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen || this.#unplugged) throw new Error(`${this.info.path} is not open`);
    const copy = toBytes(bytes);
    this.written.push(...copy);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const peer = this.peer;
    if (this.#unplugged || !peer) throw new Error(`${this.info.path} was unplugged during a write`);
    if (peer.isOpen) peer.receive(copy);
  }

  async close(): Promise<void> {
    this.emitClose({ unexpected: false, detail: `${this.info.path} closed` });
  }

  /** Delivers bytes as if they came down the cable. */
  receive(bytes: Uint8Array): void {
    this.emitData(toBytes(bytes));
  }

  unplug(detail: string): void {
    this.#unplugged = true;
    this.emitClose({ unexpected: true, detail });
  }
}

export function createMemoryLink(info: Partial<TransportInfo> = {}): MemoryLink {
  const base: TransportInfo = { kind: 'memory', path: info.path ?? 'memory', ...info };
  const host = new MemoryTransport(base);
  const device = new MemoryTransport({ ...base, path: `${base.path} (device end)` });
  host.peer = device;
  device.peer = host;
  // The device end is powered on from the start; the host end opens when a driver opens it.
  void device.open();
  return {
    host,
    device,
    unplug(detail = `${base.path} unplugged`) {
      host.unplug(detail);
      device.unplug(detail);
    },
  };
}
