import { SerialTransport } from '../transports/serial.ts';
import { EscPosPrinterSimulator } from './escpos-printer.ts';
import { MsrSimulator } from './msr.ts';
import { startPtyPair } from './pty-pair.ts';

/**
 * Runs a simulator on the device end of a serial line, with the real serialport binding:
 *
 *   node --import tsx src-main/devices/simulators/run-simulator.ts printer /path/to/ttyDevice [--paper-end] [--cover-open]
 *   node --import tsx src-main/devices/simulators/run-simulator.ts msr /path/to/ttyDevice [--track2 04040404040=0001]
 *   node --import tsx src-main/devices/simulators/run-simulator.ts printer --pty    (makes a socat pair, prints the app end)
 *
 * Prints "ready <app path>" when listening; the printer prints each cut page between "--- page ---" and "--- end ---".
 * Stops on SIGTERM / SIGINT.
 */
const [kind, pathArgument, ...flags] = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = flags.indexOf(name);
  return i >= 0 ? (flags[i + 1] ?? '') : undefined;
};

async function main(): Promise<void> {
  if ((kind !== 'printer' && kind !== 'msr') || !pathArgument) {
    process.stderr.write('usage: run-simulator.ts printer|msr <device tty | --pty> [options]\n');
    process.exitCode = 2;
    return;
  }
  const pair = pathArgument === '--pty' ? await startPtyPair() : null;
  const transport = new SerialTransport({ path: pair?.device ?? pathArgument, baudRate: 9600 });
  await transport.open();
  if (kind === 'printer') {
    const printer = new EscPosPrinterSimulator(transport, {
      status: { paperEnd: flags.includes('--paper-end'), coverOpen: flags.includes('--cover-open') },
    });
    printer.onPage((page) => process.stdout.write(`--- page ---\n${page}\n--- end ---\n`));
  } else {
    const track2 = flag('--track2') ?? '04040404040=0001';
    new MsrSimulator(transport, { card: { 2: track2 }, autoSwipe: true });
  }
  process.stdout.write(`ready ${pair?.app ?? pathArgument}\n`);
  const stop = async () => {
    await transport.close();
    await pair?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

await main();
