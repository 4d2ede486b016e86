import { SerialPortMock } from 'serialport';
import { expect } from 'vitest';
import { SerialTransport } from '../../../src-main/devices/transports/serial.ts';
import { BaseByteTransport, type TransportInfo } from '../../../src-main/devices/transports/transport.ts';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';

type MockPortBinding = NonNullable<SerialPortMock['port']>;

/**
 * Driver tests over serialport's SerialPortMock (through `SerialPortMock.binding`: a separately imported
 * MockBinding is another copy in ESM and has no effect). The mock only records writes, so `MockDeviceEnd` turns the
 * opened mock port into the device end of a cable: what the driver writes arrives here, what a simulator writes here
 * is emitted as received data. `unplug()` fails the pending read as a pulled USB cable does; `failWrites()` makes
 * the next large write fail (unplugged mid-job).
 */
export class MockDeviceEnd extends BaseByteTransport {
  readonly info: TransportInfo = { kind: 'memory', path: 'mock device end' };
  #binding: MockPortBinding | null = null;
  #failWritesOver: number | null = null;

  attach(binding: MockPortBinding): void {
    this.#binding = binding;
    const original = binding.write.bind(binding);
    binding.write = async (buffer: Buffer) => {
      if (this.#failWritesOver !== null && buffer.length > this.#failWritesOver) {
        throw new Error('EIO: device unplugged during write');
      }
      await original(buffer);
      const copy = Uint8Array.from(buffer);
      setImmediate(() => this.emitData(copy));
    };
    this.markOpen();
  }

  async open(): Promise<void> {}

  async write(bytes: Uint8Array): Promise<void> {
    const binding = this.#binding;
    if (binding?.isOpen) binding.emitData(Buffer.from(bytes));
  }

  async close(): Promise<void> {}

  /** The driver's next write longer than `bytes` fails as an unplug. */
  failWrites(bytes: number): void {
    this.#failWritesOver = bytes;
  }

  unplug(): void {
    const binding = this.#binding as unknown as { pendingRead: ((error?: Error) => void) | null } | null;
    const pending = binding?.pendingRead;
    if (!pending) throw new Error('no read pending on the mock port');
    pending(new Error('device unplugged'));
  }
}

let portNumber = 0;

/** A fresh mock serial port, the driver-side SerialTransport on it, and the device end for a simulator. */
export function mockSerialCable(
  identity: { vendorId?: string; productId?: string; serialNumber?: string } = {},
) {
  const path = `/dev/ttyMOCK${++portNumber}`;
  SerialPortMock.binding.createPort(path, { echo: false, record: true, ...identity });
  const device = new MockDeviceEnd();
  const transport = new SerialTransport({
    path,
    baudRate: 9600,
    createPort: (options) => {
      const port = new SerialPortMock(options);
      port.once('open', () => device.attach(port.port as MockPortBinding));
      return port;
    },
  });
  return { path, transport, device };
}

/** Awaits a rejection and checks it is an OpenVendError with this code; returns it for more checks. */
export async function rejection(promise: Promise<unknown>, code: string) {
  try {
    await promise;
  } catch (error) {
    if (!isOpenVendError(error)) throw error;
    expect(error.code).toBe(code);
    expect(error.userMessage.length).toBeGreaterThan(10);
    return error;
  }
  return expect.fail(`expected a rejection with ${code}`);
}

/** Resolves on the next macrotask turns (lets in-memory I/O settle) — no timing involved. */
export const settle = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};
