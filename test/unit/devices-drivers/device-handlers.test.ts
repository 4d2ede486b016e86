import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachDeviceService, DeviceService } from '../../../src-main/devices/device-service.ts';
import { SimulatedDevices } from '../../../src-main/devices/simulators/simulated-devices.ts';
import { deviceHandlers } from '../../../src-main/service/handlers/device-handlers.ts';
import type { SaleResult } from '../../../src-shared/bridge/domain-schemas.ts';
import { DEFAULT_IC_CARD_LAYOUT } from '../../../src-shared/devices/ic-card-layout.ts';
import { DEFAULT_MAG_CARD_CODEC } from '../../../src-shared/devices/mag-card-layout.ts';
import { formatMoney } from '../../../src-shared/vending/money.ts';
import { createEngineFixture, type EngineFixture } from '../../support/engine-fixture.ts';
import { auditActions, call, refusal, type ServiceKit, serviceKit } from '../service/service-kit.ts';
import { settle } from './support.ts';

let f: EngineFixture;
let kit: ServiceKit;
let simulators: SimulatedDevices;
let service: DeviceService;
let sale: SaleResult;
let n = 0;

const noDevices = {
  listSerial: async () => [],
  listHid: async () => [],
  listPcscReaders: async () => {
    throw new Error('pcscd is not running');
  },
};

const cashier = () => kit.context(f.sessions.cashier);
const admin = () => kit.context(f.sessions.admin);
const sell = (tenderMinor = 15_000, meter = f.meterNumbers[0]!) =>
  kit.open.engine.vend(f.sessions.cashier, {
    requestId: `devices-${String(++n).padStart(6, '0')}`,
    meterNumber: meter,
    tenderMinor,
  });
const money = (minor: number) =>
  formatMoney(minor, {
    code: kit.open.engine.utility.currencyCode,
    minorUnits: kit.open.engine.utility.currencyMinorUnits,
  });
const grouped = (digits: string) => digits.replace(/(\d{4})(?=\d)/g, '$1 ');

beforeAll(() => {
  f = createEngineFixture({ openShiftsFor: ['cashier', 'supervisor'] });
  kit = serviceKit(f);
  simulators = new SimulatedDevices({ meterNo: f.meterNumbers[0]!, autoSwipe: true });
  service = attachDeviceService(
    kit.open.engine,
    new DeviceService({
      engine: kit.open.engine,
      sqlite: kit.open.ledger.sqlite,
      dataDir: f.dataDir,
      kek: { description: 'test KEK', load: () => f.kek },
      simulators,
      discovery: noDevices,
      clock: () => f.now,
    }),
  );
  sale = sell();
});
afterAll(async () => {
  await service.close();
  f.cleanup();
});

describe('receipt.print on the simulated printer', () => {
  it('prints a committed sale: the page holds the grouped token and the amounts; the job is confirmed', async () => {
    const result = await call(deviceHandlers, 'receipt.print', { receiptNo: sale.receiptNo }, cashier());
    expect(result).toMatchObject({
      receiptNo: sale.receiptNo,
      copy: false,
      state: 'confirmed',
      warning: null,
    });
    const page = result.preview ?? '';
    const credit = sale.tokens.find((t) => t.kind === 'credit')!;
    expect(page).toContain(grouped(credit.digits));
    expect(page).toContain(`[QR ${credit.digits}]`);
    expect(page).toContain(money(sale.breakdown!.tenderMinor));
    expect(page).toContain(sale.receipt.header.receiptNo);
    expect(page).not.toContain('COPY');
    const { jobs } = await call(deviceHandlers, 'devices.jobs', { receiptNo: sale.receiptNo }, cashier());
    expect(jobs).toEqual([
      expect.objectContaining({ carrier: 'receipt', copy: false, state: 'confirmed', errorCode: null }),
    ]);
  });

  it('a second original is refused; the reprint is an explicit copy, marked COPY and audited', async () => {
    const refused = await refusal(() =>
      call(deviceHandlers, 'receipt.print', { receiptNo: sale.receiptNo }, cashier()),
    );
    expect(refused.code).toBe('VEND_INVALID_REQUEST');
    const copy = await call(
      deviceHandlers,
      'receipt.print',
      { receiptNo: sale.receiptNo, copy: true },
      cashier(),
    );
    expect(copy.copy).toBe(true);
    expect(copy.preview).toContain('*** REPRINT - COPY ***');
    expect(auditActions(kit.open.ledger.sqlite)).toContain('sale.reprint');
  });

  it('paper end: refused with what to do, the job is recorded failed, and printing again is allowed after reloading', async () => {
    const next = sell(8_000, f.meterNumbers[1]!);
    simulators.printer.simulator.setStatus({ paperEnd: true });
    const error = await refusal(() =>
      call(deviceHandlers, 'receipt.print', { receiptNo: next.receiptNo }, cashier()),
    );
    expect(error.code).toBe('PRINTER_PAPER_END');
    expect(error.userMessage).toMatch(/Load a new paper roll/);
    const status = await call(deviceHandlers, 'devices.status', { role: 'receipt-printer' }, cashier());
    expect(status.statuses[0]).toMatchObject({ state: 'not-ready', code: 'PRINTER_PAPER_END' });
    simulators.printer.simulator.setStatus({ paperEnd: false });
    const printed = await call(deviceHandlers, 'receipt.print', { receiptNo: next.receiptNo }, cashier());
    expect(printed.state).toBe('confirmed');
    const { jobs } = await call(deviceHandlers, 'devices.jobs', { receiptNo: next.receiptNo }, cashier());
    expect(jobs.map((j) => [j.state, j.errorCode])).toEqual([
      ['failed', 'PRINTER_PAPER_END'],
      ['confirmed', null],
    ]);
  });

  it('cover open is refused with PRINTER_COVER_OPEN; an unknown receipt is VEND_NOT_FOUND', async () => {
    const next = sell(5_000, f.meterNumbers[1]!);
    simulators.printer.simulator.setStatus({ coverOpen: true });
    expect(
      (await refusal(() => call(deviceHandlers, 'receipt.print', { receiptNo: next.receiptNo }, cashier())))
        .code,
    ).toBe('PRINTER_COVER_OPEN');
    simulators.printer.simulator.setStatus({ coverOpen: false });
    expect(
      (await refusal(() => call(deviceHandlers, 'receipt.print', { receiptNo: 999_999 }, cashier()))).code,
    ).toBe('VEND_NOT_FOUND');
  });

  it('prints a test page', async () => {
    const result = await call(deviceHandlers, 'devices.testPrint', {}, cashier());
    expect(result.receiptNo).toBeNull();
    expect(result.preview).toContain('OPENVEND TEST PRINT');
    expect(result.preview).toContain('àâçéèêëîïôûùüÿ');
  });
});

