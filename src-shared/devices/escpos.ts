import CodepageEncoder, { type Codepage } from '@point-of-sale/codepage-encoder';
import {
  CoverOpenError,
  DeviceDataError,
  PaperEndError,
  PrinterNotReadyError,
  ProtocolError,
} from './device-errors.ts';

/**
 * ESC/POS job builder and DLE EOT status decoder (hardware.md §1), pure bytes.
 *
 * Why our own command builder rather than @point-of-sale/receipt-printer-encoder: that encoder lays text out itself
 * (wraps, pads alignment with spaces, buffers lines), while receipt layout already lives in
 * `src-shared/vending/receipt.ts` and must stay in one place; we need ~12 fixed sequences from the command table,
 * asserted byte for byte; and it brings four image-processing packages we do not use. The hard, data-heavy part
 * — the code page tables — comes from its zero-dependency sibling @point-of-sale/codepage-encoder (pinned).
 *
 * Text: printers have no UTF-8. A job selects one code page (ESC t n) and all text is encoded to it. The default is
 * PC858 (PC850 + €), which holds every accented letter of French and Portuguese except œ/Œ (written "oe"/"OE");
 * its ESC t number is 19 on Epson, but numbering is vendor specific, so the number is configuration.
 */

const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const DLE = 0x10;
const EOT = 0x04;
const LF = 0x0a;

// ---------------------------------------------------------------------------------------------------------------
// Code pages and text

export interface EscPosCodePage {
  /** The character table used to encode text. */
  table: Codepage;
  /** The ESC t number of that table on this printer model. */
  escT: number;
}

/** Epson numbering (ESC t n). Other vendors number differently: build yours with `escPosCodePage`. */
export const EPSON_CODE_PAGES = {
  cp437: { table: 'cp437', escT: 0 },
  cp850: { table: 'cp850', escT: 2 },
  cp860: { table: 'cp860', escT: 3 },
  wpc1252: { table: 'windows1252', escT: 16 },
  cp858: { table: 'cp858', escT: 19 },
} as const satisfies Record<string, EscPosCodePage>;

export const DEFAULT_CODE_PAGE: EscPosCodePage = EPSON_CODE_PAGES.cp858;

export function escPosCodePage(table: string, escT: number): EscPosCodePage {
  if (!CodepageEncoder.supports(table)) {
    throw new DeviceDataError(
      `The printer code page "${table}" is not known. Choose another code page in the printer settings.`,
      `code page table ${JSON.stringify(table)} is not supported by @point-of-sale/codepage-encoder`,
    );
  }
  if (!Number.isInteger(escT) || escT < 0 || escT > 255) {
    throw new DeviceDataError(
      'The printer code page number must be a whole number from 0 to 255.',
      `ESC t number ${JSON.stringify(escT)} is not a byte`,
    );
  }
  return { table: table as Codepage, escT };
}

const byteMaps = new Map<string, ReadonlyMap<number, number>>();

/** Code point → byte for the printable positions (0x20–0xFF except 0x7F; bytes below 0x20 are commands). */
function byteMap(table: Codepage): ReadonlyMap<number, number> {
  let map = byteMaps.get(table);
  if (!map) {
    const points = CodepageEncoder.getCodepoints(table, true);
    const built = new Map<number, number>();
    for (let byte = 0x20; byte <= 0xff; byte++) {
      const point = points[byte];
      if (byte === 0x7f || point === undefined || point === null || point === 0xfffd) continue;
      if (!built.has(point)) built.set(point, byte);
    }
    byteMaps.set(table, built);
    map = built;
  }
  return map;
}

/** Multi-letter stand-ins for characters a table lacks; only used when the table has no glyph. */
const FALLBACKS: Readonly<Record<string, string>> = {
  œ: 'oe',
  Œ: 'OE',
  æ: 'ae',
  Æ: 'AE',
  ß: 'ss',
  '€': 'EUR',
  '‘': "'",
  '’': "'",
  '‚': "'",
  '′': "'",
  '“': '"',
  '”': '"',
  '„': '"',
  '″': '"',
  '«': '"',
  '»': '"',
  '‹': '<',
  '›': '>',
  '‐': '-',
  '‑': '-',
  '‒': '-',
  '–': '-',
  '—': '-',
  '−': '-',
  '…': '...',
  '•': '*',
  '·': '.',
  '×': 'x',
  '²': '2',
  '³': '3',
  '°': 'o',
};

