import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceManager } from '../../../src-main/devices/device-manager.ts';
import type { StoredDeviceConfig } from '../../../src-main/devices/device-store.ts';
import { matchUsbDevice } from '../../../src-main/devices/discovery.ts';
import { SimulatedHidDevice } from '../../../src-main/devices/simulators/hid-device.ts';
import { MsrSimulator } from '../../../src-main/devices/simulators/msr.ts';
import { SimulatedDevices } from '../../../src-main/devices/simulators/simulated-devices.ts';
import type { DeviceConfig, DeviceRole } from '../../../src-shared/bridge/device-schemas.ts';
import { MockDeviceEnd, rejection, settle } from './support.ts';

type MockPortBinding = NonNullable<SerialPortMock['port']>;

const MSR = { vendorId: '0801', productId: '0002', serialNumber: 'MSR-A' };
const CARD = { 2: '040404040404=0000' };

/** The mock numbers serial ports itself; this keeps the serial number each test plugged in. */
const serials = new Map<string, string | undefined>();
function plug(path: string, identity: { vendorId: string; productId: string; serialNumber?: string }) {
  SerialPortMock.binding.createPort(path, identity);
  serials.set(path, identity.serialNumber);
}

const magnetic = (connection: Extract<DeviceConfig, { role: 'magnetic-encoder' }>['connection']) =>
  ({
    role: 'magnetic-encoder',
    connection,
    settings: { model: 'msr206', coercivity: 'hi' },
  }) as DeviceConfig;

function managerWith(
  configs: DeviceConfig[],
  extra: Partial<ConstructorParameters<typeof DeviceManager>[0]> = {},
) {
  const map = new Map<DeviceRole, StoredDeviceConfig>(
    configs.map((config) => [config.role, { config, secretSealed: null, updatedAt: '' }]),
  );
  // Every port opened gets a simulated MSR on its device end (what is plugged in at that path).
  const simulators: MsrSimulator[] = [];
  const devices: MockDeviceEnd[] = [];
  const manager = new DeviceManager({
    configs: () => map,
    discovery: {
      listSerial: async () =>
        (await SerialPortMock.list()).map((p) => ({ ...p, serialNumber: serials.get(p.path) })),
      listHid: async () => [],
      listPcscReaders: async () => [],
    },
    createSerialPort: (options) => {
      const port = new SerialPortMock(options);
      const device = new MockDeviceEnd();
      port.once('open', () => {
        device.attach(port.port as MockPortBinding);
        simulators.push(new MsrSimulator(device, { card: CARD, autoSwipe: true }));
        devices.push(device);
      });
      return port;
    },
    timeouts: { commandTimeoutMs: 300, swipeTimeoutMs: 2000 },
    ...extra,
  });
  return { manager, simulators, devices, map };
}

afterEach(() => {
  SerialPortMock.binding.reset();
  serials.clear();
});

