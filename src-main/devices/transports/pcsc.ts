import { existsSync } from 'node:fs';
import { DeviceUnavailableError } from '../errors.ts';
import { loadNative } from '../native.ts';
import type { CloseEvent, CloseListener, TransportInfo } from './transport.ts';

/**
 * Smart-card readers through PC/SC (`@pokusew/pcsclite`, an optional dependency that compiles on install and needs
 * the pcscd service at run time). Memory cards (SLE4442) are driven with reader pseudo-APDUs, so the transport is
 * APDU in, response (data + SW) out, plus card insert/remove events.
 */

export type CardEvent = { type: 'inserted'; atr: Uint8Array } | { type: 'removed' };

export interface ApduTransport {
  readonly info: TransportInfo;
  readonly isOpen: boolean;
  /** The card in the reader (its ATR), or null. */
  readonly card: { atr: Uint8Array } | null;
  open(): Promise<void>;
  /** Resolves with the ATR once a card is in the reader (at once if one is); rejects when the signal aborts. */
  waitForCard(signal?: AbortSignal): Promise<Uint8Array>;
  /** One APDU; the response ends with SW1 SW2. */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  onCardEvent(listener: (event: CardEvent) => void): () => void;
  onClose(listener: CloseListener): () => void;
  close(): Promise<void>;
}

/** Insert/remove plumbing shared by the PC/SC transport and the simulated reader. */
export abstract class BaseApduTransport implements ApduTransport {
  abstract readonly info: TransportInfo;
  readonly #cardListeners = new Set<(event: CardEvent) => void>();
  readonly #closeListeners = new Set<CloseListener>();
  #card: { atr: Uint8Array } | null = null;
  #open = false;

  get isOpen(): boolean {
    return this.#open;
  }

  get card(): { atr: Uint8Array } | null {
    return this.#card;
  }

  abstract open(): Promise<void>;
  abstract transmit(apdu: Uint8Array): Promise<Uint8Array>;
  abstract close(): Promise<void>;

