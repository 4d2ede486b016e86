import {
  type Receipt,
  type ReceiptColumns,
  type ReceiptRenderOptions,
  type ReceiptTokenKind,
  receiptSlip,
  renderSlipText,
  requireColumns,
  type SlipItem,
  wrapText,
} from '../vending/receipt.ts';
import {
  type CutMode,
  DEFAULT_CODE_PAGE,
  EscPosBuilder,
  type EscPosCodePage,
  type InitializeOptions,
  printableText,
  type QrOptions,
} from './escpos.ts';

/**
 * A `Receipt` as one ESC/POS job. Layout stays in `receipt.ts` (`receiptSlip` + `renderSlipText`, one item at a time);
 * this module only adds printer styling:
 * - the COPY banner is bold;
 * - token digits are bold and double height, centred with ESC a; double width too where the grouped token still
 *   fits (24 characters × 2 = 48 columns: 80 mm paper only);
 * - optionally a QR code of the 20 token digits under each token;
 * - feed and cut at the end.
 * Text is reduced to the code page before layout (`printableText`), so line widths hold byte for byte.
 */

export interface ReceiptQrOptions extends QrOptions {
  /** Token kinds that get a QR code (default: every token). */
  kinds?: readonly ReceiptTokenKind[];
}

export interface ReceiptEscPosOptions extends ReceiptRenderOptions {
  codePage?: EscPosCodePage;
  /** A QR code of each token's digits, for printers that support GS ( k. Off by default. */
  qrCode?: ReceiptQrOptions | false;
  /** Default 'partial'; 'none' for printers without a cutter. */
  cut?: CutMode | 'none';
  /** Lines fed before the cut so the last line clears the cutter (default 4). */
  feedLines?: number;
  initialize?: InitializeOptions;
}

/** Grouped token text is 24 characters: double width needs 48 columns. */
function tokenWidthMultiplier(grouped: string, columns: ReceiptColumns): 1 | 2 {
  return grouped.length * 2 <= columns ? 2 : 1;
}

function printableItem(item: SlipItem, page: EscPosCodePage): SlipItem {
  const p = (text: string): string => printableText(text, page);
  switch (item.type) {
    case 'banner':
    case 'centre':
    case 'text':
    case 'preformatted':
      return { ...item, text: p(item.text) };
    case 'field':
      return { ...item, label: p(item.label), value: p(item.value) };
    case 'token':
      return { ...item, label: p(item.label) };
    case 'separator':
    case 'blank':
      return item;
  }
}

/** The item's lines as `renderSlipText` lays them out (an item may have none, e.g. empty text). */
function slipLines(item: SlipItem, columns: ReceiptColumns): string[] {
  const text = renderSlipText([item], columns);
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

export function renderReceiptEscPos(receipt: Receipt, options: ReceiptEscPosOptions): Uint8Array {
  const columns = requireColumns(options.columns);
  const page = options.codePage ?? DEFAULT_CODE_PAGE;
  const qr = options.qrCode || null;
  const job = new EscPosBuilder(page).initialize(options.initialize);

  for (const raw of receiptSlip(receipt, options)) {
    const item = printableItem(raw, page);
    if (item.type === 'banner') {
      job.bold(true);
      for (const line of slipLines(item, columns)) job.line(line);
      job.bold(false);
    } else if (item.type === 'token') {
      for (const line of slipLines({ type: 'centre', text: item.label }, columns)) job.line(line);
      const width = tokenWidthMultiplier(item.grouped, columns);
      job.align('centre').bold(true).size(width, 2);
      // Groups of 4 wrap whole at the reduced width; never split inside a group.
      for (const line of wrapText(item.grouped, Math.floor(columns / width))) job.line(line);
      job.size(1, 1).bold(false);
      if (qr && (qr.kinds ?? [item.kind]).includes(item.kind)) {
        job.qrCode(item.grouped.replace(/ /g, ''), qr).newline();
      }
      job.align('left');
    } else {
      for (const line of slipLines(item, columns)) job.line(line);
    }
  }

  job.feed(options.feedLines ?? 4);
  const cut = options.cut ?? 'partial';
  if (cut !== 'none') job.cut(cut);
  return job.encode();
}
