import { describe, expect, it } from 'vitest';
import {
  CoverOpenError,
  PaperEndError,
  PrinterNotReadyError,
} from '../../../src-shared/devices/device-errors.ts';
import {
  assertReadyToPrint,
  DEFAULT_CODE_PAGE,
  decodeErrorCause,
  decodeOfflineCause,
  decodePrinterStatus,
  decodeRollPaper,
  EPSON_CODE_PAGES,
  EscPosBuilder,
  encodeText,
  escPosCodePage,
  isStatusReply,
  printableText,
  printerStatus,
  STATUS_REQUESTS,
  statusRequest,
} from '../../../src-shared/devices/escpos.ts';
import { expectDeviceError, hex } from './support.ts';

const job = (build: (b: EscPosBuilder) => EscPosBuilder): string => hex(build(new EscPosBuilder()).encode());

describe('ESC/POS builder: byte-exact commands', () => {
  it('initializes with ESC @, FS ., GS a 0 and the code page (CP858 = ESC t 19 on Epson)', () => {
    expect(job((b) => b.initialize())).toBe('1b 40 1c 2e 1d 61 00 1b 74 13');
    expect(job((b) => b.initialize({ cancelKanji: false, disableStatusBack: false }))).toBe('1b 40 1b 74 13');
    expect(hex(new EscPosBuilder(EPSON_CODE_PAGES.cp860).initialize().encode())).toBe(
      '1b 40 1c 2e 1d 61 00 1b 74 03',
    );
  });

  it('styles: bold, size, alignment, feed, newline', () => {
    expect(job((b) => b.bold())).toBe('1b 45 01');
    expect(job((b) => b.bold(false))).toBe('1b 45 00');
    expect(job((b) => b.size(2, 2))).toBe('1d 21 11');
    expect(job((b) => b.size(1, 2))).toBe('1d 21 01');
    expect(job((b) => b.size(8, 8))).toBe('1d 21 77');
    expect(job((b) => b.size())).toBe('1d 21 00');
    expect(job((b) => b.align('left').align('centre').align('right'))).toBe('1b 61 00 1b 61 01 1b 61 02');
    expect(job((b) => b.feed(4))).toBe('1b 64 04');
    expect(job((b) => b.newline(3))).toBe('0a 0a 0a');
  });

  it('cuts: GS V 0 full, GS V 1 partial', () => {
    expect(job((b) => b.cut())).toBe('1d 56 00');
    expect(job((b) => b.cut('partial'))).toBe('1d 56 01');
  });

  it('QR code of a 20-digit token: model 2, module 6, EC M, store length 20 + 3 = 0x17, print', () => {
    const digits = '12345678901234567890';
    expect(job((b) => b.qrCode(digits))).toBe(
      [
        '1d 28 6b 04 00 31 41 32 00',
        '1d 28 6b 03 00 31 43 06',
        '1d 28 6b 03 00 31 45 31',
        `1d 28 6b 17 00 31 50 30 ${hex(Array.from(digits, (c) => c.charCodeAt(0)))}`,
        '1d 28 6b 03 00 31 51 30',
      ].join(' '),
    );
    const opts = job((b) => b.qrCode('A', { model: 1, moduleSize: 3, errorCorrection: 'H' }));
    expect(opts).toBe(
      '1d 28 6b 04 00 31 41 31 00 1d 28 6b 03 00 31 43 03 1d 28 6b 03 00 31 45 33 1d 28 6b 04 00 31 50 30 41 1d 28 6b 03 00 31 51 30',
    );
  });

  it('QR store length is little-endian past 255 bytes', () => {
    const out = new EscPosBuilder().qrCode('9'.repeat(300)).encode();
    // store command starts after the three 8/9-byte setup commands
    expect(hex(out.subarray(25, 33))).toBe('1d 28 6b 2f 01 31 50 30');
  });

  it('text is encoded to the selected code page and lines end with LF only', () => {
    expect(job((b) => b.line('Ação é €'))).toBe('41 87 c6 6f 20 82 20 d5 0a');
    const pt = new EscPosBuilder(EPSON_CODE_PAGES.cp860).line('Ação').encode();
    expect(hex(pt)).toBe('41 87 84 6f 0a');
  });

  it('switching code page mid-job re-encodes later text', () => {
    expect(job((b) => b.text('é').selectCodePage(EPSON_CODE_PAGES.wpc1252).text('é'))).toBe('82 1b 74 10 e9');
  });

  it('refuses out-of-range parameters and unprintable QR data with a clear error', () => {
    expectDeviceError(() => new EscPosBuilder().size(0, 1), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => new EscPosBuilder().size(1, 9), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => new EscPosBuilder().feed(256), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => new EscPosBuilder().qrCode(''), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => new EscPosBuilder().qrCode('é'), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => new EscPosBuilder().qrCode('1', { moduleSize: 17 }), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => new EscPosBuilder().raw([256]), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => escPosCodePage('cp9999', 1), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => escPosCodePage('cp858', 300), 'DEVICE_INVALID_DATA');
    expect(escPosCodePage('cp858', 40)).toEqual({ table: 'cp858', escT: 40 });
  });
});