describe('card.write and card.read on the simulated encoders', () => {
  it('writes the tokens to the magnetic card (read back before it counts) and the card identifies the meter', async () => {
    const result = await call(deviceHandlers, 'card.write', { receiptNo: sale.receiptNo }, cashier());
    expect(result).toMatchObject({ carrier: 'magnetic', state: 'verified', tokenCount: sale.tokens.length });
    const card = simulators.msr.simulator.card!;
    const content = DEFAULT_MAG_CARD_CODEC.decode(card);
    expect(content.tokens).toEqual(sale.tokens.map((t) => t.digits));
    expect(content.meterNo).toBe(sale.meterNo);
    const read = await call(deviceHandlers, 'card.read', {}, cashier());
    expect(read.meterNo).toBe(f.meterNumbers[0]);
    const { jobs } = await call(deviceHandlers, 'devices.jobs', { receiptNo: sale.receiptNo }, cashier());
    expect(jobs.filter((j) => j.carrier === 'magnetic-card').map((j) => j.state)).toEqual(['verified']);
  });

  it('writes the purchase record to the IC card and reads it back', async () => {
    const result = await call(
      deviceHandlers,
      'card.write',
      { receiptNo: sale.receiptNo, carrier: 'ic' },
      cashier(),
    );
    expect(result).toMatchObject({ carrier: 'ic', state: 'verified' });
    const bytes = simulators.icCard.memory.subarray(DEFAULT_IC_CARD_LAYOUT.address);
    expect(DEFAULT_IC_CARD_LAYOUT.decode(bytes)?.tokens).toEqual(sale.tokens.map((t) => t.digits));
  });

  it('a read-back mismatch fails the write (CARD_WRITE_VERIFY_FAILED) and the job says so', async () => {
    const next = sell(6_000, f.meterNumbers[1]!);
    simulators.msr.simulator.corruptNextWrite();
    const error = await refusal(() =>
      call(deviceHandlers, 'card.write', { receiptNo: next.receiptNo }, cashier()),
    );
    expect(error.code).toBe('CARD_WRITE_VERIFY_FAILED');
    const { jobs } = await call(deviceHandlers, 'devices.jobs', { receiptNo: next.receiptNo }, cashier());
    expect(jobs.map((j) => [j.carrier, j.state, j.errorCode])).toEqual([
      ['magnetic-card', 'failed', 'CARD_WRITE_VERIFY_FAILED'],
    ]);
  });

  it('card.cancel stops a read waiting for a swipe; a second card operation meanwhile is refused as busy', async () => {
    const msr = simulators.msr.simulator;
    const held = msr.card;
    msr.insertCard(null); // no card: the encoder waits for a swipe
    const reading = call(deviceHandlers, 'card.read', {}, cashier()).catch((error: unknown) => error);
    for (let i = 0; i < 200 && msr.waitingFor === null; i++) await settle(1);
    const status = await call(deviceHandlers, 'devices.status', { role: 'card-reader' }, cashier());
    expect(status.statuses[0]?.operation).toEqual({
      kind: 'read',
      carrier: 'magnetic',
      phase: 'swipe-to-read',
    });
    const busy = await refusal(() =>
      call(deviceHandlers, 'card.write', { receiptNo: sale.receiptNo }, cashier()),
    );
    expect(busy.code).toBe('DEVICE_BUSY');
    expect(await call(deviceHandlers, 'card.cancel', {}, cashier())).toEqual({ cancelled: true });
    expect(await reading).toMatchObject({ code: 'DEVICE_CANCELLED' });
    expect(await call(deviceHandlers, 'card.cancel', {}, cashier())).toEqual({ cancelled: false });
    msr.insertCard(held);
  });

  it('a sale without tokens (a reversal) cannot be written to a card', async () => {
    const original = sell(4_000, f.meterNumbers[1]!);
    const reversal = kit.open.engine.reverse(f.sessions.supervisor, {
      requestId: `devices-rev-${original.receiptNo}`,
      receiptNo: original.receiptNo,
      reason: 'wrong-amount',
    });
    const error = await refusal(() =>
      call(deviceHandlers, 'card.write', { receiptNo: reversal.receiptNo }, cashier()),
    );
    expect(error.code).toBe('DEVICE_INVALID_DATA');
  });
});

