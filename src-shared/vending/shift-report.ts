import {
  COPY_BANNER,
  formatQuantity,
  formatUnits,
  type ReceiptColumns,
  type ReceiptParty,
  type ReceiptResource,
  renderSlipText,
  requireColumns,
  SlipError,
  type SlipItem,
} from './receipt.ts';

/**
 * X and Z shift reports (vending-domain.md §9) as JSON-safe data, slip items for the UI and plain text for 32, 42
 * and 48 column printers, with the same layout rules as receipts (see receipt.ts).
 *
 * An X report is a running total that closes nothing; a Z report closes the shift, is numbered and immutable, and
 * carries the blind cash count. Every total is supplied by the ledger: the renderer adds nothing up, it only checks
 * that the variance it prints is the declared cash minus the expected cash.
 */

export type ShiftTxType = 'sale' | 'fbe' | 'free-issue' | 'engineering' | 'key-change' | 'reversal';

/** Print order and labels of the transaction types; a type the report does not list prints as zero. */
export const SHIFT_TX_TYPES: readonly ShiftTxType[] = [
  'sale',
  'fbe',
  'free-issue',
  'engineering',
  'key-change',
  'reversal',
];

/** The shift-report type of a sale kind: the kinds are the types; anything else counts as a sale. */
export const shiftTxTypeOf = (saleKind: string): ShiftTxType =>
  (SHIFT_TX_TYPES as readonly string[]).includes(saleKind) ? (saleKind as ShiftTxType) : 'sale';

export const SHIFT_TX_TYPE_LABELS: Readonly<Record<ShiftTxType, string>> = {
  sale: 'Sales',
  fbe: 'FBE',
  'free-issue': 'Free issue',
  engineering: 'Engineering',
  'key-change': 'Key change',
  reversal: 'Reversals',
};

const PAY_TYPE_LABELS: Readonly<Record<string, string>> = {
  cash: 'Cash',
  card: 'Card',
  'credit-card': 'Credit card',
  'debit-card': 'Debit card',
  cheque: 'Cheque',
  eft: 'EFT',
  'mobile-money': 'Mobile money',
  unknown: 'Unknown',
};

const RESOURCE_LABELS: Readonly<Record<ReceiptResource, string>> = {
  electricity: 'Electricity',
  water: 'Water',
  gas: 'Gas',
};

/** Count, money (integer minor units, negative for reversals) and integer 0.1 units. */
export interface ShiftTotal {
  count: number;
  amountMinor: number;
  units: number;
}

export interface ShiftTypeTotal extends ShiftTotal {
  type: ShiftTxType;
}

export interface ShiftOperatorTotal extends ShiftTotal {
  operator: string;
}

export interface ShiftPayTypeTotal extends ShiftTotal {
  /** 'cash', 'card', 'credit-card', 'debit-card', 'cheque', 'eft', 'mobile-money', 'unknown' or any other name. */
  payType: string;
}

export interface ShiftResourceTotal extends ShiftTotal {
  resource: ReceiptResource;
}

/** The blind cash count of a Z report: the cashier declares before seeing the expected figure. */
export interface ShiftCashCount {
  declaredMinor: number;
  expectedMinor: number;
  /** Declared − expected: negative is short, positive is over. */
  varianceMinor: number;
}

interface ShiftReportBase {
  /** A reprint: 'COPY' is printed at the top and at the bottom. */
  copy: boolean;
  outlet: ReceiptParty;
  terminalId: string;
  operators: string[];
  /** Local date-times, already formatted by the caller. */
  openedAt: string;
  printedAt: string;
  firstReceiptNo?: string;
  lastReceiptNo?: string;
  byType: ShiftTypeTotal[];
  byOperator: ShiftOperatorTotal[];
  byPayType: ShiftPayTypeTotal[];
  byResource: ShiftResourceTotal[];
  /** Net totals for the shift. */
  total: ShiftTotal;
  taxTotalMinor: number;
  /** Vendor float (prepaid vending credit) available when the report was printed. */
  floatBalanceMinor: number;
}

export interface XShiftReport extends ShiftReportBase {
  kind: 'X';
}

export interface ZShiftReport extends ShiftReportBase {
  kind: 'Z';
  reportNo: number;
  closedAt: string;
  cash: ShiftCashCount;
}

export type ShiftReport = XShiftReport | ZShiftReport;

export interface ShiftReportRenderOptions {
  columns: ReceiptColumns;
  formatMoney: (minor: number) => string;
}

// ---------------------------------------------------------------------------------------------------------------

function requireInteger(value: number, what: string, min = Number.MIN_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new SlipError(
      'SLIP_INVALID_NUMBER',
      `The ${what} on the shift report is not a valid whole number.`,
      `${what} ${JSON.stringify(value)} is not a safe integer >= ${min}`,
    );
  }
  return value;
}

/** '+R 5.00', '-R 5.00', or the plain zero amount. */
export function formatSignedMoney(minor: number, formatMoney: (minor: number) => string): string {
  requireInteger(minor, 'amount');
  if (minor === 0) return formatMoney(0);
  return `${minor < 0 ? '-' : '+'}${formatMoney(Math.abs(minor))}`;
}

