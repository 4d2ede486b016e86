import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TRANSFER_UNITS } from '../../../src-shared/sts/amount.ts';
import { VendError, type VendErrorCode } from '../../../src-shared/vending/errors.ts';
import {
  type DebtRule,
  type DebtState,
  debtRecoveryDue,
  fbeDue,
  fixedChargeMonthsDue,
  type Levy,
  MAX_VEND_LIMIT_MINOR,
  type MeterMonthState,
  monthOf,
  monthsBetween,
  type PriceBreakdown,
  type PriceRequest,
  priceFbeOnly,
  priceVend,
  type TariffBlock,
  type TariffVersion,
  validateTariff,
  vatOfGross,
  vatOnNet,
} from '../../../src-shared/vending/pricing.ts';

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Flat, 0 % VAT, 2.00 per kWh (20 minor per 0.1 kWh), no charges, levies, debt or FBE. */
function tariff(overrides: Partial<TariffVersion> = {}): TariffVersion {
  return {
    tariffId: 'RES-FLAT',
    version: 1,
    name: 'Residential flat',
    ti: 1,
    resource: 'electricity',
    kind: 'flat',
    blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 200_000 }],
    vatRateBp: 0,
    pricesIncludeVat: true,
    fixedMonthlyCharge: null,
    levies: [],
    fbeMonthlyUnits: 0,
    minVendMinor: 1,
    maxVendMinor: 10_000_000,
    ...overrides,
  };
}

/** 10 / 20 / 30 minor per 0.1 kWh; blocks end at 50 kWh and 100 kWh month-to-date. */
const IBT_BLOCKS: TariffBlock[] = [
  { upToUnits: 500, rateMilliMinorPerKwh: 100_000 },
  { upToUnits: 1000, rateMilliMinorPerKwh: 200_000 },
  { upToUnits: null, rateMilliMinorPerKwh: 300_000 },
];
const ibt = (overrides: Partial<TariffVersion> = {}) =>
  tariff({ tariffId: 'RES-IBT', kind: 'inclining-block', blocks: IBT_BLOCKS, ...overrides });

function meter(overrides: Partial<MeterMonthState> = {}): MeterMonthState {
  return {
    monthToDateUnits: 0,
    lastPurchaseMonth: '2025-02',
    fbeIssuedThisMonth: false,
    fbeEligible: false,
    ...overrides,
  };
}

function debt(rule: DebtRule, overrides: Partial<DebtState> = {}): DebtState {
  return {
    accountNo: 'ARR-1',
    description: 'Municipal arrears',
    balanceMinor: 100_000,
    rule,
    recoveredThisMonthMinor: 0,
    ...overrides,
  };
}

function request(tenderMinor: number, overrides: Partial<PriceRequest> = {}): PriceRequest {
  return { tenderMinor, tariff: tariff(), meter: meter(), debt: null, month: '2025-02', ...overrides };
}

function expectVendError(action: () => unknown, code: VendErrorCode): VendError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(VendError);
  const error = thrown as VendError;
  expect(error.code).toBe(code);
  expect(error.userMessage).toMatch(/^[A-Z][^\n]*[.!?]$/);
  expect(error.detail.length).toBeGreaterThan(0);
  return error;
}

function chargesOf(b: PriceBreakdown): number {
  return b.fixedCharges.reduce((sum, c) => sum + c.amountMinor, 0);
}

function leviesOf(b: PriceBreakdown): number {
  return b.levies.reduce((sum, l) => sum + l.amountMinor, 0);
}

/** The two exact reconciliations every breakdown must satisfy. */
function expectLinesAddUp(b: PriceBreakdown): void {
  expect(
    chargesOf(b) +
      (b.debt?.amountMinor ?? 0) +
      leviesOf(b) +
      b.vat.amountMinor +
      b.energyMinor +
      b.changeMinor,
  ).toBe(b.tenderMinor);
  expect((leviesOf(b) + b.vat.amountMinor + b.energyMinor) * 1000).toBe(
    b.unitsCostMilliMinor + b.roundingMilliMinor,
  );
  expect(b.energyMoneyMinor).toBe(b.tenderMinor - chargesOf(b) - (b.debt?.amountMinor ?? 0));
  expect(b.roundingMilliMinor).toBeGreaterThanOrEqual(0);
  expect(b.roundingMilliMinor).toBeLessThan(1000);
  expect(b.units).toBe(b.blocks.reduce((sum, block) => sum + block.units, 0));
  expect(b.monthToDateUnitsAfter).toBe(b.monthToDateUnitsBefore + b.units);
  expect(b.totalVatMinor).toBe(b.vat.amountMinor + b.fixedCharges.reduce((sum, c) => sum + c.vatMinor, 0));
}

function blockSummary(b: PriceBreakdown) {
  return b.blocks.map(({ blockIndex, fromUnits, toUnits, units }) => ({
    blockIndex,
    fromUnits,
    toUnits,
    units,
  }));
}

// ---------------------------------------------------------------------------------------------
// Blocks