describe('devices.list, devices.configure and devices.remove', () => {
  it('lists the simulated roles and reports discovery problems in plain words', async () => {
    const list = await call(deviceHandlers, 'devices.list', {}, cashier());
    expect(list.simulated).toBe(true);
    expect(list.devices.map((d) => [d.role, d.config?.connection.type ?? null])).toEqual([
      ['receipt-printer', 'simulator'],
      ['magnetic-encoder', 'simulator'],
      ['ic-encoder', 'simulator'],
      ['card-reader', null],
    ]);
    expect(list.candidates.problems).toEqual(['Smart-card readers: pcscd is not running']);
  });

  it('an admin sets the IC encoder with a PSC: stored sealed, never returned, audited; a cashier may not', async () => {
    const config = {
      role: 'ic-encoder' as const,
      connection: { type: 'pcsc' as const, readerName: 'ACR38' },
      settings: { profile: 'acs-acr38' as const, minTriesLeft: 3 },
    };
    const forbidden = await refusal(() =>
      call(deviceHandlers, 'devices.configure', { config, psc: '123456' }, cashier()),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
    const view = await call(deviceHandlers, 'devices.configure', { config, psc: '123456' }, admin());
    expect(view).toMatchObject({ role: 'ic-encoder', pscSet: true, config });
    expect(JSON.stringify(view)).not.toContain('123456');
    const row = kit.open.ledger.sqlite
      .prepare(
        "SELECT config_json AS json, secret_sealed AS sealed FROM device_config WHERE role = 'ic-encoder'",
      )
      .get() as { json: string; sealed: Buffer };
    expect(row.json).not.toContain('123456');
    expect(row.sealed.toString('hex')).not.toContain('123456');
    expect(auditActions(kit.open.ledger.sqlite)).toContain('device.configure');
    const audit = kit.open.ledger.sqlite
      .prepare("SELECT details_json AS d FROM audit_log WHERE action = 'device.configure'")
      .all() as Array<{ d: string }>;
    expect(audit.map((a) => a.d).join()).not.toContain('123456');
    await call(deviceHandlers, 'devices.remove', { role: 'ic-encoder' }, admin());
    const list = await call(deviceHandlers, 'devices.list', {}, cashier());
    expect(list.devices.find((d) => d.role === 'ic-encoder')?.config?.connection.type).toBe('simulator');
  });

  it('a PSC for another role and an unknown code page are refused with a clear message', async () => {
    const printer = {
      role: 'receipt-printer' as const,
      connection: { type: 'tcp' as const, host: '192.0.2.10', port: 9100 },
      settings: { qrCode: false, cut: 'full' as const, confirm: 'none' as const },
    };
    expect(
      (
        await refusal(() =>
          call(deviceHandlers, 'devices.configure', { config: printer, psc: 'ffffff' }, admin()),
        )
      ).code,
    ).toBe('DEVICE_INVALID_DATA');
    const badPage = {
      ...printer,
      settings: { ...printer.settings, codePage: { table: 'klingon', escT: 3 } },
    };
    expect(
      (await refusal(() => call(deviceHandlers, 'devices.configure', { config: badPage }, admin()))).code,
    ).toBe('DEVICE_INVALID_DATA');
  });

  it('a configured printer that is not there is reported, not hidden', async () => {
    const config = {
      role: 'receipt-printer' as const,
      connection: { type: 'serial' as const, vendorId: '0416', productId: '5011', baudRate: 9600 },
      settings: { qrCode: false, cut: 'partial' as const, confirm: 'none' as const },
    };
    await call(deviceHandlers, 'devices.configure', { config }, admin());
    const status = await call(deviceHandlers, 'devices.status', { role: 'receipt-printer' }, cashier());
    expect(status.statuses[0]).toMatchObject({ state: 'disconnected', code: 'DEVICE_NOT_FOUND' });
    const next = sell(3_000, f.meterNumbers[1]!);
    const error = await refusal(() =>
      call(deviceHandlers, 'receipt.print', { receiptNo: next.receiptNo }, cashier()),
    );
    expect(error.code).toBe('DEVICE_NOT_FOUND');
    await call(deviceHandlers, 'devices.remove', { role: 'receipt-printer' }, admin());
  });
});
