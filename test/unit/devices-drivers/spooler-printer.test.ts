import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachDeviceService, DeviceService } from '../../../src-main/devices/device-service.ts';
import {
  escPosJobText,
  SpoolerReceiptPrinter,
  type SpoolJob,
  spoolFailure,
  spoolHtml,
} from '../../../src-main/devices/drivers/spooler-printer.ts';
import { deviceHandlers } from '../../../src-main/service/handlers/device-handlers.ts';
import type { SaleResult } from '../../../src-shared/bridge/domain-schemas.ts';
import { DeviceError } from '../../../src-shared/devices/device-errors.ts';
import { DEFAULT_CODE_PAGE, EscPosBuilder } from '../../../src-shared/devices/escpos.ts';
import { createEngineFixture, type EngineFixture } from '../../support/engine-fixture.ts';
import { call, refusal, type ServiceKit, serviceKit } from '../service/service-kit.ts';

const job = new EscPosBuilder(DEFAULT_CODE_PAGE)
  .initialize()
  .align('centre')
  .bold()
  .line('OPENVEND <b>')
  .bold(false)
  .align('left')
  .line('Café 50.00')
  .cut('partial')
  .encode();

describe('SpoolerReceiptPrinter', () => {
  it('decodes the ESC/POS job to text and hands it to the print path as escaped HTML; the job ends at sent', async () => {
    const jobs: SpoolJob[] = [];
    const printer = new SpoolerReceiptPrinter(async (j) => void jobs.push(j), { deviceName: 'POS-80' });
    const states: string[] = [];
    const outcome = await printer.print(job, {
      jobId: 'j1',
      columns: 20,
      onState: (u) => states.push(u.state),
    });
    expect(outcome).toEqual({
      jobId: 'j1',
      state: 'sent',
      status: null,
      unconfirmed: 'Status cannot be read for spooler printers.',
    });
    expect(states).toEqual(['queued', 'sent']);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ deviceName: 'POS-80', text: '    OPENVEND <b>\nCafé 50.00' });
    expect(jobs[0]!.html).toContain('<pre>    OPENVEND &#60;b&#62;\nCafé 50.00</pre>');
    expect(jobs[0]!.html).toContain("default-src 'none'");
  });

  it('records failed and rethrows when the print path refuses; a thrown non-OpenVend error becomes PRINTER_FAULT', async () => {
    const states: string[] = [];
    const refused = new SpoolerReceiptPrinter(async () => {
      throw spoolFailure({ code: 'PRINTER_FAULT', userMessage: 'No such printer.', detail: 'failed' });
    });
    const error = await refusal(() =>
      refused.print(job, { jobId: 'j2', onState: (u) => states.push(u.state) }),
    );
    expect(error).toMatchObject({ code: 'PRINTER_FAULT', userMessage: 'No such printer.' });
    expect(states).toEqual(['queued', 'failed']);

    const crashing = new SpoolerReceiptPrinter(async () => {
      throw new Error('boom');
    });
    expect(await refusal(() => crashing.print(job, { jobId: 'j3' }))).toMatchObject({
      code: 'PRINTER_FAULT',
      detail: 'Error: boom',
    });
    // The queue goes on after a failure.
    const after = new SpoolerReceiptPrinter(async () => undefined);
    await expect(after.print(job, { jobId: 'j4' })).resolves.toMatchObject({ state: 'sent' });
  });

  it('never claims a status', async () => {
    const error = await refusal(() => new SpoolerReceiptPrinter(async () => undefined).status());
    expect(error).toMatchObject({
      code: 'DEVICE_UNAVAILABLE',
      userMessage: 'Status cannot be read for spooler printers.',
    });
  });

  it('renders text printed after the last cut too', () => {
    const uncut = new EscPosBuilder(DEFAULT_CODE_PAGE).initialize().line('A').cut().line('B').encode();
    expect(escPosJobText(uncut, 32)).toBe('A\n\nB');
    expect(spoolHtml('t', 'x')).toContain('<title>t</title>');
  });

  it('keeps the error the desktop shell reported', () => {
    const error = spoolFailure({ code: 'X', userMessage: 'Say this.', detail: 'why' });
    expect(error).toBeInstanceOf(DeviceError);
    expect(error).toMatchObject({ code: 'PRINTER_FAULT', userMessage: 'Say this.', detail: 'X: why' });
  });
});

