import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { closeShift, reprintZReport, xReport } from '../../../src-main/engine/shifts.ts';
import type { VendEngine } from '../../../src-main/engine/vend-engine.ts';
import { bridgeContract } from '../../../src-shared/bridge/contract.ts';
import {
  priceBreakdownSchema,
  receiptSchema,
  type SaleResult,
  saleResultSchema,
  shiftReportSchema,
  zShiftReportSchema,
} from '../../../src-shared/bridge/domain-schemas.ts';
import type { ShiftReport, ZShiftReport } from '../../../src-shared/vending/shift-report.ts';
import { createEngineFixture, type EngineFixture, FIXED_NOW } from '../../support/engine-fixture.ts';

/**
 * The strict domain schemas against what the real engine returns: every kind of sale, reprint, reversal and
 * shift report must pass unchanged, and a result with an unknown field or a fractional number must not.
 */

let f: EngineFixture;
let engine: VendEngine;
let counter = 0;
const requestId = () => `schemas-${String(++counter).padStart(6, '0')}`;
const meter = (n: number) => f.meterNumbers[n - 1]!;

/** Parses with the strict schema and proves nothing was dropped or changed on the way. */
function expectParsesUnchanged<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  expect(parsed.error?.issues).toBeUndefined();
  expect(parsed.data).toStrictEqual(value);
  return parsed.data as z.output<S>;
}

/** The result as the bridge would send it: the contract's result schema, and the nested domain schemas alone. */
function expectValidSale(result: SaleResult): void {
  expectParsesUnchanged(bridgeContract['vend.sell'].result, result);
  expectParsesUnchanged(receiptSchema, result.receipt);
  if (result.breakdown) expectParsesUnchanged(priceBreakdownSchema, result.breakdown);
}

/** Every result is made up front, in this order, so each test below stands on its own. */
const r = {} as {
  debtPercent: SaleResult;
  debtFixed: SaleResult;
  flat: SaleResult;
  fbe: SaleResult;
  keyChangeVend: SaleResult;
  replayed: SaleResult;
  quote: ReturnType<VendEngine['quote']>;
  reversal: SaleResult;
  reprint: SaleResult;
  powerLimit: SaleResult;
  testToken: SaleResult;
  keyChange: SaleResult;
  xWithSales: ShiftReport;
  xWithReversal: ShiftReport;
  xEmpty: ShiftReport;
  z: ZShiftReport;
  zCopy: ZShiftReport;
};

beforeAll(() => {
  f = createEngineFixture({ openShiftsFor: ['cashier', 'supervisor', 'admin'] });
  engine = f.open().engine;
  const { cashier, supervisor, engineer, admin } = f.sessions;
  const vend = (n: number, tenderMinor: number, id = requestId()) =>
    engine.vend(cashier, { requestId: id, meterNumber: meter(n), tenderMinor });
  // Demo meter 1: inclining blocks, a service charge and arrears recovered as a percentage of the tender.
  r.debtPercent = vend(1, 20_000);
  // Demo meter 19 (EA11): arrears recovered as a fixed amount per vend.
  r.debtFixed = vend(19, 15_000);
  // Demo meter 5: the flat business tariff, no service charge, paid by card.
  r.flat = engine.vend(cashier, {
    requestId: requestId(),
    meterNumber: meter(5),
    tenderMinor: 12_345,
    payType: 'card',
  });
  r.fbe = vend(4, 8_000);
  r.keyChangeVend = vend(3, 10_000);
  r.replayed = vend(1, 20_000, r.debtPercent.requestId);
  r.quote = engine.quote(cashier, meter(2), 5_000);
  r.reversal = engine.reverse(supervisor, {
    requestId: requestId(),
    receiptNo: r.flat.receiptNo,
    reason: 'wrong-amount',
    note: 'customer asked for less',
  });
  r.reprint = engine.reprint(cashier, r.keyChangeVend.receiptNo);
  const engineering = (token: Parameters<VendEngine['engineeringToken']>[1]['token']) =>
    engine.engineeringToken(engineer, { requestId: requestId(), meterNumber: meter(2), token });
  r.powerLimit = engineering({ kind: 'set-power-limit', watts: 4_600 });
  r.testToken = engineering({ kind: 'test', control: 1, manufacturerCode: 7 });
  r.keyChange = engine.keyChange(engineer, { requestId: requestId(), meterNumber: meter(2), to: { krn: 2 } });
  r.xWithSales = xReport(engine, cashier, FIXED_NOW);
  r.xWithReversal = xReport(engine, supervisor, FIXED_NOW);
  r.xEmpty = xReport(engine, admin, FIXED_NOW);
  r.z = closeShift(engine, cashier, 1_000, FIXED_NOW);
  r.zCopy = reprintZReport(engine, cashier, r.z.reportNo);
});

afterAll(() => f.cleanup());