/**
 * The text as it will print with this code page: every character encodable, one byte each, so its length is its
 * width in columns. Controls and odd spaces become spaces; missing letters fall back to a stand-in, then to the
 * unaccented letter, then to '?'. Lay text out after this, never before.
 */
export function printableText(text: string, page: EscPosCodePage = DEFAULT_CODE_PAGE): string {
  const map = byteMap(page.table);
  const has = (s: string): boolean => [...s].every((c) => map.has(c.codePointAt(0)!));
  let out = '';
  for (const ch of text.normalize('NFC')) {
    if (/[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}]/u.test(ch)) out += ' ';
    else if (map.has(ch.codePointAt(0)!)) out += ch;
    else {
      const fallback = FALLBACKS[ch];
      const bare = ch.normalize('NFD').replace(/\p{M}/gu, '');
      if (fallback !== undefined && has(fallback)) out += fallback;
      else if (bare !== '' && bare !== ch && has(bare)) out += bare;
      else out += '?';
    }
  }
  return out;
}

/** Encodes text to the code page's bytes (after `printableText`, so no byte is ever a command). */
export function encodeText(text: string, page: EscPosCodePage = DEFAULT_CODE_PAGE): Uint8Array {
  const map = byteMap(page.table);
  const printable = printableText(text, page);
  const out = new Uint8Array(printable.length);
  for (let i = 0; i < printable.length; i++) out[i] = map.get(printable.charCodeAt(i))!;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Job builder

export type Alignment = 'left' | 'centre' | 'right';
export type QrErrorCorrection = 'L' | 'M' | 'Q' | 'H';
export type CutMode = 'full' | 'partial';

export interface QrOptions {
  /** QR model 1 or 2 (default 2). */
  model?: 1 | 2;
  /** Module size in dots, 1–16 (default 6). */
  moduleSize?: number;
  /** Default 'M'. */
  errorCorrection?: QrErrorCorrection;
}

export interface InitializeOptions {
  /** FS . : leave Kanji/double-byte mode, needed on many clones so bytes ≥ 0x80 print (default true). */
  cancelKanji?: boolean;
  /** GS a 0 : stop Automatic Status Back, so stray status bytes never mix with DLE EOT replies (default true). */
  disableStatusBack?: boolean;
}

/** Largest QR payload any QR version holds (numeric mode, version 40-L). */
export const QR_MAX_DATA = 7089;

const ALIGN: Readonly<Record<Alignment, number>> = { left: 0, centre: 1, right: 2 };
const QR_EC: Readonly<Record<QrErrorCorrection, number>> = { L: 0x30, M: 0x31, Q: 0x32, H: 0x33 };

function requireByteRange(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DeviceDataError(
      `The printer ${what} must be a whole number from ${min} to ${max}.`,
      `${what} ${JSON.stringify(value)} is outside ${min}..${max}`,
    );
  }
  return value;
}

/**
 * Builds one print job. Methods append commands; `encode()` returns the bytes. The builder tracks the code page it
 * selected so text is always encoded to the table the printer is using.
 */
export class EscPosBuilder {
  readonly #bytes: number[] = [];
  #page: EscPosCodePage;

  constructor(page: EscPosCodePage = DEFAULT_CODE_PAGE) {
    this.#page = page;
  }

  get codePage(): EscPosCodePage {
    return this.#page;
  }

