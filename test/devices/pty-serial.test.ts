import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MsrEncoder } from '../../src-main/devices/drivers/msr-encoder.ts';
import { EscPosReceiptPrinter } from '../../src-main/devices/drivers/receipt-printer.ts';
import { EscPosPrinterSimulator } from '../../src-main/devices/simulators/escpos-printer.ts';
import { MsrSimulator } from '../../src-main/devices/simulators/msr.ts';
import { type PtyPair, startPtyPair } from '../../src-main/devices/simulators/pty-pair.ts';
import { SerialTransport } from '../../src-main/devices/transports/serial.ts';
import { EscPosBuilder } from '../../src-shared/devices/escpos.ts';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';

/**
 * Integration over socat pty pairs with the real serialport binding on both ends (socat is installed by .ci/run).
 * The app side is the production driver on a SerialTransport; the device side is a simulator on another
 * SerialTransport, or the simulator runner as a separate process.
 */

const RUNNER = fileURLToPath(new URL('../../src-main/devices/simulators/run-simulator.ts', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pair(): Promise<PtyPair> {
  const p = await startPtyPair();
  cleanups.push(() => p.close());
  return p;
}

async function serial(path: string): Promise<SerialTransport> {
  const transport = new SerialTransport({ path, baudRate: 9600 });
  await transport.open();
  cleanups.push(() => transport.close());
  return transport;
}

const code = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    if (isOpenVendError(error)) return error.code;
    throw error;
  }
  return 'resolved';
};

describe('serial devices over socat ptys (real serialport binding)', () => {
  it('prints through the pty: status first, every byte exact (0x00, 0x1C, 0x0A, 0xFF), page rendered', async () => {
    const { app, device } = await pair();
    const simulator = new EscPosPrinterSimulator(await serial(device), { columns: 32 });
    const printer = new EscPosReceiptPrinter(await serial(app), { confirm: 'gs-r', statusTimeoutMs: 2000 });
    const job = new EscPosBuilder()
      .initialize()
      .line('Référence: 0042 — ÿ')
      .raw([0x1b, 0x21, 0x00])
      .qrCode('12345678901234567890')
      .feed(1)
      .cut()
      .encode();
    const outcome = await printer.print(job, { jobId: 'pty-1' });
    expect(outcome.state).toBe('confirmed');
    expect(simulator.pages).toEqual(['Référence: 0042 - ÿ\n[QR 12345678901234567890]']);
    expect(simulator.received.slice(12, 12 + job.length)).toEqual([...job]);
  });

  it('refuses to print when the pty printer reports paper end', async () => {
    const { app, device } = await pair();
    const simulator = new EscPosPrinterSimulator(await serial(device));
    simulator.setStatus({ paperEnd: true });
    const printer = new EscPosReceiptPrinter(await serial(app), { statusTimeoutMs: 2000 });
    expect(await code(printer.print(Uint8Array.of(0x0a), { jobId: 'pty-2' }))).toBe('PRINTER_PAPER_END');
  });

  it('writes and verifies a card through the pty with replies split byte by byte; a failed swipe is typed', async () => {
    const { app, device } = await pair();
    const simulator = new MsrSimulator(await serial(device), {
      card: { 2: '04040404040=0001' },
      autoSwipe: true,
      chunkSize: 1,
    });
    const encoder = new MsrEncoder(await serial(app), { commandTimeoutMs: 2000, swipeTimeoutMs: 5000 });
    expect(await encoder.probe()).toEqual({ firmware: 'REV01.00' });
    const tokens = { 3: '04040404040=0007=12345678901234567890=09876543210987654321' };
    expect((await encoder.writeTracks(tokens))[3]).toBe(tokens[3]);
    expect(simulator.card?.[3]).toBe(tokens[3]);
    simulator.failNextSwipe(0x39);
    expect(await code(encoder.writeTracks(tokens))).toBe('CARD_SWIPE_ERROR');
    expect(await encoder.readMeterCard()).toBe('04040404040');
  });

  it('a swipe nobody makes times out over the pty and the encoder is reset', async () => {
    const { app, device } = await pair();
    const simulator = new MsrSimulator(await serial(device), { card: null });
    const encoder = new MsrEncoder(await serial(app), { commandTimeoutMs: 2000, swipeTimeoutMs: 100 });
    expect(await code(encoder.readTracks())).toBe('DEVICE_TIMEOUT');
    for (let i = 0; i < 100 && simulator.commands.at(-1) !== 0x61; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(simulator.commands).toEqual([0x72, 0x61]);
  });

  it('the simulator runner (a separate process) plays a printer on the device end', async () => {
    const { app, device } = await pair();
    const runner: ChildProcess = spawn(process.execPath, ['--import', 'tsx', RUNNER, 'printer', device], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(async () => {
      if (runner.exitCode === null) {
        const exited = new Promise((resolve) => runner.once('exit', resolve));
        runner.kill('SIGTERM');
        await exited;
      }
    });
    let output = '';
    const seen = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (output.includes(text)) resolve();
        };
        runner.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          check();
        });
        runner.once('exit', (status) => reject(new Error(`runner exited ${status}: ${output}`)));
        check();
      });
    await seen('ready');
    const printer = new EscPosReceiptPrinter(await serial(app), { statusTimeoutMs: 3000 });
    const job = new EscPosBuilder()
      .initialize()
      .line('TOKEN 1234 5678 9012 3456 7890')
      .feed(1)
      .cut()
      .encode();
    await printer.print(job, { jobId: 'runner-1' });
    await seen('--- end ---');
    expect(output).toContain('--- page ---\nTOKEN 1234 5678 9012 3456 7890\n--- end ---');
  });
});
