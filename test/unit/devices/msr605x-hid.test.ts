import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MsrReplyParser, msrCommands } from '../../../src-shared/devices/msr206.ts';
import {
  frameHidMessage,
  HID_PAYLOAD_SIZE,
  HID_REPORT_SIZE,
  HidMessageAssembler,
  withReportId,
} from '../../../src-shared/devices/msr605x-hid.ts';
import { ascii, bytes, expectDeviceError, hex } from './support.ts';

const message = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);

describe('MSR605X HID framing: examples', () => {
  it('a 2-byte command is one report with header 0xC2, zero padded to 64 bytes', () => {
    const [report, ...rest] = frameHidMessage(msrCommands.communicationTest().bytes);
    expect(rest).toEqual([]);
    expect(report).toHaveLength(HID_REPORT_SIZE);
    expect(hex(report!.subarray(0, 4))).toBe('c2 1b 65 00');
    expect(report!.subarray(3).every((b) => b === 0)).toBe(true);
  });

  it('a 141-byte message is three reports: 0xBF, 0x3F, 0x4F', () => {
    const reports = frameHidMessage(message(141));
    expect(reports.map((report) => report[0])).toEqual([0xbf, 0x3f, 0x4f]);
  });

  it('exactly 63 bytes is one report 0xFF; 64 bytes is 0xBF then 0x41', () => {
    expect(frameHidMessage(message(63)).map((r) => r[0])).toEqual([0xff]);
    expect(frameHidMessage(message(64)).map((r) => r[0])).toEqual([0xbf, 0x41]);
    expect(frameHidMessage(message(126)).map((r) => r[0])).toEqual([0xbf, 0x7f]);
  });

  it('refuses an empty message', () => {
    expectDeviceError(() => frameHidMessage(new Uint8Array()), 'DEVICE_INVALID_DATA');
  });

  it('withReportId prepends the report id node-hid needs', () => {
    const report = frameHidMessage(bytes('1b 61'))[0]!;
    const out = withReportId(report);
    expect(out).toHaveLength(65);
    expect(hex(out.subarray(0, 4))).toBe('00 c2 1b 61');
    expect(withReportId(report, 0xff)[0]).toBe(0xff);
  });
});

describe('MSR605X HID framing: properties around the 63-byte boundary (fast-check, fixed seed)', () => {
  const lengths = fc.oneof(
    fc.constantFrom(1, 2, 61, 62, 63, 64, 65, 125, 126, 127, 128, 188, 189, 190),
    fc.integer({ min: 1, max: 400 }),
  );

  it('frames then reassembles to the same message, whatever garbage fills the padding', () => {
    fc.assert(
      fc.property(lengths, fc.integer({ min: 0, max: 255 }), (length, fill) => {
        const original = message(length);
        const reports = frameHidMessage(original);
        expect(reports).toHaveLength(Math.ceil(length / HID_PAYLOAD_SIZE));
        reports.forEach((report, i) => {
          const payload = Math.min(HID_PAYLOAD_SIZE, length - i * HID_PAYLOAD_SIZE);
          expect(report).toHaveLength(HID_REPORT_SIZE);
          expect(report[0]! & 0x80).toBe(i === 0 ? 0x80 : 0);
          expect(report[0]! & 0x40).toBe(i === reports.length - 1 ? 0x40 : 0);
          expect(report[0]! & 0x3f).toBe(payload);
          report.fill(fill, 1 + payload); // device padding is garbage
        });
        const assembler = new HidMessageAssembler();
        const outputs = reports.map((report) => assembler.push(report));
        expect(outputs.slice(0, -1).every((out) => out === null)).toBe(true);
        expect(hex(outputs.at(-1)!)).toBe(hex(original));
        expect(assembler.inProgress).toBe(false);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('several messages back to back come out separately and in order', () => {
    fc.assert(
      fc.property(fc.array(lengths, { minLength: 1, maxLength: 5 }), (sizes) => {
        const assembler = new HidMessageAssembler();
        const out: string[] = [];
        for (const size of sizes) {
          for (const report of frameHidMessage(message(size))) {
            const done = assembler.push(report);
            if (done) out.push(hex(done));
          }
        }
        expect(out).toEqual(sizes.map((size) => hex(message(size))));
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('HidMessageAssembler faults', () => {
  it('drops a continuation with no first report, and a header longer than the report', () => {
    const assembler = new HidMessageAssembler();
    const [, second] = frameHidMessage(message(100));
    expect(assembler.push(second!)).toBeNull();
    expect(assembler.push(bytes('05 1b'))).toBeNull();
    expect(assembler.push(new Uint8Array())).toBeNull();
    expect(assembler.droppedReports).toBe(3);
    expect(assembler.inProgress).toBe(false);
  });

  it('abandons a message cut short by a new first report and keeps the new one', () => {
    const assembler = new HidMessageAssembler();
    const [first] = frameHidMessage(message(100));
    expect(assembler.push(first!)).toBeNull();
    const whole = frameHidMessage(bytes('1b 79'))[0]!;
    expect(hex(assembler.push(whole)!)).toBe('1b 79');
    expect(assembler.abandonedMessages).toBe(1);
  });

  it('reset drops a partial message', () => {
    const assembler = new HidMessageAssembler();
    const [first, second] = frameHidMessage(message(100));
    assembler.push(first!);
    assembler.reset();
    expect(assembler.push(second!)).toBeNull();
    expect(assembler.droppedReports).toBe(1);
  });
});

describe('HID reports into the MSR reply parser', () => {
  it('a multi-report ISO read reply parses once the last report arrives', () => {
    const reply = Uint8Array.from([
      ...bytes('1b 73 1b 01'),
      ...ascii(`%${'A'.repeat(76)}?`),
      ...bytes('1b 02'),
      ...ascii(`;${'1'.repeat(37)}?`),
      ...bytes('1b 03 1b 2b 3f 1c 1b 30'),
    ]);
    expect(reply.length).toBeGreaterThan(2 * HID_PAYLOAD_SIZE);
    const assembler = new HidMessageAssembler();
    const parser = new MsrReplyParser();
    parser.expect('iso-read');
    const replies = frameHidMessage(reply).flatMap((report) => {
      const done = assembler.push(report);
      return done ? parser.push(done) : [];
    });
    expect(replies).toEqual([
      {
        kind: 'iso-read',
        status: 0x30,
        tracks: { 1: 'A'.repeat(76), 2: '1'.repeat(37) },
        empty: [3],
        unreadable: [],
      },
    ]);
  });
});
