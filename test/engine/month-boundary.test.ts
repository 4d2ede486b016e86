import { afterAll, describe, expect, it } from 'vitest';
import { createEngineFixture } from '../support/engine-fixture.ts';

// The month resets at midnight in the utility's time zone (Africa/Johannesburg, UTC+2), not at UTC midnight.
describe('month boundary in the utility time zone', () => {
  const f = createEngineFixture({ now: new Date('2026-03-31T20:00:00Z') });
  afterAll(() => f.cleanup());
  let now = new Date('2026-03-31T21:59:00Z'); // 23:59 on 31 March, local time
  const { engine } = f.open(() => now);
  const meter = f.meterNumbers[3]!; // demo meter 4: inclining-block tariff, FBE household
  let id = 0;
  const vend = (tenderMinor: number) =>
    engine.vend(f.sessions.cashier, {
      requestId: `month-${String(++id).padStart(4, '0')}`,
      meterNumber: meter,
      tenderMinor,
    });

  it('a sale at 23:59 local counts in March, with the March service charge and FBE', () => {
    const sale = vend(30_000);
    expect(sale.breakdown!.month).toBe('2026-03');
    expect(sale.breakdown!.fixedCharges.map((c) => c.months)).toEqual([1]);
    expect(sale.tokens.map((t) => t.kind)).toEqual(['fbe', 'credit']);
    expect(sale.breakdown!.monthToDateUnitsAfter).toBeGreaterThan(500);
    expect(engine.confirmMeter(meter).currentBlock).toBeGreaterThan(1);
  });

  it('one minute later (00:00 local on 1 April, still 31 March in UTC) the month-to-date, block, charge and FBE reset', () => {
    now = new Date('2026-03-31T22:00:00Z');
    const confirmation = engine.confirmMeter(meter);
    expect(confirmation.monthToDateUnits).toBe(0);
    expect(confirmation.currentBlock).toBe(1);
    expect(confirmation.fbeDue).toBe(true);
    const sale = vend(30_000);
    expect(sale.breakdown!.month).toBe('2026-04');
    expect(sale.breakdown!.monthToDateUnitsBefore).toBe(0);
    expect(sale.breakdown!.fixedCharges.map((c) => c.months)).toEqual([1]);
    expect(sale.tokens.map((t) => t.kind)).toEqual(['fbe', 'credit']);
  });

  it('a second April sale continues the April month-to-date, with no second charge or FBE', () => {
    const first = engine.confirmMeter(meter).monthToDateUnits;
    const sale = vend(10_000);
    expect(sale.breakdown!.monthToDateUnitsBefore).toBe(first);
    expect(sale.breakdown!.fixedCharges).toEqual([]);
    expect(sale.tokens.map((t) => t.kind)).toEqual(['credit']);
  });
});
