import { readFileSync } from 'node:fs';
import CodepageEncoder, { type Codepage } from '@point-of-sale/codepage-encoder';
import { EPSON_CODE_PAGES } from '../../../src-shared/devices/escpos.ts';
import type { ByteTransport } from '../transports/transport.ts';

/**
 * A simulated ESC/POS receipt printer behind any byte transport (the device end of an in-memory link, or a pty).
 * It decodes the stream the way a printer would — code pages (ESC t), alignment, character size, QR codes, feed,
 * cut — and renders each cut page to plain text, so tests and the demo can read the receipt, and keeps each page's
 * layout (bold, sizes, QR codes) for the image rendering in `receipt-svg.ts`. Status is scripted
 * (paper end, near end, cover open, offline, cutter fault) and answered to DLE EOT 1–4; GS r 1 is answered when
 * `confirms` is on. While not ready it prints nothing (the bytes are counted as dropped).
 */

export interface SimulatedPrinterStatus {
  paperEnd: boolean;
  paperNearEnd: boolean;
  coverOpen: boolean;
  /** Offline for another reason (e.g. switched to offline by the button). */
  offline: boolean;
  cutterError: boolean;
}

export interface PrinterSimulatorOptions {
  /** Characters per line at normal width, for centring and right alignment (default 42). */
  columns?: number;
  /** Answer GS r 1 (end-of-job confirmation). Default true. */
  confirms?: boolean;
  status?: Partial<SimulatedPrinterStatus>;
  /**
   * Test/demo only: read before each command batch, so a person (or an end-to-end test in another process) can load
   * paper or open the cover; null keeps the current status.
   */
  statusSource?: () => Partial<SimulatedPrinterStatus> | null;
}

/** A run of characters printed in one style; `width`/`height` are the character size multipliers. */
export interface PrintedRun {
  text: string;
  bold: boolean;
  width: number;
  height: number;
}

/** One printed line of a page: text runs (none for a blank line), a QR code, or a raster image. */
export type PrintedLine =
  | { kind: 'text'; align: 0 | 1 | 2; runs: PrintedRun[] }
  | { kind: 'qr'; align: 0 | 1 | 2; data: string }
  | { kind: 'image' };

const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const DLE = 0x10;
const LF = 0x0a;

const TABLE_BY_ESC_T = new Map<number, Codepage>(
  Object.values(EPSON_CODE_PAGES).map((page) => [page.escT, page.table as Codepage]),
);

const tables = new Map<Codepage, number[]>();
function decodeByte(table: Codepage, byte: number): string {
  let points = tables.get(table);
  if (!points) {
    points = CodepageEncoder.getCodepoints(table, true);
    tables.set(table, points);
  }
  const point = points[byte];
  return point === undefined || point === null ? '?' : String.fromCodePoint(point);
}

/** Fixed lengths after the command bytes, for commands the simulator only has to skip. */
const ESC_ARGS: Readonly<Record<number, number>> = {
  33: 1, // ESC ! n
  45: 1, // ESC - n
  50: 0, // ESC 2
  51: 1, // ESC 3 n
  64: 0, // ESC @
  69: 1, // ESC E n
  71: 1, // ESC G n
  74: 1, // ESC J n
  77: 1, // ESC M n
  82: 1, // ESC R n
  97: 1, // ESC a n
  100: 1, // ESC d n
  112: 3, // ESC p m t1 t2
  116: 1, // ESC t n
};
const GS_ARGS: Readonly<Record<number, number>> = {
  33: 1, // GS ! n
  66: 1, // GS B n
  72: 1, // GS H n
  97: 1, // GS a n
  102: 1, // GS f n
  104: 1, // GS h n
  114: 1, // GS r n
  119: 1, // GS w n
};

interface Segment {
  text: string;
  width: number;
  height: number;
  bold: boolean;
}

