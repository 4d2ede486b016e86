import { describe, expect, it } from 'vitest';
import {
  CardDataError,
  CardLockedError,
  CoverOpenError,
  DeviceDataError,
  DeviceError,
  DeviceNotFoundError,
  DeviceTimeoutError,
  DisconnectedError,
  deviceName,
  isDeviceError,
  PaperEndError,
  PrinterNotReadyError,
  ProtocolError,
  PscWrongError,
  SwipeError,
  WriteVerifyFailedError,
  WrongCardError,
} from '../../../src-shared/devices/device-errors.ts';
import { isOpenVendError } from '../../../src-shared/errors/openvend-error.ts';

describe('device errors', () => {
  const cases: [DeviceError, string, RegExp][] = [
    [
      new DeviceNotFoundError('receipt-printer', 'no 04b8:0202'),
      'DEVICE_NOT_FOUND',
      /receipt printer is not connected.*try again/,
    ],
    [
      new DisconnectedError('magnetic-encoder', 'close event'),
      'DEVICE_DISCONNECTED',
      /check what was printed or written/,
    ],
    [
      new DeviceTimeoutError('ic-encoder', 'no reply in 1000 ms'),
      'DEVICE_TIMEOUT',
      /IC card encoder did not answer/,
    ],
    [
      new ProtocolError('card-reader', 'garbage'),
      'DEVICE_PROTOCOL_ERROR',
      /^Card reader sent an unexpected answer/,
    ],
    [new DeviceDataError('Track 2 cannot hold "A".'), 'DEVICE_INVALID_DATA', /Track 2/],
    [new PaperEndError(), 'PRINTER_PAPER_END', /Load a new paper roll/],
    [new CoverOpenError(), 'PRINTER_COVER_OPEN', /Close it, then print again/],
    [new PrinterNotReadyError('PRINTER_OFFLINE', 'offline'), 'PRINTER_OFFLINE', /not ready/],
    [new PrinterNotReadyError('PRINTER_FAULT', 'cutter'), 'PRINTER_FAULT', /paper jam or a cutter/],
    [new SwipeError(false, '0x31'), 'CARD_SWIPE_ERROR', /could not be read\. Swipe it again/],
    [new SwipeError(true, '0x39'), 'CARD_SWIPE_ERROR', /not written.*Swipe the card again/],
    [new WriteVerifyFailedError('track 3 differs'), 'CARD_WRITE_VERIFY_FAILED', /does not count as written/],
    [new PscWrongError(2, 'SW 9003'), 'CARD_PSC_WRONG', /2 tries are left/],
    [new CardLockedError('SW 9000'), 'CARD_LOCKED', /new card/],
    [new WrongCardError('meter differs'), 'CARD_WRONG', /not the right card/],
    [new CardDataError('crc'), 'CARD_DATA_INVALID', /call a supervisor/],
  ];

  it.each(cases.map(([error, code, message]) => [error.name, error, code, message] as const))(
    '%s carries its code and a cashier message saying what to do',
    (_name, error, code, message) => {
      expect(error).toBeInstanceOf(DeviceError);
      expect(isDeviceError(error)).toBe(true);
      expect(isOpenVendError(error)).toBe(true);
      expect(error.code).toBe(code);
      expect(error.userMessage).toMatch(message);
      expect(error.message).toContain(`[${code}]`);
      expect(error.toJSON()).toEqual({ code, message: error.userMessage, detail: error.detail });
    },
  );

  it('keeps the developer detail apart from the message', () => {
    const error = new DeviceTimeoutError('receipt-printer', 'DLE EOT 2 unanswered after 500 ms');
    expect(error.detail).toBe('DLE EOT 2 unanswered after 500 ms');
    expect(error.userMessage).not.toContain('DLE');
    expect(error.device).toBe('receipt-printer');
  });

  it('PscWrong carries the tries left and warns harder at the last try', () => {
    const last = new PscWrongError(1, 'SW 9001');
    expect(last.triesLeft).toBe(1);
    expect(last.userMessage).toContain('Only 1 try is left');
    expect(new PscWrongError(2, 'x', 'custom').userMessage).toBe('custom');
  });

  it('names every device kind', () => {
    expect(
      (['receipt-printer', 'magnetic-encoder', 'ic-encoder', 'card-reader'] as const).map(deviceName),
    ).toEqual(['receipt printer', 'magnetic card encoder', 'IC card encoder', 'card reader']);
    expect(isDeviceError(new Error('x'))).toBe(false);
  });
});
