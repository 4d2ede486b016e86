import { OpenVendError } from '../errors/openvend-error.ts';
import { parseTokenDigits, TOKEN_DIGITS } from '../sts/token-number.ts';
import { DeviceDataError } from './device-errors.ts';

/**
 * What a token carrier (magnetic or IC card) holds for one sale, and the checks every carrier layout shares.
 * Tokens are opaque 20-digit strings (hardware.md §2.5); a layout decides where they and the meter number go.
 */
export interface CarrierContent {
  /** Digits only (STS meter numbers are 11 or 13 digits). Required by layouts that store it. */
  meterNo?: string;
  /** A per-card purchase sequence, required by layouts that store it. */
  sequence?: number;
  /** 20-digit tokens in entry order (key change tokens first). */
  tokens: string[];
}

/** A 20-digit string that is a possible STS token (≤ 2^66 − 1). `make` builds the error (write vs read side). */
export function requireCarrierToken(
  token: string,
  index: number,
  make: (userMessage: string, detail: string) => OpenVendError = (m, d) => new DeviceDataError(m, d),
): string {
  if (typeof token !== 'string' || !/^\d+$/.test(token) || token.length !== TOKEN_DIGITS) {
    const length = typeof token === 'string' ? token.length : 0;
    throw make(
      `Token ${index + 1} must be exactly ${TOKEN_DIGITS} digits with no spaces.`,
      `token ${index + 1}: ${length} characters, expected ${TOKEN_DIGITS} decimal digits`,
    );
  }
  try {
    parseTokenDigits(token);
  } catch (error) {
    const message = error instanceof OpenVendError ? error.userMessage : 'This is not a valid token number.';
    throw make(`Token ${index + 1}: ${message}`, `token ${index + 1} is above 2^66-1`);
  }
  return token;
}

export function requireMeterNoDigits(
  meterNo: string | undefined,
  min: number,
  max: number,
  make: (userMessage: string, detail: string) => OpenVendError = (m, d) => new DeviceDataError(m, d),
): string {
  if (meterNo === undefined || !/^\d+$/.test(meterNo) || meterNo.length < min || meterNo.length > max) {
    const size = min === max ? `${min}` : `${min} to ${max}`;
    throw make(
      `The meter number must be ${size} digits for this card type.`,
      `meter number of ${meterNo?.length ?? 'no'} characters is not ${size} decimal digits`,
    );
  }
  return meterNo;
}

export function requireSequence(
  sequence: number | undefined,
  max: number,
  make: (userMessage: string, detail: string) => OpenVendError = (m, d) => new DeviceDataError(m, d),
): number {
  if (sequence === undefined || !Number.isSafeInteger(sequence) || sequence < 0 || sequence > max) {
    throw make(
      `The card sequence number must be a whole number from 0 to ${max}.`,
      `sequence ${JSON.stringify(sequence)} is outside 0..${max}`,
    );
  }
  return sequence;
}