describe('code page text', () => {
  it('CP858 holds the French and Portuguese letters (bytes checked against the standard tables)', () => {
    const cases: [string, number][] = [
      ['é', 0x82],
      ['è', 0x8a],
      ['ê', 0x88],
      ['ë', 0x89],
      ['à', 0x85],
      ['â', 0x83],
      ['ç', 0x87],
      ['Ç', 0x80],
      ['î', 0x8c],
      ['ï', 0x8b],
      ['ô', 0x93],
      ['û', 0x96],
      ['ù', 0x97],
      ['ÿ', 0x98],
      ['É', 0x90],
      ['ã', 0xc6],
      ['Ã', 0xc7],
      ['õ', 0xe4],
      ['Õ', 0xe5],
      ['á', 0xa0],
      ['í', 0xa1],
      ['ó', 0xa2],
      ['ú', 0xa3],
      ['€', 0xd5],
      ['³', 0xfc],
    ];
    for (const [ch, byte] of cases) expect([ch, hex(encodeText(ch))]).toEqual([ch, hex([byte])]);
  });

  it('letters missing from the table fall back: œ → oe, € → EUR on CP860, ő → o, unknown → ?', () => {
    expect(printableText('cœur Œuvre')).toBe('coeur OEuvre');
    expect(printableText('10 €', EPSON_CODE_PAGES.cp860)).toBe('10 EUR');
    expect(printableText('m³', EPSON_CODE_PAGES.cp860)).toBe('m3');
    expect(printableText('Erdős')).toBe('Erdos');
    expect(printableText('“quoted” – yes…')).toBe('"quoted" - yes...');
    expect(printableText('漢😀')).toBe('??');
  });

  it('controls, escape bytes and odd spaces never reach the printer as commands', () => {
    expect(hex(encodeText('a\x1b@b\nc\u00a0d\u200be'))).toBe('61 20 40 62 20 63 20 64 20 65');
    for (const byte of encodeText('\x00\x10\x1b\x1d\x7f\u0085')) expect(byte).toBe(0x20);
  });

  it('one byte per printable character, so layout width is exact', () => {
    const text = printableText('Référence: ÃÕ œ 10€');
    expect(encodeText(text).length).toBe(text.length);
  });

  it('the default code page is CP858 with the Epson number', () => {
    expect(DEFAULT_CODE_PAGE).toEqual({ table: 'cp858', escT: 19 });
  });
});

