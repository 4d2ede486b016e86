import { OpenVendError } from '../errors/openvend-error.ts';

/**
 * Typed device failures (hardware.md §5). Every message tells the cashier what happened and what to do next;
 * none ever contains a PSC, key or the bytes of a secret. Drivers never retry on their own: the messages say
 * when a person must check what was printed or written before trying again.
 */

/** Stable codes; tests and front ends match on these, never on text. */
export type DeviceErrorCode =
  | 'DEVICE_NOT_FOUND'
  | 'DEVICE_DISCONNECTED'
  | 'DEVICE_TIMEOUT'
  | 'DEVICE_PROTOCOL_ERROR'
  /** What we were asked to print or write does not fit the carrier (bad characters, too long, not a token). */
  | 'DEVICE_INVALID_DATA'
  | 'PRINTER_PAPER_END'
  | 'PRINTER_COVER_OPEN'
  | 'PRINTER_OFFLINE'
  | 'PRINTER_FAULT'
  | 'CARD_SWIPE_ERROR'
  | 'CARD_WRITE_VERIFY_FAILED'
  | 'CARD_PSC_WRONG'
  | 'CARD_LOCKED'
  | 'CARD_WRONG'
  /** The card holds data that cannot be understood (damaged, or an unknown layout version). */
  | 'CARD_DATA_INVALID';

/** The device roles named in messages. */
export type DeviceKind = 'receipt-printer' | 'magnetic-encoder' | 'ic-encoder' | 'card-reader';

const DEVICE_NAMES: Readonly<Record<DeviceKind, string>> = {
  'receipt-printer': 'receipt printer',
  'magnetic-encoder': 'magnetic card encoder',
  'ic-encoder': 'IC card encoder',
  'card-reader': 'card reader',
};

export const deviceName = (kind: DeviceKind): string => DEVICE_NAMES[kind];
const capitalised = (kind: DeviceKind): string => {
  const name = deviceName(kind);
  return name.charAt(0).toUpperCase() + name.slice(1);
};

export class DeviceError extends OpenVendError {
  declare readonly code: DeviceErrorCode;

  constructor(code: DeviceErrorCode, userMessage: string, detail: string = userMessage) {
    super(code, userMessage, detail);
  }
}

export function isDeviceError(value: unknown): value is DeviceError {
  return value instanceof DeviceError;
}

export class DeviceNotFoundError extends DeviceError {
  readonly device: DeviceKind;
  constructor(device: DeviceKind, detail: string) {
    super(
      'DEVICE_NOT_FOUND',
      `The ${deviceName(device)} is not connected. Plug it in and switch it on, then try again.`,
      detail,
    );
    this.device = device;
  }
}

export class DisconnectedError extends DeviceError {
  readonly device: DeviceKind;
  constructor(device: DeviceKind, detail: string) {
    super(
      'DEVICE_DISCONNECTED',
      `The ${deviceName(device)} was disconnected. Reconnect it, check what was printed or written, then try again.`,
      detail,
    );
    this.device = device;
  }
}

export class DeviceTimeoutError extends DeviceError {
  readonly device: DeviceKind;
  constructor(device: DeviceKind, detail: string) {
    super(
      'DEVICE_TIMEOUT',
      `The ${deviceName(device)} did not answer in time. Check that it is connected and switched on, then try again.`,
      detail,
    );
    this.device = device;
  }
}

/** The device answered something we do not understand, or refused a command as malformed. */
export class ProtocolError extends DeviceError {
  readonly device: DeviceKind;
  constructor(device: DeviceKind, detail: string, userMessage?: string) {
    super(
      'DEVICE_PROTOCOL_ERROR',
      userMessage ??
        `${capitalised(device)} sent an unexpected answer. Switch it off and on, then try again; if it keeps happening, call support.`,
      detail,
    );
    this.device = device;
  }
}

/** Input that cannot go onto the carrier as asked: the message names the field and what is allowed. */
export class DeviceDataError extends DeviceError {
  constructor(userMessage: string, detail: string = userMessage) {
    super('DEVICE_INVALID_DATA', userMessage, detail);
  }
}

export class PaperEndError extends DeviceError {
  constructor(detail = 'printer reports paper end') {
    super(
      'PRINTER_PAPER_END',
      'The printer is out of paper. Load a new paper roll and close the cover, then print again.',
      detail,
    );
  }
}

export class CoverOpenError extends DeviceError {
  constructor(detail = 'printer reports cover open') {
    super('PRINTER_COVER_OPEN', 'The printer cover is open. Close it, then print again.', detail);
  }
}

/** Offline for another reason, or a printer fault (cutter jam, head too hot, unrecoverable error). */
export class PrinterNotReadyError extends DeviceError {
  declare readonly code: 'PRINTER_OFFLINE' | 'PRINTER_FAULT';
  constructor(code: 'PRINTER_OFFLINE' | 'PRINTER_FAULT', detail: string) {
    super(
      code,
      code === 'PRINTER_OFFLINE'
        ? 'The printer is not ready. Check that it is switched on, has paper and its cover is closed, then print again.'
        : 'The printer reports a fault (for example a paper jam or a cutter problem). Clear it, switch the printer off and on, then print again.',
      detail,
    );
  }
}

export class SwipeError extends DeviceError {
  readonly writing: boolean;
  constructor(writing: boolean, detail: string) {
    super(
      'CARD_SWIPE_ERROR',
      writing
        ? 'The card was not written: the swipe failed. Swipe the card again in one steady movement.'
        : 'The card could not be read. Swipe it again in one steady movement.',
      detail,
    );
    this.writing = writing;
  }
}

export class WriteVerifyFailedError extends DeviceError {
  constructor(detail: string) {
    super(
      'CARD_WRITE_VERIFY_FAILED',
      'The card did not read back what was written, so it does not count as written. Write the card again, or use another card.',
      detail,
    );
  }
}

/** A wrong PSC. Never retried automatically: one more wrong attempt may lock the card for good. */
export class PscWrongError extends DeviceError {
  readonly triesLeft: number;
  constructor(triesLeft: number, detail: string, userMessage?: string) {
    super(
      'CARD_PSC_WRONG',
      userMessage ??
        (triesLeft === 1
          ? 'The card refused its security code. Only 1 try is left before the card locks for good: stop and call a supervisor.'
          : `The card refused its security code. ${triesLeft} tries are left before the card locks for good: stop and check the card with a supervisor.`),
      detail,
    );
    this.triesLeft = triesLeft;
  }
}

export class CardLockedError extends DeviceError {
  constructor(detail: string) {
    super(
      'CARD_LOCKED',
      'This card is locked (too many wrong security codes) and can no longer be written. Give the customer a new card.',
      detail,
    );
  }
}

export class WrongCardError extends DeviceError {
  constructor(
    detail: string,
    userMessage = 'This is not the right card for this sale. Check the card and try again.',
  ) {
    super('CARD_WRONG', userMessage, detail);
  }
}

export class CardDataError extends DeviceError {
  constructor(
    detail: string,
    userMessage = 'The data on this card is damaged or in an unknown format. Keep the card aside and call a supervisor.',
  ) {
    super('CARD_DATA_INVALID', userMessage, detail);
  }
}
