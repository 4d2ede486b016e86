import { OpenVendError } from '../errors/openvend-error.ts';
import { formatTi } from '../sts/identifiers.ts';
import { groupTokenDigits } from '../sts/token-number.ts';

/**
 * Customer receipts (vending-domain.md §8) as JSON-safe data, a width-independent slip model the UI can show, and a
 * plain-text rendering for 32, 42 and 48 column ESC/POS printers.
 *
 * Rules the renderer keeps:
 * - Money is integer minor units, formatted only by the caller's `formatMoney`; units are integer 0.1 units and are
 *   written exactly from the integer (527 → "52.7"), never through floating point.
 * - No line is longer than the printer width; long texts wrap at word boundaries (a word longer than a whole line is
 *   the only thing ever split). A token is printed 4-4-4-4-4 on a line of its own and is never split.
 * - Key change tokens are printed first (their relative order kept), under the entry instruction (§7).
 * - Control and format characters in any text are replaced by spaces, so no caller text can inject printer commands.
 * - Nothing is computed from the clock: the caller formats dates. The same receipt always gives the same text.
 */

// ---------------------------------------------------------------------------------------------------------------
// Errors

export type SlipErrorCode =
  | 'SLIP_INVALID_WIDTH'
  | 'SLIP_INVALID_TOKEN'
  | 'SLIP_INVALID_NUMBER'
  | 'SLIP_INCONSISTENT';

/** Raised when receipt or report data cannot be printed faithfully. */
export class SlipError extends OpenVendError {
  declare readonly code: SlipErrorCode;

