import { expect } from 'vitest';
import { type DeviceErrorCode, isDeviceError } from '../../../src-shared/devices/device-errors.ts';

/** '1b 40 1c 2e' → bytes (spaces ignored). */
export const bytes = (hex: string): Uint8Array =>
  Uint8Array.from((hex.replace(/\s+/g, '').match(/../g) ?? []).map((pair) => Number.parseInt(pair, 16)));

/** Bytes → '1b 40 1c 2e', so failures show a readable diff. */
export const hex = (data: Uint8Array | readonly number[]): string =>
  Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');

export const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** Runs fn, expects a DeviceError with this code, and returns it for further checks. */
export function expectDeviceError(fn: () => unknown, code: DeviceErrorCode) {
  try {
    fn();
  } catch (error) {
    if (!isDeviceError(error)) throw error;
    expect(error.code).toBe(code);
    expect(error.userMessage.length).toBeGreaterThan(10);
    return error;
  }
  return expect.fail(`expected a DeviceError ${code}`);
}
