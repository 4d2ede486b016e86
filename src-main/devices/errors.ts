import { OpenVendError } from '../../src-shared/errors/openvend-error.ts';

/**
 * Device failures that only the Node side raises (the codec-level kinds live in src-shared/devices/device-errors.ts).
 */

/** A person (or the UI) cancelled an operation that was waiting for a swipe or a card. Nothing was written. */
export class DeviceCancelledError extends OpenVendError {
  declare readonly code: 'DEVICE_CANCELLED';
  constructor(detail: string) {
    super('DEVICE_CANCELLED', 'Cancelled. Nothing was written to the card.', detail);
  }
}

/** The driver for a connection type (a native module, or a PC/SC service) cannot load on this computer. */
export class DeviceUnavailableError extends OpenVendError {
  declare readonly code: 'DEVICE_UNAVAILABLE';
  constructor(what: string, detail: string, userMessage?: string) {
    super(
      'DEVICE_UNAVAILABLE',
      userMessage ??
        `This computer cannot use ${what}: its driver is not installed. Choose another connection, or call support.`,
      detail,
    );
  }
}

/** Another card or print operation is already running on that device: one at a time. */
export class DeviceBusyError extends OpenVendError {
  declare readonly code: 'DEVICE_BUSY';
  constructor(detail: string) {
    super(
      'DEVICE_BUSY',
      'The device is busy with another operation. Finish or cancel it, then try again.',
      detail,
    );
  }
}
