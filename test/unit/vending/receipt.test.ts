import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { groupTokenDigits } from '../../../src-shared/sts/token-number.ts';
import {
  COPY_BANNER,
  defaultFormatRate,
  formatQuantity,
  formatUnits,
  formatVatRate,
  KEY_CHANGE_INSTRUCTION,
  NON_REFUNDABLE_LINE,
  RECEIPT_COLUMNS,
  type Receipt,
  type ReceiptColumns,
  type ReceiptToken,
  receiptSlip,
  receiptSummary,
  renderReceiptText,
  SlipError,
  type SlipErrorCode,
  wrapText,
} from '../../../src-shared/vending/receipt.ts';

/** A local stand-in for money.ts: 'R 1,234.56', '-R 5.00'. */
const formatMoney = (minor: number): string => {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}R ${whole}.${String(abs % 100).padStart(2, '0')}`;
};

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
const FBE: ReceiptToken = {
  kind: 'fbe',
  label: 'FREE BASIC ELECTRICITY',
  digits: '44445555666677778888',
  units: 500,
  amountMinor: 0,
};
const CREDIT: ReceiptToken = {
  kind: 'credit',
  label: 'CREDIT TOKEN',
  digits: '55554444333322221111',
  units: 527,
  amountMinor: 8_696,
};

function saleReceipt(overrides: Partial<Receipt> = {}): Receipt {
  return {
    header: {
      title: 'CREDIT VEND - TAX INVOICE',
      copy: false,
      utility: { name: 'CITY OF EXAMPLE', addressLines: ['PO Box 440, Example, 0001'], taxRef: '4000142266' },
      outlet: { name: 'Corner Spaza', addressLines: ['12 Main Road, Soweto'] },
      receiptNo: '0001-000345',
      issuedAt: '2025-03-01 14:05',
      terminalId: 'T001',
      operator: 'Thandi',
    },
    customer: {
      name: 'Thabo Mokoena',
      addressLines: ['12 Vilakazi Street', 'Orlando West'],
      accountNo: '4100234567',
    },
    meter: {
      meterNo: '01234567890',
      sgc: '123456',
      krn: 1,
      ti: 1,
      ea: 'EA07',
      tt: '02',
      tariffName: 'Homelight 20A',
    },
    tokens: [CREDIT],
    lines: {
      fixedCharges: [{ description: 'Service charge', months: 1, amountMinor: 2_000, vatMinor: 261 }],
      debtRecovery: [
        { description: 'Arrears', accountNo: 'A-77', amountMinor: 1_000, balanceAfterMinor: 1_248_000 },
      ],
      energyMinor: 6_000,
      vat: [{ rateBasisPoints: 1500, amountMinor: 1_000 }],
      unitsTotal: 527,
      blocks: [
        { units: 500, rateMilliMinor: 128_300 },
        { units: 27, rateMilliMinor: 150_000 },
      ],
      totalMinor: 10_000,
      payType: 'CASH',
      tenderMinor: 20_000,
      roundingMinor: 0,
      changeMinor: 10_000,
    },
    messages: { lines: ['Your FBE for March is collected.'], footer: 'Queries: 0800 000 000' },
    ...overrides,
  };
}

const kctReceipt = (): Receipt =>
  saleReceipt({
    meter: {
      ...saleReceipt().meter,
      keyChange: { from: { sgc: '123456', krn: 1, ti: 1 }, to: { sgc: '123456', krn: 2, ti: 1 } },
    },
    tokens: [KCT1, KCT2, CREDIT],
  });

const render = (receipt: Receipt, columns: ReceiptColumns): string =>
  renderReceiptText(receipt, { columns, formatMoney });
const linesOf = (text: string): string[] => text.replace(/\n$/, '').split('\n');
const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);
/** The text with line breaks and runs of spaces made single spaces: wrapped sentences read whole again. */
const flat = (text: string): string => words(text).join(' ');

function expectFits(text: string, columns: number): void {
  const tooLong = linesOf(text).filter((line) => line.length > columns);
  expect(tooLong).toEqual([]);
  expect(text.endsWith('\n')).toBe(true);
  for (const line of linesOf(text)) expect(line).toBe(line.trimEnd());
}

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

const LONG_NAME =
  'Nomvula Thandeka Precious Mahlangu-Vilakazi Trust For The Estate Of The Late Sipho Mahlangu';
const LONG_ADDRESS =
  'Stand 12345 Extension 17 Corner of Chris Hani Road and Old Potchefstroom Road Orlando West';
const UNBREAKABLE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz';

describe.each(RECEIPT_COLUMNS)('receipt at %i columns', (columns) => {
  it('keeps every line within the width, for an ordinary and for an extreme receipt', () => {
    expectFits(render(kctReceipt(), columns), columns);
    const base = kctReceipt();
    const extreme = saleReceipt({
      header: {
        ...base.header,
        copy: true,
        title: 'CREDIT VEND - TAX INVOICE - MUNICIPAL ELECTRICITY DEPARTMENT PREPAYMENT',
        utility: { name: LONG_NAME, addressLines: [LONG_ADDRESS, UNBREAKABLE], taxRef: UNBREAKABLE },
        outlet: { name: LONG_NAME, addressLines: [LONG_ADDRESS] },
        receiptNo: UNBREAKABLE,
        operator: LONG_NAME,
      },
      customer: { name: LONG_NAME, addressLines: [LONG_ADDRESS, UNBREAKABLE], accountNo: UNBREAKABLE },
      meter: { ...base.meter, meterNo: UNBREAKABLE, tariffName: LONG_NAME, tariffIndex: '01' },
      tokens: [
        KCT1,
        KCT2,
        { ...FBE, label: LONG_NAME, description: LONG_ADDRESS },
        { ...CREDIT, units: 18_201_624, amountMinor: 999_999_999_99 },
      ],
      lines: {
        ...base.lines,
        fixedCharges: [
          { description: LONG_ADDRESS, months: 12, amountMinor: 123_456_789, vatMinor: 1_234_567 },
        ],
        levies: [{ description: LONG_NAME, amountMinor: 5 }],
        blocks: [{ units: 18_201_624, rateMilliMinor: 123_456_789, amountMinor: 999_999_999_99 }],
        payType: LONG_NAME,
      },
      messages: {
        lines: [LONG_ADDRESS, `${LONG_NAME}\n${UNBREAKABLE}`],
        slip: [LONG_ADDRESS],
        footer: LONG_NAME,
      },
    });
    expectFits(render(extreme, columns), columns);
    expectFits(
      renderReceiptText(extreme, {
        columns,
        formatMoney: (minor) => `NGN ${minor} kobo and some more words to push it over`,
        formatRate: (rate, unit) => `${rate} thousandths of a kobo per ${unit} in a very long rate text`,
      }),
      columns,
    );
  });

  it('prints every token 4-4-4-4-4 on a centred line of its own', () => {
    const lines = linesOf(render(kctReceipt(), columns));
    for (const token of [KCT1, KCT2, CREDIT]) {
      const grouped = groupTokenDigits(token.digits);
      const line = lines.find((candidate) => candidate.trim() === grouped);
      expect(line, grouped).toBeDefined();
      const left = line!.length - grouped.length;
      expect(Math.abs(left - (columns - line!.length))).toBeLessThanOrEqual(1);
    }
    expect(lines).toContain(`    1234 5678 9012 3456 7890`.padStart(Math.floor((columns - 24) / 2) + 24));
  });

  it('prints the reprint banner at the top and the bottom of a copy, and nothing of it on an original', () => {
    const copy = saleReceipt({ header: { ...saleReceipt().header, copy: true } });
    const lines = linesOf(render(copy, columns));
    expect(lines[0]!.trim()).toBe(COPY_BANNER);
    expect(lines.at(-1)!.trim()).toBe(COPY_BANNER);
    expect(lines.filter((line) => line.includes('COPY'))).toHaveLength(2);
    expect(render(saleReceipt(), columns)).not.toContain('COPY');
  });

  it('prints the key change instruction only with key change tokens, KCTs before the credit token', () => {
    const plain = render(saleReceipt(), columns);
    expect(flat(plain)).not.toContain(KEY_CHANGE_INSTRUCTION);
    expect(plain).not.toContain('KEY CHANGE');

    const text = render(kctReceipt(), columns);
    expect(flat(text)).toContain(KEY_CHANGE_INSTRUCTION);
    const at = (token: ReceiptToken): number => text.indexOf(groupTokenDigits(token.digits));
    expect(flat(text).indexOf(KEY_CHANGE_INSTRUCTION)).toBeLessThan(flat(text).indexOf(KCT1.label));
    expect(at(KCT1)).toBeGreaterThan(0);
    expect(at(KCT1)).toBeLessThan(at(KCT2));
    expect(at(KCT2)).toBeLessThan(at(CREDIT));
    expect(text.indexOf(KCT1.label)).toBeLessThan(at(KCT1));
  });

  it('puts key change tokens first even when given after the credit and FBE tokens, keeping their order', () => {
    const receipt = saleReceipt({ tokens: [FBE, CREDIT, KCT1, KCT2] });
    const text = render(receipt, columns);
    const order = [KCT1, KCT2, FBE, CREDIT].map((token) => text.indexOf(groupTokenDigits(token.digits)));
    expect(order.every((position) => position > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(receipt.tokens.map((token) => token.kind)).toEqual(['fbe', 'credit', 'key-change', 'key-change']);
  });

  it('prints amounts through formatMoney, right-aligned against their labels', () => {
    const lines = linesOf(render(saleReceipt(), columns));
    const row = (label: string, value: string): void => {
      const line = lines.find(
        (candidate) => candidate.trimStart().startsWith(label) && candidate.endsWith(value),
      );
      expect(line, `${label} … ${value}`).toBeDefined();
      expect(line!.length).toBe(columns);
    };
    row('TOTAL', 'R 100.00');
    row('Tendered (CASH)', 'R 200.00');
    row('Change', 'R 100.00');
    row('Rounding', 'R 0.00');
    row('Energy', 'R 60.00');
    row('VAT 15%', 'R 10.00');
    row('Service charge (1 mth)', 'R 20.00');
    row('incl. VAT', 'R 2.61');
    row('Arrears', 'R 10.00');
    row('Balance owing', 'R 12,480.00');
    row('Amount', 'R 86.96');
  });

  it('writes units exactly from integer tenths', () => {
    for (const [units, text] of [
      [527, '52.7 kWh'],
      [1, '0.1 kWh'],
      [0, '0.0 kWh'],
      [10, '1.0 kWh'],
      [18_201_624, '1820162.4 kWh'],
    ] as const) {
      const receipt = saleReceipt({ tokens: [{ ...CREDIT, units }] });
      const lines = linesOf(render({ ...receipt, lines: { unitsTotal: units } }, columns));
      expect(lines.filter((line) => line.startsWith('Units') && line.endsWith(` ${text}`))).toHaveLength(2);
    }
    const water = render(
      saleReceipt({ tokens: [{ ...CREDIT, units: 35 }], lines: { unitsTotal: 35, resource: 'water' } }),
      columns,
    );
    expect(linesOf(water).filter((line) => line.endsWith(' 3.5 m³'))).toHaveLength(2);
  });

  it('wraps long names and addresses at word boundaries without losing a word', () => {
    const receipt = saleReceipt({
      customer: { name: LONG_NAME, addressLines: [LONG_ADDRESS], accountNo: '4100234567' },
    });
    const text = render(receipt, columns);
    expectFits(text, columns);
    expect(flat(text)).toContain(`Customer: ${LONG_NAME} ${LONG_ADDRESS} Account No`);
    // Every output line of the name is made of whole words of the name.
    const nameWords = new Set(words(`Customer: ${LONG_NAME}`));
    const start = linesOf(text).findIndex((line) => line.startsWith('Customer:'));
    const nameLines = linesOf(text).slice(start, start + 3);
    for (const line of nameLines)
      for (const word of words(line)) expect(nameWords.has(word), word).toBe(true);
  });

  it('always prints the non-refundable line and the footer', () => {
    for (const receipt of [saleReceipt(), saleReceipt({ messages: {} }), kctReceipt()]) {
      expect(flat(render(receipt, columns))).toContain(NON_REFUNDABLE_LINE);
    }
    expect(flat(render(saleReceipt(), columns))).toContain('Queries: 0800 000 000');
  });
});

describe('42-column receipt, exact text', () => {
  it('prints a reprinted sale with a key change, FBE and a block breakdown', () => {
    const base = kctReceipt();
    const receipt: Receipt = {
      ...base,
      header: { ...base.header, copy: true, vatInvoiceNo: 'VAT-2025-0042' },
      tokens: [KCT1, KCT2, FBE, CREDIT],
    };
    const expected = [
      '          *** REPRINT - COPY ***',
      '        CREDIT VEND - TAX INVOICE',
      '------------------------------------------',
      '             CITY OF EXAMPLE',
      '        PO Box 440, Example, 0001',
      '          VAT Reg No 4000142266',
      '------------------------------------------',
      'Outlet: Corner Spaza',
      '12 Main Road, Soweto',
      'Receipt No                     0001-000345',
      'VAT Invoice No               VAT-2025-0042',
      'Date                      2025-03-01 14:05',
      'Terminal                              T001',
      'Operator                            Thandi',
      '------------------------------------------',
      'Customer: Thabo Mokoena',
      '12 Vilakazi Street',
      'Orlando West',
      'Account No                      4100234567',
      'Meter No                       01234567890',
      'Tariff                       Homelight 20A',
      'SGC / KRN / TI             123456 / 1 / 01',
      'EA / TT                          EA07 / 02',
      'Key change from            123456 / 1 / 01',
      'Key change to              123456 / 2 / 01',
      '------------------------------------------',
      ' ENTER KEY CHANGE TOKENS FIRST, IN ORDER,',
      '          THEN THE CREDIT TOKEN',
      '',
      '         KEY CHANGE TOKEN 1 OF 2',
      '         1234 5678 9012 3456 7890',
      '',
      '         KEY CHANGE TOKEN 2 OF 2',
      '         0987 6543 2109 8765 4321',
      '',
      '          FREE BASIC ELECTRICITY',
      '         4444 5555 6666 7777 8888',
      'Units                             50.0 kWh',
      'Amount                              R 0.00',
      '',
      '               CREDIT TOKEN',
      '         5555 4444 3333 2222 1111',
      'Units                             52.7 kWh',
      'Amount                             R 86.96',
      '------------------------------------------',
      'Service charge (1 mth)             R 20.00',
      '  incl. VAT                         R 2.61',
      'Arrears                            R 10.00',
      '  Account                             A-77',
      '  Balance owing                R 12,480.00',
      'Energy                             R 60.00',
      'VAT 15%                            R 10.00',
      'Units                             52.7 kWh',
      '',
      'Block breakdown',
      '  50.0 kWh @ 128.30 c/kWh',
      '  2.7 kWh @ 150.00 c/kWh',
      '------------------------------------------',
      'TOTAL                             R 100.00',
      'Tendered (CASH)                   R 200.00',
      'Rounding                            R 0.00',
      'Change                            R 100.00',
      '------------------------------------------',
      'Your FBE for March is collected.',
      '    Tokens are meter-specific and not',
      '               refundable.',
      '          Queries: 0800 000 000',
      '          *** REPRINT - COPY ***',
      '',
    ].join('\n');
    expect(render(receipt, 42)).toBe(expected);
  });
});

describe('number formatting', () => {
  it('formats tenths exactly, including negatives and the largest STS amount', () => {
    expect(formatUnits(527)).toBe('52.7');
    expect(formatUnits(1)).toBe('0.1');
    expect(formatUnits(0)).toBe('0.0');
    expect(formatUnits(-5)).toBe('-0.5');
    expect(formatUnits(-527)).toBe('-52.7');
    expect(formatUnits(18_201_624)).toBe('1820162.4');
    expect(formatUnits(Number.MAX_SAFE_INTEGER)).toBe('900719925474099.1');
    expect(formatQuantity(527)).toBe('52.7 kWh');
    expect(formatQuantity(12, 'gas')).toBe('1.2 m³');
  });

  it('matches the decimal text of every integer number of tenths', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000_000, max: 100_000_000 }), (tenths) => {
        const text = formatUnits(tenths);
        expect(text).toMatch(/^-?\d+\.\d$/);
        expect(Number(text.replace('.', ''))).toBe(tenths);
      }),
    );
  });

  it('formats VAT rates from basis points without trailing zeros', () => {
    expect(formatVatRate(1500)).toBe('15%');
    expect(formatVatRate(750)).toBe('7.5%');
    expect(formatVatRate(1575)).toBe('15.75%');
    expect(formatVatRate(5)).toBe('0.05%');
    expect(formatVatRate(0)).toBe('0%');
    const text = render(saleReceipt({ lines: { vat: [{ rateBasisPoints: 750, amountMinor: 698 }] } }), 32);
    expect(linesOf(text)).toContain(`VAT 7.5%${'R 6.98'.padStart(32 - 8)}`);
  });

  it('formats block rates from thousandths of a minor unit, or through formatRate', () => {
    expect(defaultFormatRate(185_430, 'kWh')).toBe('185.43 c/kWh');
    expect(defaultFormatRate(185_432, 'kWh')).toBe('185.432 c/kWh');
    expect(defaultFormatRate(128_000, 'kWh')).toBe('128.00 c/kWh');
    expect(defaultFormatRate(5, 'kWh')).toBe('0.005 c/kWh');
    const receipt = saleReceipt({
      lines: { blocks: [{ units: 500, rateMilliMinor: 68_540, amountMinor: 3_427 }] },
    });
    const text = renderReceiptText(receipt, {
      columns: 48,
      formatMoney,
      formatRate: (rate, unit) => `N${rate / 1000}/${unit}`,
    });
    expect(linesOf(text)).toContain(`  50.0 kWh @ N68.54/kWh${'R 34.27'.padStart(48 - 23)}`);
  });
});

describe('receipt safety', () => {
  it('refuses widths other than 32, 42 and 48', () => {
    expectSlipError(
      () => renderReceiptText(saleReceipt(), { columns: 40 as ReceiptColumns, formatMoney }),
      'SLIP_INVALID_WIDTH',
    );
  });

  it('refuses tokens that are not exactly 20 digits instead of printing a wrong token', () => {
    for (const digits of [
      '1234567890123456789',
      '123456789012345678901',
      '1234 5678 9012 3456 7890',
      '1234567890123456789x',
    ]) {
      expectSlipError(
        () => render(saleReceipt({ tokens: [{ ...CREDIT, digits }] }), 42),
        'SLIP_INVALID_TOKEN',
      );
    }
  });

  it('refuses money and units that are not whole numbers', () => {
    expectSlipError(
      () => render(saleReceipt({ tokens: [{ ...CREDIT, units: 52.7 }] }), 42),
      'SLIP_INVALID_NUMBER',
    );
    expectSlipError(() => render(saleReceipt({ lines: { totalMinor: 100.5 } }), 42), 'SLIP_INVALID_NUMBER');
    expectSlipError(
      () => render(saleReceipt({ lines: { tenderMinor: Number.NaN } }), 42),
      'SLIP_INVALID_NUMBER',
    );
    expectSlipError(() => formatVatRate(-1), 'SLIP_INVALID_NUMBER');
  });

  it('turns control characters (printer escape sequences) into spaces', () => {
    const receipt = saleReceipt({
      customer: { name: 'Thabo\u001b@\u001bd\u0005Mokoena\r\nX', addressLines: ['A\u202eB'] },
    });
    const text = render(receipt, 32);
    expect(text.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    expect(linesOf(text)).toContain('Customer: Thabo @ d Mokoena');
    expect(linesOf(text)).toContain('A B');
  });

  it('is deterministic and does not change the receipt it prints', () => {
    const receipt = saleReceipt({ tokens: [CREDIT, KCT1, KCT2] });
    const before = JSON.stringify(receipt);
    expect(render(receipt, 42)).toBe(render(receipt, 42));
    expect(JSON.stringify(receipt)).toBe(before);
    expect(JSON.parse(before)).toEqual(receipt);
  });

  it('keeps every line within the width and every word for arbitrary texts', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', 'b', 'Z', '9', ' ', ' ', '-', 'é', '\n', '\t'),
      maxLength: 150,
    });
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.constantFrom(...RECEIPT_COLUMNS),
        (name, address, message, columns) => {
          const receipt = saleReceipt({
            customer: { name, addressLines: [address] },
            messages: { lines: [message], footer: name },
          });
          const output = render(receipt, columns);
          expectFits(output, columns);
          for (const word of words(`${name} ${address} ${message}`).filter((w) => w.length <= columns)) {
            expect(output).toContain(word);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('wrapText', () => {
  it('wraps at word boundaries and splits only words longer than a line', () => {
    expect(wrapText('the quick brown fox', 10)).toEqual(['the quick', 'brown fox']);
    expect(wrapText('  spaced\tout\nwords  ', 32)).toEqual(['spaced out words']);
    expect(wrapText('abcdefghijkl mn', 5)).toEqual(['abcde', 'fghij', 'kl mn']);
    expect(wrapText('', 32)).toEqual([]);
  });
});

describe('receiptSlip and receiptSummary', () => {
  it('give the UI the same content as the printed text', () => {
    const slip = receiptSlip(kctReceipt(), { formatMoney });
    expect(slip.filter((item) => item.type === 'token').map((item) => item.grouped)).toEqual([
      '1234 5678 9012 3456 7890',
      '0987 6543 2109 8765 4321',
      '5555 4444 3333 2222 1111',
    ]);
    expect(slip).toContainEqual({ type: 'field', label: 'TOTAL', value: 'R 100.00' });

    const summary = receiptSummary(saleReceipt({ tokens: [CREDIT, KCT1, KCT2] }));
    expect(summary).toEqual({
      title: 'CREDIT VEND - TAX INVOICE',
      copy: false,
      receiptNo: '0001-000345',
      issuedAt: '2025-03-01 14:05',
      meterNo: '01234567890',
      customerName: 'Thabo Mokoena',
      instruction: KEY_CHANGE_INSTRUCTION,
      tokens: [
        { kind: 'key-change', label: 'KEY CHANGE TOKEN 1 OF 2', grouped: '1234 5678 9012 3456 7890' },
        { kind: 'key-change', label: 'KEY CHANGE TOKEN 2 OF 2', grouped: '0987 6543 2109 8765 4321' },
        {
          kind: 'credit',
          label: 'CREDIT TOKEN',
          grouped: '5555 4444 3333 2222 1111',
          unitsText: '52.7 kWh',
          amountMinor: 8_696,
        },
      ],
      unitsTotalText: '52.7 kWh',
      totalMinor: 10_000,
    });
    expect(receiptSummary(saleReceipt()).instruction).toBeNull();
  });

  it('prints an engineering receipt without customer or amounts', () => {
    const base = saleReceipt();
    const { customer: _customer, lines: _lines, ...rest } = base;
    const receipt: Receipt = {
      ...rest,
      header: { ...base.header, title: 'ENGINEERING TOKEN' },
      tokens: [{ kind: 'engineering', label: 'CLEAR TAMPER', digits: '11112222333344445555' }],
    };
    const text = render(receipt, 32);
    expectFits(text, 32);
    expect(text).toContain('1111 2222 3333 4444 5555');
    expect(text).not.toContain('TOTAL');
    expect(text).not.toContain('Customer');
    const separator = '-'.repeat(32);
    const lines = linesOf(text);
    expect(lines.some((line, i) => line === separator && lines[i + 1] === separator)).toBe(false);
  });
});
