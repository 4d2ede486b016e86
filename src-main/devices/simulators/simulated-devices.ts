import type { DeviceRole } from '../../../src-shared/bridge/device-schemas.ts';
import type { TrackSet } from '../../../src-shared/devices/iso-track.ts';
import { createMemoryLink, type MemoryLink } from '../transports/memory.ts';
import type { ByteTransport } from '../transports/transport.ts';
import { EscPosPrinterSimulator, type SimulatedPrinterStatus } from './escpos-printer.ts';
import { MsrSimulator } from './msr.ts';
import { SimulatedPcscReader, Sle4442Card } from './sle4442.ts';

/**
 * The simulated devices of `openvend start --simulate-devices` (and of handler tests): a receipt printer, an MSR
 * encoder that is also the card reader, holding a customer card with the meter on track 2 (swiped at once), and a
 * PC/SC reader with a blank SLE4442 card in it (PSC FF FF FF, as blank cards ship). Each stays alive across
 * unplug/replug, like a real device, and a fresh cable is made on every connect.
 */
export interface SimulatedDevicesOptions {
  /** The meter number on the simulated customer card's track 2 (e.g. a demo meter). */
  meterNo?: string;
  columns?: number;
  /** Swipe at once whenever the encoder waits (default true). */
  autoSwipe?: boolean;
  /** Test/demo only: the printer's scripted status, read before each command batch (see `scriptedPrinterStatus`). */
  printerStatus?: () => Partial<SimulatedPrinterStatus> | null;
}

export const SIMULATED_PSC_HEX = 'ffffff';

export class SimulatedDevices {
  readonly printer: SimulatedSlot<EscPosPrinterSimulator>;
  readonly msr: SimulatedSlot<MsrSimulator>;
  readonly icReader: SimulatedPcscReader;
  readonly icCard: Sle4442Card;
  readonly #options: SimulatedDevicesOptions;

  constructor(options: SimulatedDevicesOptions = {}) {
    this.#options = options;
    const card: TrackSet = options.meterNo ? { 2: `${options.meterNo}=0000` } : {};
    this.printer = new SimulatedSlot(
      'simulated receipt printer',
      (end) =>
        new EscPosPrinterSimulator(end, {
          columns: options.columns ?? 42,
          ...(options.printerStatus ? { statusSource: options.printerStatus } : {}),
        }),
    );
    this.msr = new SimulatedSlot(
      'simulated MSR206',
      (end) => new MsrSimulator(end, { card, autoSwipe: options.autoSwipe ?? true }),
    );
    this.icCard = new Sle4442Card();
    this.icReader = new SimulatedPcscReader({ card: this.icCard, name: 'Simulated ACS ACR38U' });
  }

  get options(): SimulatedDevicesOptions {
    return this.#options;
  }

  /** A new cable to the simulated device of a role (the card reader is the MSR). */
  connect(role: Exclude<DeviceRole, 'ic-encoder'>): ByteTransport {
    return role === 'receipt-printer' ? this.printer.connect() : this.msr.connect();
  }
}

/** One simulated device and its current cable; the simulator's state (paper, card, pages) survives replugs. */
export class SimulatedSlot<S extends { detach(): void }> {
  readonly #name: string;
  readonly #make: (deviceEnd: ByteTransport) => S;
  #link: MemoryLink | null = null;
  #simulator: S | null = null;
  unplugged = false;

  constructor(name: string, make: (deviceEnd: ByteTransport) => S) {
    this.#name = name;
    this.#make = make;
  }

  /** The simulator on the current cable (created on first connect). */
  get simulator(): S {
    if (!this.#simulator) this.connect();
    return this.#simulator!;
  }

  connect(): ByteTransport {
    if (this.unplugged) {
      const link = createMemoryLink({ path: this.#name });
      link.unplug(`${this.#name} is unplugged`);
      return link.host;
    }
    this.#link?.unplug(`${this.#name}: cable replaced`);
    const link = createMemoryLink({ path: this.#name });
    const previous = this.#simulator;
    previous?.detach();
    const simulator = this.#make(link.device);
    if (previous) carryState(previous, simulator);
    this.#link = link;
    this.#simulator = simulator;
    return link.host;
  }

  unplug(): void {
    this.unplugged = true;
    this.#link?.unplug(`${this.#name} unplugged`);
    this.#link = null;
  }

  replug(): void {
    this.unplugged = false;
  }
}

/** Keeps what a real device keeps across a cable change: a printer's pages and status, an MSR's card. */
function carryState(from: object, to: object): void {
  if (from instanceof EscPosPrinterSimulator && to instanceof EscPosPrinterSimulator) {
    to.setStatus(from.status);
    to.pages.push(...from.pages);
    to.layouts.push(...from.layouts);
  }
  if (from instanceof MsrSimulator && to instanceof MsrSimulator) to.insertCard(from.card);
}