  constructor(code: SlipErrorCode, userMessage: string, detail: string = userMessage) {
    super(code, userMessage, detail);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Receipt data

export type ReceiptColumns = 32 | 42 | 48;
export const RECEIPT_COLUMNS: readonly ReceiptColumns[] = [32, 42, 48];

export type ReceiptTokenKind = 'key-change' | 'fbe' | 'credit' | 'free' | 'engineering';
export type ReceiptResource = 'electricity' | 'water' | 'gas';

/** Unit symbols for 0.1-unit quantities per resource. */
export const RESOURCE_UNIT_SYMBOLS: Readonly<Record<ReceiptResource, string>> = {
  electricity: 'kWh',
  water: 'm³',
  gas: 'm³',
};

export interface ReceiptParty {
  name: string;
  addressLines: string[];
}

export interface ReceiptUtility extends ReceiptParty {
  /** VAT / tax registration number. */
  taxRef?: string;
}

export interface ReceiptHeader {
  /** From the response's display header, e.g. 'CREDIT VEND - TAX INVOICE', 'FREE ISSUE', 'KEY CHANGE'. */
  title: string;
  /** A reprint: '*** REPRINT - COPY ***' is printed at the top and at the bottom. */
  copy: boolean;
  utility: ReceiptUtility;
  outlet: ReceiptParty;
  receiptNo: string;
  /** Local date and time, already formatted by the caller. */
  issuedAt: string;
  terminalId: string;
  operator: string;
  /** VAT invoice number, where the issuer supplies one. */
  vatInvoiceNo?: string;
}

export interface ReceiptCustomer {
  name: string;
  addressLines: string[];
  accountNo?: string;
}

export interface ReceiptKeyData {
  sgc: string;
  krn: number;
  ti: number;
}

export interface ReceiptMeter {
  /** Meter serial number, formatted by the caller. */
  meterNo: string;
  sgc: string;
  krn: number;
  ti: number;
  /** Encryption algorithm, e.g. 'EA07'. */
  ea: string;
  /** Token technology, e.g. '02' (numeric keypad). */
  tt: string;
  tariffName: string;
  tariffIndex?: string;
  /** Key data before and after, when the receipt carries key change tokens. */
  keyChange?: { from: ReceiptKeyData; to: ReceiptKeyData };
}

export interface ReceiptToken {
  kind: ReceiptTokenKind;
  /** e.g. 'KEY CHANGE TOKEN 1 OF 2', 'CREDIT TOKEN', 'FREE BASIC ELECTRICITY'. */
  label: string;
  /** The 20 token digits, without separators. */
  digits: string;
  /** Integer 0.1 units (527 = 52.7 kWh). */
  units?: number;
  /** Defaults to the receipt's resource, else electricity. */
  resource?: ReceiptResource;
  amountMinor?: number;
  description?: string;
}

export interface ReceiptFixedCharge {
  description: string;
  months?: number;
  amountMinor: number;
  vatMinor?: number;
}

export interface ReceiptDebtRecovery {
  description: string;
  accountNo?: string;
  amountMinor: number;
  vatMinor?: number;
  balanceAfterMinor?: number;
}

export interface ReceiptLevy {
  description: string;
  amountMinor: number;
}

export interface ReceiptVat {
  /** 1500 = 15 %, 750 = 7.5 %. */
  rateBasisPoints: number;
  amountMinor: number;
}

/** One tariff block: "x kWh @ y c/kWh". */
export interface ReceiptBlock {
  units: number;
  /** Price in thousandths of a minor unit per whole unit (185430 = 185.43 c/kWh). */
  rateMilliMinor: number;
  amountMinor?: number;
}

export interface ReceiptLines {
  fixedCharges?: ReceiptFixedCharge[];
  debtRecovery?: ReceiptDebtRecovery[];
  levies?: ReceiptLevy[];
  energyMinor?: number;
  vat?: ReceiptVat[];
  /** Integer 0.1 units across the receipt's credit tokens. */
  unitsTotal?: number;
  resource?: ReceiptResource;
  /** Printed once, below the amounts, however many tokens the receipt carries. */
  blocks?: ReceiptBlock[];
  totalMinor?: number;
  /** e.g. 'CASH', 'CARD'. */
  payType?: string;
  tenderMinor?: number;
  roundingMinor?: number;
  changeMinor?: number;
}

export interface ReceiptMessages {
  /** Utility and customer messages (FBE information, announcements); '\n' starts a new line. */
  lines?: string[];
  /** A ready-made slip supplied by the issuer, printed line by line as supplied (wrapped only if too wide). */
  slip?: string[];
  /** The utility's receipt footer. */
  footer?: string;
}

export interface Receipt {
  header: ReceiptHeader;
  customer?: ReceiptCustomer;
  meter: ReceiptMeter;
  /** In entry order; key change tokens must come first and are printed first in any case. */
  tokens: ReceiptToken[];
  lines?: ReceiptLines;
  messages?: ReceiptMessages;
}

export const COPY_BANNER = '*** REPRINT - COPY ***';
export const KEY_CHANGE_INSTRUCTION = 'ENTER KEY CHANGE TOKENS FIRST, IN ORDER, THEN THE CREDIT TOKEN';
export const NON_REFUNDABLE_LINE = 'Tokens are meter-specific and not refundable.';

// ---------------------------------------------------------------------------------------------------------------
// Formatting helpers (exact integer arithmetic only)

function requireSafeInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new SlipError(
      'SLIP_INVALID_NUMBER',
      `The ${what} cannot be printed: it is not a whole number.`,
      `${what} ${JSON.stringify(value)} is not a safe integer`,
    );
  }
  return value;
}

function requireNonNegative(value: number, what: string): number {
  if (requireSafeInteger(value, what) < 0) {
    throw new SlipError(
      'SLIP_INVALID_NUMBER',
      `The ${what} cannot be negative.`,
      `${what} ${value} is negative`,
    );
  }
  return value;
}

/** Integer 0.1 units as a decimal with exactly one place: 527 → '52.7', 1 → '0.1', -5 → '-0.5'. */
export function formatUnits(tenths: number): string {
  requireSafeInteger(tenths, 'units');
  const sign = tenths < 0 ? '-' : '';
  const abs = Math.abs(tenths);
  return `${sign}${Math.floor(abs / 10)}.${abs % 10}`;
}