  /** ESC @ (reset modes), optionally FS . and GS a 0, then ESC t for the builder's code page (ESC @ keeps the NV one). */
  initialize(options: InitializeOptions = {}): this {
    this.#push(ESC, 0x40);
    if (options.cancelKanji ?? true) this.#push(FS, 0x2e);
    if (options.disableStatusBack ?? true) this.#push(GS, 0x61, 0x00);
    return this.selectCodePage(this.#page);
  }

  /** ESC t n; later text is encoded to this table. */
  selectCodePage(page: EscPosCodePage): this {
    requireByteRange(page.escT, 0, 255, 'code page number');
    this.#page = page;
    return this.#push(ESC, 0x74, page.escT);
  }

  /** Text without a line feed; line breaks and controls print as spaces. */
  text(text: string): this {
    return this.raw(encodeText(text, this.#page));
  }

  /** Text then LF. */
  line(text = ''): this {
    return this.text(text).#push(LF);
  }

  newline(count = 1): this {
    requireByteRange(count, 0, 255, 'line count');
    for (let i = 0; i < count; i++) this.#push(LF);
    return this;
  }

  /** ESC E n. */
  bold(on = true): this {
    return this.#push(ESC, 0x45, on ? 1 : 0);
  }

  /** GS ! n: width and height multipliers 1–8. */
  size(width = 1, height = 1): this {
    requireByteRange(width, 1, 8, 'character width');
    requireByteRange(height, 1, 8, 'character height');
    return this.#push(GS, 0x21, ((width - 1) << 4) | (height - 1));
  }

  /** ESC a n; takes effect at the start of a line. */
  align(alignment: Alignment): this {
    return this.#push(ESC, 0x61, ALIGN[alignment]);
  }

  /** ESC d n: print and feed n lines. */
  feed(lines: number): this {
    return this.#push(ESC, 0x64, requireByteRange(lines, 0, 255, 'feed'));
  }

  /** GS ( k: model, module size, error correction, store, print. Data is printable ASCII. */
  qrCode(data: string, options: QrOptions = {}): this {
    if (data.length === 0 || data.length > QR_MAX_DATA || !/^[\x20-\x7e]*$/.test(data)) {
      throw new DeviceDataError(
        'The QR code content cannot be printed.',
        `QR data must be 1..${QR_MAX_DATA} printable ASCII characters (got ${data.length} characters)`,
      );
    }
    const model = options.model ?? 2;
    const moduleSize = requireByteRange(options.moduleSize ?? 6, 1, 16, 'QR module size');
    const stored = data.length + 3;
    this.#push(GS, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, model === 1 ? 0x31 : 0x32, 0x00);
    this.#push(GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, moduleSize);
    this.#push(GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, QR_EC[options.errorCorrection ?? 'M']);
    this.#push(GS, 0x28, 0x6b, stored & 0xff, stored >> 8, 0x31, 0x50, 0x30);
    for (let i = 0; i < data.length; i++) this.#bytes.push(data.charCodeAt(i));
    return this.#push(GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30);
  }

  /** GS V 0 (full) or GS V 1 (partial). Feed first (`feed`) so the last line clears the cutter. */
  cut(mode: CutMode = 'full'): this {
    return this.#push(GS, 0x56, mode === 'full' ? 0x00 : 0x01);
  }

  raw(bytes: Uint8Array | readonly number[]): this {
    for (const byte of bytes) this.#bytes.push(requireByteRange(byte, 0, 255, 'raw byte'));
    return this;
  }

  get length(): number {
    return this.#bytes.length;
  }

  encode(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #push(...bytes: number[]): this {
    this.#bytes.push(...bytes);
    return this;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Real-time status (DLE EOT n)

export type StatusRequest = 'printer' | 'offline-cause' | 'error-cause' | 'paper';

/** The order a driver asks in before each job, one request and one reply byte at a time. */
export const STATUS_REQUESTS: readonly StatusRequest[] = ['printer', 'offline-cause', 'error-cause', 'paper'];

const STATUS_N: Readonly<Record<StatusRequest, number>> = {
  printer: 1,
  'offline-cause': 2,
  'error-cause': 3,
  paper: 4,
};

/** DLE EOT n. Answered even while the printer is offline. */
export const statusRequest = (kind: StatusRequest): Uint8Array => Uint8Array.of(DLE, EOT, STATUS_N[kind]);

/** Fixed bits of every DLE EOT reply: bit0 = 0, bit1 = 1, bit4 = 1, bit7 = 0 (idle reply 0x12). */
export const isStatusReply = (byte: number): boolean =>
  Number.isInteger(byte) && byte >= 0 && byte <= 0xff && (byte & 0x93) === 0x12;

function requireStatusReply(byte: number, kind: StatusRequest): number {
  if (!isStatusReply(byte)) {
    throw new ProtocolError(
      'receipt-printer',
      `DLE EOT ${STATUS_N[kind]} (${kind}) reply ${JSON.stringify(byte)} does not have the fixed bits 0x12`,
    );
  }
  return byte;
}

const bit = (byte: number, n: number): boolean => ((byte >>> n) & 1) === 1;

export interface PrinterStatusBits {
  drawerPinHigh: boolean;
  offline: boolean;
  waitingForRecovery: boolean;
  feedButtonPressed: boolean;
}

export interface OfflineCauseBits {
  coverOpen: boolean;
  feedingByButton: boolean;
  stoppedByPaperEnd: boolean;
  errorOccurred: boolean;
}

export interface ErrorCauseBits {
  recoverable: boolean;
  autocutter: boolean;
  unrecoverable: boolean;
  autoRecoverable: boolean;
}

export interface RollPaperBits {
  nearEnd: boolean;
  paperEnd: boolean;
}

export function decodePrinterStatus(byte: number): PrinterStatusBits {
  const b = requireStatusReply(byte, 'printer');
  return {
    drawerPinHigh: bit(b, 2),
    offline: bit(b, 3),
    waitingForRecovery: bit(b, 5),
    feedButtonPressed: bit(b, 6),
  };
}

export function decodeOfflineCause(byte: number): OfflineCauseBits {
  const b = requireStatusReply(byte, 'offline-cause');
  return {
    coverOpen: bit(b, 2),
    feedingByButton: bit(b, 3),
    stoppedByPaperEnd: bit(b, 5),
    errorOccurred: bit(b, 6),
  };
}

export function decodeErrorCause(byte: number): ErrorCauseBits {
  const b = requireStatusReply(byte, 'error-cause');
  return {
    recoverable: bit(b, 2),
    autocutter: bit(b, 3),
    unrecoverable: bit(b, 5),
    autoRecoverable: bit(b, 6),
  };
}

/** Near-end is bits 2 and 3, paper end bits 5 and 6 (models set both of a pair; either one counts). */
export function decodeRollPaper(byte: number): RollPaperBits {
  const b = requireStatusReply(byte, 'paper');
  return { nearEnd: bit(b, 2) || bit(b, 3), paperEnd: bit(b, 5) || bit(b, 6) };
}

export interface StatusReplies {
  printer: number;
  offlineCause: number;
  errorCause: number;
  paper: number;
}

export interface PrinterStatus {
  online: boolean;
  coverOpen: boolean;
  paperEnd: boolean;
  paperNearEnd: boolean;
  /** Any error: offline cause "error occurred" or any error-cause bit. */
  error: boolean;
  bits: {
    printer: PrinterStatusBits;
    offlineCause: OfflineCauseBits;
    errorCause: ErrorCauseBits;
    paper: RollPaperBits;
  };
}

/** Combines the four DLE EOT replies into one status. */
export function printerStatus(replies: StatusReplies): PrinterStatus {
  const printer = decodePrinterStatus(replies.printer);
  const offlineCause = decodeOfflineCause(replies.offlineCause);
  const errorCause = decodeErrorCause(replies.errorCause);
  const paper = decodeRollPaper(replies.paper);
  const error =
    offlineCause.errorOccurred ||
    errorCause.recoverable ||
    errorCause.autocutter ||
    errorCause.unrecoverable ||
    errorCause.autoRecoverable;
  return {
    online: !printer.offline,
    coverOpen: offlineCause.coverOpen,
    paperEnd: paper.paperEnd || offlineCause.stoppedByPaperEnd,
    paperNearEnd: paper.nearEnd,
    error,
    bits: { printer, offlineCause, errorCause, paper },
  };
}

/**
 * Refuses to print unless the printer is ready, with the cause a person can fix first: cover, paper, fault,
 * offline. Paper near-end is not a refusal (the UI may warn).
 */
export function assertReadyToPrint(status: PrinterStatus): void {
  if (status.coverOpen) throw new CoverOpenError();
  if (status.paperEnd) throw new PaperEndError();
  if (status.error) {
    const causes = Object.entries(status.bits.errorCause)
      .filter(([, on]) => on)
      .map(([name]) => name);
    throw new PrinterNotReadyError(
      'PRINTER_FAULT',
      `printer error; causes: ${causes.join(', ') || 'unspecified'}`,
    );
  }
  if (!status.online) throw new PrinterNotReadyError('PRINTER_OFFLINE', 'printer reports offline');
}
