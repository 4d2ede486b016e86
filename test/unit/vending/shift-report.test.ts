import { describe, expect, it } from 'vitest';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import {
  COPY_BANNER,
  RECEIPT_COLUMNS,
  type ReceiptColumns,
  SlipError,
  type SlipErrorCode,
} from '../../../src-shared/vending/receipt.ts';
import {
  formatSignedMoney,
  renderShiftReportText,
  type ShiftReport,
  shiftReportSlip,
  shiftReportTitle,
  type XShiftReport,
  type ZShiftReport,
} from '../../../src-shared/vending/shift-report.ts';

/** A local stand-in for money.ts: 'R 1,234.56', '-R 5.00'. */
const formatMoney = (minor: number): string => {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}R ${whole}.${String(abs % 100).padStart(2, '0')}`;
};

function zReport(overrides: Partial<ZShiftReport> = {}): ZShiftReport {
  return {
    kind: 'Z',
    reportNo: 12,
    copy: false,
    outlet: { name: 'Corner Spaza', addressLines: ['12 Main Road, Soweto'] },
    terminalId: 'T001',
    operators: ['Thandi', 'Sipho'],
    openedAt: '2025-03-01 07:00',
    closedAt: '2025-03-01 19:00',
    printedAt: '2025-03-01 19:02',
    firstReceiptNo: '0001-000300',
    lastReceiptNo: '0001-000345',
    byType: [
      { type: 'sale', count: 40, amountMinor: 400_000, units: 21_000 },
      { type: 'fbe', count: 3, amountMinor: 0, units: 1_500 },
      { type: 'key-change', count: 2, amountMinor: 0, units: 0 },
      { type: 'reversal', count: 1, amountMinor: -10_000, units: -527 },
    ],
    byOperator: [
      { operator: 'Thandi', count: 30, amountMinor: 300_000, units: 16_000 },
      { operator: 'Sipho', count: 16, amountMinor: 90_000, units: 5_973 },
    ],
    byPayType: [
      { payType: 'cash', count: 35, amountMinor: 290_000, units: 15_473 },
      { payType: 'card', count: 11, amountMinor: 100_000, units: 6_500 },
    ],
    byResource: [{ resource: 'electricity', count: 46, amountMinor: 390_000, units: 21_973 }],
    total: { count: 46, amountMinor: 390_000, units: 21_973 },
    taxTotalMinor: 50_870,
    floatBalanceMinor: 1_250_000,
    cash: { declaredMinor: 289_500, expectedMinor: 290_000, varianceMinor: -500 },
    ...overrides,
  };
}

function xReport(): XShiftReport {
  const { kind: _kind, reportNo: _no, closedAt: _closed, cash: _cash, ...rest } = zReport();
  return { ...rest, kind: 'X' };
}

const render = (report: ShiftReport, columns: ReceiptColumns): string =>
  renderShiftReportText(report, { columns, formatMoney });
const linesOf = (text: string): string[] => text.replace(/\n$/, '').split('\n');
const variance = (declaredMinor: number, expectedMinor: number) => ({
  declaredMinor,
  expectedMinor,
  varianceMinor: declaredMinor - expectedMinor,
});

function expectSlipError(fn: () => unknown, code: SlipErrorCode): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SlipError);
    expect(isOpenVendError(error) && error.code).toBe(code);
    return;
  }
  expect.fail(`expected a SlipError ${code}`);
}

describe('Z report, exact text at 42 columns', () => {
  it('prints a reprinted Z report with every total and the blind cash count', () => {
    const expected = [
      '          *** REPRINT - COPY ***',
      '               Z REPORT #12',
      '               Corner Spaza',
      '           12 Main Road, Soweto',
      '------------------------------------------',
      'Terminal                              T001',
      'Operators                    Thandi, Sipho',
      'Opened                    2025-03-01 07:00',
      'Closed                    2025-03-01 19:00',
      'Printed                   2025-03-01 19:02',
      'First receipt                  0001-000300',
      'Last receipt                   0001-000345',
      '------------------------------------------',
      'BY TRANSACTION TYPE (COUNT)',
      'Sales (40)                      R 4,000.00',
      '  Units                             2100.0',
      'FBE (3)                             R 0.00',
      '  Units                              150.0',
      'Free issue (0)                      R 0.00',
      '  Units                                0.0',
      'Engineering (0)                     R 0.00',
      '  Units                                0.0',
      'Key change (2)                      R 0.00',
      '  Units                                0.0',
      'Reversals (1)                    -R 100.00',
      '  Units                              -52.7',
      '------------------------------------------',
      'BY OPERATOR (COUNT)',
      'Thandi (30)                     R 3,000.00',
      '  Units                             1600.0',
      'Sipho (16)                        R 900.00',
      '  Units                              597.3',
      '------------------------------------------',
      'BY PAY TYPE (COUNT)',
      'Cash (35)                       R 2,900.00',
      '  Units                             1547.3',
      'Card (11)                       R 1,000.00',
      '  Units                              650.0',
      '------------------------------------------',
      'BY RESOURCE (COUNT)',
      'Electricity (46)                R 3,900.00',
      '  Units                         2197.3 kWh',
      '------------------------------------------',
      'TOTAL (46)                      R 3,900.00',
      '  Units                             2197.3',
      'Tax total                         R 508.70',
      'Float balance                  R 12,500.00',
      '------------------------------------------',
      'CASH COUNT',
      'Expected cash                   R 2,900.00',
      'Declared cash (blind)           R 2,895.00',
      'Variance (short)                   -R 5.00',
      '------------------------------------------',
      '           END OF Z REPORT #12',
      '          *** REPRINT - COPY ***',
      '',
    ].join('\n');
    expect(render(zReport({ copy: true }), 42)).toBe(expected);
  });
});

describe.each(RECEIPT_COLUMNS)('shift reports at %i columns', (columns) => {
  it('keeps every line within the width, also with long names and large amounts', () => {
    const long = 'Nomvula Thandeka Precious Mahlangu-Vilakazi of the Soweto Central Municipal Vending Office';
    for (const report of [
      zReport(),
      xReport(),
      zReport({
        copy: true,
        reportNo: 999_999_999,
        outlet: { name: long, addressLines: [long] },
        operators: [long, long],
        byOperator: [{ operator: long, count: 1_000_000, amountMinor: -999_999_999_999, units: -18_201_624 }],
        byPayType: [{ payType: long, count: 1, amountMinor: 1, units: 1 }],
        byResource: [{ resource: 'water', count: 9_999, amountMinor: 999_999_999_999, units: 18_201_624 }],
        cash: variance(999_999_999_999, 0),
      }),
    ]) {
      const text = render(report, columns);
      expect(linesOf(text).filter((line) => line.length > columns)).toEqual([]);
      for (const line of linesOf(text)) expect(line).toBe(line.trimEnd());
    }
  });

  it("heads an X report 'X REPORT - NOT CLOSED' with no number, closing time or cash count", () => {
    const lines = linesOf(render(xReport(), columns));
    expect(lines[0]!.trim()).toBe('X REPORT - NOT CLOSED');
    expect(lines.at(-1)!.trim()).toBe('X REPORT - NOT CLOSED');
    expect(lines.join('\n')).not.toMatch(/Z REPORT|#|Closed|CASH COUNT|Variance|Declared/);
    expect(lines.some((line) => line.startsWith('Printed') && line.endsWith('2025-03-01 19:02'))).toBe(true);
  });

  it("heads a Z report 'Z REPORT #12' and prints COPY at the top and bottom of a reprint only", () => {
    const original = linesOf(render(zReport(), columns));
    expect(original[0]!.trim()).toBe('Z REPORT #12');
    expect(original.join('\n')).not.toContain('COPY');
    const copy = linesOf(render(zReport({ copy: true }), columns));
    expect(copy[0]!.trim()).toBe(COPY_BANNER);
    expect(copy[1]!.trim()).toBe('Z REPORT #12');
    expect(copy.at(-1)!.trim()).toBe(COPY_BANNER);
    const xCopy = linesOf(render({ ...xReport(), copy: true }, columns));
    expect(xCopy[0]!.trim()).toBe(COPY_BANNER);
    expect(xCopy.at(-1)!.trim()).toBe(COPY_BANNER);
  });

  it('prints the variance with its sign: short, over and balanced', () => {
    const row = (report: ShiftReport): string =>
      linesOf(render(report, columns)).find((line) => line.startsWith('Variance'))!;
    const short = row(zReport({ cash: variance(289_500, 290_000) }));
    expect(short.startsWith('Variance (short)')).toBe(true);
    expect(short.endsWith(' -R 5.00')).toBe(true);
    const over = row(zReport({ cash: variance(290_125, 290_000) }));
    expect(over.startsWith('Variance (over)')).toBe(true);
    expect(over.endsWith(' +R 1.25')).toBe(true);
    const balanced = row(zReport({ cash: variance(290_000, 290_000) }));
    expect(balanced).toBe(`Variance${'R 0.00'.padStart(columns - 8)}`);
  });

  it('prints counts, amounts and units for every grouping, with kWh or m³ by resource', () => {
    const report = zReport({
      byResource: [
        { resource: 'electricity', count: 40, amountMinor: 380_000, units: 21_900 },
        { resource: 'water', count: 6, amountMinor: 10_000, units: 73 },
      ],
    });
    const lines = linesOf(render(report, columns));
    const pair = (label: string, amount: string, units: string): void => {
      const at = lines.findIndex((line) => line.startsWith(label));
      expect(at, label).toBeGreaterThanOrEqual(0);
      expect(lines[at]!.endsWith(` ${amount}`)).toBe(true);
      expect(lines[at + 1]).toBe(`  Units${units.padStart(columns - 7)}`);
    };
    pair('Sales (40)', 'R 4,000.00', '2100.0');
    pair('Reversals (1)', '-R 100.00', '-52.7');
    pair('Free issue (0)', 'R 0.00', '0.0');
    pair('Sipho (16)', 'R 900.00', '597.3');
    pair('Card (11)', 'R 1,000.00', '650.0');
    pair('Electricity (40)', 'R 3,800.00', '2190.0 kWh');
    pair('Water (6)', 'R 100.00', '7.3 m³');
    pair('TOTAL (46)', 'R 3,900.00', '2197.3');
    expect(lines).toContain(`Tax total${'R 508.70'.padStart(columns - 9)}`);
    expect(lines).toContain(`Float balance${'R 12,500.00'.padStart(columns - 13)}`);
  });
});

describe('shift report checks', () => {
  it('refuses a variance that is not declared minus expected', () => {
    expectSlipError(
      () => render(zReport({ cash: { declaredMinor: 100, expectedMinor: 200, varianceMinor: 100 } }), 42),
      'SLIP_INCONSISTENT',
    );
  });

  it('refuses a Z report without a positive whole report number', () => {
    for (const reportNo of [0, -1, 1.5]) {
      expectSlipError(() => render(zReport({ reportNo }), 42), 'SLIP_INVALID_NUMBER');
    }
  });

  it('refuses a transaction type listed twice, negative counts and fractional amounts', () => {
    const sale = { type: 'sale' as const, count: 1, amountMinor: 100, units: 10 };
    expectSlipError(() => render(zReport({ byType: [sale, sale] }), 42), 'SLIP_INCONSISTENT');
    expectSlipError(() => render(zReport({ byType: [{ ...sale, count: -1 }] }), 42), 'SLIP_INVALID_NUMBER');
    expectSlipError(() => render(zReport({ taxTotalMinor: 10.5 }), 42), 'SLIP_INVALID_NUMBER');
    expectSlipError(() => render(zReport(), 80 as ReceiptColumns), 'SLIP_INVALID_WIDTH');
  });

  it('formats signed money and titles', () => {
    expect(formatSignedMoney(-500, formatMoney)).toBe('-R 5.00');
    expect(formatSignedMoney(125, formatMoney)).toBe('+R 1.25');
    expect(formatSignedMoney(0, formatMoney)).toBe('R 0.00');
    expect(shiftReportTitle(xReport())).toBe('X REPORT - NOT CLOSED');
    expect(shiftReportTitle(zReport({ reportNo: 7 }))).toBe('Z REPORT #7');
  });

  it('gives the UI the report as slip items and is deterministic', () => {
    const report = zReport();
    const before = JSON.stringify(report);
    const slip = shiftReportSlip(report, { formatMoney });
    expect(slip).toContainEqual({ type: 'field', label: 'Variance (short)', value: '-R 5.00' });
    expect(slip).toContainEqual({ type: 'centre', text: 'Z REPORT #12' });
    expect(render(report, 32)).toBe(render(report, 32));
    expect(JSON.stringify(report)).toBe(before);
  });
});