describe('DLE EOT status', () => {
  it('requests are DLE EOT n, n = 1..4, asked in a fixed order', () => {
    expect(STATUS_REQUESTS.map((kind) => hex(statusRequest(kind)))).toEqual([
      '10 04 01',
      '10 04 02',
      '10 04 03',
      '10 04 04',
    ]);
  });

  it('accepts only bytes with the fixed bits (bit0 0, bit1 1, bit4 1, bit7 0)', () => {
    expect(isStatusReply(0x12)).toBe(true);
    expect(isStatusReply(0x7e)).toBe(true);
    for (const bad of [0x00, 0x13, 0x10, 0x02, 0x92, 0xff, -1, 256, 1.5])
      expect(isStatusReply(bad)).toBe(false);
    expectDeviceError(() => decodePrinterStatus(0x00), 'DEVICE_PROTOCOL_ERROR');
    expectDeviceError(() => decodeRollPaper(0x92), 'DEVICE_PROTOCOL_ERROR');
  });

  it('n = 1 printer status: every bit', () => {
    const none = {
      drawerPinHigh: false,
      offline: false,
      waitingForRecovery: false,
      feedButtonPressed: false,
    };
    expect(decodePrinterStatus(0x12)).toEqual(none);
    expect(decodePrinterStatus(0x16)).toEqual({ ...none, drawerPinHigh: true });
    expect(decodePrinterStatus(0x1a)).toEqual({ ...none, offline: true });
    expect(decodePrinterStatus(0x32)).toEqual({ ...none, waitingForRecovery: true });
    expect(decodePrinterStatus(0x52)).toEqual({ ...none, feedButtonPressed: true });
  });

  it('n = 2 offline cause: every bit', () => {
    const none = { coverOpen: false, feedingByButton: false, stoppedByPaperEnd: false, errorOccurred: false };
    expect(decodeOfflineCause(0x12)).toEqual(none);
    expect(decodeOfflineCause(0x16)).toEqual({ ...none, coverOpen: true });
    expect(decodeOfflineCause(0x1a)).toEqual({ ...none, feedingByButton: true });
    expect(decodeOfflineCause(0x32)).toEqual({ ...none, stoppedByPaperEnd: true });
    expect(decodeOfflineCause(0x52)).toEqual({ ...none, errorOccurred: true });
  });

  it('n = 3 error cause: every bit', () => {
    const none = { recoverable: false, autocutter: false, unrecoverable: false, autoRecoverable: false };
    expect(decodeErrorCause(0x12)).toEqual(none);
    expect(decodeErrorCause(0x16)).toEqual({ ...none, recoverable: true });
    expect(decodeErrorCause(0x1a)).toEqual({ ...none, autocutter: true });
    expect(decodeErrorCause(0x32)).toEqual({ ...none, unrecoverable: true });
    expect(decodeErrorCause(0x52)).toEqual({ ...none, autoRecoverable: true });
  });

  it('n = 4 roll paper: near-end on bit 2 or 3, end on bit 5 or 6', () => {
    expect(decodeRollPaper(0x12)).toEqual({ nearEnd: false, paperEnd: false });
    expect(decodeRollPaper(0x16)).toEqual({ nearEnd: true, paperEnd: false });
    expect(decodeRollPaper(0x1a)).toEqual({ nearEnd: true, paperEnd: false });
    expect(decodeRollPaper(0x1e)).toEqual({ nearEnd: true, paperEnd: false });
    expect(decodeRollPaper(0x32)).toEqual({ nearEnd: false, paperEnd: true });
    expect(decodeRollPaper(0x52)).toEqual({ nearEnd: false, paperEnd: true });
    expect(decodeRollPaper(0x7e)).toEqual({ nearEnd: true, paperEnd: true });
  });

  const idle = { printer: 0x12, offlineCause: 0x12, errorCause: 0x12, paper: 0x12 };

  it('an idle printer is online with nothing wrong, and may print', () => {
    const status = printerStatus(idle);
    expect(status).toMatchObject({
      online: true,
      coverOpen: false,
      paperEnd: false,
      paperNearEnd: false,
      error: false,
    });
    expect(() => assertReadyToPrint(status)).not.toThrow();
  });

  it('the hardware.md sanity example 0x1A / 0x32 / 0x7E: offline, stopped by paper end, paper end', () => {
    const status = printerStatus({ printer: 0x1a, offlineCause: 0x32, errorCause: 0x12, paper: 0x7e });
    expect(status).toMatchObject({
      online: false,
      paperEnd: true,
      paperNearEnd: true,
      coverOpen: false,
      error: false,
    });
    const error = expectDeviceError(() => assertReadyToPrint(status), 'PRINTER_PAPER_END');
    expect(error).toBeInstanceOf(PaperEndError);
    expect(error.userMessage).toMatch(/paper/i);
  });

  it('refuses with the cause a person fixes first: cover, then paper, then fault, then offline', () => {
    const all = printerStatus({ printer: 0x1a, offlineCause: 0x76, errorCause: 0x1a, paper: 0x72 });
    expect(() => assertReadyToPrint(all)).toThrow(CoverOpenError);
    const noCover = printerStatus({ printer: 0x1a, offlineCause: 0x72, errorCause: 0x1a, paper: 0x72 });
    expect(() => assertReadyToPrint(noCover)).toThrow(PaperEndError);
    const fault = printerStatus({ ...idle, printer: 0x1a, errorCause: 0x1a });
    const error = expectDeviceError(() => assertReadyToPrint(fault), 'PRINTER_FAULT');
    expect(error).toBeInstanceOf(PrinterNotReadyError);
    expect(error.detail).toContain('autocutter');
    expectDeviceError(() => assertReadyToPrint(printerStatus({ ...idle, printer: 0x1a })), 'PRINTER_OFFLINE');
  });

  it('paper near-end alone does not stop a job', () => {
    const status = printerStatus({ ...idle, paper: 0x1e });
    expect(status.paperNearEnd).toBe(true);
    expect(() => assertReadyToPrint(status)).not.toThrow();
  });

  it('a stop by paper end in the offline cause counts as paper end even if the sensor byte is clear', () => {
    expect(printerStatus({ ...idle, printer: 0x1a, offlineCause: 0x32 }).paperEnd).toBe(true);
  });
});
