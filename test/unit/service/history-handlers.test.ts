import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPan } from '../../../src-main/engine/demo.ts';
import { salesFilter, salesPageSql, searchSales } from '../../../src-main/engine/sales-history.ts';
import { historyHandlers } from '../../../src-main/service/handlers/history-handlers.ts';
import type { SaleResult } from '../../../src-shared/bridge/domain-schemas.ts';
import { createEngineFixture, type EngineFixture, fixedClock } from '../../support/engine-fixture.ts';
import { call, refusal, type ServiceKit, serviceKit } from './service-kit.ts';

/** Local times are Africa/Johannesburg (UTC+2, no daylight saving). */
const DAY1_MORNING = new Date('2026-03-09T08:00:00Z'); // 2026-03-09 10:00 local
const DAY1_LAST_MINUTE = new Date('2026-03-09T21:59:00Z'); // 2026-03-09 23:59 local
const DAY2_MIDNIGHT = new Date('2026-03-09T22:00:00Z'); // 2026-03-10 00:00 local

let f: EngineFixture;
let kit: ServiceKit;
let meterA: string;
let meterB: string;
let meterC: string;
const sales: SaleResult[] = [];
let reversal: SaleResult;
let engineering: SaleResult;
let n = 0;
const requestId = () => `hist-${String(++n).padStart(6, '0')}`;

beforeAll(() => {
  f = createEngineFixture({ openShiftsFor: ['cashier', 'supervisor'] });
  kit = serviceKit(f);
  [meterA, meterB, meterC] = [f.meterNumbers[0]!, f.meterNumbers[1]!, f.meterNumbers[3]!];
  const sell = (at: Date, meterNumber: string, tenderMinor: number) => {
    const sale = f
      .open(fixedClock(at))
      .engine.vend(f.sessions.cashier, { requestId: requestId(), meterNumber, tenderMinor });
    sales.push(sale);
    return sale;
  };
  sell(DAY1_MORNING, meterA, 5_000);
  sell(DAY1_MORNING, meterB, 8_000);
  sell(DAY1_LAST_MINUTE, meterA, 6_000);
  sell(DAY2_MIDNIGHT, meterC, 7_000);
  const toReverse = sell(f.now, meterA, 10_000);
  reversal = kit.open.engine.reverse(f.sessions.supervisor, {
    requestId: requestId(),
    receiptNo: toReverse.receiptNo,
    reason: 'wrong-amount',
  });
  engineering = kit.open.engine.engineeringToken(f.sessions.engineer, {
    requestId: requestId(),
    meterNumber: meterB,
    token: { kind: 'clear-tamper' },
  });
});
afterAll(() => f.cleanup());

const search = (args: Parameters<typeof call<'sales.search'>>[2], session = f.sessions.cashier) =>
  call(historyHandlers, 'sales.search', args, kit.context(session));

