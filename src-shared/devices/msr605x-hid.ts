import { DeviceDataError } from './device-errors.ts';

/**
 * MSR605X USB-HID framing (VID 0x0801, PID 0x0003; hardware.md §2.1): the MSR206 protocol cut into 64-byte reports.
 * Each report is one header byte plus up to 63 payload bytes; the rest is padding whose content is garbage.
 * Header: bit 7 = first report of a message, bit 6 = last report, bits 0–5 = payload length.
 * A 2-byte command is one report with header 0xC2; a 141-byte message is 0xBF, 0x3F, 0x4F.
 *
 * Host → device goes out as a feature report in two public drivers (node-hid `sendFeatureReport` with report id 0
 * first: `withReportId`). One other driver uses a different framing; confirm with a USB capture on the real unit.
 */

export const HID_REPORT_SIZE = 64;
export const HID_PAYLOAD_SIZE = 63;
export const MSR605X_VENDOR_ID = 0x0801;
export const MSR605X_PRODUCT_ID = 0x0003;

const FIRST = 0x80;
const LAST = 0x40;
const LENGTH = 0x3f;

/** Cuts a message into 64-byte reports (zero padding). */
export function frameHidMessage(message: Uint8Array): Uint8Array[] {
  if (message.length === 0) {
    throw new DeviceDataError('There is nothing to send to the card encoder.', 'empty MSR605X HID message');
  }
  const reports: Uint8Array[] = [];
  for (let offset = 0; offset < message.length; offset += HID_PAYLOAD_SIZE) {
    const payload = message.subarray(offset, offset + HID_PAYLOAD_SIZE);
    const report = new Uint8Array(HID_REPORT_SIZE);
    report[0] =
      (offset === 0 ? FIRST : 0) | (offset + payload.length >= message.length ? LAST : 0) | payload.length;
    report.set(payload, 1);
    reports.push(report);
  }
  return reports;
}

/** Prepends the report id node-hid needs as the first byte of a write (0 when the device has none). */
export function withReportId(report: Uint8Array, reportId = 0): Uint8Array {
  const out = new Uint8Array(report.length + 1);
  out[0] = reportId;
  out.set(report, 1);
  return out;
}

/**
 * Reassembles device → host reports into messages by the header bits. It never throws: a report that cannot
 * belong to a message (continuation without a start, length beyond the report) is dropped, and a message cut short by
 * a new start is abandoned; both are counted for diagnostics, and the command waiting for that reply times out.
 */
export class HidMessageAssembler {
  #parts: Uint8Array[] | null = null;
  #droppedReports = 0;
  #abandonedMessages = 0;

  /** Feeds one input report (64 bytes, no report id); returns the message it completes, if any. */
  push(report: Uint8Array): Uint8Array | null {
    const header = report[0];
    if (header === undefined || (header & LENGTH) > report.length - 1) {
      this.#droppedReports++;
      return null;
    }
    if (header & FIRST) {
      if (this.#parts !== null) this.#abandonedMessages++;
      this.#parts = [];
    } else if (this.#parts === null) {
      this.#droppedReports++;
      return null;
    }
    this.#parts.push(report.slice(1, 1 + (header & LENGTH)));
    if (!(header & LAST)) return null;
    const parts = this.#parts;
    this.#parts = null;
    const message = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      message.set(part, offset);
      offset += part.length;
    }
    return message;
  }

  /** True while a message has started but not ended. */
  get inProgress(): boolean {
    return this.#parts !== null;
  }

  get droppedReports(): number {
    return this.#droppedReports;
  }

  get abandonedMessages(): number {
    return this.#abandonedMessages;
  }

  reset(): void {
    this.#parts = null;
  }
}
