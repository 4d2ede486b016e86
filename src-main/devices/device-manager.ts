import type { DeviceConfig, DeviceRole } from '../../src-shared/bridge/device-schemas.ts';
import { DeviceNotFoundError } from '../../src-shared/devices/device-errors.ts';
import { SLE4442_READER_PROFILES } from '../../src-shared/devices/sle4442.ts';
import { isOpenVendError, type OpenVendError } from '../../src-shared/errors/openvend-error.ts';
import type { StoredDeviceConfig } from './device-store.ts';
import {
  type DeviceDiscovery,
  hidCandidates,
  matchUsbDevice,
  serialCandidates,
  systemDiscovery,
} from './discovery.ts';
import { Sle4442Encoder } from './drivers/ic-card-encoder.ts';
import { MsrEncoder } from './drivers/msr-encoder.ts';
import { EscPosReceiptPrinter } from './drivers/receipt-printer.ts';
import {
  SPOOLER_STATUS_NOTE,
  SpoolerReceiptPrinter,
  type SpoolPrint,
  spoolerUnavailableError,
} from './drivers/spooler-printer.ts';
import type { SimulatedDevices } from './simulators/simulated-devices.ts';
import { type HidDeviceLike, HidTransport } from './transports/hid.ts';
import { type ApduTransport, PcscTransport } from './transports/pcsc.ts';
import { type SerialPortFactory, SerialTransport } from './transports/serial.ts';
import { TcpTransport } from './transports/tcp.ts';
import type { ByteTransport } from './transports/transport.ts';

/**
 * Keeps one live connection per configured role and rebuilds it when needed: a device that was unplugged is
 * looked up again by its identity (VID/PID/serial, address or reader name) on the next use, so it works again
 * after a replug, wherever the OS put it. Connections are opened lazily, on first use, and dropped when the
 * settings of their role change.
 */

export interface DeviceTimeouts {
  statusTimeoutMs?: number;
  commandTimeoutMs?: number;
  swipeTimeoutMs?: number;
  insertTimeoutMs?: number;
}

export interface DeviceManagerOptions {
  configs: () => ReadonlyMap<DeviceRole, StoredDeviceConfig>;
  discovery?: DeviceDiscovery;
  simulators?: SimulatedDevices | null;
  /** Serial port factory (tests: SerialPortMock); the real serialport by default. */
  createSerialPort?: SerialPortFactory;
  /** HID open (tests: a simulated device); node-hid by default. */
  openHid?: (path: string) => Promise<HidDeviceLike>;
  timeouts?: DeviceTimeouts;
  /** The desktop shell's print path for `os-spooler` printers; null/absent where there is none (browser mode). */
  spool?: SpoolPrint | null;
}

export interface Connected<D> {
  driver: D;
  /** Where the device is now, for job records and messages. */
  description: string;
  simulated: boolean;
}

type Driver = EscPosReceiptPrinter | MsrEncoder | Sle4442Encoder;
type SlotName = 'receipt-printer' | 'magnetic-encoder' | 'ic-encoder' | 'card-reader';

interface Live {
  key: string;
  connected: Connected<Driver>;
  transport: ByteTransport | ApduTransport;
  alive: boolean;
}

export interface ConnectionState {
  state: 'not-configured' | 'connected' | 'disconnected' | 'unavailable';
  detail: string;
}

export class DeviceManager {
  readonly #options: DeviceManagerOptions;
  readonly #discovery: DeviceDiscovery;
  readonly #live = new Map<SlotName, Live>();
  readonly #lastError = new Map<SlotName, OpenVendError>();

  constructor(options: DeviceManagerOptions) {
    this.#options = options;
    this.#discovery = options.discovery ?? systemDiscovery;
  }

  get simulators(): SimulatedDevices | null {
    return this.#options.simulators ?? null;
  }

  config(role: DeviceRole): DeviceConfig | null {
    return this.#options.configs().get(role)?.config ?? null;
  }

  async printer(): Promise<Connected<EscPosReceiptPrinter | SpoolerReceiptPrinter>> {
    const config = this.config('receipt-printer');
    if (config?.role === 'receipt-printer' && config.connection.type === 'os-spooler') {
      // Nothing to open or keep: each job goes to the system print queue through the desktop shell.
      const spool = this.#options.spool;
      if (!spool) {
        const error = spoolerUnavailableError();
        this.#lastError.set('receipt-printer', error);
        throw error;
      }
      const { deviceName } = config.connection;
      return {
        driver: new SpoolerReceiptPrinter(spool, deviceName ? { deviceName } : {}),
        description: spoolerDescription(deviceName),
        simulated: false,
      };
    }
    return this.#acquire('receipt-printer') as Promise<Connected<EscPosReceiptPrinter>>;
  }