describe('sales.search', () => {
  it('lists every receipt newest first, with money taken, operator, customer and the reversal links', async () => {
    const page = await search({});
    expect(page.total).toBe(7);
    expect(page.rows.map((r) => r.receiptNo)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    const byReceipt = new Map(page.rows.map((r) => [r.receiptNo, r]));
    const first = byReceipt.get(1)!;
    const taken = sales[0]!.breakdown!.tenderMinor - sales[0]!.breakdown!.changeMinor;
    const customer = kit.open.ledger.sqlite
      .prepare('SELECT c.name FROM meter m JOIN customer c ON c.id = m.customer_id WHERE m.meter_no = ?')
      .get(meterA) as { name: string };
    expect(first).toEqual({
      receiptNo: 1,
      receiptNoText: 'T0001-00000001',
      createdAt: DAY1_MORNING.toISOString(),
      kind: 'sale',
      meterNo: meterA,
      customerName: customer.name,
      operator: 'Lerato Cashier',
      payType: 'cash',
      amountMinor: taken,
      units: sales[0]!.breakdown!.units + (sales[0]!.breakdown!.fbe?.units ?? 0),
      reversedBy: null,
      reverses: null,
    });
    const reversed = byReceipt.get(5)!;
    const back = byReceipt.get(reversal.receiptNo)!;
    expect(reversed.reversedBy).toBe(reversal.receiptNo);
    expect(back).toMatchObject({
      kind: 'reversal',
      reverses: 5,
      reversedBy: null,
      operator: 'Sipho Supervisor',
    });
    expect(back.amountMinor).toBe(-reversed.amountMinor);
    expect(back.units).toBe(-reversed.units);
    expect(byReceipt.get(engineering.receiptNo)).toMatchObject({
      kind: 'engineering',
      amountMinor: 0,
      payType: 'none',
      operator: 'Pieter Engineer',
    });
  });

  it('finds a meter typed with spaces, with dashes, or as its 18-digit PAN', async () => {
    const plain = await search({ meterNumber: meterA });
    expect(plain.rows.map((r) => r.receiptNo)).toEqual([6, 5, 3, 1]);
    expect(plain.total).toBe(4);
    const spaced = meterA.replace(/(\d{4})(?=\d)/g, '$1 ');
    const dashed = meterA.replace(/(\d{4})(?=\d)/g, '$1-');
    expect(await search({ meterNumber: ` ${spaced} ` })).toEqual(plain);
    expect(await search({ meterNumber: dashed })).toEqual(plain);
    expect(await search({ meterNumber: demoPan(1) })).toEqual(plain);
  });

  it('finds one receipt by number, and combines filters', async () => {
    expect((await search({ receiptNo: 2 })).rows.map((r) => r.meterNo)).toEqual([meterB]);
    expect(await search({ receiptNo: 2, meterNumber: meterA })).toEqual({ rows: [], total: 0 });
    expect((await search({ receiptNo: 999 })).total).toBe(0);
  });

  it('reads from and to as local dates in the utility time zone, both inclusive', async () => {
    const day1 = await search({ fromDate: '2026-03-09', toDate: '2026-03-09' });
    // 23:59 local on the 9th is still the 9th although it is 21:59 UTC; 00:00 local on the 10th is not.
    expect(day1.rows.map((r) => r.receiptNo)).toEqual([3, 2, 1]);
    const day2 = await search({ fromDate: '2026-03-10' });
    expect(day2.rows.map((r) => r.receiptNo)).toEqual([7, 6, 5, 4]);
    expect(
      (await search({ toDate: '2026-03-09', meterNumber: meterA })).rows.map((r) => r.receiptNo),
    ).toEqual([3, 1]);
    expect(await search({ fromDate: '2026-03-11' })).toEqual({ rows: [], total: 0 });
  });

  it('pages with a stable total, and an offset past the end gives an empty page', async () => {
    const first = await search({ limit: 3 });
    const second = await search({ limit: 3, offset: 3 });
    const last = await search({ limit: 3, offset: 6 });
    expect([first.total, second.total, last.total]).toEqual([7, 7, 7]);
    expect([...first.rows, ...second.rows, ...last.rows].map((r) => r.receiptNo)).toEqual([
      7, 6, 5, 4, 3, 2, 1,
    ]);
    expect(await search({ limit: 3, offset: 50 })).toEqual({ rows: [], total: 7 });
  });

  it('refuses an unknown meter, a mistyped meter number and impossible dates with clear errors', async () => {
    expect((await refusal(() => search({ meterNumber: demoPan(99).slice(6) }))).code).toBe('METER_UNKNOWN');
    const typo = `${meterA.slice(0, -1)}${(Number(meterA.at(-1)) + 1) % 10}`;
    expect((await refusal(() => search({ meterNumber: typo }))).code).toMatch(/^STS_/);
    expect((await refusal(() => search({ meterNumber: 'ABC' }))).code).toBe('STS_INVALID_DIGITS');
    const badDate = await refusal(() => search({ fromDate: '2026-02-30' }));
    expect(badDate.code).toBe('VEND_INVALID_REQUEST');
    expect(badDate.userMessage).toContain('from date');
    expect(
      (await refusal(() => search({ fromDate: '2026-03-10', toDate: '2026-03-09' }))).userMessage,
    ).toContain('after');
  });

  it('needs the reprint permission in the engine too (an engineer may not search sales)', async () => {
    const forbidden = await refusal(() =>
      searchSales(kit.open.engine, f.sessions.engineer, { limit: 10, offset: 0 }),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });

  it('chooses the page on an index for every filter, never a scan of the sale table or a sort', () => {
    const sqlite = kit.open.ledger.sqlite;
    const plans = [
      {},
      { meterNumber: meterA },
      { receiptNo: 3 },
      { fromDate: '2026-03-09', toDate: '2026-03-10' },
      { meterNumber: meterA, fromDate: '2026-03-09' },
    ].map((query) => {
      const { filter, params } = salesFilter(kit.open.engine, query);
      return sqlite.prepare(`EXPLAIN QUERY PLAN ${salesPageSql(filter)}`).all(...params, 10, 0) as Array<{
        id: number;
        parent: number;
        detail: string;
      }>;
    });
    for (const plan of plans) {
      const page = plan.find((p) => p.detail === 'CO-ROUTINE page')!;
      const inPage = plan.filter((p) => p.parent === page.id).map((p) => p.detail);
      // The page: one index walk, in index order (no sort of the matching sales).
      expect(inPage).toHaveLength(1);
      expect(inPage[0]).toMatch(/^(SCAN|SEARCH) s USING (COVERING )?INDEX /);
      // The rest: the page drives, every sale is fetched by its id (only the page's rows are sorted at the end).
      const outer = plan.filter((p) => p.parent === 0 && p !== page).map((p) => p.detail);
      expect(outer[0]).toBe('SCAN p');
      expect(outer).toContain('SEARCH s USING INTEGER PRIMARY KEY (rowid=?)');
      expect(outer.filter((d) => d.startsWith('SCAN'))).toEqual(['SCAN p']);
    }
  });
});
