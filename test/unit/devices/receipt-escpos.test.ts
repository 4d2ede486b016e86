import CodepageEncoder from '@point-of-sale/codepage-encoder';
import { describe, expect, it } from 'vitest';
import { EPSON_CODE_PAGES, type EscPosCodePage, encodeText } from '../../../src-shared/devices/escpos.ts';
import {
  type ReceiptEscPosOptions,
  renderReceiptEscPos,
} from '../../../src-shared/devices/receipt-escpos.ts';
import {
  COPY_BANNER,
  type Receipt,
  type ReceiptColumns,
  type ReceiptToken,
  renderReceiptText,
  SlipError,
} from '../../../src-shared/vending/receipt.ts';
import { hex } from './support.ts';

const formatMoney = (minor: number): string =>
  `R ${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

const KCT1: ReceiptToken = {
  kind: 'key-change',
  label: 'KEY CHANGE TOKEN 1 OF 2',
  digits: '12345678901234567890',
};
const KCT2: ReceiptToken = {
  kind: 'key-change',
  label: 'KEY CHANGE TOKEN 2 OF 2',
  digits: '09876543210987654321',
};
const CREDIT: ReceiptToken = {
  kind: 'credit',
  label: 'CREDIT TOKEN',
  digits: '55554444333322221111',
  units: 527,
  amountMinor: 8_696,
};

function receipt(overrides: Partial<Receipt> = {}): Receipt {
  return {
    header: {
      title: 'CREDIT VEND - TAX INVOICE',
      copy: false,
      utility: { name: 'CITY OF EXAMPLE', addressLines: ['PO Box 440'], taxRef: '4000142266' },
      outlet: { name: 'Épicerie São João', addressLines: ['12 rue de la Paix'] },
      receiptNo: '0001-000345',
      issuedAt: '2025-03-01 14:05',
      terminalId: 'T001',
      operator: 'Zoë',
    },
    meter: {
      meterNo: '01234567890',
      sgc: '123456',
      krn: 1,
      ti: 1,
      ea: 'EA07',
      tt: '02',
      tariffName: 'Résidentiel cœur',
    },
    tokens: [CREDIT],
    lines: {
      energyMinor: 8_696,
      unitsTotal: 527,
      totalMinor: 8_696,
      tenderMinor: 10_000,
      changeMinor: 1_304,
    },
    messages: { lines: ['Obrigado pela sua preferência. Merci de votre visite, à bientôt!'] },
    ...overrides,
  };
}

interface PrintedLine {
  text: string;
  bold: boolean;
  width: number;
  height: number;
  align: number;
}

/** A small interpreter for the commands the builder emits; anything else fails the test. */
function interpret(job: Uint8Array, page: EscPosCodePage) {
  const table = CodepageEncoder.getCodepoints(page.table, true);
  const lines: PrintedLine[] = [];
  const qr: string[] = [];
  const tail: string[] = [];
  let text = '';
  let bold = false;
  let width = 1;
  let height = 1;
  let align = 0;
  let i = 0;
  while (i < job.length) {
    const [b, c, n] = [job[i]!, job[i + 1], job[i + 2]!];
    if (b === 0x0a) {
      lines.push({ text, bold, width, height, align });
      text = '';
      i += 1;
    } else if (b === 0x1b && c === 0x40) i += 2;
    else if (b === 0x1c && c === 0x2e) i += 2;
    else if (b === 0x1d && c === 0x61) i += 3;
    else if (b === 0x1b && c === 0x74) {
      expect(n).toBe(page.escT);
      i += 3;
    } else if (b === 0x1b && c === 0x45) {
      bold = n === 1;
      i += 3;
    } else if (b === 0x1b && c === 0x61) {
      align = n;
      i += 3;
    } else if (b === 0x1d && c === 0x21) {
      width = (n >> 4) + 1;
      height = (n & 15) + 1;
      i += 3;
    } else if (b === 0x1b && c === 0x64) {
      tail.push(`feed ${n}`);
      i += 3;
    } else if (b === 0x1d && c === 0x56) {
      tail.push(n === 0 ? 'full cut' : 'partial cut');
      i += 3;
    } else if (b === 0x1d && c === 0x28 && job[i + 2] === 0x6b) {
      const length = job[i + 3]! + 256 * job[i + 4]!;
      if (job[i + 6] === 0x50) qr.push(String.fromCharCode(...job.subarray(i + 8, i + 5 + length)));
      i += 5 + length;
    } else if (b >= 0x20) {
      text += String.fromCodePoint(table[b]!);
      i += 1;
    } else throw new Error(`unexpected byte ${hex([b])} at ${i}`);
  }
  expect(text).toBe('');
  return { lines, qr, tail };
}

const options = (
  columns: ReceiptColumns,
  extra: Partial<ReceiptEscPosOptions> = {},
): ReceiptEscPosOptions => ({
  columns,
  formatMoney,
  ...extra,
});

describe('renderReceiptEscPos', () => {
  it.each([32, 42, 48] as const)(
    'at %i columns prints the text layout of receipt.ts line for line',
    (columns) => {
      // Every letter here is in CP858, so the text layout applies unchanged.
      const base = receipt();
      const r = receipt({
        tokens: [KCT1, KCT2, CREDIT],
        meter: { ...base.meter, tariffName: 'Résidentiel' },
      });
      const { lines } = interpret(renderReceiptEscPos(r, options(columns)), EPSON_CODE_PAGES.cp858);
      const text = renderReceiptText(r, { columns, formatMoney }).replace(/\n$/, '').split('\n');
      expect(lines.length).toBe(text.length);
      lines.forEach((line, n) => {
        // Token digits are centred by ESC a, everything else by receipt.ts's own spaces.
        if (line.align === 1) expect(line.text).toBe(text[n]!.trim());
        else expect(line.text).toBe(text[n]);
        expect(line.text.length * line.width).toBeLessThanOrEqual(columns);
      });
    },
  );

  it('token digits are bold, double height and centred; double width only where 24 × 2 fits (48 columns)', () => {
    for (const columns of [32, 42, 48] as const) {
      const { lines } = interpret(renderReceiptEscPos(receipt(), options(columns)), EPSON_CODE_PAGES.cp858);
      const token = lines.filter((line) => line.text.includes('5555 4444'));
      expect(token).toEqual([
        { text: '5555 4444 3333 2222 1111', bold: true, width: columns === 48 ? 2 : 1, height: 2, align: 1 },
      ]);
      const others = lines.filter((line) => line !== token[0]);
      expect(others.every((line) => line.width === 1 && line.height === 1 && line.align === 0)).toBe(true);
    }
  });

  it('the byte sequence around a token is exact', () => {
    const job = hex(renderReceiptEscPos(receipt(), options(48)));
    const digits = hex(encodeText('5555 4444 3333 2222 1111'));
    expect(job).toContain(`1b 61 01 1b 45 01 1d 21 11 ${digits} 0a 1d 21 00 1b 45 00 1b 61 00`);
    const narrow = hex(renderReceiptEscPos(receipt(), options(32)));
    expect(narrow).toContain(`1b 61 01 1b 45 01 1d 21 01 ${digits} 0a 1d 21 00 1b 45 00 1b 61 00`);
  });

  it('starts with initialize + code page and ends with feed and a partial cut by default', () => {
    const job = renderReceiptEscPos(receipt(), options(42));
    expect(hex(job.subarray(0, 10))).toBe('1b 40 1c 2e 1d 61 00 1b 74 13');
    expect(hex(job.subarray(-6))).toBe('1b 64 04 1d 56 01');
    expect(interpret(job, EPSON_CODE_PAGES.cp858).tail).toEqual(['feed 4', 'partial cut']);
    const full = renderReceiptEscPos(receipt(), options(42, { cut: 'full', feedLines: 6 }));
    expect(hex(full.subarray(-6))).toBe('1b 64 06 1d 56 00');
    const none = renderReceiptEscPos(receipt(), options(42, { cut: 'none' }));
    expect(hex(none.subarray(-3))).toBe('1b 64 04');
  });

  it('accented French and Portuguese text is encoded to the code page, œ as oe', () => {
    const job = renderReceiptEscPos(receipt(), options(42));
    const { lines } = interpret(job, EPSON_CODE_PAGES.cp858);
    const all = lines.map((line) => line.text).join('\n');
    expect(all).toContain('Outlet: Épicerie São João');
    expect(all).toContain('Résidentiel coeur');
    expect(all).toContain('preferência');
    expect(all).toContain('Zoë');
    expect(hex(job)).toContain(hex(encodeText('São João')));
    const cp860 = renderReceiptEscPos(receipt(), options(42, { codePage: EPSON_CODE_PAGES.cp860 }));
    const pt = interpret(cp860, EPSON_CODE_PAGES.cp860)
      .lines.map((line) => line.text)
      .join('\n');
    expect(pt).toContain('Épicerie São João');
    expect(pt).toContain('Zoe'); // CP860 has no ë
  });

  it('a long accented word expanded by the code page still never passes the width', () => {
    const r = receipt({ messages: { lines: ['œ'.repeat(40)] } });
    for (const columns of [32, 42, 48] as const) {
      const { lines } = interpret(renderReceiptEscPos(r, options(columns)), EPSON_CODE_PAGES.cp858);
      for (const line of lines) expect(line.text.length * line.width).toBeLessThanOrEqual(columns);
      expect(lines.map((line) => line.text).join('')).toContain('oe'.repeat(columns / 2));
    }
  });

  it('QR codes hold each token’s 20 digits, in entry order (key change first), when asked', () => {
    const r = receipt({ tokens: [CREDIT, KCT1, KCT2] });
    expect(interpret(renderReceiptEscPos(r, options(48)), EPSON_CODE_PAGES.cp858).qr).toEqual([]);
    const all = interpret(renderReceiptEscPos(r, options(48, { qrCode: {} })), EPSON_CODE_PAGES.cp858);
    expect(all.qr).toEqual([KCT1.digits, KCT2.digits, CREDIT.digits]);
    const credit = interpret(
      renderReceiptEscPos(r, options(32, { qrCode: { kinds: ['credit'], moduleSize: 4 } })),
      EPSON_CODE_PAGES.cp858,
    );
    expect(credit.qr).toEqual([CREDIT.digits]);
    const job = hex(renderReceiptEscPos(r, options(32, { qrCode: { kinds: ['credit'], moduleSize: 4 } })));
    expect(job).toContain('1d 28 6b 03 00 31 43 04');
    expect(job).toContain(
      `1d 28 6b 17 00 31 50 30 ${hex(encodeText(CREDIT.digits))} 1d 28 6b 03 00 31 51 30 0a`,
    );
  });

  it('a reprint prints the COPY banner in bold at the top and the bottom', () => {
    const r = receipt();
    const copy = { ...r, header: { ...r.header, copy: true } };
    const { lines } = interpret(renderReceiptEscPos(copy, options(42)), EPSON_CODE_PAGES.cp858);
    const banners = lines.filter((line) => line.text.trim() === COPY_BANNER);
    expect(banners).toHaveLength(2);
    expect(banners.every((line) => line.bold)).toBe(true);
    expect(lines[0]!.text.trim()).toBe(COPY_BANNER);
  });

  it('refuses a width other than 32, 42 or 48 and a token that is not 20 digits', () => {
    expect(() => renderReceiptEscPos(receipt(), { columns: 40 as ReceiptColumns, formatMoney })).toThrow(
      SlipError,
    );
    const bad = receipt({ tokens: [{ ...CREDIT, digits: '1234' }] });
    expect(() => renderReceiptEscPos(bad, options(42))).toThrow(SlipError);
  });

  it('caller text cannot inject printer commands', () => {
    const r = receipt({ messages: { lines: ['evil \x1b@\x1dV\x00 text'] } });
    const { lines } = interpret(renderReceiptEscPos(r, options(42)), EPSON_CODE_PAGES.cp858);
    expect(lines.some((line) => line.text.includes('evil'))).toBe(true);
  });
});
