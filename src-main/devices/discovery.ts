import type { DeviceCandidates } from '../../src-shared/bridge/device-schemas.ts';
import {
  DeviceDataError,
  type DeviceKind,
  DeviceNotFoundError,
} from '../../src-shared/devices/device-errors.ts';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { type HidDeviceInfo, hex4, listHidDevices } from './transports/hid.ts';
import { listPcscReaders } from './transports/pcsc.ts';
import { listSerialPorts, type SerialPortInfo } from './transports/serial.ts';

/**
 * Finding devices by identity: USB vendor id, product id and (when two of a model are attached) serial number.
 * The COM name or /dev path is only where the device happens to be now; after a replug it may be another one.
 */

export interface UsbIdentity {
  vendorId: string;
  productId: string;
  serialNumber?: string | undefined;
}

/** Where discovery looks (the real OS lists by default; tests pass fakes or SerialPortMock.list). */
export interface DeviceDiscovery {
  listSerial(): Promise<SerialPortInfo[]>;
  listHid(): Promise<HidDeviceInfo[]>;
  listPcscReaders(): Promise<string[]>;
}

export const systemDiscovery: DeviceDiscovery = {
  listSerial: listSerialPorts,
  listHid: listHidDevices,
  listPcscReaders: () => listPcscReaders(),
};

export interface FoundDevice {
  path: string;
  vendorId: string;
  productId: string;
  serialNumber?: string;
}

const normalise = (id: string | undefined): string => (id ?? '').toLowerCase().padStart(4, '0');

/** The one attached device with this identity; DeviceNotFound when none, a settings error when ambiguous. */
export function matchUsbDevice(
  candidates: readonly FoundDevice[],
  identity: UsbIdentity,
  kind: DeviceKind,
): FoundDevice {
  const wanted = `${normalise(identity.vendorId)}:${normalise(identity.productId)}`;
  const matches = candidates.filter(
    (c) =>
      `${normalise(c.vendorId)}:${normalise(c.productId)}` === wanted &&
      (identity.serialNumber === undefined || c.serialNumber === identity.serialNumber),
  );
  const who = `${wanted}${identity.serialNumber ? ` serial ${identity.serialNumber}` : ''}`;
  if (matches.length === 0) throw new DeviceNotFoundError(kind, `no attached device ${who}`);
  if (matches.length > 1) {
    throw new DeviceDataError(
      'Two devices of the same model are connected. Choose the device by its serial number in the device settings.',
      `${matches.length} attached devices match ${who}: ${matches.map((m) => m.path).join(', ')}`,
    );
  }
  return matches[0]!;
}

export const serialCandidates = (ports: readonly SerialPortInfo[]): FoundDevice[] =>
  ports
    .filter((p) => p.vendorId && p.productId)
    .map((p) => ({
      path: p.path,
      vendorId: normalise(p.vendorId),
      productId: normalise(p.productId),
      ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
    }));

export const hidCandidates = (devices: readonly HidDeviceInfo[]): FoundDevice[] =>
  devices
    .filter((d) => d.path)
    .map((d) => ({
      path: d.path!,
      vendorId: hex4(d.vendorId),
      productId: hex4(d.productId),
      ...(d.serialNumber ? { serialNumber: d.serialNumber } : {}),
    }));

const describeProblem = (what: string, error: unknown): string =>
  `${what}: ${isOpenVendError(error) ? error.userMessage : error instanceof Error ? error.message : String(error)}`;

/** Everything attached now, for the settings screen. Each list that cannot be read becomes a problem line. */
export async function discoverCandidates(discovery: DeviceDiscovery): Promise<DeviceCandidates> {
  const problems: string[] = [];
  const attempt = async <T>(what: string, list: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await list();
    } catch (error) {
      problems.push(describeProblem(what, error));
      return [];
    }
  };
  const [serial, hid, pcscReaders] = await Promise.all([
    attempt('Serial ports', discovery.listSerial),
    attempt('USB HID devices', discovery.listHid),
    attempt('Smart-card readers', discovery.listPcscReaders),
  ]);
  return {
    serial: serial.map((p) => ({
      path: p.path,
      vendorId: p.vendorId ? normalise(p.vendorId) : null,
      productId: p.productId ? normalise(p.productId) : null,
      serialNumber: p.serialNumber ?? null,
      description: p.manufacturer ?? '',
    })),
    hid: hid
      .filter((d) => d.path)
      .map((d) => ({
        path: d.path!,
        vendorId: hex4(d.vendorId),
        productId: hex4(d.productId),
        serialNumber: d.serialNumber || null,
        description: [d.manufacturer, d.product].filter(Boolean).join(' '),
      })),
    pcscReaders,
    problems,
  };
}
