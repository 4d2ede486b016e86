import { DeviceError } from '../../../src-shared/devices/device-errors.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { DeviceUnavailableError } from '../errors.ts';
import { EscPosPrinterSimulator } from '../simulators/escpos-printer.ts';
import type { PrintJobState, PrintOptions, PrintOutcome, ReceiptPrinter } from './receipt-printer.ts';

/**
 * A receipt printer behind the operating system's print queue (issue 5 §2). The ESC/POS job is decoded (with the
 * simulator's decoder, so there is one ESC/POS reader) to plain text and handed as a small HTML page to the desktop
 * shell's print path. The queue is write-only: status cannot be read, so a job ends at 'sent', never 'confirmed',
 * and nothing is refused for paper or cover. In browser mode there is no print path (DEVICE_UNAVAILABLE).
 */

export const SPOOLER_STATUS_NOTE = 'Status cannot be read for spooler printers.';

/** A job for the desktop shell's print path. */
export interface SpoolJob {
  /** The system printer name; the system default printer when absent. */
  deviceName?: string;
  title: string;
  html: string;
  text: string;
}

/** The desktop shell's print path (Electron: a hidden window printed silently). */
export type SpoolPrint = (job: SpoolJob) => Promise<void>;

export const spoolerUnavailableError = (): DeviceUnavailableError =>
  new DeviceUnavailableError(
    'the system print queue',
    'no desktop print path in this host (browser mode): os-spooler printers need the Electron shell',
    'Printers behind the system print queue work only in the OpenVend desktop app. Here, set the receipt printer as serial, network (TCP 9100) or USB.',
  );

/** A print-path failure as the engine thread receives it from the desktop shell. */
export function spoolFailure(error: { code: string; userMessage: string; detail: string }): DeviceError {
  return new DeviceError('PRINTER_FAULT', error.userMessage, `${error.code}: ${error.detail}`);
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.codePointAt(0)};`);

/** The decoded ESC/POS job as text: every cut page, then what was printed after the last cut. */
export function escPosJobText(job: Uint8Array, columns: number): string {
  const decoder = new EscPosPrinterSimulator(null, { columns, confirms: false });
  decoder.feed(job);
  return [...decoder.pages, ...(decoder.pending ? [decoder.pending] : [])].join('\n\n');
}

/** A print-ready page: monospace, no margins, no scripts and nothing fetched. */
export function spoolHtml(title: string, text: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(title)}</title>`,
    '<style>@page { margin: 2mm } body { margin: 0 } pre { font: 9pt monospace; white-space: pre; margin: 0 }</style>',
    `</head><body><pre>${escapeHtml(text)}</pre></body></html>`,
  ].join('\n');
}

export interface SpoolerPrinterOptions {
  deviceName?: string;
  /** Page width in characters when the job does not say (default 42). */
  columns?: number;
}

export class SpoolerReceiptPrinter implements ReceiptPrinter {
  readonly #spool: SpoolPrint;
  readonly #options: SpoolerPrinterOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(spool: SpoolPrint, options: SpoolerPrinterOptions = {}) {
    this.#spool = spool;
    this.#options = options;
  }

  get deviceName(): string | null {
    return this.#options.deviceName ?? null;
  }

  /** Never readable through the print queue. */
  async status(): Promise<never> {
    throw new DeviceUnavailableError('printer status', 'os-spooler printer: write-only', SPOOLER_STATUS_NOTE);
  }

  print(job: Uint8Array, options: PrintOptions & { columns?: number }): Promise<PrintOutcome> {
    const { jobId } = options;
    const report = (state: PrintJobState, error?: OpenVendError) =>
      options.onState?.({ jobId, state, ...(error ? { error } : {}) });
    report('queued');
    // One job at a time, in order, like the other drivers.
    const run = this.#queue.then(async (): Promise<PrintOutcome> => {
      const text = escPosJobText(job, options.columns ?? this.#options.columns ?? 42);
      try {
        await this.#spool({
          ...(this.#options.deviceName ? { deviceName: this.#options.deviceName } : {}),
          title: `OpenVend ${jobId}`,
          html: spoolHtml(`OpenVend ${jobId}`, text),
          text,
        });
      } catch (error) {
        const failure = isOpenVendError(error)
          ? error
          : new DeviceError(
              'PRINTER_FAULT',
              'The system print queue did not take the receipt.',
              String(error),
            );
        report('failed', failure);
        throw failure;
      }
      report('sent');
      return { jobId, state: 'sent', status: null, unconfirmed: SPOOLER_STATUS_NOTE };
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {}
}
