import type { PrintedLine, PrintedRun } from './escpos-printer.ts';

/**
 * Renders a page the simulated printer received as an SVG image of the paper: monospace lines, bold and double
 * size where the ESC/POS stream said so, and each QR code as a framed box with its payload (no QR library is
 * installed, and an approximate symbol that does not scan would mislead). For tests and the demo; the UI shows it
 * as a data: URL (the CSP allows img-src data:).
 */

const CHAR_WIDTH = 10;
const LINE_HEIGHT = 20;
const FONT_SIZE = 16;
const MARGIN = 12;
/** The QR box is this many columns wide and tall, as the module size makes it on a real 80 mm print. */
const QR_COLUMNS = 12;

const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.codePointAt(0)};`);

const padColumns = (columns: number, width: number, align: 0 | 1 | 2): number => {
  const room = Math.max(0, columns - width);
  return align === 1 ? Math.floor(room / 2) : align === 2 ? room : 0;
};

const runWidth = (run: PrintedRun): number => [...run.text].length * run.width;

export function renderPageSvg(lines: readonly PrintedLine[], columns: number): string {
  const body: string[] = [];
  let y = MARGIN;
  for (const line of lines) {
    if (line.kind === 'image') {
      body.push(
        `<rect x="${MARGIN}" y="${y + 2}" width="${columns * CHAR_WIDTH}" height="${LINE_HEIGHT - 4}" fill="#ddd"/>`,
        `<text x="${MARGIN + 4}" y="${y + 15}" font-size="12">[image]</text>`,
      );
      y += LINE_HEIGHT;
      continue;
    }
    if (line.kind === 'qr') {
      const side = QR_COLUMNS * CHAR_WIDTH;
      const x = MARGIN + padColumns(columns, QR_COLUMNS, line.align) * CHAR_WIDTH;
      const finder = (fx: number, fy: number) =>
        `<rect x="${fx}" y="${fy}" width="28" height="28" fill="none" stroke="#000" stroke-width="4"/>` +
        `<rect x="${fx + 8}" y="${fy + 8}" width="12" height="12" fill="#000"/>`;
      body.push(
        `<g data-qr="${escapeXml(line.data)}">`,
        `<rect x="${x}" y="${y + 4}" width="${side}" height="${side}" fill="none" stroke="#000" stroke-width="2"/>`,
        finder(x + 6, y + 10),
        finder(x + side - 34, y + 10),
        finder(x + 6, y + side - 30),
        `<text x="${x + side / 2}" y="${y + side / 2 + 8}" font-size="14" text-anchor="middle">QR</text>`,
        '</g>',
      );
      y += side + 8;
      body.push(
        `<text x="${MARGIN + padColumns(columns, line.data.length, line.align) * CHAR_WIDTH}" y="${y + 14}" font-size="12">${escapeXml(line.data)}</text>`,
      );
      y += LINE_HEIGHT;
      continue;
    }
    const height = Math.max(1, ...line.runs.map((run) => run.height));
    const width = line.runs.reduce((sum, run) => sum + runWidth(run), 0);
    let x = MARGIN + padColumns(columns, width, line.align) * CHAR_WIDTH;
    const baseline = y + height * LINE_HEIGHT - 5;
    for (const run of line.runs) {
      const chars = [...run.text].length;
      // No-break spaces: renderers collapse runs of spaces. Drawn at normal size, then scaled by the printer's size multipliers; textLength keeps the monospace grid.
      body.push(
        `<text transform="translate(${x} ${baseline}) scale(${run.width} ${run.height})" textLength="${chars * CHAR_WIDTH}" lengthAdjust="spacingAndGlyphs"${run.bold ? ' font-weight="bold"' : ''}>${escapeXml(run.text.replaceAll(' ', '\u00a0'))}</text>`,
      );
      x += chars * CHAR_WIDTH * run.width;
    }
    y += height * LINE_HEIGHT;
  }
  const w = columns * CHAR_WIDTH + 2 * MARGIN;
  const h = y + MARGIN;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<g font-family="'DejaVu Sans Mono', 'Courier New', monospace" font-size="${FONT_SIZE}" fill="#000">`,
    ...body,
    '</g>',
    '</svg>',
  ].join('\n');
}

export const svgDataUrl = (svg: string): string =>
  `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