describe('priceVend: walking the blocks', () => {
  it.each([
    {
      name: 'exactly to the first boundary',
      mtd: 0,
      tender: 5_000,
      units: 500,
      change: 0,
      blocks: [{ blockIndex: 0, fromUnits: 0, toUnits: 500, units: 500 }],
    },
    {
      name: 'across one boundary',
      mtd: 0,
      tender: 6_000,
      units: 550,
      change: 0,
      blocks: [
        { blockIndex: 0, fromUnits: 0, toUnits: 500, units: 500 },
        { blockIndex: 1, fromUnits: 500, toUnits: 550, units: 50 },
      ],
    },
    {
      name: 'across two boundaries',
      mtd: 0,
      tender: 18_000,
      units: 1100,
      change: 0,
      blocks: [
        { blockIndex: 0, fromUnits: 0, toUnits: 500, units: 500 },
        { blockIndex: 1, fromUnits: 500, toUnits: 1000, units: 500 },
        { blockIndex: 2, fromUnits: 1000, toUnits: 1100, units: 100 },
      ],
    },
    {
      name: 'starting mid-block from month-to-date',
      mtd: 450,
      tender: 2_000,
      units: 125,
      change: 0,
      blocks: [
        { blockIndex: 0, fromUnits: 450, toUnits: 500, units: 50 },
        { blockIndex: 1, fromUnits: 500, toUnits: 575, units: 75 },
      ],
    },
    {
      name: 'month-to-date exactly on a boundary starts in the next block',
      mtd: 500,
      tender: 2_000,
      units: 100,
      change: 0,
      blocks: [{ blockIndex: 1, fromUnits: 500, toUnits: 600, units: 100 }],
    },
    {
      name: 'already in the unbounded last block',
      mtd: 2_000,
      tender: 3_000,
      units: 100,
      change: 0,
      blocks: [{ blockIndex: 2, fromUnits: 2000, toUnits: 2100, units: 100 }],
    },
    {
      name: 'the last block is unbounded (large tender)',
      mtd: 0,
      tender: 1_000_000,
      units: 33_833,
      change: 10,
      blocks: [
        { blockIndex: 0, fromUnits: 0, toUnits: 500, units: 500 },
        { blockIndex: 1, fromUnits: 500, toUnits: 1000, units: 500 },
        { blockIndex: 2, fromUnits: 1000, toUnits: 33_833, units: 32_833 },
      ],
    },
    {
      name: 'money left below the next unit price at a boundary is change',
      mtd: 0,
      tender: 5_019,
      units: 500,
      change: 19,
      blocks: [{ blockIndex: 0, fromUnits: 0, toUnits: 500, units: 500 }],
    },
  ])('$name', ({ mtd, tender, units, change, blocks }) => {
    const b = priceVend(request(tender, { tariff: ibt(), meter: meter({ monthToDateUnits: mtd }) }));
    expect(b.units).toBe(units);
    expect(b.changeMinor).toBe(change);
    expect(blockSummary(b)).toEqual(blocks);
    expect(b.monthToDateUnitsBefore).toBe(mtd);
    expect(b.monthToDateUnitsAfter).toBe(mtd + units);
    expect(b.roundingMilliMinor).toBe(0);
    expectLinesAddUp(b);
  });

  it('records rate and amount per block for the receipt ("x kWh @ y c/kWh")', () => {
    const b = priceVend(request(6_000, { tariff: ibt() }));
    expect(b.blocks).toEqual([
      {
        blockIndex: 0,
        fromUnits: 0,
        toUnits: 500,
        units: 500,
        rateMilliMinorPerKwh: 100_000,
        amountMilliMinor: 5_000_000,
      },
      {
        blockIndex: 1,
        fromUnits: 500,
        toUnits: 550,
        units: 50,
        rateMilliMinorPerKwh: 200_000,
        amountMilliMinor: 1_000_000,
      },
    ]);
    expect(b.unitsCostMilliMinor).toBe(6_000_000);
    expect(b.energyMinor).toBe(6_000);
  });

  it('the same money buys fewer units later in the month; a new month (mtd 0 from the caller) resets the blocks', () => {
    const lateInMonth = priceVend(request(3_000, { tariff: ibt(), meter: meter({ monthToDateUnits: 900 }) }));
    expect(lateInMonth.units).toBe(100 + 33); // 100 @ 20, then 1000 left buys 33 @ 30 (10 change)
    expect(lateInMonth.changeMinor).toBe(10);
    // Next month the engine passes monthToDateUnits 0: back in block 0.
    const newMonth = priceVend(
      request(3_000, {
        tariff: ibt(),
        month: '2025-03',
        meter: meter({ monthToDateUnits: 0, lastPurchaseMonth: '2025-02' }),
      }),
    );
    expect(newMonth.units).toBe(300);
    expect(blockSummary(newMonth)).toEqual([{ blockIndex: 0, fromUnits: 0, toUnits: 300, units: 300 }]);
    expect(newMonth.monthToDateUnitsAfter).toBe(300);
  });

  it('floors to whole 0.1 units and keeps the sub-minor part on the rounding line', () => {
    // 1234.57 minor per kWh → 12.3457 per 0.1 kWh; 100 buys 8 units (98.7656), 1 minor back as change.
    const b = priceVend(
      request(100, { tariff: tariff({ blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 123_457 }] }) }),
    );
    expect(b.units).toBe(8);
    expect(b.changeMinor).toBe(1);
    expect(b.energyMinor).toBe(99);
    expect(b.unitsCostMilliMinor).toBe(98_766); // 98 765.6 rounded up
    expect(b.roundingMilliMinor).toBe(234);
    expect(b.blocks[0]!.amountMilliMinor).toBe(98_766);
    expectLinesAddUp(b);
  });

  it('works the same for water in 0.1 m³', () => {
    const b = priceVend(request(1_000, { tariff: tariff({ resource: 'water' }) }));
    expect(b.units).toBe(50);
    expect(b.resource).toBe('water');
  });
});

// ---------------------------------------------------------------------------------------------
// VAT and levies

