import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listCustomers,
  listMeters,
  listTariffs,
  tariffSummary,
  updateMeter,
} from '../../../src-main/engine/admin.ts';
import { demoPan } from '../../../src-main/engine/demo.ts';
import { addTariffVersion } from '../../../src-main/engine/master-data.ts';
import { adminHandlers } from '../../../src-main/service/handlers/admin-handlers.ts';
import type { MethodArgs } from '../../../src-shared/bridge/contract.ts';
import {
  createEngineFixture,
  type EngineFixture,
  readMeterKeys,
  virtualMeterFor,
} from '../../support/engine-fixture.ts';
import { auditActions, call, refusal, rowCount, type ServiceKit, serviceKit } from './service-kit.ts';

let f: EngineFixture;
let kit: ServiceKit;
let n = 0;
const requestId = () => `adm-${String(++n).padStart(6, '0')}`;

beforeAll(() => {
  f = createEngineFixture();
  kit = serviceKit(f);
});
afterAll(() => f.cleanup());

const admin = () => kit.context(f.sessions.admin);
const sqlite = () => kit.open.ledger.sqlite;
const meters = (args: MethodArgs<'meters.list'> = {}) => call(adminHandlers, 'meters.list', args, admin());
const updateMeterCall = (args: MethodArgs<'meters.update'>) =>
  call(adminHandlers, 'meters.update', args, admin());
const customers = (args: MethodArgs<'customers.list'> = {}) =>
  call(adminHandlers, 'customers.list', args, admin());

