import { SwipeError, WriteVerifyFailedError } from '../../../src-shared/devices/device-errors.ts';
import {
  assertTracksMatch,
  TRACK_NUMBERS,
  type TrackNumber,
  type TrackSet,
} from '../../../src-shared/devices/iso-track.ts';
import { defaultMeterCardParser, type MeterCardParser } from '../../../src-shared/devices/mag-card-layout.ts';
import {
  assertMsrOk,
  type Bpi,
  type IsoReadReply,
  type LedCommand,
  type MsrCommand,
  type MsrOperation,
  type MsrReply,
  MsrReplyParser,
  msrCommands,
} from '../../../src-shared/devices/msr206.ts';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import type { ByteTransport } from '../transports/transport.ts';
import { DeviceChannel } from './channel.ts';

/**
 * MSR206 / MSR605 (serial) and MSR605X (the same protocol over HID: give it a HidTransport) magnetic-card
 * encoder, also usable as the vend screen's card reader (hardware.md §2).
 *
 * Swipe waits are long and cancellable: on abort or timeout the driver sends ESC a (reset) before reporting, so
 * the encoder never stays armed and writes a card swiped later. Every write is read back (a second swipe) and
 * compared before it counts as written; nothing is ever written twice by the driver.
 */

export type Coercivity = 'hi' | 'lo';
export type SwipePhase = 'swipe-to-read' | 'swipe-to-write' | 'swipe-to-verify' | 'swipe-to-erase';

export interface MsrSettings {
  coercivity?: Coercivity;
  bpi?: Partial<Record<TrackNumber, Bpi>>;
  /** Bits per character for tracks 1, 2, 3 (ISO: 7, 5, 5). */
  bpc?: [number, number, number];
  leadingZeros?: { tracks13: number; track2: number };
}

export interface SwipeOptions {
  signal?: AbortSignal;
  swipeTimeoutMs?: number;
  /** Tells the UI what the person must do now. */
  onPhase?: (phase: SwipePhase) => void;
}

export interface MsrIdentity {
  firmware: string | null;
}

export interface MagCardEncoder {
  probe(): Promise<MsrIdentity>;
  configure(settings: MsrSettings): Promise<void>;
  readTracks(options?: SwipeOptions): Promise<TrackSet>;
  /** Writes, then reads back and compares; resolves with the tracks read back. */
  writeTracks(tracks: TrackSet, options?: SwipeOptions): Promise<TrackSet>;
  erase(tracks: readonly TrackNumber[], options?: SwipeOptions): Promise<void>;
  /** ESC a: aborts a pending swipe wait on the device. */
  reset(): Promise<void>;
  led(led: LedCommand): Promise<void>;
  close(): Promise<void>;
}

/** The vend screen's role: identify a meter by swiping its card (track 2). */
export interface CardReader {
  readMeterCard(options?: SwipeOptions): Promise<string>;
}

export interface MsrEncoderOptions {
  /** Configuration commands (default 1000 ms). */
  commandTimeoutMs?: number;
  /** Waiting for a person to swipe (default 30 s). */
  swipeTimeoutMs?: number;
  meterCardParser?: MeterCardParser;
}

const RESET = msrCommands.reset().bytes;

export class MsrEncoder implements MagCardEncoder, CardReader {
  readonly channel: DeviceChannel;
  readonly #parser = new MsrReplyParser();
  readonly #options: Required<MsrEncoderOptions>;