describe('os-spooler printer through the device service', () => {
  let f: EngineFixture;
  let kit: ServiceKit;
  let sale: SaleResult;
  const spooled: SpoolJob[] = [];
  let failNext = false;
  const services: DeviceService[] = [];
  const noDevices = { listSerial: async () => [], listHid: async () => [], listPcscReaders: async () => [] };
  const cashier = () => kit.context(f.sessions.cashier);
  const admin = () => kit.context(f.sessions.admin);
  const start = (spool: ((job: SpoolJob) => Promise<void>) | null) => {
    const service = new DeviceService({
      engine: kit.open.engine,
      sqlite: kit.open.ledger.sqlite,
      dataDir: f.dataDir,
      discovery: noDevices,
      clock: () => f.now,
      ...(spool ? { spool } : {}),
    });
    services.push(service);
    return attachDeviceService(kit.open.engine, service);
  };
  const jobRows = () =>
    kit.open.ledger.sqlite
      .prepare(
        "SELECT state, error_code AS errorCode FROM carrier_job WHERE carrier = 'receipt' ORDER BY rowid",
      )
      .all();

  beforeAll(async () => {
    f = createEngineFixture({ openShiftsFor: ['cashier'] });
    kit = serviceKit(f);
    start(async (j) => {
      if (failNext) {
        failNext = false;
        throw spoolFailure({
          code: 'PRINTER_FAULT',
          userMessage: 'The system print queue refused it.',
          detail: 'x',
        });
      }
      spooled.push(j);
    });
    await call(
      deviceHandlers,
      'devices.configure',
      { config: { role: 'receipt-printer', connection: { type: 'os-spooler', deviceName: 'POS-80' } } },
      admin(),
    );
    sale = kit.open.engine.vend(f.sessions.cashier, {
      requestId: 'spooler-000001',
      meterNumber: f.meterNumbers[0]!,
      tenderMinor: 5_000,
    });
  });
  afterAll(async () => {
    for (const service of services) await service.close();
    f.cleanup();
  });

  it('says in the status that the status cannot be read', async () => {
    const { statuses } = await call(deviceHandlers, 'devices.status', { role: 'receipt-printer' }, cashier());
    expect(statuses[0]).toMatchObject({ state: 'ready', printer: null });
    expect(statuses[0]!.message).toContain('system print queue: POS-80');
    expect(statuses[0]!.message).toContain('Status cannot be read for spooler printers.');
    const { devices } = await call(deviceHandlers, 'devices.list', {}, cashier());
    expect(devices.find((d) => d.role === 'receipt-printer')).toMatchObject({ state: 'connected' });
  });

  it('a refused job is failed in the ledger and the original may be printed again', async () => {
    failNext = true;
    const error = await refusal(() =>
      call(deviceHandlers, 'receipt.print', { receiptNo: sale.receiptNo }, cashier()),
    );
    expect(error).toMatchObject({ code: 'PRINTER_FAULT', userMessage: 'The system print queue refused it.' });
    expect(jobRows()).toEqual([{ state: 'failed', errorCode: 'PRINTER_FAULT' }]);
  });

  it('prints a receipt to the named printer: sent (never confirmed), with the spooler warning', async () => {
    const result = await call(deviceHandlers, 'receipt.print', { receiptNo: sale.receiptNo }, cashier());
    expect(result).toMatchObject({ state: 'sent', preview: null, previewImage: null });
    expect(result.warning).toContain('Status cannot be read for spooler printers.');
    expect(spooled).toHaveLength(1);
    expect(spooled[0]!.deviceName).toBe('POS-80');
    expect(spooled[0]!.text).toContain(String(sale.receipt.header.receiptNo));
    expect(jobRows()).toEqual([
      { state: 'failed', errorCode: 'PRINTER_FAULT' },
      { state: 'sent', errorCode: null },
    ]);
  });

  it('without a desktop print path (browser mode) reports DEVICE_UNAVAILABLE with a clear message', async () => {
    start(null);
    const error = await refusal(() => call(deviceHandlers, 'devices.testPrint', {}, cashier()));
    expect(error.code).toBe('DEVICE_UNAVAILABLE');
    expect(error.userMessage).toContain('only in the OpenVend desktop app');
    const { statuses } = await call(deviceHandlers, 'devices.status', { role: 'receipt-printer' }, cashier());
    expect(statuses[0]).toMatchObject({ state: 'unavailable', code: 'DEVICE_UNAVAILABLE' });
    const { devices } = await call(deviceHandlers, 'devices.list', {}, cashier());
    expect(devices.find((d) => d.role === 'receipt-printer')).toMatchObject({ state: 'unavailable' });
  });
});
