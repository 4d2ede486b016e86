import {
  frameHidMessage,
  HID_REPORT_SIZE,
  HidMessageAssembler,
  withReportId,
} from '../../../src-shared/devices/msr605x-hid.ts';
import { loadNative } from '../native.ts';
import { BaseByteTransport, type TransportInfo, toBytes } from './transport.ts';

/**
 * USB-HID devices that tunnel a byte protocol in 64-byte reports (the MSR605X: hardware.md §2.1), through node-hid 3
 * (loaded on first use; optional dependency). Writes are framed with `frameHidMessage`, input reports reassembled
 * with `HidMessageAssembler`, so a driver sees the same byte stream as over serial.
 *
 * Host → device: feature reports by default (two public drivers); 'output' uses write() instead — confirm on the real
 * unit with a USB capture before switching (hardware.md §2.1).
 */

/** The part of a node-hid HIDAsync device this transport uses (a fake in tests). */
export interface HidDeviceLike {
  sendFeatureReport(data: number[] | Buffer): Promise<number>;
  write(data: number[] | Buffer): Promise<number>;
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): Promise<void>;
}

export interface HidDeviceInfo {
  path?: string | undefined;
  vendorId: number;
  productId: number;
  serialNumber?: string | undefined;
  product?: string | undefined;
  manufacturer?: string | undefined;
}

interface NodeHidModule {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string): Promise<HidDeviceLike> };
}

const loadNodeHid = async (): Promise<NodeHidModule> => {
  const module = await loadNative<Partial<NodeHidModule> & { default?: NodeHidModule }>(
    'node-hid',
    'USB card encoders (HID)',
  );
  return module.devicesAsync ? (module as NodeHidModule) : module.default!;
};

/** Attached HID devices (node-hid's async enumeration: never poll it fast). */
export async function listHidDevices(): Promise<HidDeviceInfo[]> {
  return (await loadNodeHid()).devicesAsync();
}

export const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

export interface HidTransportOptions {
  path: string;
  identity?: Omit<TransportInfo, 'kind' | 'path'>;
  hostToDevice?: 'feature' | 'output';
  reportId?: number;
  /** Defaults to node-hid's `HIDAsync.open(path)`. */
  openDevice?: (path: string) => Promise<HidDeviceLike>;
}

export class HidTransport extends BaseByteTransport {
  readonly info: TransportInfo;
  readonly #options: HidTransportOptions;
  readonly #assembler = new HidMessageAssembler();
  #device: HidDeviceLike | null = null;
  #closing = false;

  constructor(options: HidTransportOptions) {
    super();
    this.#options = options;
    this.info = { kind: 'hid', path: options.path, ...options.identity };
  }

  async open(): Promise<void> {
    const { openDevice } = this.#options;
    const device = openDevice
      ? await openDevice(this.#options.path)
      : await (await loadNodeHid()).HIDAsync.open(this.#options.path);
    this.#device = device;
    this.#closing = false;
    this.#assembler.reset();
    device.on('data', (report) => {
      // Some platforms deliver the report id first (65 bytes): the payload is always the last 64.
      const bytes = toBytes(report);
      const body = bytes.length > HID_REPORT_SIZE ? bytes.subarray(bytes.length - HID_REPORT_SIZE) : bytes;
      const message = this.#assembler.push(body);
      if (message) this.emitData(message);
    });
    // node-hid reports an unplug as a read error ("could not read from HID device").
    device.on('error', (error) =>
      this.emitClose({ unexpected: !this.#closing, detail: `${this.info.path}: ${error.message}` }),
    );
    this.markOpen();
  }

  async write(bytes: Uint8Array): Promise<void> {
    const device = this.#device;
    if (!device || !this.isOpen) throw new Error(`${this.info.path} is not open`);
    for (const report of frameHidMessage(bytes)) {
      const out = Buffer.from(withReportId(report, this.#options.reportId ?? 0));
      try {
        if ((this.#options.hostToDevice ?? 'feature') === 'feature') await device.sendFeatureReport(out);
        else await device.write(out);
      } catch (error) {
        throw new Error(`${this.info.path}: write failed: ${(error as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    const device = this.#device;
    if (!device || !this.isOpen) return;
    this.#closing = true;
    await device.close().catch(() => undefined);
    this.emitClose({ unexpected: false, detail: `${this.info.path} closed` });
  }
}
