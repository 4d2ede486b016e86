import type { OpenEngine } from '../engine/open-engine.ts';
import { attachDeviceService, DeviceService, detachDeviceService } from './device-service.ts';
import type { SpoolPrint } from './drivers/spooler-printer.ts';
import { scriptedPrinterStatus } from './simulators/escpos-printer.ts';
import { SimulatedDevices } from './simulators/simulated-devices.ts';

/**
 * Starts the engine's device service in the engine thread. With `simulate` (`openvend start --simulate-devices`)
 * every role without settings uses a simulator: a printer whose pages come back as text, an MSR holding a customer
 * card for the outlet's first meter (swiped at once), and a reader with a blank SLE4442 card.
 */
export function startEngineDevices(
  open: OpenEngine,
  options: {
    dataDir: string;
    simulate: boolean;
    /** The desktop shell's print path (Electron) for `os-spooler` printers; null in browser mode. */
    spool?: SpoolPrint | null;
  },
): DeviceService {
  const sqlite = open.ledger.sqlite;
  let simulators: SimulatedDevices | null = null;
  if (options.simulate) {
    const meter = sqlite.prepare('SELECT meter_no AS meterNo FROM meter ORDER BY id LIMIT 1').get() as
      | { meterNo: string }
      | undefined;
    const { columns } = sqlite
      .prepare('SELECT receipt_columns AS columns FROM outlet WHERE id = 1')
      .get() as {
      columns: number;
    };
    const statusFile = process.env.OPENVEND_SIMULATED_PRINTER_STATUS;
    simulators = new SimulatedDevices({
      columns,
      ...(meter ? { meterNo: meter.meterNo } : {}),
      // Test/demo only: the simulated printer's paper and cover, scripted from a JSON file another process edits.
      ...(statusFile ? { printerStatus: () => scriptedPrinterStatus(statusFile) } : {}),
    });
  }
  return attachDeviceService(
    open.engine,
    new DeviceService({
      engine: open.engine,
      sqlite,
      dataDir: options.dataDir,
      simulators,
      ...(options.spool ? { spool: options.spool } : {}),
    }),
  );
}

export const stopEngineDevices = (open: OpenEngine): Promise<void> => detachDeviceService(open.engine);