describe('meters.list', () => {
  it('lists every meter by number with its customer, tariff, keys and state', async () => {
    const page = await meters();
    expect(page.total).toBe(24);
    expect(page.rows.map((r) => r.meterNo)).toEqual([...f.meterNumbers].sort());
    const first = page.rows.find((r) => r.meterNo === f.meterNumbers[0])!;
    expect(first).toMatchObject({
      resource: 'electricity',
      customerAccountNo: 'ACC1001',
      tariffCode: 'IBT-DOM',
      sgc: '123456',
      krn: 1,
      ti: 1,
      blocked: false,
      blockedReason: null,
      pendingKeyChange: false,
      lastPurchaseAt: null,
    });
    expect(page.rows.find((r) => r.meterNo === f.blockedMeter)).toMatchObject({
      blocked: true,
      blockedReason: 'Tamper reported by field inspection',
    });
    expect(page.rows.find((r) => r.meterNo === f.keyChangeMeter)!.pendingKeyChange).toBe(true);
  });

  it('searches by meter number (spaces allowed), PAN prefix, account number, name or address', async () => {
    const spaced = f.meterNumbers[4]!.replace(/(\d{4})(?=\d)/g, '$1 ');
    expect((await meters({ query: spaced })).rows.map((r) => r.meterNo)).toEqual([f.meterNumbers[4]]);
    expect((await meters({ query: demoPan(5) })).rows.map((r) => r.meterNo)).toEqual([f.meterNumbers[4]]);
    expect((await meters({ query: '600727' })).total).toBe(24);
    expect((await meters({ query: 'acc1005' })).rows.map((r) => r.meterNo)).toEqual([f.meterNumbers[4]]);
    const name = (await meters({ query: 'ACC1005' })).rows[0]!.customerName!;
    expect((await meters({ query: name.split(' ')[0]!.toLowerCase() })).rows.length).toBeGreaterThan(0);
    // LIKE wildcards typed by the operator are taken literally.
    expect((await meters({ query: '%' })).total).toBe(0);
    expect(await meters({ query: 'no such customer' })).toEqual({ rows: [], total: 0 });
  });

  it('pages with a stable total; an offset past the end is an empty page', async () => {
    const a = await meters({ limit: 10 });
    const b = await meters({ limit: 10, offset: 10 });
    const c = await meters({ limit: 10, offset: 20 });
    expect([a.rows.length, b.rows.length, c.rows.length, a.total, c.total]).toEqual([10, 10, 4, 24, 24]);
    expect(await meters({ offset: 500 })).toEqual({ rows: [], total: 24 });
  });

  it('needs the master data permission in the engine too', async () => {
    const forbidden = await refusal(() =>
      listMeters(sqlite(), f.sessions.supervisor, { query: '', limit: 5, offset: 0 }),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });
});

describe('meters.update', () => {
  it('moves a meter to a tariff with another TI as a pending key change, which the next sale issues', async () => {
    const meter = f.meterNumbers[0]!;
    const row = readMeterKeys(sqlite()).get(meter)!;
    const updated = await updateMeterCall({ meterNo: meter, tariffCode: 'FLAT-BUS' });
    expect(updated).toMatchObject({ tariffCode: 'FLAT-BUS', ti: 1, pendingKeyChange: true });
    expect(sqlite().prepare('SELECT pending_ti AS ti FROM meter WHERE meter_no = ?').get(meter)).toEqual({
      ti: 2,
    });
    expect(auditActions(sqlite()).at(-1)).toBe('meter.update');
    const sale = kit.open.engine.vend(f.sessions.cashier, {
      requestId: requestId(),
      meterNumber: meter,
      tenderMinor: 5_000,
    });
    expect(sale.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change', 'credit']);
    const virtual = virtualMeterFor(row);
    expect(sale.tokens.map((t) => virtual.apply(t.digits).accepted)).toEqual([true, true, true]);
    expect(virtual.tariffIndex).toBe(2);
    expect((await meters({ query: meter })).rows[0]).toMatchObject({ ti: 2, pendingKeyChange: false });
  });

  it('cancels the pending TI change when the tariff goes back before a sale', async () => {
    const meter = f.meterNumbers[1]!;
    await updateMeterCall({ meterNo: meter, tariffCode: 'FLAT-BUS' });
    expect(await updateMeterCall({ meterNo: meter, tariffCode: 'IBT-DOM' })).toMatchObject({
      tariffCode: 'IBT-DOM',
      pendingKeyChange: false,
    });
  });

  it('attaches and detaches a customer, and blocks with a reason and unblocks', async () => {
    const meter = f.meterNumbers[5]!;
    expect(await updateMeterCall({ meterNo: meter, customerAccountNo: null })).toMatchObject({
      customerAccountNo: null,
      customerName: null,
      address: null,
    });
    expect((await updateMeterCall({ meterNo: meter, customerAccountNo: 'ACC1002' })).customerAccountNo).toBe(
      'ACC1002',
    );
    expect(
      await updateMeterCall({ meterNo: meter, blocked: true, blockedReason: '  Meter bypass found  ' }),
    ).toMatchObject({ blocked: true, blockedReason: 'Meter bypass found' });
    expect(
      (await updateMeterCall({ meterNo: meter, blockedReason: 'Bypass removed, awaiting audit' }))
        .blockedReason,
    ).toBe('Bypass removed, awaiting audit');
    expect(await updateMeterCall({ meterNo: meter, blocked: false })).toMatchObject({
      blocked: false,
      blockedReason: null,
    });
  });

  it('writes no audit entry when nothing changes', async () => {
    const before = rowCount(sqlite(), 'audit_log');
    await updateMeterCall({ meterNo: f.meterNumbers[6]!, tariffCode: 'IBT-DOM', blocked: true });
    expect(rowCount(sqlite(), 'audit_log')).toBe(before);
  });

  it('refuses an unknown meter, tariff or customer, blocking without a reason, and a non-admin; nothing written', async () => {
    const meter = f.meterNumbers[8]!;
    const before = { audit: rowCount(sqlite(), 'audit_log'), row: (await meters({ query: meter })).rows[0] };
    const unknownMeter = await refusal(() =>
      updateMeterCall({ meterNo: demoPan(99).slice(6), blocked: true }),
    );
    expect(unknownMeter.code).toBe('METER_UNKNOWN');
    expect((await refusal(() => updateMeterCall({ meterNo: meter, tariffCode: 'NOPE' }))).code).toBe(
      'VEND_NO_TARIFF',
    );
    const unknownCustomer = await refusal(() =>
      updateMeterCall({ meterNo: meter, tariffCode: 'FLAT-BUS', customerAccountNo: 'ACC9999' }),
    );
    expect(unknownCustomer.code).toBe('CUSTOMER_UNKNOWN');
    const noReason = await refusal(() => updateMeterCall({ meterNo: meter, blocked: true }));
    expect(noReason.userMessage).toContain('reason');
    expect((await refusal(() => updateMeterCall({ meterNo: meter, blockedReason: 'x' }))).code).toBe(
      'VEND_INVALID_REQUEST',
    );
    const forbidden = await refusal(() =>
      updateMeter(sqlite(), f.sessions.cashier, { meterNo: meter, blocked: false }, f.now),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
    expect({ audit: rowCount(sqlite(), 'audit_log'), row: (await meters({ query: meter })).rows[0] }).toEqual(
      before,
    );
  });
});

describe('customers', () => {
  it('lists customers with their arrears and meters, searchable by account, name, phone or meter number', async () => {
    const page = await customers();
    expect(page.total).toBe(24);
    expect(page.rows.map((c) => c.accountNo).slice(0, 3)).toEqual(['ACC1001', 'ACC1002', 'ACC1003']);
    // Customer 7 (arrears, a blocked meter nobody sells to) is untouched by the other tests.
    expect((await customers({ query: 'acc1007' })).rows).toEqual([
      {
        accountNo: 'ACC1007',
        name: expect.any(String),
        address: '17 Main Road, Seshego',
        phone: '+27 82 555 1007',
        location: 'Erf 207',
        arrearsMinor: 22_000,
        meterNos: [f.blockedMeter],
      },
    ]);
    expect(page.rows[1]!.arrearsMinor).toBe(0);
    expect((await customers({ query: '555 1003' })).rows.map((c) => c.accountNo)).toEqual(['ACC1003']);
    expect((await customers({ query: f.meterNumbers[3]! })).rows.map((c) => c.accountNo)).toEqual([
      'ACC1004',
    ]);
    expect(await customers({ query: 'zzz', offset: 0 })).toEqual({ rows: [], total: 0 });
    expect((await customers({ limit: 5, offset: 20 })).rows).toHaveLength(4);
    const forbidden = await refusal(() =>
      listCustomers(sqlite(), f.sessions.engineer, { query: '', limit: 5, offset: 0 }),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });

  it('edits a customer (audited) and refuses an unknown account or a bad phone number', async () => {
    const updated = await call(
      adminHandlers,
      'customers.update',
      { accountNo: 'ACC1010', name: ' Thabo Mokoena ', phone: '+27 82 000 0000' },
      admin(),
    );
    expect(updated).toMatchObject({ accountNo: 'ACC1010', name: 'Thabo Mokoena', phone: '+27 82 000 0000' });
    expect(auditActions(sqlite()).at(-1)).toBe('customer.update');
    const before = rowCount(sqlite(), 'audit_log');
    const unknown = await refusal(() =>
      call(adminHandlers, 'customers.update', { accountNo: 'ACC9999', name: 'X' }, admin()),
    );
    expect(unknown.code).toBe('CUSTOMER_UNKNOWN');
    const phone = await refusal(() =>
      call(adminHandlers, 'customers.update', { accountNo: 'ACC1010', phone: 'call me' }, admin()),
    );
    expect(phone.code).toBe('VEND_INVALID_REQUEST');
    expect(rowCount(sqlite(), 'audit_log')).toBe(before);
  });
});

describe('import.csv', () => {
  it('checks a file on a dry run without writing, then imports it all or nothing', async () => {
    const csv = readFileSync(new URL('../../fixtures/import/customers.csv', import.meta.url), 'utf8');
    const before = rowCount(sqlite(), 'customer');
    const dry = await call(
      adminHandlers,
      'import.csv',
      { kind: 'customers', fileName: 'customers.csv', csv, dryRun: true },
      admin(),
    );
    expect(dry).toMatchObject({ kind: 'customers', dryRun: true, imported: 0, rejected: [] });
    expect(rowCount(sqlite(), 'customer')).toBe(before);
    const real = await call(
      adminHandlers,
      'import.csv',
      { kind: 'customers', fileName: 'customers.csv', csv, dryRun: false },
      admin(),
    );
    expect(real.imported).toBe(real.rows);
    expect(rowCount(sqlite(), 'customer')).toBe(before + real.rows);
    const again = await call(
      adminHandlers,
      'import.csv',
      { kind: 'customers', fileName: 'customers.csv', csv, dryRun: false },
      admin(),
    );
    expect(again.imported).toBe(0);
    expect(again.rejected.length).toBeGreaterThan(0);
    expect(rowCount(sqlite(), 'customer')).toBe(before + real.rows);
  });
});

describe('tariffs.list', () => {
  it('gives every version a readable summary and marks the one in force today', async () => {
    const tariffId = (
      sqlite().prepare("SELECT id FROM tariff WHERE code = 'FLAT-BUS'").get() as { id: number }
    ).id;
    const base = {
      kind: 'flat' as const,
      blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 262_500 }],
      vatRateBp: 1500,
      pricesIncludeVat: false,
      fixedCharge: null,
      levies: [{ name: 'Street lighting', kind: 'per-kwh' as const, value: 12_345 }],
      fbeMonthlyUnits: 0,
      minVendMinor: 500,
      maxVendMinor: 1_000_000,
    };
    addTariffVersion(sqlite(), tariffId, { ...base, effectiveFromLocal: '2026-03-10' }, null, f.now);
    addTariffVersion(sqlite(), tariffId, { ...base, effectiveFromLocal: '2026-03-11' }, null, f.now);
    const tariffs = await call(adminHandlers, 'tariffs.list', {}, admin());
    expect(tariffs.map((t) => t.code)).toEqual(['FLAT-BUS', 'IBT-DOM']);
    const [flat, ibt] = tariffs;
    expect(flat!.versions.map((v) => [v.version, v.effectiveFrom, v.inForce])).toEqual([
      [1, '2020-01-01', false],
      [2, '2026-03-10', true],
      [3, '2026-03-11', false],
    ]);
    expect(flat!.versions[0]!.summary).toBe('Flat 2.45/kWh; VAT 15% included; vend 5.00–10000.00');
    expect(flat!.versions[1]!.summary).toBe(
      'Flat 2.625/kWh; VAT 15% added; Street lighting 0.12345/kWh; vend 5.00–10000.00',
    );
    expect(ibt!.versions).toHaveLength(1);
    expect(ibt!.versions[0]).toMatchObject({ kind: 'inclining-block', inForce: true });
    expect(ibt!.versions[0]!.summary).toBe(
      'Blocks 0–50 kWh: 1.50/kWh, 50–350 kWh: 2.10/kWh, 350–600 kWh: 2.85/kWh, above 600 kWh: 3.30/kWh; VAT 15% included; Service charge 25.00/month (up to 3 months); FBE 50 kWh/month; vend 10.00–5000.00',
    );
    const forbidden = await refusal(() =>
      listTariffs(sqlite(), f.sessions.cashier, kit.open.engine.utility, f.now),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });

  it('formats rates in a currency without decimals', () => {
    const summary = tariffSummary(
      {
        tariffId: 'UG',
        version: 1,
        name: 'Uganda',
        ti: 1,
        resource: 'electricity',
        kind: 'flat',
        blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 250_500 }],
        vatRateBp: 1800,
        pricesIncludeVat: true,
        fixedMonthlyCharge: null,
        levies: [{ name: 'REA levy', kind: 'percent', value: 100 }],
        fbeMonthlyUnits: 0,
        minVendMinor: 1000,
        maxVendMinor: 1_000_000,
      },
      { code: 'UGX', minorUnits: 0 },
    );
    expect(summary).toBe('Flat 250.5/kWh; VAT 18% included; REA levy 1%; vend 1000–1000000');
  });
});
