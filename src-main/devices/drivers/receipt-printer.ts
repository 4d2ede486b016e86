import { isDeviceError } from '../../../src-shared/devices/device-errors.ts';
import {
  assertReadyToPrint,
  isStatusReply,
  type PrinterStatus,
  printerStatus,
  STATUS_REQUESTS,
  type StatusReplies,
  statusRequest,
} from '../../../src-shared/devices/escpos.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import type { ByteTransport } from '../transports/transport.ts';
import { DeviceChannel } from './channel.ts';

/**
 * ESC/POS receipt printer (hardware.md §1, §5). Before every job it asks DLE EOT 1–4, one request and one reply byte
 * at a time, and refuses to print when the printer is offline, out of paper, has its cover open or reports a fault.
 * A job goes queued → sent (every byte left this computer) → confirmed (only with `confirm: 'gs-r'`: the printer
 * answered GS r 1, which it processes in order with the print data) or failed. A job is never re-sent by the driver:
 * printing again is the caller's explicit decision (a reprint marked COPY).
 */

export type PrintJobState = 'queued' | 'sent' | 'confirmed' | 'failed';

export interface PrintJobUpdate {
  jobId: string;
  state: PrintJobState;
  error?: OpenVendError;
}

export interface PrintOptions {
  jobId: string;
  /** Called at every state change, so the caller can record it (the ledger does). */
  onState?: (update: PrintJobUpdate) => void;
  /** Page width in characters, for drivers that render the job themselves (the OS spooler). */
  columns?: number;
}

export interface PrintOutcome {
  jobId: string;
  state: 'sent' | 'confirmed';
  /** The status read just before the job (near-end is a warning, not a refusal); null where it cannot be read. */
  status: PrinterStatus | null;
  /** Why a job that left the computer could not be confirmed (confirm mode only). */
  unconfirmed?: string;
}

export interface ReceiptPrinter {
  status(): Promise<PrinterStatus>;
  print(job: Uint8Array, options: PrintOptions): Promise<PrintOutcome>;
  close(): Promise<void>;
}

export interface EscPosPrinterOptions {
  /** Per DLE EOT request (default 1000 ms). */
  statusTimeoutMs?: number;
  /** 'gs-r': confirm each job with GS r 1 (only on printers that answer it). Default 'none'. */
  confirm?: 'none' | 'gs-r';
  /** How long the printer may take to print a job before its GS r reply (default 15 s). */
  confirmTimeoutMs?: number;
}

const GS_R_PAPER = Uint8Array.of(0x1d, 0x72, 0x01);
const REPLY_KEYS: Record<(typeof STATUS_REQUESTS)[number], keyof StatusReplies> = {
  printer: 'printer',
  'offline-cause': 'offlineCause',
  'error-cause': 'errorCause',
  paper: 'paper',
};

export class EscPosReceiptPrinter implements ReceiptPrinter {
  readonly channel: DeviceChannel;
  readonly #options: Required<EscPosPrinterOptions>;

  constructor(transport: ByteTransport, options: EscPosPrinterOptions = {}) {
    this.channel = new DeviceChannel(transport, 'receipt-printer');
    this.#options = { statusTimeoutMs: 1000, confirm: 'none', confirmTimeoutMs: 15_000, ...options };
  }

  status(): Promise<PrinterStatus> {
    return this.channel.run(async () => {
      await this.channel.open();
      return this.#readStatus();
    });
  }

  print(job: Uint8Array, options: PrintOptions): Promise<PrintOutcome & { status: PrinterStatus }> {
    const { jobId } = options;
    const report = (state: PrintJobState, error?: OpenVendError) =>
      options.onState?.({ jobId, state, ...(error ? { error } : {}) });
    report('queued');
    return this.channel.run(async () => {
      let sent = false;
      try {
        await this.channel.open();
        const status = await this.#readStatus();
        assertReadyToPrint(status);
        await this.channel.send(`print job ${jobId}`, job);
        sent = true;
        report('sent');
        if (this.#options.confirm === 'none') return { jobId, state: 'sent', status };
        try {
          await this.channel.exchange({
            command: `confirm job ${jobId} (GS r 1)`,
            bytes: GS_R_PAPER,
            collect: (chunk) => (chunk.length > 0 ? true : undefined),
            timeoutMs: this.#options.confirmTimeoutMs,
          });
        } catch (error) {
          // The bytes left; whether they printed is unknown. Never re-send: say so and let a person look.
          return { jobId, state: 'sent', status, unconfirmed: describe(error) };
        }
        report('confirmed');
        return { jobId, state: 'confirmed', status };
      } catch (error) {
        if (!sent) report('failed', isOpenVendError(error) ? error : undefined);
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.channel.transport.close();
  }

  /** DLE EOT 1..4, one at a time; bytes that are not status replies (garbage, stray ASB) are skipped. */
  async #readStatus(): Promise<PrinterStatus> {
    const replies: Partial<StatusReplies> = {};
    for (const kind of STATUS_REQUESTS) {
      replies[REPLY_KEYS[kind]] = await this.channel.exchange({
        command: `DLE EOT (${kind})`,
        bytes: statusRequest(kind),
        collect: (chunk) => chunk.find((byte) => isStatusReply(byte)),
        timeoutMs: this.#options.statusTimeoutMs,
      });
    }
    return printerStatus(replies as StatusReplies);
  }
}

const describe = (error: unknown): string =>
  isDeviceError(error) ? error.detail : error instanceof Error ? error.message : String(error);