  waitForCard(signal?: AbortSignal): Promise<Uint8Array> {
    if (this.#card) return Promise.resolve(this.#card.atr);
    return new Promise((resolve, reject) => {
      const done = () => {
        offCard();
        offClose();
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(signal?.reason ?? new Error('aborted'));
      };
      const offCard = this.onCardEvent((event) => {
        if (event.type !== 'inserted') return;
        done();
        resolve(event.atr);
      });
      const offClose = this.onClose((event) => {
        done();
        reject(new Error(event.detail));
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  onCardEvent(listener: (event: CardEvent) => void): () => void {
    this.#cardListeners.add(listener);
    return () => this.#cardListeners.delete(listener);
  }

  onClose(listener: CloseListener): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  protected markOpen(): void {
    this.#open = true;
  }

  protected setCard(atr: Uint8Array | null): void {
    this.#card = atr ? { atr: Uint8Array.from(atr) } : null;
    const event: CardEvent = atr ? { type: 'inserted', atr: Uint8Array.from(atr) } : { type: 'removed' };
    for (const listener of [...this.#cardListeners]) listener(event);
  }

  protected emitClose(event: CloseEvent): void {
    if (!this.#open) return;
    this.#open = false;
    this.#card = null;
    for (const listener of [...this.#closeListeners]) listener(event);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// @pokusew/pcsclite

interface PcscReader {
  name: string;
  SCARD_STATE_PRESENT: number;
  SCARD_STATE_CHANGED: number;
  SCARD_SHARE_SHARED: number;
  SCARD_LEAVE_CARD: number;
  on(event: 'status', listener: (status: { state: number; atr?: Buffer }) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  connect(options: { share_mode: number }, callback: (error: unknown, protocol: number) => void): void;
  disconnect(disposition: number, callback: (error: unknown) => void): void;
  transmit(
    data: Buffer,
    responseLength: number,
    protocol: number,
    callback: (error: unknown, response: Buffer) => void,
  ): void;
  close(): void;
}

interface PcscContext {
  on(event: 'reader', listener: (reader: PcscReader) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): void;
}

type PcscFactory = () => PcscContext;

/** pcscd's socket on Linux (PCSCLITE_CSOCK_NAME); PCSCLITE_CSOCK_NAME overrides it, as for libpcsclite. */
const PCSCD_SOCKET = process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';

const loadPcsc = async (): Promise<PcscFactory> => {
  // Without the daemon, libpcsclite's context call blocks the thread it runs on: never make it then.
  if (process.platform === 'linux' && !existsSync(PCSCD_SOCKET)) {
    throw new DeviceUnavailableError(
      'smart-card readers (PC/SC)',
      `the PC/SC service is not running (no ${PCSCD_SOCKET}; start pcscd)`,
      'The smart-card service (pcscd) is not running on this computer. Start it, or call support.',
    );
  }
  const module = await loadNative<PcscFactory | { default: PcscFactory }>(
    '@pokusew/pcsclite',
    'smart-card readers (PC/SC)',
  );
  return typeof module === 'function' ? module : module.default;
};

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The names of the PC/SC readers present now (waits briefly for pcscd to announce them). */
export async function listPcscReaders(waitMs = 300): Promise<string[]> {
  const pcsc = (await loadPcsc())();
  const names: string[] = [];
  pcsc.on('reader', (reader) => names.push(reader.name));
  pcsc.on('error', () => {});
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  pcsc.close();
  return names;
}

export interface PcscTransportOptions {
  /** Part of the reader name to match (e.g. "ACR38"); the first reader when absent. */
  readerName?: string;
  /** How long open() waits for pcscd to announce a matching reader. */
  findTimeoutMs?: number;
}

/** Largest response we ask for: 256 data bytes + SW. */
const MAX_RESPONSE = 258;

export class PcscTransport extends BaseApduTransport {
  info: TransportInfo;
  readonly #options: PcscTransportOptions;
  #context: PcscContext | null = null;
  #reader: PcscReader | null = null;
  #protocol: number | null = null;
  #closing = false;

  constructor(options: PcscTransportOptions = {}) {
    super();
    this.#options = options;
    this.info = { kind: 'pcsc', path: options.readerName ?? 'first PC/SC reader' };
  }

  async open(): Promise<void> {
    const pcsc = (await loadPcsc())();
    this.#context = pcsc;
    this.#closing = false;
    const wanted = this.#options.readerName?.toLowerCase();
    const reader = await new Promise<PcscReader>((resolve, reject) => {
      const timer = setTimeout(() => {
        pcsc.close();
        reject(new Error(`no PC/SC reader matching ${JSON.stringify(this.#options.readerName ?? '*')}`));
      }, this.#options.findTimeoutMs ?? 2000);
      pcsc.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`PC/SC: ${error.message}`));
      });
      pcsc.on('reader', (r) => {
        if (wanted && !r.name.toLowerCase().includes(wanted)) return;
        clearTimeout(timer);
        resolve(r);
      });
    });
    this.#reader = reader;
    this.info = { kind: 'pcsc', path: reader.name };
    reader.on('error', () => {});
    reader.on('end', () => this.emitClose({ unexpected: !this.#closing, detail: `${reader.name} removed` }));
    reader.on('status', (status) => {
      const present = (status.state & reader.SCARD_STATE_PRESENT) !== 0;
      if (present && !this.card) {
        reader.connect({ share_mode: reader.SCARD_SHARE_SHARED }, (error, protocol) => {
          if (error) return;
          this.#protocol = protocol;
          this.setCard(status.atr ? Uint8Array.from(status.atr) : new Uint8Array());
        });
      } else if (!present && this.card) {
        this.#protocol = null;
        this.setCard(null);
      }
    });
    this.markOpen();
  }

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const reader = this.#reader;
    const protocol = this.#protocol;
    if (!reader || !this.isOpen) return Promise.reject(new Error(`${this.info.path} is not open`));
    if (protocol === null) return Promise.reject(new Error(`${this.info.path}: no card`));
    return new Promise((resolve, reject) =>
      reader.transmit(Buffer.from(apdu), MAX_RESPONSE, protocol, (error, response) =>
        error
          ? reject(new Error(`${this.info.path}: ${errorText(error)}`))
          : resolve(Uint8Array.from(response)),
      ),
    );
  }

  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.#closing = true;
    const reader = this.#reader;
    if (reader && this.#protocol !== null) {
      await new Promise<void>((resolve) => reader.disconnect(reader.SCARD_LEAVE_CARD, () => resolve()));
    }
    this.#context?.close();
    this.emitClose({ unexpected: false, detail: `${this.info.path} closed` });
  }
}