/** 527 → '52.7 kWh'; water and gas in m³. */
export const formatQuantity = (tenths: number, resource: ReceiptResource = 'electricity'): string =>
  `${formatUnits(tenths)} ${RESOURCE_UNIT_SYMBOLS[resource]}`;

/** Basis points as a percentage without trailing zeros: 1500 → '15%', 750 → '7.5%', 1575 → '15.75%'. */
export function formatVatRate(basisPoints: number): string {
  requireNonNegative(basisPoints, 'VAT rate');
  const fraction = String(basisPoints % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${Math.floor(basisPoints / 100)}${fraction ? `.${fraction}` : ''}%`;
}

/** Default rate text: minor units with 2 or 3 decimals, 185430 → '185.43 c/kWh', 185432 → '185.432 c/kWh'. */
export function defaultFormatRate(milliMinorPerUnit: number, unitSymbol: string): string {
  requireNonNegative(milliMinorPerUnit, 'tariff rate');
  const fraction = String(milliMinorPerUnit % 1000)
    .padStart(3, '0')
    .replace(/0$/, '');
  return `${Math.floor(milliMinorPerUnit / 1000)}.${fraction} c/${unitSymbol}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Slip model and text layout (shared with shift-report.ts)

/** A width-independent printed item; the UI can show these directly, the text renderer lays them out. */
export type SlipItem =
  /** Centred and prominent (COPY). */
  | { type: 'banner'; text: string }
  /** Centred, wrapped. */
  | { type: 'centre'; text: string }
  /** Left-aligned, wrapped. */
  | { type: 'text'; text: string }
  /** Printed as supplied when it fits, otherwise wrapped. */
  | { type: 'preformatted'; text: string }
  /** Label on the left, value right-aligned. */
  | { type: 'field'; label: string; value: string; indent?: boolean }
  | { type: 'token'; kind: ReceiptTokenKind; label: string; grouped: string }
  | { type: 'separator' }
  | { type: 'blank' };

export interface SlipFormatOptions {
  formatMoney: (minor: number) => string;
  /**
   * The whole rate text for a tariff block, e.g. '185.43 c/kWh'; the rate is in thousandths of a minor unit per
   * whole unit. Defaults to `defaultFormatRate`.
   */
  formatRate?: (milliMinorPerUnit: number, unitSymbol: string) => string;
}

export interface ReceiptRenderOptions extends SlipFormatOptions {
  columns: ReceiptColumns;
}

/** One printable line: control and format characters (ESC, bidi overrides …) become spaces. */
const clean = (text: string): string => text.normalize('NFC').replace(/[\p{Cc}\p{Cf}]/gu, ' ');
const collapse = (text: string): string => clean(text).replace(/\s+/g, ' ').trim();

/** Greedy word wrap; only a word longer than the width is split (at code point boundaries). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of collapse(text).split(' ')) {
    if (word === '') continue;
    const pieces: string[] = [];
    if (word.length <= width) pieces.push(word);
    else {
      let piece = '';
      for (const ch of word) {
        if (piece.length + ch.length > width) {
          pieces.push(piece);
          piece = '';
        }
        piece += ch;
      }
      if (piece) pieces.push(piece);
    }
    for (const piece of pieces) {
      if (line === '') line = piece;
      else if (line.length + 1 + piece.length <= width) line += ` ${piece}`;
      else {
        lines.push(line);
        line = piece;
      }
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

const centre = (text: string, width: number): string =>
  `${' '.repeat(Math.floor((width - text.length) / 2))}${text}`;

function fieldLines(label: string, value: string, width: number, indent: boolean): string[] {
  const prefix = indent ? '  ' : '';
  const labelText = collapse(label);
  const valueText = collapse(value);
  const labelLines = wrapText(labelText, width - prefix.length).map((line) => prefix + line);
  if (valueText === '') return labelLines;
  const last = labelLines.pop() ?? '';
  if (last.length + 1 + valueText.length <= width) {
    return [...labelLines, last + ' '.repeat(width - last.length - valueText.length) + valueText];
  }
  const valueLines = wrapText(valueText, width).map((line) => line.padStart(width));
  return [...labelLines, ...(last ? [last] : []), ...valueLines];
}

export function requireColumns(columns: number): ReceiptColumns {
  if (!(RECEIPT_COLUMNS as readonly number[]).includes(columns)) {
    throw new SlipError(
      'SLIP_INVALID_WIDTH',
      'The printer width must be 32, 42 or 48 columns.',
      `columns ${JSON.stringify(columns)} is not one of ${RECEIPT_COLUMNS.join(', ')}`,
    );
  }
  return columns as ReceiptColumns;
}

/** Lays slip items out as plain text for a printer of `columns` columns; every line ends with '\n'. */
export function renderSlipText(items: readonly SlipItem[], columns: ReceiptColumns): string {
  const width = requireColumns(columns);
  const out: string[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'banner':
      case 'centre':
        for (const line of wrapText(item.text, width)) out.push(centre(line, width));
        break;
      case 'text':
        out.push(...wrapText(item.text, width));
        break;
      case 'preformatted': {
        const line = clean(item.text).trimEnd();
        if (line.length <= width) out.push(line);
        else out.push(...wrapText(line, width));
        break;
      }
      case 'field':
        out.push(...fieldLines(item.label, item.value, width, item.indent ?? false));
        break;
      case 'token':
        for (const line of wrapText(item.label, width)) out.push(centre(line, width));
        // Groups of 4 never exceed the width, so wrapping can only move whole groups.
        for (const line of wrapText(item.grouped, width)) out.push(centre(line, width));
        break;
      case 'separator':
        out.push('-'.repeat(width));
        break;
      case 'blank':
        out.push('');
        break;
    }
  }
  return out.map((line) => `${line}\n`).join('');
}

/** Splits caller text on line breaks into separate items. */
export const paragraphs = (text: string): string[] => text.split(/\r\n|\r|\n/);

// ---------------------------------------------------------------------------------------------------------------
// Receipt → slip

function requireTokenDigits(token: ReceiptToken): string {
  if (!/^\d{20}$/.test(token.digits)) {
    throw new SlipError(
      'SLIP_INVALID_TOKEN',
      `The token "${collapse(token.label)}" is not 20 digits and cannot be printed.`,
      `token digits ${JSON.stringify(token.digits)} are not exactly 20 decimal digits`,
    );
  }
  return token.digits;
}

/** The tokens in print order: key change tokens first (stable), then the others as given. */
export const orderedTokens = (tokens: readonly ReceiptToken[]): ReceiptToken[] => [
  ...tokens.filter((token) => token.kind === 'key-change'),
  ...tokens.filter((token) => token.kind !== 'key-change'),
];

const keyDataText = (key: ReceiptKeyData): string => `${key.sgc} / ${key.krn} / ${formatTi(key.ti)}`;

/** Builds the receipt as slip items (header, customer and meter, tokens, amounts, messages). */
export function receiptSlip(receipt: Receipt, options: SlipFormatOptions): SlipItem[] {
  const money = (minor: number, what: string): string => options.formatMoney(requireSafeInteger(minor, what));
  const formatRate = options.formatRate ?? defaultFormatRate;
  const { header, customer, meter, lines, messages } = receipt;
  const resource = lines?.resource ?? 'electricity';
  const items: SlipItem[] = [];
  const field = (label: string, value: string, indent = false): void => {
    items.push(indent ? { type: 'field', label, value, indent } : { type: 'field', label, value });
  };
  const text = (value: string): void => {
    for (const line of paragraphs(value)) items.push({ type: 'text', text: line });
  };
  const separator = (): void => {
    if (items.at(-1)?.type !== 'separator') items.push({ type: 'separator' });
  };

  // Header and parties
  if (header.copy) items.push({ type: 'banner', text: COPY_BANNER });
  items.push({ type: 'centre', text: header.title }, { type: 'separator' });
  items.push({ type: 'centre', text: header.utility.name });
  for (const line of header.utility.addressLines) items.push({ type: 'centre', text: line });
  if (header.utility.taxRef) items.push({ type: 'centre', text: `VAT Reg No ${header.utility.taxRef}` });
  items.push({ type: 'separator' });
  text(`Outlet: ${header.outlet.name}`);
  for (const line of header.outlet.addressLines) text(line);
  field('Receipt No', header.receiptNo);
  if (header.vatInvoiceNo) field('VAT Invoice No', header.vatInvoiceNo);
  field('Date', header.issuedAt);
  field('Terminal', header.terminalId);
  field('Operator', header.operator);

  // Customer and meter
  items.push({ type: 'separator' });
  if (customer) {
    if (customer.name) text(`Customer: ${customer.name}`);
    for (const line of customer.addressLines) text(line);
    if (customer.accountNo) field('Account No', customer.accountNo);
  }
  field('Meter No', meter.meterNo);
  field('Tariff', meter.tariffName);
  if (meter.tariffIndex) field('Tariff index', meter.tariffIndex);
  field('SGC / KRN / TI', keyDataText(meter));
  field('EA / TT', `${meter.ea} / ${meter.tt}`);
  if (meter.keyChange) {
    field('Key change from', keyDataText(meter.keyChange.from));
    field('Key change to', keyDataText(meter.keyChange.to));
  }

  // Tokens
  const tokens = orderedTokens(receipt.tokens);
  items.push({ type: 'separator' });
  if (tokens.some((token) => token.kind === 'key-change')) {
    items.push({ type: 'centre', text: KEY_CHANGE_INSTRUCTION }, { type: 'blank' });
  }
  tokens.forEach((token, index) => {
    if (index > 0) items.push({ type: 'blank' });
    const grouped = groupTokenDigits(requireTokenDigits(token));
    items.push({ type: 'token', kind: token.kind, label: token.label, grouped });
    if (token.description) text(token.description);
    if (token.units !== undefined) field('Units', formatQuantity(token.units, token.resource ?? resource));
    if (token.amountMinor !== undefined) field('Amount', money(token.amountMinor, 'token amount'));
  });

  // Amounts
  if (lines) {
    separator();
    for (const charge of lines.fixedCharges ?? []) {
      const months =
        charge.months === undefined ? '' : ` (${requireNonNegative(charge.months, 'months')} mth)`;
      field(`${charge.description}${months}`, money(charge.amountMinor, 'fixed charge'));
      if (charge.vatMinor !== undefined) field('incl. VAT', money(charge.vatMinor, 'fixed charge VAT'), true);
    }
    for (const debt of lines.debtRecovery ?? []) {
      field(debt.description, money(debt.amountMinor, 'debt recovery'));
      if (debt.accountNo) field('Account', debt.accountNo, true);
      if (debt.vatMinor !== undefined) field('incl. VAT', money(debt.vatMinor, 'debt recovery VAT'), true);
      if (debt.balanceAfterMinor !== undefined) {
        field('Balance owing', money(debt.balanceAfterMinor, 'debt balance'), true);
      }
    }
    for (const levy of lines.levies ?? []) field(levy.description, money(levy.amountMinor, 'levy'));
    if (lines.energyMinor !== undefined) field('Energy', money(lines.energyMinor, 'energy amount'));
    for (const vat of lines.vat ?? []) {
      field(`VAT ${formatVatRate(vat.rateBasisPoints)}`, money(vat.amountMinor, 'VAT amount'));
    }
    if (lines.unitsTotal !== undefined) field('Units', formatQuantity(lines.unitsTotal, resource));
    if (lines.blocks?.length) {
      if (items.at(-1)?.type !== 'separator') items.push({ type: 'blank' });
      text('Block breakdown');
      const symbol = RESOURCE_UNIT_SYMBOLS[resource];
      for (const block of lines.blocks) {
        const rate = formatRate(requireNonNegative(block.rateMilliMinor, 'tariff rate'), symbol);
        const label = `${formatUnits(block.units)} ${symbol} @ ${rate}`;
        const value = block.amountMinor === undefined ? '' : money(block.amountMinor, 'block amount');
        field(label, value, true);
      }
    }
    const settle: [string, number | undefined][] = [
      ['TOTAL', lines.totalMinor],
      [lines.payType ? `Tendered (${lines.payType})` : 'Tendered', lines.tenderMinor],
      ['Rounding', lines.roundingMinor],
      ['Change', lines.changeMinor],
    ];
    if (settle.some(([, minor]) => minor !== undefined)) separator();
    for (const [label, minor] of settle) if (minor !== undefined) field(label, money(minor, label));
  }

  // Messages and footer
  separator();
  for (const message of messages?.lines ?? []) text(message);
  for (const line of messages?.slip ?? []) items.push({ type: 'preformatted', text: line });
  items.push({ type: 'centre', text: NON_REFUNDABLE_LINE });
  if (messages?.footer) {
    for (const line of paragraphs(messages.footer)) items.push({ type: 'centre', text: line });
  }
  if (header.copy) items.push({ type: 'banner', text: COPY_BANNER });
  return items;
}

/** Plain text for a 32, 42 or 48 column receipt printer. */
export function renderReceiptText(receipt: Receipt, options: ReceiptRenderOptions): string {
  const columns = requireColumns(options.columns);
  return renderSlipText(receiptSlip(receipt, options), columns);
}

// ---------------------------------------------------------------------------------------------------------------
// Summary for the UI

export interface ReceiptTokenSummary {
  kind: ReceiptTokenKind;
  label: string;
  /** '1234 5678 9012 3456 7890'. */
  grouped: string;
  unitsText?: string;
  amountMinor?: number;
}

export interface ReceiptSummary {
  title: string;
  copy: boolean;
  receiptNo: string;
  issuedAt: string;
  meterNo: string;
  customerName?: string;
  /** The key change entry instruction, or null when no key change token is present. */
  instruction: string | null;
  /** In entry order (key change tokens first). */
  tokens: ReceiptTokenSummary[];
  unitsTotalText?: string;
  totalMinor?: number;
}

/** The few facts a vend screen shows next to the printed receipt. */
export function receiptSummary(receipt: Receipt): ReceiptSummary {
  const resource = receipt.lines?.resource ?? 'electricity';
  const tokens = orderedTokens(receipt.tokens).map((token): ReceiptTokenSummary => {
    const summary: ReceiptTokenSummary = {
      kind: token.kind,
      label: token.label,
      grouped: groupTokenDigits(requireTokenDigits(token)),
    };
    if (token.units !== undefined)
      summary.unitsText = formatQuantity(token.units, token.resource ?? resource);
    if (token.amountMinor !== undefined)
      summary.amountMinor = requireSafeInteger(token.amountMinor, 'amount');
    return summary;
  });
  const summary: ReceiptSummary = {
    title: receipt.header.title,
    copy: receipt.header.copy,
    receiptNo: receipt.header.receiptNo,
    issuedAt: receipt.header.issuedAt,
    meterNo: receipt.meter.meterNo,
    instruction: tokens.some((token) => token.kind === 'key-change') ? KEY_CHANGE_INSTRUCTION : null,
    tokens,
  };
  if (receipt.customer?.name) summary.customerName = receipt.customer.name;
  if (receipt.lines?.unitsTotal !== undefined) {
    summary.unitsTotalText = formatQuantity(receipt.lines.unitsTotal, resource);
  }
  if (receipt.lines?.totalMinor !== undefined) {
    summary.totalMinor = requireSafeInteger(receipt.lines.totalMinor, 'total');
  }
  return summary;
}