describe('real engine results parse with the strict domain schemas, unchanged', () => {
  it('a credit vend with service charge and arrears recovered as a percentage', () => {
    const sale = r.debtPercent;
    expect(sale.breakdown).toMatchObject({ debt: { rule: { kind: 'percent-of-tender' } }, fbe: null });
    expect(sale.breakdown!.fixedCharges).toHaveLength(1);
    expect(sale.receipt.lines?.debtRecovery).toHaveLength(1);
    expect(sale.receipt.customer?.accountNo).toBeDefined();
    expectValidSale(sale);
  });

  it('a credit vend with arrears recovered as a fixed amount per vend (EA11)', () => {
    expect(r.debtFixed.breakdown!.debt?.rule.kind).toBe('fixed-per-vend');
    expectValidSale(r.debtFixed);
  });

  it('a card vend on the flat tariff, without service charge or arrears', () => {
    expect(r.flat.breakdown).toMatchObject({ fixedCharges: [], debt: null });
    expect(r.flat.receipt.lines?.payType).toBe('CARD');
    expectValidSale(r.flat);
  });

  it('an FBE vend (free basic electricity and credit tokens)', () => {
    expect(r.fbe.tokens.map((t) => t.kind).sort()).toEqual(['credit', 'fbe']);
    expect(r.fbe.breakdown!.fbe).not.toBeNull();
    expectValidSale(r.fbe);
  });

  it('a vend on the demo meter with a pending key change (two KCTs, then credit)', () => {
    const sale = r.keyChangeVend;
    expect(sale.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change', 'credit']);
    expect(sale.receipt.meter.keyChange).toMatchObject({ from: { krn: 1 }, to: { krn: 2 } });
    expectValidSale(sale);
  });

  it('a repeated request (the stored result, replayed)', () => {
    expect(r.replayed.replayed).toBe(true);
    expectValidSale(r.replayed);
  });

  it('a quote (vend.quote)', () => {
    expectParsesUnchanged(priceBreakdownSchema, r.quote.breakdown);
    expectParsesUnchanged(bridgeContract['vend.quote'].result, r.quote);
  });

  it('a reversal (credit note: no tokens, no breakdown)', () => {
    expect(r.reversal).toMatchObject({ kind: 'reversal', breakdown: null, tokens: [] });
    expect(r.reversal.receipt.lines).toEqual({
      totalMinor: r.flat.breakdown!.changeMinor - 12_345,
      payType: 'REFUND',
    });
    expectValidSale(r.reversal);
    expectParsesUnchanged(bridgeContract['sales.reverse'].result, r.reversal);
  });

  it('a reprint (COPY)', () => {
    expect(r.reprint.receipt.header.copy).toBe(true);
    expectValidSale(r.reprint);
    expectParsesUnchanged(bridgeContract['sales.reprint'].result, r.reprint);
  });

  it('engineering tokens, with a TID (power limit) and without (test token)', () => {
    expect(r.powerLimit.tokens[0]?.tid).not.toBeNull();
    expect(r.testToken.tokens[0]?.tid).toBeNull();
    for (const result of [r.powerLimit, r.testToken]) {
      expect(result).toMatchObject({ kind: 'engineering', breakdown: null });
      expectValidSale(result);
      expectParsesUnchanged(bridgeContract['engineering.issue'].result, result);
    }
  });

  it('a key change requested by an engineer', () => {
    expect(r.keyChange.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change']);
    expectValidSale(r.keyChange);
    expectParsesUnchanged(bridgeContract['engineering.keyChange'].result, r.keyChange);
  });

  it('X reports: a shift with sales, one with a reversal, and an empty one', () => {
    expect(r.xWithSales.total.count).toBe(5);
    expect(r.xWithSales.firstReceiptNo).toBeDefined();
    expect(r.xWithReversal.byType.map((t) => t.type)).toEqual(['reversal']);
    expect(r.xEmpty).not.toHaveProperty('firstReceiptNo');
    expect(r.xEmpty.byType).toEqual([]);
    for (const report of [r.xWithSales, r.xWithReversal, r.xEmpty]) {
      expect(report.kind).toBe('X');
      expectParsesUnchanged(shiftReportSchema, report);
      expectParsesUnchanged(bridgeContract['shift.xReport'].result, report);
    }
  });

  it('a Z report and its reprint (COPY)', () => {
    expect(r.z).toMatchObject({ kind: 'Z', reportNo: 1, copy: false });
    expectParsesUnchanged(zShiftReportSchema, r.z);
    expectParsesUnchanged(shiftReportSchema, r.z);
    expectParsesUnchanged(bridgeContract['shift.close'].result, r.z);
    expect(r.zCopy.copy).toBe(true);
    expectParsesUnchanged(bridgeContract['shift.reprintZ'].result, r.zCopy);
  });
});

describe('a result that is not exactly the domain type is refused', () => {
  /** The issues of a refused value (fails the test when the value parses). */
  function refused(schema: z.ZodType, value: unknown) {
    const parsed = schema.safeParse(value);
    expect(parsed.success).toBe(false);
    return parsed.error!.issues.map(({ code, path }) => ({ code, path }));
  }
  const copy = <T>(value: T): T => structuredClone(value);

  it('an extra field, at the top or nested, in a breakdown, a receipt and a sale', () => {
    const breakdown = copy(r.debtPercent.breakdown!);
    expect(refused(priceBreakdownSchema, { ...breakdown, discountMinor: 0 })).toEqual([
      { code: 'unrecognized_keys', path: [] },
    ]);
    const debt = copy(breakdown);
    Object.assign(debt.debt!.rule, { capMinor: 100 });
    expect(refused(priceBreakdownSchema, debt)).toContainEqual(
      expect.objectContaining({ path: ['debt', 'rule'] }),
    );

    const receipt = copy(r.keyChangeVend.receipt);
    Object.assign(receipt.header, { cashierPin: '1234' });
    expect(refused(receiptSchema, receipt)).toEqual([{ code: 'unrecognized_keys', path: ['header'] }]);
    const token = copy(r.keyChangeVend.receipt);
    Object.assign(token.tokens[0]!, { key: 'secret' });
    expect(refused(receiptSchema, token)).toEqual([{ code: 'unrecognized_keys', path: ['tokens', 0] }]);
    const keyChange = copy(r.keyChangeVend.receipt);
    Object.assign(keyChange.meter.keyChange!.to, { baseDate: 2014 });
    expect(refused(receiptSchema, keyChange)).toEqual([
      { code: 'unrecognized_keys', path: ['meter', 'keyChange', 'to'] },
    ]);

    const sale = copy(r.fbe);
    Object.assign(sale.breakdown!.fbe!, { valueMinor: 0 });
    expect(refused(saleResultSchema, sale)).toEqual([
      { code: 'unrecognized_keys', path: ['breakdown', 'fbe'] },
    ]);
  });

  it('a float where an integer is required', () => {
    expect(refused(priceBreakdownSchema, { ...copy(r.quote.breakdown), units: 52.5 })).toEqual([
      { code: 'invalid_type', path: ['units'] },
    ]);
    const block = copy(r.quote.breakdown);
    block.blocks[0]!.rateMilliMinorPerKwh = 185.43;
    expect(refused(priceBreakdownSchema, block)).toEqual([
      { code: 'invalid_type', path: ['blocks', 0, 'rateMilliMinorPerKwh'] },
    ]);

    const receipt = copy(r.debtPercent.receipt);
    receipt.lines!.totalMinor = 199.99;
    expect(refused(receiptSchema, receipt)).toEqual([
      { code: 'invalid_type', path: ['lines', 'totalMinor'] },
    ]);
    const krn = copy(r.debtPercent.receipt);
    krn.meter.krn = 1.5;
    expect(refused(receiptSchema, krn)).toEqual([{ code: 'invalid_type', path: ['meter', 'krn'] }]);
    const units = copy(r.debtPercent.receipt);
    units.tokens[0]!.units = 0.1;
    expect(refused(receiptSchema, units)).toEqual([{ code: 'invalid_type', path: ['tokens', 0, 'units'] }]);
  });

  it('shift reports: a float, an extra field, Z-only fields on an X report, an unknown kind', () => {
    const { xWithReversal: x, z } = r;
    const fractional = copy(z);
    fractional.cash.varianceMinor = -0.5;
    expect(refused(zShiftReportSchema, fractional)).toEqual([
      { code: 'invalid_type', path: ['cash', 'varianceMinor'] },
    ]);
    const amount = copy(x);
    amount.byType[0]!.amountMinor = 10.5;
    expect(refused(shiftReportSchema, amount)).toEqual([
      { code: 'invalid_type', path: ['byType', 0, 'amountMinor'] },
    ]);
    const extra = copy(z);
    Object.assign(extra.total, { vatMinor: 0 });
    expect(refused(zShiftReportSchema, extra)).toEqual([{ code: 'unrecognized_keys', path: ['total'] }]);
    expect(refused(shiftReportSchema, { ...z, kind: 'X' })).toEqual([
      { code: 'unrecognized_keys', path: [] },
    ]);
    expect(refused(shiftReportSchema, { ...x, kind: 'Y' })).toEqual([
      { code: 'invalid_union', path: ['kind'] },
    ]);
    expect(refused(zShiftReportSchema, x satisfies ShiftReport)).toContainEqual(
      expect.objectContaining({ path: ['kind'] }),
    );
  });

  it('an optional field present as undefined (the types say absent or set, never undefined)', () => {
    const receipt = copy(r.flat.receipt);
    expect(
      refused(receiptSchema, { ...receipt, header: { ...receipt.header, vatInvoiceNo: undefined } }),
    ).toEqual([{ code: 'invalid_type', path: ['header', 'vatInvoiceNo'] }]);
  });
});