  magneticEncoder(): Promise<Connected<MsrEncoder>> {
    return this.#acquire('magnetic-encoder') as Promise<Connected<MsrEncoder>>;
  }

  /** The card reader; without its own settings (or with the encoder's connection) it is the magnetic encoder. */
  cardReader(): Promise<Connected<MsrEncoder>> {
    return this.#acquire(this.#readerSlot()) as Promise<Connected<MsrEncoder>>;
  }

  icEncoder(): Promise<Connected<Sle4442Encoder>> {
    return this.#acquire('ic-encoder') as Promise<Connected<Sle4442Encoder>>;
  }

  /** What is known without touching the device. */
  connectionState(role: DeviceRole): ConnectionState {
    const slot = role === 'card-reader' ? this.#readerSlot() : role;
    const config = this.config(slot);
    if (!config) return { state: 'not-configured', detail: 'No device is set for this role.' };
    if (config.role === 'receipt-printer' && config.connection.type === 'os-spooler') {
      return this.#options.spool
        ? {
            state: 'connected',
            detail: `${spoolerDescription(config.connection.deviceName)}. ${SPOOLER_STATUS_NOTE}`,
          }
        : { state: 'unavailable', detail: spoolerUnavailableError().userMessage };
    }
    const live = this.#live.get(slot);
    if (live?.alive && live.key === JSON.stringify(config)) {
      return { state: 'connected', detail: live.connected.description };
    }
    const error = this.#lastError.get(slot);
    if (error?.code === 'DEVICE_UNAVAILABLE') return { state: 'unavailable', detail: error.userMessage };
    return { state: 'disconnected', detail: error ? error.userMessage : 'Not connected yet.' };
  }