describe('device manager: discovery by identity, unplug and replug', () => {
  it('finds the encoder by VID/PID/serial among other ports, probes and configures it on connect', async () => {
    plug('/dev/ttyUSB0', { vendorId: '067b', productId: '2303' });
    plug('/dev/ttyUSB1', MSR);
    const { manager, simulators } = managerWith([magnetic({ type: 'serial', ...MSR, baudRate: 9600 })]);
    const { driver, description } = await manager.magneticEncoder();
    expect(description).toBe('serial /dev/ttyUSB1 (0801:0002 MSR-A)');
    expect(simulators[0]?.commands).toEqual([0x65, 0x76, 0x78]);
    expect(await driver.readMeterCard()).toBe('040404040404');
    expect(manager.connectionState('magnetic-encoder').state).toBe('connected');
    // Without its own settings, the card reader is the same encoder (one connection).
    expect((await manager.cardReader()).driver).toBe(driver);
    await manager.close();
  });

  it('after an unplug the device is not found; after a replug on another port it works again', async () => {
    plug('/dev/ttyUSB0', MSR);
    const { manager, devices, simulators } = managerWith([
      magnetic({ type: 'serial', ...MSR, baudRate: 9600 }),
    ]);
    const first = await manager.magneticEncoder();
    simulators[0]!.insertCard(null); // nobody swipes: the encoder waits
    const read = first.driver.readTracks();
    for (let i = 0; i < 200 && simulators[0]!.waitingFor === null; i++) await settle(1);
    devices[0]!.unplug();
    await rejection(read, 'DEVICE_DISCONNECTED');
    SerialPortMock.binding.reset(); // the OS no longer lists it
    expect(manager.connectionState('magnetic-encoder').state).toBe('disconnected');
    await rejection(manager.magneticEncoder(), 'DEVICE_NOT_FOUND');
    expect(manager.connectionState('magnetic-encoder').detail).toMatch(/not connected/);

    plug('/dev/ttyUSB3', MSR); // replugged into another socket
    const second = await manager.magneticEncoder();
    expect(second.description).toContain('/dev/ttyUSB3');
    expect(second.driver).not.toBe(first.driver);
    expect(await second.driver.readMeterCard()).toBe('040404040404');
    await manager.close();
  });

  it('two devices of the same model without a serial number are refused as ambiguous', async () => {
    plug('/dev/ttyUSB0', MSR);
    plug('/dev/ttyUSB1', { ...MSR, serialNumber: 'MSR-B' });
    const { manager } = managerWith([
      magnetic({ type: 'serial', vendorId: '0801', productId: '0002', baudRate: 9600 }),
    ]);
    const error = await rejection(manager.magneticEncoder(), 'DEVICE_INVALID_DATA');
    expect(error.userMessage).toMatch(/serial number/);
  });

  it('matching ignores hex case and leading zeros of the ids, and never uses the path', () => {
    const candidates = [{ path: 'COM7', vendorId: '801', productId: '2' }];
    expect(matchUsbDevice(candidates, { vendorId: '0801', productId: '0002' }, 'card-reader').path).toBe(
      'COM7',
    );
    expect(() => matchUsbDevice(candidates, { vendorId: '0802', productId: '0002' }, 'card-reader')).toThrow(
      /not connected/,
    );
  });

  it('an MSR605X is found by VID/PID among HID devices and reconnects after an HID unplug', async () => {
    let hid = new SimulatedHidDevice();
    let simulator = new MsrSimulator(hid.device, { model: 'msr605x', card: CARD, autoSwipe: true });
    const { manager } = managerWith([magnetic({ type: 'hid', vendorId: '0801', productId: '0003' })], {
      discovery: {
        listSerial: async () => [],
        listHid: async () => [{ path: '/dev/hidraw2', vendorId: 0x0801, productId: 0x0003 }],
        listPcscReaders: async () => [],
      },
      openHid: async () => hid,
    });
    expect(await (await manager.magneticEncoder()).driver.readMeterCard()).toBe('040404040404');
    hid.unplug();
    await settle();
    expect(manager.connectionState('magnetic-encoder').state).toBe('disconnected');
    simulator.detach();
    hid = new SimulatedHidDevice();
    simulator = new MsrSimulator(hid.device, { model: 'msr605x', card: CARD, autoSwipe: true });
    expect(await (await manager.magneticEncoder()).driver.readMeterCard()).toBe('040404040404');
    await manager.close();
  });

  it('simulated devices survive unplug and replug, keeping their state', async () => {
    const simulators = new SimulatedDevices({ meterNo: '040404040404' });
    const printer: DeviceConfig = {
      role: 'receipt-printer',
      connection: { type: 'simulator' },
      settings: { qrCode: false, cut: 'partial', confirm: 'none' },
    };
    const { manager } = managerWith([printer], { simulators });
    simulators.printer.simulator.setStatus({ paperNearEnd: true });
    expect((await (await manager.printer()).driver.status()).paperNearEnd).toBe(true);
    simulators.printer.unplug();
    await rejection(manager.printer(), 'DEVICE_NOT_FOUND');
    simulators.printer.replug();
    expect((await (await manager.printer()).driver.status()).paperNearEnd).toBe(true);
    await manager.close();
  });

  it('a role without settings is DEVICE_NOT_FOUND, and simulator settings need --simulate-devices', async () => {
    const { manager } = managerWith([magnetic({ type: 'simulator' })]);
    await rejection(manager.printer(), 'DEVICE_NOT_FOUND');
    const error = await rejection(manager.magneticEncoder(), 'DEVICE_NOT_FOUND');
    expect(error.detail).toMatch(/--simulate-devices/);
  });
});
