import { EventEmitter } from 'node:events';
import {
  frameHidMessage,
  HID_REPORT_SIZE,
  HidMessageAssembler,
} from '../../../src-shared/devices/msr605x-hid.ts';
import type { HidDeviceLike } from '../transports/hid.ts';
import { createMemoryLink, type MemoryTransport } from '../transports/memory.ts';

/**
 * A simulated USB-HID device that speaks the MSR605X framing (hardware.md §2.1): feature reports from the host are
 * reassembled into messages and handed to `device` (a byte transport a simulator attaches to, e.g. MsrSimulator);
 * what the simulator writes is cut into 64-byte input reports (padding filled with garbage, as real units do).
 * Pass `openDevice: () => Promise.resolve(simulated)` to a HidTransport.
 */
export class SimulatedHidDevice extends EventEmitter implements HidDeviceLike {
  readonly device: MemoryTransport;
  readonly #host: MemoryTransport;
  readonly #assembler = new HidMessageAssembler();
  /** Every report the host sent (report id first), for tests. */
  readonly reports: Uint8Array[] = [];
  #closed = false;

  constructor() {
    super();
    const link = createMemoryLink({ kind: 'hid', path: 'simulated MSR605X' });
    this.device = link.device;
    this.#host = link.host;
    void this.#host.open();
    this.#host.onData((message) => {
      for (const report of frameHidMessage(message)) {
        report.fill(0xa5, 1 + (report[0]! & 0x3f));
        if (!this.#closed) this.emit('data', Buffer.from(report));
      }
    });
  }

  async sendFeatureReport(data: number[] | Buffer): Promise<number> {
    if (this.#closed) throw new Error('could not write to HID device');
    const bytes = Uint8Array.from(data);
    this.reports.push(bytes);
    const message = this.#assembler.push(bytes.subarray(1, 1 + HID_REPORT_SIZE));
    if (message) await this.#host.write(message);
    return bytes.length;
  }

  write(data: number[] | Buffer): Promise<number> {
    return this.sendFeatureReport(data);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** The cable is pulled: node-hid reports a read error. */
  unplug(): void {
    this.#closed = true;
    this.emit('error', new Error('could not read from HID device'));
  }
}
