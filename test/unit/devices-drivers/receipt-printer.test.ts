import { describe, expect, it } from 'vitest';
import {
  EscPosReceiptPrinter,
  type PrintJobUpdate,
} from '../../../src-main/devices/drivers/receipt-printer.ts';
import { EscPosPrinterSimulator } from '../../../src-main/devices/simulators/escpos-printer.ts';
import { createMemoryLink } from '../../../src-main/devices/transports/memory.ts';
import { EscPosBuilder } from '../../../src-shared/devices/escpos.ts';
import { mockSerialCable, rejection, settle } from './support.ts';

const job = (text = 'Épicerie São João — 42,00 €') =>
  new EscPosBuilder().initialize().align('centre').bold().line(text).bold(false).feed(2).cut().encode();

function printerOverMock(options: ConstructorParameters<typeof EscPosReceiptPrinter>[1] = {}) {
  const cable = mockSerialCable({ vendorId: '0416', productId: '5011' });
  const simulator = new EscPosPrinterSimulator(cable.device, { columns: 42 });
  const printer = new EscPosReceiptPrinter(cable.transport, { statusTimeoutMs: 200, ...options });
  const states: PrintJobUpdate[] = [];
  const onState = (update: PrintJobUpdate) => void states.push(update);
  return { ...cable, simulator, printer, states, onState };
}

describe('ESC/POS receipt printer over SerialPortMock', () => {
  it('checks DLE EOT 1-4 before the job, sends it once, and the simulator renders the accented text', async () => {
    const { printer, simulator, states, onState, transport } = printerOverMock();
    const outcome = await printer.print(job(), { jobId: 'job-1', onState });
    expect(outcome.state).toBe('sent');
    expect(outcome.status.online).toBe(true);
    expect(states.map((s) => s.state)).toEqual(['queued', 'sent']);
    await settle();
    expect(simulator.lastPage()).toBe(`${' '.repeat(7)}Épicerie São João - 42,00 €`);
    // The four status requests come first, one at a time, then the job: nothing is sent twice.
    const sent = simulator.received;
    expect(sent.slice(0, 12)).toEqual([0x10, 4, 1, 0x10, 4, 2, 0x10, 4, 3, 0x10, 4, 4]);
    expect(sent.length).toBe(12 + job().length);
    await transport.close();
  });

  it('confirms with GS r 1 when configured, and reports near-end as a warning, not a refusal', async () => {
    const { printer, simulator, states, onState } = printerOverMock({ confirm: 'gs-r' });
    simulator.setStatus({ paperNearEnd: true });
    const outcome = await printer.print(job(), { jobId: 'job-2', onState });
    expect(outcome.state).toBe('confirmed');
    expect(outcome.status.paperNearEnd).toBe(true);
    expect(states.map((s) => s.state)).toEqual(['queued', 'sent', 'confirmed']);
  });

  it('refuses to print with paper end: PRINTER_PAPER_END, job failed, not one byte of the job sent', async () => {
    const { printer, simulator, states, onState } = printerOverMock();
    simulator.setStatus({ paperEnd: true });
    await rejection(printer.print(job(), { jobId: 'job-3', onState }), 'PRINTER_PAPER_END');
    expect(states.map((s) => s.state)).toEqual(['queued', 'failed']);
    expect(states[1]?.error?.code).toBe('PRINTER_PAPER_END');
    await settle();
    expect(simulator.received.length).toBe(12);
  });

  it('refuses to print with the cover open, and prints after it is closed (an explicit new job)', async () => {
    const { printer, simulator } = printerOverMock();
    simulator.setStatus({ coverOpen: true });
    await rejection(printer.print(job('one'), { jobId: 'a' }), 'PRINTER_COVER_OPEN');
    simulator.setStatus({ coverOpen: false });
    await printer.print(job('one'), { jobId: 'b' });
    await settle();
    expect(simulator.pages).toEqual([`${' '.repeat(19)}one`]);
  });

  it('refuses an offline printer and a cutter fault with their own codes', async () => {
    const { printer, simulator } = printerOverMock();
    simulator.setStatus({ offline: true });
    await rejection(printer.print(job(), { jobId: 'a' }), 'PRINTER_OFFLINE');
    simulator.setStatus({ offline: false, cutterError: true });
    await rejection(printer.print(job(), { jobId: 'b' }), 'PRINTER_FAULT');
  });

  it('times out when the printer does not answer DLE EOT, and the job is failed', async () => {
    const { printer, simulator, states, onState } = printerOverMock({ statusTimeoutMs: 50 });
    simulator.detach();
    await rejection(printer.print(job(), { jobId: 'x', onState }), 'DEVICE_TIMEOUT');
    expect(states.map((s) => s.state)).toEqual(['queued', 'failed']);
  });

  it('skips garbage before a status reply and assembles split replies', async () => {
    const cable = mockSerialCable();
    // A scripted device: line noise, then the reply; one byte per chunk.
    cable.device.onData((chunk) => {
      if (chunk[0] === 0x10) {
        for (const byte of [0xff, 0x00, 0x81, 0x12]) void cable.device.write(Uint8Array.of(byte));
      }
    });
    const status = await new EscPosReceiptPrinter(cable.transport, { statusTimeoutMs: 500 }).status();
    expect(status).toMatchObject({ online: true, paperEnd: false, coverOpen: false, error: false });
  });

  it('an unplug during the job fails it as DEVICE_DISCONNECTED and it is not re-sent', async () => {
    const { printer, device, states, onState, simulator } = printerOverMock();
    device.failWrites(3);
    await rejection(printer.print(job(), { jobId: 'job-4', onState }), 'DEVICE_DISCONNECTED');
    expect(states.map((s) => s.state)).toEqual(['queued', 'failed']);
    await settle();
    expect(simulator.received.length).toBe(12);
  });

  it('an unplug while idle closes the transport as unexpected (the manager then looks the printer up again)', async () => {
    const { printer, device, transport } = printerOverMock();
    await printer.status();
    await settle();
    const closed = new Promise((resolve) => transport.onClose(resolve));
    device.unplug();
    expect(await closed).toMatchObject({ unexpected: true });
    expect(transport.isOpen).toBe(false);
  });
});

describe('ESC/POS printer over the in-memory link', () => {
  it('a job sent and then unplugged stays sent (bytes left); the driver reports what it knows', async () => {
    const link = createMemoryLink();
    const simulator = new EscPosPrinterSimulator(link.device);
    const printer = new EscPosReceiptPrinter(link.host, { confirm: 'gs-r', confirmTimeoutMs: 100 });
    simulator.onPage(() => link.unplug());
    const outcome = await printer.print(job(), { jobId: 'j' });
    expect(outcome.state).toBe('sent');
    expect(outcome.unconfirmed).toMatch(/unplugged|not open/);
    expect(simulator.pages).toHaveLength(1);
  });
});