describe('priceVend: VAT and levies', () => {
  it('prices include VAT (15 %): the units are bought at the rate and VAT is split out of what they cost', () => {
    const b = priceVend(
      request(2_300, {
        tariff: tariff({ vatRateBp: 1500, blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 230_000 }] }),
      }),
    );
    expect(b.units).toBe(100);
    expect(b.vat).toEqual({ rateBp: 1500, amountMinor: 300 });
    expect(b.energyMinor).toBe(2_000);
    expect(b.changeMinor).toBe(0);
    expectLinesAddUp(b);
  });

  it('prices exclude VAT (15 %): VAT is added on top of each unit, inside the tender', () => {
    const b = priceVend(
      request(2_300, {
        tariff: tariff({
          vatRateBp: 1500,
          pricesIncludeVat: false,
          blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 200_000 }],
        }),
      }),
    );
    expect(b.units).toBe(100);
    expect(b.vat.amountMinor).toBe(300);
    expect(b.energyMinor).toBe(2_000);
    expectLinesAddUp(b);
  });

  it('VAT is charged on what is sold, never on the change', () => {
    const b = priceVend(
      request(2_322, {
        tariff: tariff({
          vatRateBp: 1500,
          pricesIncludeVat: false,
          blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 200_000 }],
        }),
      }),
    );
    expect(b.units).toBe(100); // the 101st unit costs 23, only 22 is left
    expect(b.changeMinor).toBe(22);
    expect(b.vat.amountMinor).toBe(300);
    expect(b.energyMinor).toBe(2_000);
    expectLinesAddUp(b);
  });

  it('VAT is the tax fraction rounded up to a whole minor unit; the energy line takes the rest', () => {
    const b = priceVend(
      request(1_000, {
        tariff: tariff({ vatRateBp: 1500, blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 100_000 }] }),
      }),
    );
    expect(b.units).toBe(100);
    expect(b.vat.amountMinor).toBe(131); // 1000 × 15/115 = 130.43
    expect(b.energyMinor).toBe(869);
    expectLinesAddUp(b);
  });

  it('0 % VAT gives a zero VAT line', () => {
    const b = priceVend(request(1_000));
    expect(b.vat).toEqual({ rateBp: 0, amountMinor: 0 });
    expect(b.totalVatMinor).toBe(0);
    expect(b.energyMinor).toBe(1_000);
    expectLinesAddUp(b);
  });

  it('per-kWh and percent levies are part of each unit price and shown net of VAT (prices exclude VAT)', () => {
    const levies: Levy[] = [
      { name: 'Environmental levy', kind: 'per-kwh', value: 2_000 }, // 2 minor per kWh
      { name: 'Electrification', kind: 'percent', value: 1000 }, // 10 % of the energy amount
    ];
    // Net price of 0.1 kWh: 20 + 2 + 0.2 = 22.2; with 15 % VAT 25.53.
    const b = priceVend(
      request(2_553, {
        tariff: tariff({ vatRateBp: 1500, pricesIncludeVat: false, levies }),
      }),
    );
    expect(b.units).toBe(100);
    expect(b.levies.map((l) => [l.name, l.amountMinor])).toEqual([
      ['Environmental levy', 20],
      ['Electrification', 200],
    ]);
    expect(b.vat.amountMinor).toBe(333);
    expect(b.energyMinor).toBe(2_000);
    expect(b.changeMinor).toBe(0);
    expectLinesAddUp(b);
  });

  it('levies in a VAT-inclusive tariff are VAT-inclusive too and are shown net', () => {
    const levies: Levy[] = [{ name: 'Levy', kind: 'per-kwh', value: 23_000 }]; // 23 minor per kWh incl. VAT
    const b = priceVend(
      request(2_530, {
        tariff: tariff({
          vatRateBp: 1500,
          levies,
          blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 230_000 }],
        }),
      }),
    );
    expect(b.units).toBe(100); // 23 + 2.3 = 25.3 per 0.1 kWh incl. VAT
    expect(b.changeMinor).toBe(0);
    expect(b.levies[0]!.amountMinor).toBe(200); // 230 incl. VAT = 200 net
    expect(b.vat.amountMinor).toBe(330); // 2530 − ⌊2530/1.15⌋ = 2530 − 2200
    expect(b.energyMinor).toBe(2_000);
    expectLinesAddUp(b);
  });

  it('vatOfGross and vatOnNet round up', () => {
    expect(vatOfGross(1_150, 1500)).toBe(150);
    expect(vatOfGross(1_000, 1500)).toBe(131);
    expect(vatOfGross(1_000, 0)).toBe(0);
    expect(vatOnNet(1_000, 1500)).toBe(150);
    expect(vatOnNet(1_001, 1500)).toBe(151); // 150.15
    expect(vatOnNet(1_000, 0)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Debt

describe('priceVend: debt recovery', () => {
  it.each([
    {
      name: '% of tender',
      rule: { kind: 'percent-of-tender', bp: 1000 } as DebtRule,
      tender: 1_000,
      balance: 100_000,
      recovered: 0,
      amount: 100,
    },
    {
      name: '% of tender floors',
      rule: { kind: 'percent-of-tender', bp: 1000 } as DebtRule,
      tender: 1_009,
      balance: 100_000,
      recovered: 0,
      amount: 100,
    },
    {
      name: 'fixed per vend',
      rule: { kind: 'fixed-per-vend', amountMinor: 300 } as DebtRule,
      tender: 1_000,
      balance: 100_000,
      recovered: 0,
      amount: 300,
    },
    {
      name: 'fixed per month, nothing recovered yet',
      rule: { kind: 'fixed-per-month', amountMinor: 500 } as DebtRule,
      tender: 1_000,
      balance: 100_000,
      recovered: 0,
      amount: 500,
    },
    {
      name: 'fixed per month, partly recovered this month',
      rule: { kind: 'fixed-per-month', amountMinor: 500 } as DebtRule,
      tender: 1_000,
      balance: 100_000,
      recovered: 380,
      amount: 120,
    },
    {
      name: 'fixed per month, fully recovered this month',
      rule: { kind: 'fixed-per-month', amountMinor: 500 } as DebtRule,
      tender: 1_000,
      balance: 100_000,
      recovered: 500,
      amount: 0,
    },
    {
      name: 'fixed per month, over-recovered (never negative)',
      rule: { kind: 'fixed-per-month', amountMinor: 500 } as DebtRule,
      tender: 1_000,
      balance: 100_000,
      recovered: 900,
      amount: 0,
    },
    {
      name: 'capped by the balance',
      rule: { kind: 'fixed-per-vend', amountMinor: 300 } as DebtRule,
      tender: 1_000,
      balance: 120,
      recovered: 0,
      amount: 120,
    },
    {
      name: '% capped by the balance',
      rule: { kind: 'percent-of-tender', bp: 5000 } as DebtRule,
      tender: 1_000,
      balance: 60,
      recovered: 0,
      amount: 60,
    },
    {
      name: 'zero balance',
      rule: { kind: 'fixed-per-vend', amountMinor: 300 } as DebtRule,
      tender: 1_000,
      balance: 0,
      recovered: 0,
      amount: 0,
    },
  ])('$name', ({ rule, tender, balance, recovered, amount }) => {
    const state = debt(rule, { balanceMinor: balance, recoveredThisMonthMinor: recovered });
    expect(debtRecoveryDue(state, tender)).toBe(amount);
    const b = priceVend(request(tender, { debt: state }));
    expect(b.debt).toEqual({
      accountNo: 'ARR-1',
      description: 'Municipal arrears',
      rule,
      amountMinor: amount,
      balanceBeforeMinor: balance,
      balanceAfterMinor: balance - amount,
      recoveredThisMonthAfterMinor: recovered + amount,
    });
    expect(b.energyMoneyMinor).toBe(tender - amount);
    expect(b.units).toBe(Math.floor((tender - amount) / 20));
    expectLinesAddUp(b);
  });

  it('debt carries no VAT', () => {
    const b = priceVend(
      request(1_150, {
        tariff: tariff({ vatRateBp: 1500 }),
        debt: debt({ kind: 'fixed-per-vend', amountMinor: 230 }),
      }),
    );
    expect(b.debt!.amountMinor).toBe(230);
    expect(b.vat.amountMinor).toBe(vatOfGross(920, 1500));
    expectLinesAddUp(b);
  });

  it('no debt account → no debt line', () => {
    expect(priceVend(request(1_000)).debt).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Fixed charges and months

describe('months', () => {
  it.each([
    ['2025-02', '2025-02', 0],
    ['2025-01', '2025-02', 1],
    ['2024-11', '2025-02', 3],
    ['2024-12', '2025-01', 1],
    ['2020-02', '2025-02', 60],
    ['2025-03', '2025-02', -1],
  ])('monthsBetween(%s, %s) = %i', (from, to, months) => {
    expect(monthsBetween(from, to)).toBe(months);
  });

  it.each([
    ['2025-02-14', '2025-02'],
    ['2025-12-31T23:59:59', '2025-12'],
    ['2024-01-01 00:00', '2024-01'],
    ['2024-11-24T20:15:00+02:00', '2024-11'],
  ])('monthOf(%s) = %s', (wallClock, month) => {
    expect(monthOf(wallClock)).toBe(month);
  });

  it.each(['2025-13-01', '2025-00-10', '2025-02-32', '2025-2-14', '14/02/2025', ''])(
    'monthOf refuses %j',
    (text) => {
      expectVendError(() => monthOf(text), 'VEND_INVALID_REQUEST');
    },
  );

  it.each(['2025-13', '2025-1', '25-01', '2025-02-01', ''])('monthsBetween refuses %j', (text) => {
    expectVendError(() => monthsBetween(text, '2025-02'), 'VEND_INVALID_REQUEST');
    expectVendError(() => monthsBetween('2025-02', text), 'VEND_INVALID_REQUEST');
  });

  it.each([
    [null, '2025-02', 6, 1],
    ['2025-02', '2025-02', 6, 0],
    ['2025-01', '2025-02', 6, 1],
    ['2024-11', '2025-02', 6, 3],
    ['2024-11', '2025-02', 3, 3],
    ['2024-11', '2025-02', 2, 2],
    ['2023-01', '2025-02', 6, 6],
    ['2025-03', '2025-02', 6, 0],
  ] as const)('fixedChargeMonthsDue(%s → %s, cap %i) = %i', (last, month, cap, months) => {
    expect(fixedChargeMonthsDue(last, month, cap)).toBe(months);
  });
});

describe('priceVend: fixed monthly charge', () => {
  const charged = (amountMinor: number, maxMonths: number, overrides: Partial<TariffVersion> = {}) =>
    tariff({ fixedMonthlyCharge: { description: 'Service charge', amountMinor, maxMonths }, ...overrides });

  it('first purchase ever (null) pays 1 month', () => {
    const b = priceVend(
      request(2_000, { tariff: charged(500, 3), meter: meter({ lastPurchaseMonth: null }) }),
    );
    expect(b.fixedCharges).toEqual([
      {
        description: 'Service charge',
        months: 1,
        monthlyAmountMinor: 500,
        amountMinor: 500,
        netMinor: 500,
        vatMinor: 0,
      },
    ]);
    expect(b.units).toBe(75);
    expectLinesAddUp(b);
  });

  it('already bought this month: no charge line', () => {
    const b = priceVend(
      request(2_000, { tariff: charged(500, 3), meter: meter({ lastPurchaseMonth: '2025-02' }) }),
    );
    expect(b.fixedCharges).toEqual([]);
    expect(b.units).toBe(100);
  });

  it('missed months across a year boundary: 2024-11 → 2025-02 = 3 months', () => {
    const b = priceVend(
      request(5_000, { tariff: charged(500, 6), meter: meter({ lastPurchaseMonth: '2024-11' }) }),
    );
    expect(b.fixedCharges[0]!.months).toBe(3);
    expect(b.fixedCharges[0]!.amountMinor).toBe(1_500);
    expect(b.units).toBe(175);
    expectLinesAddUp(b);
  });

  it('several missed months are capped by maxMonths', () => {
    const b = priceVend(
      request(5_000, { tariff: charged(500, 2), meter: meter({ lastPurchaseMonth: '2024-11' }) }),
    );
    expect(b.fixedCharges[0]!.months).toBe(2);
    expect(b.fixedCharges[0]!.amountMinor).toBe(1_000);
    expectLinesAddUp(b);
  });

  it('VAT-inclusive tariff: the charge contains its VAT', () => {
    const b = priceVend(
      request(5_000, {
        tariff: charged(1_150, 3, { vatRateBp: 1500 }),
        meter: meter({ lastPurchaseMonth: '2025-01' }),
      }),
    );
    expect(b.fixedCharges[0]).toMatchObject({ amountMinor: 1_150, netMinor: 1_000, vatMinor: 150 });
    expect(b.totalVatMinor).toBe(150 + b.vat.amountMinor);
    expectLinesAddUp(b);
  });

  it('VAT-exclusive tariff: VAT is added to the charge', () => {
    const b = priceVend(
      request(5_000, {
        tariff: charged(1_000, 3, { vatRateBp: 1500, pricesIncludeVat: false }),
        meter: meter({ lastPurchaseMonth: '2024-12' }),
      }),
    );
    expect(b.fixedCharges[0]).toMatchObject({
      months: 2,
      amountMinor: 2_300,
      netMinor: 2_000,
      vatMinor: 300,
    });
    expect(b.energyMoneyMinor).toBe(2_700);
    expectLinesAddUp(b);
  });

  it('charges first, then debt, then energy', () => {
    const b = priceVend(
      request(2_000, {
        tariff: charged(500, 3),
        meter: meter({ lastPurchaseMonth: '2025-01' }),
        debt: debt({ kind: 'percent-of-tender', bp: 2500 }),
      }),
    );
    expect(chargesOf(b)).toBe(500);
    expect(b.debt!.amountMinor).toBe(500);
    expect(b.energyMoneyMinor).toBe(1_000);
    expect(b.units).toBe(50);
    expectLinesAddUp(b);
  });
});

// ---------------------------------------------------------------------------------------------
// FBE

describe('FBE', () => {
  const fbeTariff = () => tariff({ fbeMonthlyUnits: 500 });

  it('due: a separate free token that does not move the paid month-to-date', () => {
    const b = priceVend(
      request(1_000, { tariff: fbeTariff(), meter: meter({ fbeEligible: true, monthToDateUnits: 20 }) }),
    );
    expect(b.fbe).toEqual({ units: 500 });
    expect(b.units).toBe(50);
    expect(b.monthToDateUnitsAfter).toBe(70);
    expectLinesAddUp(b);
    expect(fbeDue(fbeTariff(), meter({ fbeEligible: true }))).toEqual({ due: true, units: 500 });
    expect(priceFbeOnly(fbeTariff(), meter({ fbeEligible: true }))).toEqual({ units: 500 });
  });

  it('already issued this month: none', () => {
    const m = meter({ fbeEligible: true, fbeIssuedThisMonth: true });
    expect(priceVend(request(1_000, { tariff: fbeTariff(), meter: m })).fbe).toBeNull();
    expect(fbeDue(fbeTariff(), m)).toEqual({ due: false, reason: 'already-issued' });
    expectVendError(() => priceFbeOnly(fbeTariff(), m), 'VEND_NO_FREE_UNITS_DUE');
  });

  it('not eligible: none', () => {
    const m = meter({ fbeEligible: false });
    expect(priceVend(request(1_000, { tariff: fbeTariff(), meter: m })).fbe).toBeNull();
    expect(fbeDue(fbeTariff(), m)).toEqual({ due: false, reason: 'not-eligible' });
    expectVendError(() => priceFbeOnly(fbeTariff(), m), 'VEND_FBE_NOT_ELIGIBLE');
  });

  it('tariff without FBE: none', () => {
    const m = meter({ fbeEligible: true });
    expect(priceVend(request(1_000, { meter: m })).fbe).toBeNull();
    expect(fbeDue(tariff(), m)).toEqual({ due: false, reason: 'none-on-tariff' });
    expectVendError(() => priceFbeOnly(tariff(), m), 'VEND_NO_FREE_UNITS_DUE');
  });
});

// ---------------------------------------------------------------------------------------------
// Limits and refusals

describe('priceVend: limits and refusals', () => {
  const limited = () => tariff({ minVendMinor: 500, maxVendMinor: 100_000 });

  it('accepts exactly the minimum and the maximum', () => {
    expect(priceVend(request(500, { tariff: limited() })).units).toBe(25);
    expect(priceVend(request(100_000, { tariff: limited() })).units).toBe(5_000);
  });

  it('below the minimum → VEND_AMOUNT_TOO_LOW with the limits in minor units', () => {
    const error = expectVendError(
      () => priceVend(request(499, { tariff: limited() })),
      'VEND_AMOUNT_TOO_LOW',
    );
    expect(error.userMessage).toMatch(/below the minimum/);
    expect(error.detail).toMatch(/499.*500/);
    expect(error.amounts).toMatchObject({ tenderMinor: 499, minVendMinor: 500, maxVendMinor: 100_000 });
  });

  it('above the maximum → VEND_AMOUNT_TOO_HIGH', () => {
    const error = expectVendError(
      () => priceVend(request(100_001, { tariff: limited() })),
      'VEND_AMOUNT_TOO_HIGH',
    );
    expect(error.userMessage).toMatch(/above the maximum/);
    expect(error.detail).toMatch(/100001.*100000/);
  });

  it.each([0, -100, 12.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2])(
    'tender %d → VEND_INVALID_AMOUNT',
    (tender) => {
      expectVendError(() => priceVend(request(tender)), 'VEND_INVALID_AMOUNT');
    },
  );

  it('a tender that only covers the charges is refused, nothing is computed', () => {
    const t = tariff({ fixedMonthlyCharge: { description: 'Service', amountMinor: 1_500, maxMonths: 3 } });
    const error = expectVendError(
      () => priceVend(request(2_000, { tariff: t, meter: meter({ lastPurchaseMonth: '2024-12' }) })),
      'VEND_AMOUNT_TOO_LOW',
    );
    expect(error.userMessage).toMatch(/only covers the service charges and arrears/);
    expect(error.amounts).toMatchObject({ tenderMinor: 2_000, chargesMinor: 3_000, debtMinor: 0 });
  });

  it('a tender exactly equal to charges + debt is refused (no 0-unit token)', () => {
    const t = tariff({ fixedMonthlyCharge: { description: 'Service', amountMinor: 700, maxMonths: 3 } });
    const error = expectVendError(
      () =>
        priceVend(
          request(1_000, {
            tariff: t,
            meter: meter({ lastPurchaseMonth: '2025-01' }),
            debt: debt({ kind: 'fixed-per-vend', amountMinor: 300 }),
          }),
        ),
      'VEND_AMOUNT_TOO_LOW',
    );
    expect(error.amounts).toMatchObject({ chargesMinor: 700, debtMinor: 300 });
  });

  it('money left after charges that does not buy 0.1 kWh is refused', () => {
    const t = tariff({ fixedMonthlyCharge: { description: 'Service', amountMinor: 990, maxMonths: 3 } });
    const error = expectVendError(
      () => priceVend(request(1_009, { tariff: t, meter: meter({ lastPurchaseMonth: '2025-01' }) })),
      'VEND_AMOUNT_TOO_LOW',
    );
    expect(error.userMessage).toMatch(/too small to buy 0\.1 kWh/);
    expect(error.amounts).toMatchObject({ energyMoneyMinor: 19, unitPriceMilliMinor: 20_000 });
  });

  it('a tender below the price of 0.1 unit is refused', () => {
    const error = expectVendError(() => priceVend(request(19)), 'VEND_AMOUNT_TOO_LOW');
    expect(error.userMessage).toBe('The amount is too small to buy 0.1 kWh; enter a larger amount.');
  });

  it('more units than one STS token carries → VEND_AMOUNT_TOO_HIGH', () => {
    const cheap = tariff({ blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 10 }], maxVendMinor: 100_000 }); // 0.001 per 0.1 kWh
    expect(priceVend(request(18_201, { tariff: cheap })).units).toBe(18_201_000);
    expectVendError(() => priceVend(request(18_202, { tariff: cheap })), 'VEND_AMOUNT_TOO_HIGH');
    expect(MAX_TRANSFER_UNITS).toBe(18_201_624);
  });
});

describe('validation', () => {
  it.each([
    ['no blocks', { blocks: [] }],
    ['flat with a bounded block', { blocks: [{ upToUnits: 500, rateMilliMinorPerKwh: 1 }] }],
    ['flat with two blocks', { blocks: IBT_BLOCKS }],
    [
      'last block bounded',
      { kind: 'inclining-block', blocks: [{ upToUnits: 500, rateMilliMinorPerKwh: 1 }] },
    ],
    [
      'blocks not ascending',
      {
        kind: 'inclining-block',
        blocks: [
          { upToUnits: 500, rateMilliMinorPerKwh: 1 },
          { upToUnits: 500, rateMilliMinorPerKwh: 2 },
          { upToUnits: null, rateMilliMinorPerKwh: 3 },
        ],
      },
    ],
    [
      'a middle block unbounded',
      {
        kind: 'inclining-block',
        blocks: [
          { upToUnits: null, rateMilliMinorPerKwh: 1 },
          { upToUnits: null, rateMilliMinorPerKwh: 3 },
        ],
      },
    ],
    ['zero rate', { blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 0 }] }],
    ['fractional rate', { blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 1.5 }] }],
    ['negative VAT', { vatRateBp: -1 }],
    ['VAT above 100 %', { vatRateBp: 10_001 }],
    ['fixed charge maxMonths 0', { fixedMonthlyCharge: { description: 'x', amountMinor: 1, maxMonths: 0 } }],
    ['negative fixed charge', { fixedMonthlyCharge: { description: 'x', amountMinor: -1, maxMonths: 1 } }],
    ['negative levy', { levies: [{ name: 'x', kind: 'per-kwh', value: -1 }] }],
    ['percent levy above 100 %', { levies: [{ name: 'x', kind: 'percent', value: 10_001 }] }],
    ['min above max', { minVendMinor: 10, maxVendMinor: 9 }],
    ['max above the safe limit', { maxVendMinor: MAX_VEND_LIMIT_MINOR + 1 }],
    ['negative FBE', { fbeMonthlyUnits: -1 }],
  ] as [string, Partial<TariffVersion>][])('refuses a tariff with %s', (_name, overrides) => {
    const bad = tariff(overrides);
    expectVendError(() => validateTariff(bad), 'VEND_INVALID_TARIFF');
    expectVendError(() => priceVend(request(1_000, { tariff: bad })), 'VEND_INVALID_TARIFF');
  });

  it.each([
    ['bad month', { month: '2025-2' }],
    ['bad last purchase month', { meter: meter({ lastPurchaseMonth: 'Feb 2025' }) }],
    ['negative month-to-date', { meter: meter({ monthToDateUnits: -1 }) }],
    [
      'negative debt balance',
      { debt: debt({ kind: 'fixed-per-vend', amountMinor: 1 }, { balanceMinor: -1 }) },
    ],
    ['debt % above 100', { debt: debt({ kind: 'percent-of-tender', bp: 10_001 }) }],
    [
      'negative recovered',
      { debt: debt({ kind: 'fixed-per-month', amountMinor: 1 }, { recoveredThisMonthMinor: -5 }) },
    ],
  ] as [string, Partial<PriceRequest>][])('refuses a request with %s', (_name, overrides) => {
    expectVendError(() => priceVend(request(1_000, overrides)), 'VEND_INVALID_REQUEST');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

/** Exact rationals for an independent reference (bigint numerator / positive denominator). */
interface Q {
  n: bigint;
  d: bigint;
}
const q = (n: bigint | number, d: bigint | number = 1n): Q => ({ n: BigInt(n), d: BigInt(d) });
const add = (a: Q, b: Q): Q => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
const mul = (a: Q, b: Q): Q => ({ n: a.n * b.n, d: a.d * b.d });
const cmp = (a: Q, b: Q): number => {
  const left = a.n * b.d;
  const right = b.n * a.d;
  return left < right ? -1 : left > right ? 1 : 0;
};
const floorQ = (a: Q): bigint => a.n / a.d; // non-negative only
const ceilQ = (a: Q): bigint => (a.n + a.d - 1n) / a.d;

/**
 * The customer's price of one 0.1 unit at a block rate, in minor units, written from the tariff's words:
 * rate (milli-minor per kWh) / 1000 / 10, plus the percent levies on it, plus the per-kWh levies / 1000 / 10,
 * times (1 + VAT) when prices exclude VAT.
 */
function unitPrice(t: TariffVersion, rate: number): Q {
  let price = q(rate, 10_000);
  for (const levy of t.levies) {
    price = add(
      price,
      levy.kind === 'percent' ? mul(q(rate, 10_000), q(levy.value, 10_000)) : q(levy.value, 10_000),
    );
  }
  return t.pricesIncludeVat ? price : mul(price, q(10_000 + t.vatRateBp, 10_000));
}

function blockAt(t: TariffVersion, position: number): TariffBlock {
  return t.blocks.find((block) => block.upToUnits === null || position < block.upToUnits)!;
}

const blocksArb: fc.Arbitrary<TariffBlock[]> = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: 3_000 }), { maxLength: 3 }),
    fc.array(fc.integer({ min: 1_000, max: 5_000_000 }), { minLength: 4, maxLength: 4 }),
  )
  .map(([bounds, rates]) => {
    const sorted = [...bounds].sort((a, b) => a - b);
    return [
      ...sorted.map((upToUnits, i) => ({ upToUnits, rateMilliMinorPerKwh: rates[i]! })),
      { upToUnits: null, rateMilliMinorPerKwh: rates[sorted.length]! },
    ];
  });

const levyArb: fc.Arbitrary<Levy> = fc.oneof(
  fc.record({
    name: fc.constant('Per kWh'),
    kind: fc.constant('per-kwh' as const),
    value: fc.integer({ min: 0, max: 100_000 }),
  }),
  fc.record({
    name: fc.constant('Percent'),
    kind: fc.constant('percent' as const),
    value: fc.integer({ min: 0, max: 2_000 }),
  }),
);

const tariffArb: fc.Arbitrary<TariffVersion> = fc
  .record({
    blocks: blocksArb,
    vatRateBp: fc.oneof(fc.constant(0), fc.constant(1500), fc.integer({ min: 0, max: 2_500 })),
    pricesIncludeVat: fc.boolean(),
    charge: fc.option(
      fc.record({
        amountMinor: fc.integer({ min: 0, max: 5_000 }),
        maxMonths: fc.integer({ min: 1, max: 6 }),
      }),
    ),
    levies: fc.array(levyArb, { maxLength: 3 }),
    fbeMonthlyUnits: fc.integer({ min: 0, max: 1_000 }),
  })
  .map(({ blocks, vatRateBp, pricesIncludeVat, charge, levies, fbeMonthlyUnits }) =>
    tariff({
      kind: blocks.length === 1 ? 'flat' : 'inclining-block',
      blocks,
      vatRateBp,
      pricesIncludeVat,
      fixedMonthlyCharge: charge === null ? null : { description: 'Service', ...charge },
      levies,
      fbeMonthlyUnits,
      maxVendMinor: MAX_VEND_LIMIT_MINOR,
    }),
  );

const debtArb: fc.Arbitrary<DebtState | null> = fc.option(
  fc
    .record({
      rule: fc.oneof(
        fc.record({
          kind: fc.constant('percent-of-tender' as const),
          bp: fc.integer({ min: 0, max: 5_000 }),
        }),
        fc.record({
          kind: fc.constant('fixed-per-vend' as const),
          amountMinor: fc.integer({ min: 0, max: 3_000 }),
        }),
        fc.record({
          kind: fc.constant('fixed-per-month' as const),
          amountMinor: fc.integer({ min: 0, max: 3_000 }),
        }),
      ),
      balanceMinor: fc.integer({ min: 0, max: 20_000 }),
      recoveredThisMonthMinor: fc.integer({ min: 0, max: 3_000 }),
    })
    .map(({ rule, balanceMinor, recoveredThisMonthMinor }) =>
      debt(rule as DebtRule, { balanceMinor, recoveredThisMonthMinor }),
    ),
);

const requestArb = (tender: fc.Arbitrary<number>): fc.Arbitrary<PriceRequest> =>
  fc
    .record({
      tender,
      tariff: tariffArb,
      debt: debtArb,
      monthToDateUnits: fc.integer({ min: 0, max: 4_000 }),
      lastPurchaseMonth: fc.constantFrom(null, '2025-02', '2025-01', '2024-11', '2023-06'),
      fbeEligible: fc.boolean(),
      fbeIssuedThisMonth: fc.boolean(),
    })
    .map(({ tender: tenderMinor, tariff: t, debt: d, ...m }) => ({
      tenderMinor,
      tariff: t,
      debt: d,
      meter: m,
      month: '2025-02',
    }));

/** Runs priceVend; a VEND_AMOUNT_TOO_LOW is returned (and checked by the caller), anything else is thrown. */
function tryPrice(r: PriceRequest): PriceBreakdown | VendError {
  try {
    return priceVend(r);
  } catch (error) {
    if (error instanceof VendError && error.code === 'VEND_AMOUNT_TOO_LOW') return error;
    throw error;
  }
}

describe('priceVend properties (fast-check, fixed seed)', () => {
  const tenders = fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 2_000_000 }));

  it('every line adds up: charges + debt + levies + VAT + energy + change = tender, and the sub-minor part is the rounding', () => {
    fc.assert(
      fc.property(requestArb(tenders), (r) => {
        const b = tryPrice(r);
        if (b instanceof VendError) return;
        expectLinesAddUp(b);
        expect(b.units).toBeGreaterThan(0);
        expect(b.changeMinor).toBeGreaterThanOrEqual(0);
        expect(b.energyMinor).toBeGreaterThanOrEqual(0);
        for (const levy of b.levies) expect(levy.amountMinor).toBeGreaterThanOrEqual(0);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('the customer pays exactly ⌈exact price of the units⌉ and could not afford one more unit', () => {
    fc.assert(
      fc.property(requestArb(tenders), (r) => {
        const b = tryPrice(r);
        const t = r.tariff;
        if (b instanceof VendError) {
          // A refusal is right only when the money after charges and debt does not buy the next unit.
          const left =
            (b.amounts.tenderMinor ?? 0) - (b.amounts.chargesMinor ?? 0) - (b.amounts.debtMinor ?? 0);
          const next = unitPrice(t, blockAt(t, r.meter.monthToDateUnits).rateMilliMinorPerKwh);
          expect(cmp(q(Math.max(left, 0)), next)).toBe(-1);
          return;
        }
        let exact = q(0);
        let position = r.meter.monthToDateUnits;
        for (const block of b.blocks) {
          expect(block.fromUnits).toBe(position);
          expect(blockAt(t, block.fromUnits).rateMilliMinorPerKwh).toBe(block.rateMilliMinorPerKwh);
          expect(blockAt(t, block.toUnits - 1)).toBe(t.blocks[block.blockIndex]);
          exact = add(exact, mul(q(block.units), unitPrice(t, block.rateMilliMinorPerKwh)));
          position = block.toUnits;
        }
        const sold = leviesOf(b) + b.vat.amountMinor + b.energyMinor;
        expect(BigInt(sold)).toBe(ceilQ(exact)); // never more than the exact price rounded up to a minor unit
        expect(BigInt(b.unitsCostMilliMinor)).toBe(ceilQ(mul(exact, q(1000))));
        // One more 0.1 unit would cost more than the energy money.
        const oneMore = add(exact, unitPrice(t, blockAt(t, position).rateMilliMinorPerKwh));
        expect(cmp(oneMore, q(b.energyMoneyMinor))).toBe(1);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('units × rate never exceeds the energy money; the energy line is at least the exact energy value rounded down', () => {
    fc.assert(
      fc.property(requestArb(tenders), (r) => {
        const b = tryPrice(r);
        if (b instanceof VendError) return;
        const t = r.tariff;
        // Σ units × rate is in 10^-4 minor (0.1 unit × milli-minor per unit).
        const tenthMilli = b.blocks.reduce(
          (sum, block) => sum + BigInt(block.units) * BigInt(block.rateMilliMinorPerKwh),
          0n,
        );
        expect(tenthMilli).toBeLessThanOrEqual(BigInt(b.energyMoneyMinor) * 10_000n);
        const netEnergy = t.pricesIncludeVat
          ? mul(q(tenthMilli, 10_000), q(10_000, 10_000 + t.vatRateBp))
          : q(tenthMilli, 10_000);
        expect(BigInt(b.energyMinor)).toBeGreaterThanOrEqual(floorQ(netEnergy));
        // VAT is the tax fraction of what was sold, rounded up.
        const sold = BigInt(leviesOf(b) + b.vat.amountMinor + b.energyMinor);
        expect(BigInt(b.vat.amountMinor)).toBe(ceilQ(q(sold * BigInt(t.vatRateBp), 10_000 + t.vatRateBp)));
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('units are monotonic non-decreasing in the tender', () => {
    fc.assert(
      fc.property(requestArb(tenders), fc.integer({ min: 0, max: 100_000 }), (r, extra) => {
        const low = tryPrice(r);
        const high = tryPrice({ ...r, tenderMinor: r.tenderMinor + extra });
        const unitsOf = (b: PriceBreakdown | VendError) => (b instanceof VendError ? 0 : b.units);
        expect(unitsOf(high)).toBeGreaterThanOrEqual(unitsOf(low));
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('matches buying one 0.1 unit at a time with exact fractions (small tenders)', () => {
    const smallRequests = requestArb(fc.integer({ min: 1, max: 3_000 })).map((r) => ({
      ...r,
      tariff: {
        ...r.tariff,
        blocks: r.tariff.blocks.map((block) => ({
          ...block,
          rateMilliMinorPerKwh: 20_000 + block.rateMilliMinorPerKwh,
        })),
      },
    }));
    fc.assert(
      fc.property(smallRequests, (r) => {
        const b = tryPrice(r);
        const charges = fixedChargeMonthsDue(
          r.meter.lastPurchaseMonth,
          r.month,
          r.tariff.fixedMonthlyCharge?.maxMonths ?? 1,
        );
        const chargeLine = r.tariff.fixedMonthlyCharge;
        const chargesGross =
          chargeLine === null
            ? 0
            : r.tariff.pricesIncludeVat
              ? charges * chargeLine.amountMinor
              : charges * chargeLine.amountMinor +
                vatOnNet(charges * chargeLine.amountMinor, r.tariff.vatRateBp);
        const debtAmount = r.debt === null ? 0 : debtRecoveryDue(r.debt, r.tenderMinor);
        const money = q(Math.max(0, r.tenderMinor - chargesGross - debtAmount));
        let spent = q(0);
        let units = 0;
        for (;;) {
          const next = add(
            spent,
            unitPrice(r.tariff, blockAt(r.tariff, r.meter.monthToDateUnits + units).rateMilliMinorPerKwh),
          );
          if (cmp(next, money) > 0) break;
          spent = next;
          units++;
        }
        if (units === 0) {
          expect(b).toBeInstanceOf(VendError);
        } else {
          expect(b).not.toBeInstanceOf(VendError);
          expect((b as PriceBreakdown).units).toBe(units);
          expect((b as PriceBreakdown).changeMinor).toBe(
            Number(floorQ(add(money, { n: -spent.n, d: spent.d }))),
          );
        }
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});