export class EscPosPrinterSimulator {
  readonly #transport: ByteTransport | null;
  readonly #columns: number;
  readonly #confirms: boolean;
  readonly #statusSource: (() => Partial<SimulatedPrinterStatus> | null) | null;
  #status: SimulatedPrinterStatus;
  #buffer: number[] = [];
  #table: Codepage = 'cp437';
  #align: 0 | 1 | 2 = 0;
  #widthMultiplier = 1;
  #heightMultiplier = 1;
  #bold = false;
  #line: Segment[] = [];
  #lineAlign: 0 | 1 | 2 = 0;
  #page: string[] = [];
  #layout: PrintedLine[] = [];
  #qrData = '';
  /** Cut pages, oldest first. */
  readonly pages: string[] = [];
  /** The layout of each cut page (same order as `pages`). */
  readonly layouts: PrintedLine[][] = [];
  /** Every byte received, for tests. */
  readonly received: number[] = [];
  droppedBytes = 0;
  readonly #pageListeners = new Set<(page: string) => void>();
  readonly #offData: () => void;

  /** `transport` null: a decoder only (fed with `feed`), whose replies go nowhere. */
  constructor(transport: ByteTransport | null, options: PrinterSimulatorOptions = {}) {
    this.#transport = transport;
    this.#columns = options.columns ?? 42;
    this.#confirms = options.confirms ?? true;
    this.#statusSource = options.statusSource ?? null;
    this.#status = {
      paperEnd: false,
      paperNearEnd: false,
      coverOpen: false,
      offline: false,
      cutterError: false,
      ...options.status,
    };
    this.#offData = transport ? transport.onData((chunk) => this.#receive(chunk)) : () => undefined;
  }

  get columns(): number {
    return this.#columns;
  }

  /** Decodes bytes as if they came down the cable. */
  feed(bytes: Uint8Array): void {
    this.#receive(bytes);
  }

  /** Scripts the printer's state (e.g. `{ paperEnd: true }`), as a person opening the cover would. */
  setStatus(change: Partial<SimulatedPrinterStatus>): void {
    this.#status = { ...this.#status, ...change };
  }

  get status(): SimulatedPrinterStatus {
    return { ...this.#status };
  }

  get ready(): boolean {
    const s = this.#status;
    return !s.paperEnd && !s.coverOpen && !s.offline && !s.cutterError;
  }

  /** The last cut page, or null. */
  lastPage(): string | null {
    return this.pages.at(-1) ?? null;
  }

  /** The last cut page's layout, or null. */
  lastLayout(): PrintedLine[] | null {
    return this.layouts.at(-1) ?? null;
  }

  /** Text printed since the last cut (not yet cut off). */
  get pending(): string {
    return [...this.#page, ...(this.#line.length ? [this.#renderLine()] : [])].join('\n');
  }

  /** Layout printed since the last cut. */
  get pendingLayout(): PrintedLine[] {
    return [...this.#layout, ...(this.#line.length ? [this.#lineLayout()] : [])];
  }

  onPage(listener: (page: string) => void): () => void {
    this.#pageListeners.add(listener);
    return () => this.#pageListeners.delete(listener);
  }

  detach(): void {
    this.#offData();
  }

  /** The four DLE EOT reply bytes for the current status (fixed bits 0x12). */
  statusByte(n: number): number {
    const s = this.#status;
    const offline = !this.ready;
    switch (n) {
      case 1:
        return 0x12 | (offline ? 0x08 : 0);
      case 2:
        return 0x12 | (s.coverOpen ? 0x04 : 0) | (s.paperEnd ? 0x20 : 0) | (s.cutterError ? 0x40 : 0);
      case 3:
        return 0x12 | (s.cutterError ? 0x08 : 0);
      case 4:
        return 0x12 | (s.paperNearEnd ? 0x0c : 0) | (s.paperEnd ? 0x60 : 0);
      default:
        return 0x12;
    }
  }

  #receive(chunk: Uint8Array): void {
    const scripted = this.#statusSource?.();
    if (scripted) this.setStatus(scripted);
    this.received.push(...chunk);
    this.#buffer.push(...chunk);
    let i = 0;
    for (;;) {
      const used = this.#step(i);
      if (used === 0) break;
      i += used;
    }
    this.#buffer = this.#buffer.slice(i);
  }

  #reply(bytes: number[]): void {
    if (this.#transport?.isOpen) void this.#transport.write(Uint8Array.from(bytes)).catch(() => undefined);
  }

  /** Handles one command or character at `i`; returns the bytes used, 0 when more bytes are needed. */
  #step(i: number): number {
    const b = this.#buffer;
    if (i >= b.length) return 0;
    const byte = b[i]!;
    const need = (n: number): boolean => i + n <= b.length;
    if (byte === DLE) {
      if (!need(3)) return 0;
      // DLE EOT n is real-time: answered even while offline. DLE ENQ n needs no answer.
      if (b[i + 1] === 0x04) this.#reply([this.statusByte(b[i + 2]!)]);
      return 3;
    }
    if (byte === ESC) {
      if (!need(2)) return 0;
      const args = ESC_ARGS[b[i + 1]!] ?? 0;
      if (!need(2 + args)) return 0;
      this.#escape(b[i + 1]!, b[i + 2] ?? 0);
      return 2 + args;
    }
    if (byte === FS) return need(2) ? 2 : 0; // FS . (and other FS pairs)
    if (byte === GS) return this.#groupSeparator(i);
    if (byte === LF) {
      this.#print(() => this.#endLine());
      return 1;
    }
    if (byte < 0x20) return 1; // CR, HT and other controls: ignored
    this.#print(() => {
      if (this.#line.length === 0) this.#lineAlign = this.#align;
      this.#line.push({
        text: decodeByte(this.#table, byte),
        width: this.#widthMultiplier,
        height: this.#heightMultiplier,
        bold: this.#bold,
      });
    });
    return 1;
  }

  #escape(command: number, n: number): void {
    switch (command) {
      case 0x40:
        this.#align = 0;
        this.#widthMultiplier = 1;
        this.#heightMultiplier = 1;
        this.#bold = false;
        break;
      case 0x45: // ESC E n
        this.#bold = (n & 0x01) === 1;
        break;
      case 0x21: // ESC ! n: bold (bit 3), double height (bit 4), double width (bit 5)
        this.#bold = (n & 0x08) !== 0;
        this.#heightMultiplier = n & 0x10 ? 2 : 1;
        this.#widthMultiplier = n & 0x20 ? 2 : 1;
        break;
      case 0x74:
        this.#table = TABLE_BY_ESC_T.get(n) ?? 'cp437';
        break;
      case 0x61:
        this.#align = (n % 48) as 0 | 1 | 2;
        break;
      case 0x64:
        this.#print(() => {
          this.#flushLine();
          for (let k = 0; k < n; k++) this.#pushLine('', { kind: 'text', align: 0, runs: [] });
        });
        break;
    }
  }

  #groupSeparator(i: number): number {
    const b = this.#buffer;
    if (i + 2 > b.length) return 0;
    const command = b[i + 1]!;
    if (command === 0x28) {
      // GS ( k pL pH data
      if (i + 5 > b.length) return 0;
      const length = b[i + 3]! | (b[i + 4]! << 8);
      if (i + 5 + length > b.length) return 0;
      if (b[i + 2] === 0x6b) this.#qr(b.slice(i + 5, i + 5 + length));
      return 5 + length;
    }
    if (command === 0x56) {
      // GS V m [n]
      if (i + 3 > b.length) return 0;
      const m = b[i + 2]!;
      const length = m >= 65 ? 4 : 3;
      if (i + length > b.length) return 0;
      this.#print(() => this.#cut());
      return length;
    }
    if (command === 0x76) {
      // GS v 0 m xL xH yL yH raster: skipped, shown as a placeholder line
      if (i + 8 > b.length) return 0;
      const size = (b[i + 4]! | (b[i + 5]! << 8)) * (b[i + 6]! | (b[i + 7]! << 8));
      if (i + 8 + size > b.length) return 0;
      this.#print(() => this.#pushLine('[image]', { kind: 'image' }));
      return 8 + size;
    }
    const args = GS_ARGS[command] ?? 0;
    if (i + 2 + args > b.length) return 0;
    if (command === 0x21) {
      this.#widthMultiplier = ((b[i + 2]! >> 4) & 0x07) + 1;
      this.#heightMultiplier = (b[i + 2]! & 0x07) + 1;
    }
    if (command === 0x72 && this.#confirms && this.ready) this.#reply([0x00]);
    return 2 + args;
  }

  #qr(data: number[]): void {
    const [cn, fn, m] = data;
    if (cn !== 0x31) return;
    if (fn === 0x50 && m === 0x30) this.#qrData = String.fromCharCode(...data.slice(3));
    if (fn === 0x51) {
      this.#print(() => {
        this.#flushLine();
        this.#pushLine(this.#aligned(`[QR ${this.#qrData}]`, this.#qrData.length + 5, this.#align), {
          kind: 'qr',
          align: this.#align,
          data: this.#qrData,
        });
      });
    }
  }

  #print(action: () => void): void {
    if (this.ready) action();
    else this.droppedBytes++;
  }

  #renderLine(): string {
    const text = this.#line.map((s) => s.text).join('');
    const width = this.#line.reduce((sum, s) => sum + s.width, 0);
    return this.#aligned(text, width, this.#lineAlign);
  }

  #aligned(text: string, width: number, align: 0 | 1 | 2): string {
    const room = Math.max(0, this.#columns - width);
    const pad = align === 1 ? Math.floor(room / 2) : align === 2 ? room : 0;
    return (' '.repeat(pad) + text).trimEnd();
  }

  /** The current line as styled runs (adjacent characters of one style joined). */
  #lineLayout(): PrintedLine {
    const runs: PrintedRun[] = [];
    for (const s of this.#line) {
      const last = runs.at(-1);
      if (last && last.bold === s.bold && last.width === s.width && last.height === s.height)
        last.text += s.text;
      else runs.push({ text: s.text, bold: s.bold, width: s.width, height: s.height });
    }
    return { kind: 'text', align: this.#lineAlign, runs };
  }

  #pushLine(text: string, layout: PrintedLine): void {
    this.#page.push(text);
    this.#layout.push(layout);
  }

  #endLine(): void {
    if (this.#line.length === 0) {
      this.#pushLine('', { kind: 'text', align: 0, runs: [] });
      return;
    }
    this.#pushLine(this.#renderLine(), this.#lineLayout());
    this.#line = [];
  }

  /** Prints a started line; nothing when the line is empty. */
  #flushLine(): void {
    if (this.#line.length) this.#endLine();
  }

  #cut(): void {
    this.#flushLine();
    const page = this.#page.join('\n').replace(/\n+$/, '');
    const layout = [...this.#layout];
    // Trailing feeds, as the text page drops them.
    const blank = (line: PrintedLine | undefined) => line?.kind === 'text' && line.runs.length === 0;
    while (blank(layout.at(-1))) layout.pop();
    this.#page = [];
    this.#layout = [];
    this.pages.push(page);
    this.layouts.push(layout);
    for (const listener of [...this.#pageListeners]) listener(page);
  }
}

/**
 * Test/demo only: the status scripted in a JSON file (e.g. `{"paperEnd": true}`), so an end-to-end test in another
 * process can take the paper out and load it again (`OPENVEND_SIMULATED_PRINTER_STATUS`). A missing or unreadable
 * file scripts nothing.
 */
export function scriptedPrinterStatus(path: string): Partial<SimulatedPrinterStatus> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const status: Partial<SimulatedPrinterStatus> = {};
  for (const key of ['paperEnd', 'paperNearEnd', 'coverOpen', 'offline', 'cutterError'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (typeof value === 'boolean') status[key] = value;
  }
  return status;
}
