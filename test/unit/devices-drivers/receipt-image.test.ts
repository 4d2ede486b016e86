import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EscPosPrinterSimulator,
  scriptedPrinterStatus,
} from '../../../src-main/devices/simulators/escpos-printer.ts';
import { renderPageSvg, svgDataUrl } from '../../../src-main/devices/simulators/receipt-svg.ts';
import { DEFAULT_CODE_PAGE, EscPosBuilder } from '../../../src-shared/devices/escpos.ts';

const receiptJob = () =>
  new EscPosBuilder(DEFAULT_CODE_PAGE)
    .initialize()
    .align('centre')
    .bold()
    .line('OPENVEND <&>')
    .bold(false)
    .align('left')
    .line('Amount      50.00')
    .size(2, 2)
    .line('1234 5678')
    .size(1, 1)
    .qrCode('12345678901234567890')
    .line('Café')
    .feed(2)
    .cut('partial')
    .encode();

const decode = (job: Uint8Array, columns = 32) => {
  const printer = new EscPosPrinterSimulator(null, { columns });
  printer.feed(job);
  return printer;
};

describe('simulated printer page layout', () => {
  it('keeps bold, double size, alignment and the QR payload of each line; trailing feeds are dropped', () => {
    const layout = decode(receiptJob()).lastLayout();
    expect(layout).toEqual([
      { kind: 'text', align: 1, runs: [{ text: 'OPENVEND <&>', bold: true, width: 1, height: 1 }] },
      { kind: 'text', align: 0, runs: [{ text: 'Amount      50.00', bold: false, width: 1, height: 1 }] },
      { kind: 'text', align: 0, runs: [{ text: '1234 5678', bold: false, width: 2, height: 2 }] },
      { kind: 'qr', align: 0, data: '12345678901234567890' },
      { kind: 'text', align: 0, runs: [{ text: 'Café', bold: false, width: 1, height: 1 }] },
    ]);
  });

  it('reads ESC ! (bold, double height, double width) and ESC @ resets it', () => {
    const printer = decode(
      Uint8Array.of(0x1b, 0x21, 0x38, 0x41, 0x0a, 0x1b, 0x40, 0x42, 0x0a, 0x1d, 0x56, 0x01),
    );
    expect(printer.lastLayout()).toEqual([
      { kind: 'text', align: 0, runs: [{ text: 'A', bold: true, width: 2, height: 2 }] },
      { kind: 'text', align: 0, runs: [{ text: 'B', bold: false, width: 1, height: 1 }] },
    ]);
  });

  it('keeps nothing while not ready (paper end): no page, no layout', () => {
    const printer = new EscPosPrinterSimulator(null, { status: { paperEnd: true } });
    printer.feed(receiptJob());
    expect(printer.layouts).toEqual([]);
    expect(printer.pendingLayout).toEqual([]);
    expect(printer.droppedBytes).toBeGreaterThan(0);
  });
});

describe('receipt SVG', () => {
  const svg = renderPageSvg(decode(receiptJob()).lastLayout()!, 32);

  it('draws each line as monospace text with bold and the printer size multipliers, escaped', () => {
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="344"/);
    expect(svg).toContain("font-family=\"'DejaVu Sans Mono'");
    expect(svg).toMatch(
      /scale\(1 1\)" textLength="120" lengthAdjust="spacingAndGlyphs" font-weight="bold">OPENVEND\u00a0&#60;&#38;&#62;</,
    );
    expect(svg).toContain('scale(2 2)" textLength="90"');
    // Spaces stay (no-break spaces), so the columns line up.
    expect(svg).toContain('Amount\u00a0\u00a0\u00a0\u00a0\u00a0\u00a050.00');
    expect(svg).toContain('>Café<');
    expect(svg).not.toContain('<&>');
  });

  it('centres a line the way the text page does', () => {
    // 32 columns, 12 characters: 10 columns of padding, 10 px each, after the 12 px margin.
    expect(svg).toContain('translate(112 ');
  });

  it('draws the QR code as a framed box carrying its payload', () => {
    expect(svg).toContain('<g data-qr="12345678901234567890">');
    expect(svg).toContain('>12345678901234567890</text>');
  });

  it('is an image data: URL', () => {
    const url = svgDataUrl(svg);
    expect(url.startsWith('data:image/svg+xml;base64,')).toBe(true);
    expect(Buffer.from(url.split(',')[1]!, 'base64').toString('utf8')).toBe(svg);
  });
});

describe('scripted printer status (test/demo hook)', () => {
  it('reads the booleans it knows from the file, ignores the rest, and scripts nothing without a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openvend-status-'));
    try {
      const file = join(dir, 'status.json');
      expect(scriptedPrinterStatus(file)).toBeNull();
      writeFileSync(file, JSON.stringify({ paperEnd: true, coverOpen: 'yes', other: true }));
      expect(scriptedPrinterStatus(file)).toEqual({ paperEnd: true });
      writeFileSync(file, 'not json');
      expect(scriptedPrinterStatus(file)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is applied before each command batch, so the answer to DLE EOT follows the script', () => {
    let scripted: { paperEnd: boolean } | null = { paperEnd: true };
    const printer = new EscPosPrinterSimulator(null, { statusSource: () => scripted });
    printer.feed(Uint8Array.of(0x10, 0x04, 0x04));
    expect(printer.ready).toBe(false);
    scripted = { paperEnd: false };
    printer.feed(Uint8Array.of(0x10, 0x04, 0x04));
    expect(printer.ready).toBe(true);
    scripted = null;
    printer.feed(Uint8Array.of(0x10, 0x04, 0x04));
    expect(printer.ready).toBe(true);
  });
});