  constructor(transport: ByteTransport, options: MsrEncoderOptions = {}) {
    this.channel = new DeviceChannel(transport, 'magnetic-encoder');
    this.#options = {
      commandTimeoutMs: 1000,
      swipeTimeoutMs: 30_000,
      meterCardParser: defaultMeterCardParser,
      ...options,
    };
  }

  /** ESC e → ESC y proves an encoder answers; the firmware string is informative (null if refused). */
  probe(): Promise<MsrIdentity> {
    return this.#locked(async () => {
      await this.#command(msrCommands.communicationTest(), 'command');
      let firmware: string | null = null;
      try {
        const reply = await this.#command(msrCommands.firmware(), 'command');
        if (reply.kind === 'firmware') firmware = reply.version;
      } catch (error) {
        if (!isOpenVendError(error) || error.code !== 'DEVICE_PROTOCOL_ERROR') throw error;
      }
      return { firmware };
    });
  }

  configure(settings: MsrSettings): Promise<void> {
    return this.#locked(async () => {
      if (settings.coercivity) {
        const command = settings.coercivity === 'hi' ? msrCommands.setHiCo() : msrCommands.setLoCo();
        await this.#command(command, 'command');
      }
      for (const track of TRACK_NUMBERS) {
        const bpi = settings.bpi?.[track];
        if (bpi !== undefined) await this.#command(msrCommands.setBpi(track, bpi), 'command');
      }
      if (settings.bpc) await this.#command(msrCommands.setBpc(...settings.bpc), 'command');
      if (settings.leadingZeros) {
        const { tracks13, track2 } = settings.leadingZeros;
        await this.#command(msrCommands.setLeadingZeros(tracks13, track2), 'command');
      }
    });
  }

  readTracks(options: SwipeOptions = {}): Promise<TrackSet> {
    return this.#locked(async () => (await this.#read('swipe-to-read', options)).tracks);
  }

  writeTracks(tracks: TrackSet, options: SwipeOptions = {}): Promise<TrackSet> {
    const command = msrCommands.writeIso(tracks);
    return this.#locked(async () => {
      options.onPhase?.('swipe-to-write');
      await this.#command(command, 'write', options);
      let readBack: IsoReadReply;
      try {
        readBack = await this.#read('swipe-to-verify', options);
      } catch (error) {
        if (error instanceof SwipeError) {
          throw new WriteVerifyFailedError(`verify swipe failed after the write: ${error.detail}`);
        }
        throw error;
      }
      const written = Object.fromEntries(
        TRACK_NUMBERS.filter((t) => tracks[t] !== undefined).map((t) => [t, tracks[t]]),
      ) as TrackSet;
      assertTracksMatch(written, readBack.tracks);
      return readBack.tracks;
    });
  }

  erase(tracks: readonly TrackNumber[], options: SwipeOptions = {}): Promise<void> {
    const command = msrCommands.erase(tracks);
    return this.#locked(async () => {
      options.onPhase?.('swipe-to-erase');
      await this.#command(command, 'erase', options);
    });
  }

  readMeterCard(options: SwipeOptions = {}): Promise<string> {
    return this.#locked(async () => {
      const reply = await this.#read('swipe-to-read', options);
      const track2 = reply.tracks[2];
      if (track2 === undefined && reply.unreadable.includes(2)) {
        throw new SwipeError(false, 'meter card: track 2 did not read');
      }
      return this.#options.meterCardParser(track2 ?? '');
    });
  }

  reset(): Promise<void> {
    return this.#locked(async () => {
      this.#parser.reset();
      await this.channel.send('reset', RESET);
    });
  }

  led(led: LedCommand): Promise<void> {
    const command = msrCommands.led(led);
    return this.#locked(() => this.channel.send(command.name, command.bytes));
  }

  close(): Promise<void> {
    return this.channel.transport.close();
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.channel.run(async () => {
      await this.channel.open();
      return fn();
    });
  }

  async #read(phase: SwipePhase, options: SwipeOptions): Promise<IsoReadReply> {
    options.onPhase?.(phase);
    const reply = await this.#command(msrCommands.readIso(), 'read', options);
    if (reply.kind !== 'iso-read') throw new SwipeError(false, `read: status reply without data`);
    return reply;
  }

  /** One command and its reply; swipe commands are reset on abort and on timeout. */
  async #command(
    command: MsrCommand,
    operation: MsrOperation,
    options: SwipeOptions = {},
  ): Promise<MsrReply> {
    const kind = command.reply;
    if (kind === null) {
      await this.channel.send(command.name, command.bytes);
      return { kind: 'ack' };
    }
    this.#parser.reset();
    this.#parser.expect(kind);
    const disarm = async () => {
      this.#parser.reset();
      if (command.waitsForSwipe && this.channel.transport.isOpen) await this.channel.transport.write(RESET);
    };
    const reply = await this.channel.exchange<MsrReply>({
      command: command.name,
      bytes: command.bytes,
      collect: (chunk) => this.#parser.push(chunk)[0],
      timeoutMs: command.waitsForSwipe
        ? (options.swipeTimeoutMs ?? this.#options.swipeTimeoutMs)
        : this.#options.commandTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      onAbort: disarm,
      onTimeout: disarm,
    });
    return assertMsrOk(reply, operation);
  }
}