/** 'X REPORT - NOT CLOSED' or 'Z REPORT #12'. */
export function shiftReportTitle(report: ShiftReport): string {
  return report.kind === 'X'
    ? 'X REPORT - NOT CLOSED'
    : `Z REPORT #${requireInteger(report.reportNo, 'report number', 1)}`;
}

export const payTypeLabel = (payType: string): string => PAY_TYPE_LABELS[payType] ?? payType;

/** Builds the report as slip items. */
export function shiftReportSlip(
  report: ShiftReport,
  options: Pick<ShiftReportRenderOptions, 'formatMoney'>,
): SlipItem[] {
  const money = (minor: number, what: string): string => options.formatMoney(requireInteger(minor, what));
  const items: SlipItem[] = [];
  const field = (label: string, value: string, indent = false): void => {
    items.push(indent ? { type: 'field', label, value, indent } : { type: 'field', label, value });
  };
  const row = (label: string, total: ShiftTotal, unitsText: (units: number) => string): void => {
    const count = requireInteger(total.count, `${label} count`, 0);
    field(`${label} (${count})`, money(total.amountMinor, `${label} amount`));
    field('Units', unitsText(requireInteger(total.units, `${label} units`)), true);
  };
  const section = (heading: string): void => {
    items.push({ type: 'separator' }, { type: 'text', text: heading });
  };
  const title = shiftReportTitle(report);

  if (report.copy) items.push({ type: 'banner', text: COPY_BANNER });
  items.push({ type: 'centre', text: title });
  items.push({ type: 'centre', text: report.outlet.name });
  for (const line of report.outlet.addressLines) items.push({ type: 'centre', text: line });
  items.push({ type: 'separator' });
  field('Terminal', report.terminalId);
  field(report.operators.length === 1 ? 'Operator' : 'Operators', report.operators.join(', '));
  field('Opened', report.openedAt);
  if (report.kind === 'Z') field('Closed', report.closedAt);
  field('Printed', report.printedAt);
  if (report.firstReceiptNo !== undefined) field('First receipt', report.firstReceiptNo);
  if (report.lastReceiptNo !== undefined) field('Last receipt', report.lastReceiptNo);

  section('BY TRANSACTION TYPE (COUNT)');
  const seen = new Set<ShiftTxType>();
  for (const entry of report.byType) {
    if (seen.has(entry.type) || !SHIFT_TX_TYPES.includes(entry.type)) {
      throw new SlipError(
        'SLIP_INCONSISTENT',
        'The shift report lists a transaction type twice or an unknown type.',
        `byType entry ${JSON.stringify(entry.type)} is duplicated or unknown`,
      );
    }
    seen.add(entry.type);
  }
  for (const type of SHIFT_TX_TYPES) {
    const entry = report.byType.find((candidate) => candidate.type === type);
    row(SHIFT_TX_TYPE_LABELS[type], entry ?? { count: 0, amountMinor: 0, units: 0 }, formatUnits);
  }

  section('BY OPERATOR (COUNT)');
  for (const entry of report.byOperator) row(entry.operator, entry, formatUnits);

  section('BY PAY TYPE (COUNT)');
  for (const entry of report.byPayType) row(payTypeLabel(entry.payType), entry, formatUnits);

  section('BY RESOURCE (COUNT)');
  for (const entry of report.byResource) {
    row(RESOURCE_LABELS[entry.resource], entry, (units) => formatQuantity(units, entry.resource));
  }

  items.push({ type: 'separator' });
  row('TOTAL', report.total, formatUnits);
  field('Tax total', money(report.taxTotalMinor, 'tax total'));
  field('Float balance', money(report.floatBalanceMinor, 'float balance'));

  if (report.kind === 'Z') {
    const { declaredMinor, expectedMinor, varianceMinor } = report.cash;
    const declared = requireInteger(declaredMinor, 'declared cash');
    const expected = requireInteger(expectedMinor, 'expected cash');
    if (requireInteger(varianceMinor, 'cash variance') !== declared - expected) {
      throw new SlipError(
        'SLIP_INCONSISTENT',
        'The cash variance does not match the declared and expected cash.',
        `variance ${varianceMinor} != declared ${declared} - expected ${expected}`,
      );
    }
    section('CASH COUNT');
    field('Expected cash', money(expected, 'expected cash'));
    field('Declared cash (blind)', money(declared, 'declared cash'));
    const state = varianceMinor < 0 ? ' (short)' : varianceMinor > 0 ? ' (over)' : '';
    field(`Variance${state}`, formatSignedMoney(varianceMinor, options.formatMoney));
  }

  items.push({ type: 'separator' });
  items.push({ type: 'centre', text: report.kind === 'Z' ? `END OF ${title}` : title });
  if (report.copy) items.push({ type: 'banner', text: COPY_BANNER });
  return items;
}

/** Plain text for a 32, 42 or 48 column printer. */
export function renderShiftReportText(report: ShiftReport, options: ShiftReportRenderOptions): string {
  const columns = requireColumns(options.columns);
  return renderSlipText(shiftReportSlip(report, options), columns);
}