  /** Settings of a role changed: drop its connection (the next use connects with the new settings). */
  async invalidate(role: DeviceRole): Promise<void> {
    const slots: SlotName[] = role === 'magnetic-encoder' ? ['magnetic-encoder', 'card-reader'] : [role];
    for (const slot of slots) {
      const live = this.#live.get(slot);
      this.#live.delete(slot);
      this.#lastError.delete(slot);
      if (live?.alive) await live.transport.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    for (const role of [...this.#live.keys()]) await this.invalidate(role);
  }

  #readerSlot(): SlotName {
    const reader = this.config('card-reader');
    const encoder = this.config('magnetic-encoder');
    if (!reader) return 'magnetic-encoder';
    if (encoder && JSON.stringify(encoder.connection) === JSON.stringify(reader.connection)) {
      return 'magnetic-encoder';
    }
    return 'card-reader';
  }

  async #acquire(slot: SlotName): Promise<Connected<Driver>> {
    const config = this.config(slot);
    if (!config) {
      throw new DeviceNotFoundError(
        slot === 'ic-encoder' ? 'ic-encoder' : slot,
        `no device configured for ${slot}`,
      );
    }
    const key = JSON.stringify(config);
    const live = this.#live.get(slot);
    if (live?.alive && live.key === key) return live.connected;
    if (live) {
      this.#live.delete(slot);
      if (live.alive) await live.transport.close().catch(() => undefined);
    }
    try {
      const built = await this.#connect(config);
      const entry: Live = { key, ...built, alive: true };
      built.transport.onClose(() => {
        entry.alive = false;
      });
      this.#live.set(slot, entry);
      this.#lastError.delete(slot);
      return built.connected;
    } catch (error) {
      if (isOpenVendError(error)) this.#lastError.set(slot, error);
      throw error;
    }
  }

  async #connect(
    config: DeviceConfig,
  ): Promise<{ connected: Connected<Driver>; transport: ByteTransport | ApduTransport }> {
    const timeouts = this.#options.timeouts ?? {};
    if (config.role === 'ic-encoder') {
      const transport = this.#apduTransport(config);
      const profile = SLE4442_READER_PROFILES[config.settings.profile]!;
      const driver = new Sle4442Encoder(transport, profile, {
        minTriesLeft: config.settings.minTriesLeft,
        ...(timeouts.commandTimeoutMs ? { commandTimeoutMs: timeouts.commandTimeoutMs } : {}),
        ...(timeouts.insertTimeoutMs ? { insertTimeoutMs: timeouts.insertTimeoutMs } : {}),
      });
      try {
        if (!transport.isOpen) await transport.open();
      } catch (error) {
        if (isOpenVendError(error)) throw error;
        throw new DeviceNotFoundError('ic-encoder', `${transport.info.path}: ${(error as Error).message}`);
      }
      return { transport, connected: this.#connected(driver, transport.info.path, config) };
    }

    const transport = await this.#byteTransport(config);
    if (config.role === 'receipt-printer') {
      const driver = new EscPosReceiptPrinter(transport, {
        confirm: config.settings.confirm,
        ...(timeouts.statusTimeoutMs ? { statusTimeoutMs: timeouts.statusTimeoutMs } : {}),
      });
      await driver.channel.open();
      return { transport, connected: this.#connected(driver, describe(transport), config) };
    }
    const driver = new MsrEncoder(transport, {
      ...(timeouts.commandTimeoutMs ? { commandTimeoutMs: timeouts.commandTimeoutMs } : {}),
      ...(timeouts.swipeTimeoutMs ? { swipeTimeoutMs: timeouts.swipeTimeoutMs } : {}),
    });
    await driver.channel.open();
    try {
      await driver.probe();
      if (config.role === 'magnetic-encoder') {
        await driver.configure({
          coercivity: config.settings.coercivity,
          ...(config.settings.leadingZeros ? { leadingZeros: config.settings.leadingZeros } : {}),
        });
      }
    } catch (error) {
      await transport.close().catch(() => undefined);
      throw error;
    }
    return { transport, connected: this.#connected(driver, describe(transport), config) };
  }

  #connected<D extends Driver>(driver: D, description: string, config: DeviceConfig): Connected<D> {
    return { driver, description, simulated: config.connection.type === 'simulator' };
  }

  #apduTransport(config: Extract<DeviceConfig, { role: 'ic-encoder' }>): ApduTransport {
    if (config.connection.type === 'simulator') return this.#requireSimulators('ic-encoder').icReader;
    const { readerName } = config.connection;
    return new PcscTransport(readerName ? { readerName } : {});
  }

  async #byteTransport(config: Exclude<DeviceConfig, { role: 'ic-encoder' }>): Promise<ByteTransport> {
    const { connection } = config;
    switch (connection.type) {
      case 'simulator':
        return this.#requireSimulators(config.role).connect(config.role);
      case 'os-spooler':
        // printer() handles the spooler without a byte transport.
        throw spoolerUnavailableError();
      case 'tcp':
        return new TcpTransport({ host: connection.host, port: connection.port });
      case 'serial': {
        const found = matchUsbDevice(
          serialCandidates(await this.#discovery.listSerial()),
          connection,
          config.role,
        );
        return new SerialTransport({
          path: found.path,
          baudRate: connection.baudRate,
          identity: identityOf(found),
          ...(this.#options.createSerialPort ? { createPort: this.#options.createSerialPort } : {}),
        });
      }
      case 'hid': {
        const found = matchUsbDevice(hidCandidates(await this.#discovery.listHid()), connection, config.role);
        return new HidTransport({
          path: found.path,
          identity: identityOf(found),
          ...(this.#options.openHid ? { openDevice: this.#options.openHid } : {}),
        });
      }
    }
  }

  #requireSimulators(role: DeviceRole): SimulatedDevices {
    const simulators = this.#options.simulators;
    if (!simulators) {
      throw new DeviceNotFoundError(
        role,
        'the simulated devices are not running (start OpenVend with --simulate-devices)',
      );
    }
    return simulators;
  }
}

const identityOf = (found: { vendorId: string; productId: string; serialNumber?: string }) => ({
  vendorId: found.vendorId,
  productId: found.productId,
  ...(found.serialNumber ? { serialNumber: found.serialNumber } : {}),
});

function describe(transport: ByteTransport): string {
  const { kind, path, vendorId, productId, serialNumber } = transport.info;
  const id = vendorId ? ` (${vendorId}:${productId}${serialNumber ? ` ${serialNumber}` : ''})` : '';
  return `${kind} ${path}${id}`;
}

const spoolerDescription = (deviceName: string | undefined): string =>
  `system print queue: ${deviceName ?? 'the default printer'}`;
