import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  type CardOperationView,
  type CarrierJobView,
  DEVICE_ROLES,
  type DeviceCandidates,
  type DeviceConfig,
  type DeviceRole,
  type DeviceStatusView,
  type DeviceView,
  type PrintResult,
} from '../../src-shared/bridge/device-schemas.ts';
import type { SaleResult } from '../../src-shared/bridge/domain-schemas.ts';
import { DeviceDataError, DeviceNotFoundError } from '../../src-shared/devices/device-errors.ts';
import {
  assertReadyToPrint,
  DEFAULT_CODE_PAGE,
  EscPosBuilder,
  escPosCodePage,
} from '../../src-shared/devices/escpos.ts';
import { DEFAULT_IC_CARD_LAYOUT } from '../../src-shared/devices/ic-card-layout.ts';
import { DEFAULT_MAG_CARD_LAYOUT, magCardLayout } from '../../src-shared/devices/mag-card-layout.ts';
import { renderReceiptEscPos } from '../../src-shared/devices/receipt-escpos.ts';
import { isOpenVendError, type OpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { formatMoney } from '../../src-shared/vending/money.ts';
import type { Receipt, ReceiptColumns } from '../../src-shared/vending/receipt.ts';
import { EngineError } from '../engine/errors.ts';
import { type OperatorSession, requirePermission } from '../engine/operators.ts';
import type { Clock, VendEngine } from '../engine/vend-engine.ts';
import {
  type KekSource,
  kekFromEnvironmentOrFile,
  sealSecret,
  unsealSecret,
} from '../security/key-encryption-key.ts';
import { type DeviceManager, type DeviceManagerOptions, DeviceManager as Manager } from './device-manager.ts';
import {
  type CarrierState,
  carrierJobsOf,
  insertCarrierJob,
  originalMayHavePrinted,
  readDeviceConfigs,
  removeDeviceConfig,
  type StoredDeviceConfig,
  saveDeviceConfig,
  updateCarrierJob,
} from './device-store.ts';
import { discoverCandidates, systemDiscovery } from './discovery.ts';
import { SPOOLER_STATUS_NOTE, SpoolerReceiptPrinter } from './drivers/spooler-printer.ts';
import { DeviceBusyError } from './errors.ts';
import { renderPageSvg, svgDataUrl } from './simulators/receipt-svg.ts';
import { SIMULATED_PSC_HEX, type SimulatedDevices } from './simulators/simulated-devices.ts';

/**
 * The engine's device service behind the bridge methods (devices.*, receipt.print, card.*). It runs in the
 * engine thread. The sale is always committed before a device is touched; printing and card writing are separate,
 * repeatable steps recorded in `carrier_job` (queued → sent → confirmed / verified, or failed); nothing is re-sent
 * by itself, and a second print of a receipt is an explicit copy, marked COPY and audited.
 */

export interface DeviceServiceOptions
  extends Pick<DeviceManagerOptions, 'discovery' | 'createSerialPort' | 'openHid' | 'timeouts' | 'spool'> {
  sqlite: Database.Database;
  engine: VendEngine;
  dataDir: string;
  /** Seals the IC-card PSC; the outlet's KEK (OPENVEND_KEK or kek.key) by default, loaded only when needed. */
  kek?: KekSource;
  /** With simulators, roles without settings use them (`--simulate-devices`). */
  simulators?: SimulatedDevices | null;
  clock?: Clock;
}

const PSC_CONTEXT = 'device:ic-encoder:psc';

const SIMULATED_CONFIGS: Readonly<Record<DeviceRole, DeviceConfig | null>> = {
  'receipt-printer': {
    role: 'receipt-printer',
    connection: { type: 'simulator' },
    settings: { qrCode: true, cut: 'partial', confirm: 'gs-r' },
  },
  'magnetic-encoder': {
    role: 'magnetic-encoder',
    connection: { type: 'simulator' },
    settings: { model: 'msr206', coercivity: 'hi' },
  },
  'ic-encoder': {
    role: 'ic-encoder',
    connection: { type: 'simulator' },
    settings: { profile: 'acs-acr38', minTriesLeft: 3 },
  },
  // The card reader is the magnetic encoder unless set otherwise.
  'card-reader': null,
};

const describeError = (error: unknown): { code: string; message: string } =>
  isOpenVendError(error)
    ? { code: error.code, message: error.userMessage }
    : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };

export class DeviceService {
  readonly manager: DeviceManager;
  readonly #options: DeviceServiceOptions;
  readonly #clock: Clock;
  #cardOperation: { controller: AbortController; view: CardOperationView } | null = null;

  constructor(options: DeviceServiceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.manager = new Manager({
      configs: () => this.#configs(),
      simulators: options.simulators ?? null,
      ...(options.discovery ? { discovery: options.discovery } : {}),
      ...(options.createSerialPort ? { createSerialPort: options.createSerialPort } : {}),
      ...(options.openHid ? { openHid: options.openHid } : {}),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
      ...(options.spool ? { spool: options.spool } : {}),
    });
  }

  get simulators(): SimulatedDevices | null {
    return this.#options.simulators ?? null;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Settings

  async list(): Promise<{ devices: DeviceView[]; candidates: DeviceCandidates; simulated: boolean }> {
    const stored = readDeviceConfigs(this.#options.sqlite);
    const devices = DEVICE_ROLES.map((role) => this.#view(role, stored.get(role)));
    const candidates = await discoverCandidates(this.#options.discovery ?? systemDiscovery);
    return { devices, candidates, simulated: this.simulators !== null };
  }

  async configure(session: OperatorSession, config: DeviceConfig, pscHex?: string): Promise<DeviceView> {
    requirePermission(session, 'masterData');
    if (config.role === 'magnetic-encoder' && config.settings.layout) magCardLayout(config.settings.layout);
    if (config.role === 'receipt-printer' && config.settings.codePage) {
      escPosCodePage(config.settings.codePage.table, config.settings.codePage.escT);
    }
    if (pscHex !== undefined && config.role !== 'ic-encoder') {
      throw new DeviceDataError(
        'A card security code belongs to the IC card encoder only.',
        `psc given for ${config.role}`,
      );
    }
    const sealed =
      pscHex === undefined ? undefined : sealSecret(this.#kek(), Buffer.from(pscHex, 'hex'), PSC_CONTEXT);
    saveDeviceConfig(this.#options.sqlite, config, sealed, session.id, this.#clock());
    await this.manager.invalidate(config.role);
    return this.#view(config.role, readDeviceConfigs(this.#options.sqlite).get(config.role));
  }

  async remove(session: OperatorSession, role: DeviceRole): Promise<void> {
    requirePermission(session, 'masterData');
    removeDeviceConfig(this.#options.sqlite, role, session.id, this.#clock());
    await this.manager.invalidate(role);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Status

  async status(role?: DeviceRole): Promise<DeviceStatusView[]> {
    const roles = role ? [role] : [...DEVICE_ROLES];
    const out: DeviceStatusView[] = [];
    for (const r of roles) out.push(await this.#status(r));
    return out;
  }

  async #status(role: DeviceRole): Promise<DeviceStatusView> {
    const base = { role, code: null, printer: null, operation: null };
    const operation = this.#cardOperation?.view ?? null;
    const usesCardOperation =
      operation !== null &&
      (role === 'ic-encoder'
        ? operation.carrier === 'ic'
        : role !== 'receipt-printer' && operation.carrier === 'magnetic');
    if (!this.manager.config(role === 'card-reader' ? this.#readerRole() : role)) {
      return { ...base, state: 'not-configured', message: 'No device is set for this role.' };
    }
    if (usesCardOperation) {
      return { ...base, state: 'ready', message: 'Busy with a card.', operation };
    }
    try {
      if (role === 'receipt-printer') {
        const { driver, description } = await this.manager.printer();
        if (driver instanceof SpoolerReceiptPrinter) {
          return { ...base, state: 'ready', message: `Ready (${description}). ${SPOOLER_STATUS_NOTE}` };
        }
        const status = await driver.status();
        const printer = {
          online: status.online,
          paperEnd: status.paperEnd,
          paperNearEnd: status.paperNearEnd,
          coverOpen: status.coverOpen,
          error: status.error,
        };
        try {
          assertReadyToPrint(status);
        } catch (error) {
          const { code, message } = describeError(error);
          return { ...base, state: 'not-ready', code, message, printer };
        }
        const message = status.paperNearEnd ? 'Ready. Paper is running low.' : 'Ready.';
        return { ...base, state: 'ready', message, printer };
      }
      if (role === 'ic-encoder') {
        const { driver } = await this.manager.icEncoder();
        const message = driver.transport.card ? 'Ready, card inserted.' : 'Ready. No card inserted.';
        return { ...base, state: 'ready', message };
      }
      const { driver } =
        role === 'card-reader' ? await this.manager.cardReader() : await this.manager.magneticEncoder();
      await driver.probe();
      return { ...base, state: 'ready', message: 'Ready.' };
    } catch (error) {
      const { code, message } = describeError(error);
      const state = code === 'DEVICE_UNAVAILABLE' ? 'unavailable' : 'disconnected';
      return { ...base, state, code, message };
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Printing

  async testPrint(session: OperatorSession): Promise<PrintResult> {
    const { driver, description, simulated } = await this.manager.printer();
    const outlet = this.#options.engine.outlet();
    const config = this.manager.config('receipt-printer');
    const settings = config?.role === 'receipt-printer' ? config.settings : null;
    const page = settings?.codePage
      ? escPosCodePage(settings.codePage.table, settings.codePage.escT)
      : DEFAULT_CODE_PAGE;
    const job = new EscPosBuilder(page)
      .initialize()
      .align('centre')
      .bold()
      .line('OPENVEND TEST PRINT')
      .bold(false)
      .line(outlet.name)
      .line(this.#clock().toISOString().slice(0, 16).replace('T', ' '))
      .align('left')
      .line('àâçéèêëîïôûùüÿ ÀÇÉÈÊÔ ãõÃÕ €')
      .line('0123456789 '.repeat(4).slice(0, this.#columns()))
      .feed(4);
    if (settings?.cut !== 'none') job.cut(settings?.cut ?? 'partial');
    return this.#print(driver, job.encode(), {
      session,
      receiptNo: null,
      copy: false,
      carrier: 'test-print',
      description,
      simulated,
    });
  }

  async printReceipt(session: OperatorSession, receiptNo: number, copy: boolean): Promise<PrintResult> {
    const stored = this.#storedSale(receiptNo);
    if (!copy && originalMayHavePrinted(this.#options.sqlite, receiptNo)) {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        'This receipt was already sent to the printer. Check the printer; to print it again, print a copy (marked COPY).',
        `receipt ${receiptNo}: an original print is already sent, confirmed or in progress`,
      );
    }
    if (copy) requirePermission(session, 'reprint');
    const { driver, description, simulated } = await this.manager.printer();
    // The reprint is audited by the engine (and marked COPY) only once a printer is there to print it.
    const receipt: Receipt = copy ? this.#options.engine.reprint(session, receiptNo).receipt : stored.receipt;
    const config = this.manager.config('receipt-printer');
    const settings = config?.role === 'receipt-printer' ? config.settings : null;
    const currency = {
      code: this.#options.engine.utility.currencyCode,
      minorUnits: this.#options.engine.utility.currencyMinorUnits,
    };
    const job = renderReceiptEscPos(receipt, {
      columns: this.#columns(),
      formatMoney: (minor) => formatMoney(minor, currency),
      ...(settings?.codePage
        ? { codePage: escPosCodePage(settings.codePage.table, settings.codePage.escT) }
        : {}),
      qrCode: settings?.qrCode ? {} : false,
      cut: settings?.cut ?? 'partial',
    });
    return this.#print(driver, job, {
      session,
      receiptNo,
      copy,
      carrier: 'receipt',
      description,
      simulated,
    });
  }

  async #print(
    driver: Awaited<ReturnType<DeviceManager['printer']>>['driver'],
    job: Uint8Array,
    meta: {
      session: OperatorSession;
      receiptNo: number | null;
      copy: boolean;
      carrier: 'receipt' | 'test-print';
      description: string;
      simulated: boolean;
    },
  ): Promise<PrintResult> {
    const jobId = randomUUID();
    const sqlite = this.#options.sqlite;
    insertCarrierJob(
      sqlite,
      {
        jobId,
        receiptNo: meta.receiptNo,
        carrier: meta.carrier,
        copy: meta.copy,
        device: meta.description,
        operatorId: meta.session.id,
      },
      this.#clock(),
    );
    const outcome = await driver.print(job, {
      jobId,
      columns: this.#columns(),
      onState: ({ state, error }) => {
        if (state !== 'queued') {
          updateCarrierJob(sqlite, jobId, state, this.#clock(), error ? describeError(error) : undefined);
        }
      },
    });
    const warnings =
      outcome.status === null
        ? [
            `Sent to the system print queue. ${SPOOLER_STATUS_NOTE} Check that the receipt printed before giving it to the customer.`,
          ]
        : [
            outcome.status.paperNearEnd ? 'Paper is running low: load a new roll soon.' : null,
            outcome.unconfirmed
              ? 'The printer did not confirm the receipt: check that it printed before giving it to the customer.'
              : null,
          ].filter((w): w is string => w !== null);
    const simulator = meta.simulated ? (this.simulators?.printer.simulator ?? null) : null;
    const layout = simulator?.lastLayout() ?? null;
    return {
      jobId,
      receiptNo: meta.receiptNo,
      copy: meta.copy,
      state: outcome.state,
      warning: warnings.join(' ') || null,
      preview: simulator?.lastPage() ?? null,
      previewImage: simulator && layout ? svgDataUrl(renderPageSvg(layout, simulator.columns)) : null,
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Cards

  async writeCard(
    session: OperatorSession,
    receiptNo: number,
    carrier?: 'magnetic' | 'ic',
  ): Promise<{
    jobId: string;
    receiptNo: number;
    carrier: 'magnetic' | 'ic';
    meterNo: string;
    tokenCount: number;
    state: 'verified';
  }> {
    const sale = this.#storedSale(receiptNo);
    const tokens = [
      ...sale.tokens.filter((t) => t.kind === 'key-change'),
      ...sale.tokens.filter((t) => t.kind !== 'key-change'),
    ].map((t) => t.digits);
    if (tokens.length === 0 || sale.meterNo === null) {
      throw new DeviceDataError(
        'This sale has no tokens to write to a card.',
        `receipt ${receiptNo} (${sale.kind}) has no tokens`,
      );
    }
    const meterNo = sale.meterNo;
    const chosen = carrier ?? this.#defaultCarrier();
    return this.#cardOperationRun({ kind: 'write', carrier: chosen }, async (signal, phase) => {
      const jobId = randomUUID();
      const sqlite = this.#options.sqlite;
      const record = (state: CarrierState, error?: OpenVendError) =>
        updateCarrierJob(sqlite, jobId, state, this.#clock(), error ? describeError(error) : undefined);
      if (chosen === 'magnetic') {
        const config = this.manager.config('magnetic-encoder');
        const layout = magCardLayout(
          (config?.role === 'magnetic-encoder' ? config.settings.layout : undefined) ??
            DEFAULT_MAG_CARD_LAYOUT,
        );
        const sequenceDigits =
          (config?.role === 'magnetic-encoder' && config.settings.layout?.sequenceDigits) ||
          DEFAULT_MAG_CARD_LAYOUT.sequenceDigits;
        const tracks = layout.encode({ meterNo, sequence: receiptNo % 10 ** sequenceDigits, tokens });
        const { driver, description } = await this.manager.magneticEncoder();
        this.#startJob(session, jobId, receiptNo, 'magnetic-card', description);
        try {
          await driver.writeTracks(tracks, {
            signal,
            onPhase: (p) => {
              phase(p);
              if (p === 'swipe-to-verify') record('sent');
            },
          });
        } catch (error) {
          record('failed', isOpenVendError(error) ? error : undefined);
          throw error;
        }
      } else {
        const content = { meterNo, sequence: receiptNo % 0x10000, tokens };
        DEFAULT_IC_CARD_LAYOUT.encode(content);
        const psc = this.#psc();
        const { driver, description } = await this.manager.icEncoder();
        this.#startJob(session, jobId, receiptNo, 'ic-card', description);
        try {
          await driver.writeRecord({
            content,
            layout: DEFAULT_IC_CARD_LAYOUT,
            psc,
            signal,
            onPhase: (p) => {
              phase(p);
              if (p === 'verifying') record('sent');
            },
          });
        } catch (error) {
          record('failed', isOpenVendError(error) ? error : undefined);
          throw error;
        }
      }
      record('verified');
      return {
        jobId,
        receiptNo,
        carrier: chosen,
        meterNo,
        tokenCount: tokens.length,
        state: 'verified' as const,
      };
    });
  }

  /** Identifies a meter by swiping its card (track 2). */
  readCard(): Promise<{ meterNo: string }> {
    return this.#cardOperationRun({ kind: 'read', carrier: 'magnetic' }, async (signal, phase) => {
      const { driver } = await this.manager.cardReader();
      return { meterNo: await driver.readMeterCard({ signal, onPhase: phase }) };
    });
  }

  cancelCard(): { cancelled: boolean } {
    const operation = this.#cardOperation;
    if (!operation) return { cancelled: false };
    operation.controller.abort();
    return { cancelled: true };
  }

  jobs(receiptNo: number): CarrierJobView[] {
    return carrierJobsOf(this.#options.sqlite, receiptNo);
  }

  async close(): Promise<void> {
    this.cancelCard();
    await this.manager.close();
  }

  // -------------------------------------------------------------------------------------------------------------

  async #cardOperationRun<T>(
    start: Pick<CardOperationView, 'kind' | 'carrier'>,
    run: (signal: AbortSignal, phase: (phase: CardOperationView['phase']) => void) => Promise<T>,
  ): Promise<T> {
    if (this.#cardOperation) {
      throw new DeviceBusyError(
        `a card ${this.#cardOperation.view.kind} is in progress (${this.#cardOperation.view.phase})`,
      );
    }
    const operation = { controller: new AbortController(), view: { ...start, phase: 'starting' as const } };
    this.#cardOperation = operation as { controller: AbortController; view: CardOperationView };
    try {
      return await run(operation.controller.signal, (phase) => {
        (operation.view as CardOperationView).phase = phase;
      });
    } finally {
      this.#cardOperation = null;
    }
  }

  #startJob(
    session: OperatorSession,
    jobId: string,
    receiptNo: number,
    carrier: 'magnetic-card' | 'ic-card',
    device: string,
  ): void {
    insertCarrierJob(
      this.#options.sqlite,
      { jobId, receiptNo, carrier, copy: false, device, operatorId: session.id },
      this.#clock(),
    );
  }

  #defaultCarrier(): 'magnetic' | 'ic' {
    if (this.manager.config('magnetic-encoder')) return 'magnetic';
    if (this.manager.config('ic-encoder')) return 'ic';
    throw new DeviceNotFoundError('magnetic-encoder', 'no magnetic or IC card encoder is configured');
  }

  #psc(): Uint8Array {
    const stored = readDeviceConfigs(this.#options.sqlite).get('ic-encoder');
    if (stored?.secretSealed) return unsealSecret(this.#kek(), stored.secretSealed, PSC_CONTEXT);
    if (this.manager.config('ic-encoder')?.connection.type === 'simulator') {
      return Uint8Array.from(Buffer.from(SIMULATED_PSC_HEX, 'hex'));
    }
    throw new DeviceDataError(
      'The IC card security code is not set. Ask an administrator to set it in the device settings.',
      'no sealed PSC stored for ic-encoder',
    );
  }

  #kek(): Buffer {
    return (this.#options.kek ?? kekFromEnvironmentOrFile(this.#options.dataDir)).load();
  }

  #storedSale(receiptNo: number): SaleResult {
    const row = this.#options.sqlite
      .prepare(
        'SELECT d.result_json AS resultJson FROM sale s JOIN sale_document d ON d.sale_id = s.id WHERE s.receipt_no = ?',
      )
      .get(receiptNo) as { resultJson: string } | undefined;
    if (!row) {
      throw new EngineError(
        'VEND_NOT_FOUND',
        `There is no receipt number ${receiptNo}.`,
        `receipt ${receiptNo} not found`,
      );
    }
    return JSON.parse(row.resultJson) as SaleResult;
  }

  #columns(): ReceiptColumns {
    const row = this.#options.sqlite
      .prepare('SELECT receipt_columns AS columns FROM outlet WHERE id = 1')
      .get() as { columns: ReceiptColumns };
    return row.columns;
  }

  #readerRole(): DeviceRole {
    return this.manager.config('card-reader') ? 'card-reader' : 'magnetic-encoder';
  }

  #configs(): Map<DeviceRole, StoredDeviceConfig> {
    const stored = readDeviceConfigs(this.#options.sqlite);
    if (!this.simulators) return stored;
    for (const role of DEVICE_ROLES) {
      const config = SIMULATED_CONFIGS[role];
      if (config && !stored.has(role)) stored.set(role, { config, secretSealed: null, updatedAt: '' });
    }
    return stored;
  }

  #view(role: DeviceRole, stored: StoredDeviceConfig | undefined): DeviceView {
    const config = stored?.config ?? (this.simulators ? SIMULATED_CONFIGS[role] : null);
    const connection = this.manager.connectionState(role);
    const base = { role, config, pscSet: stored?.secretSealed != null, updatedAt: stored?.updatedAt || null };
    if (!config && role === 'card-reader' && this.manager.config('magnetic-encoder')) {
      return {
        ...base,
        state: connection.state,
        detail: `The magnetic card encoder reads meter cards. ${connection.detail}`,
      };
    }
    if (!config) return { ...base, state: 'not-configured', detail: 'No device is set for this role.' };
    const state = connection.state === 'not-configured' ? 'disconnected' : connection.state;
    return { ...base, state, detail: connection.detail };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One device service per engine (the handler context carries the engine; the engine thread attaches the service)

const services = new WeakMap<VendEngine, DeviceService>();

export function attachDeviceService(engine: VendEngine, service: DeviceService): DeviceService {
  services.set(engine, service);
  return service;
}

/** The engine's device service; one with real devices only (no simulators) is made on first use if none was attached. */
export function deviceServiceOf(context: {
  engine: VendEngine;
  sqlite: Database.Database;
  options: { dataDir: string };
}): DeviceService {
  let service = services.get(context.engine);
  if (!service) {
    service = new DeviceService({
      engine: context.engine,
      sqlite: context.sqlite,
      dataDir: context.options.dataDir,
    });
    services.set(context.engine, service);
  }
  return service;
}

export async function detachDeviceService(engine: VendEngine): Promise<void> {
  const service = services.get(engine);
  services.delete(engine);
  await service?.close();
}
