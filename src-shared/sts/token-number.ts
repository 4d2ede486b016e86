import { StsError } from './errors.ts';

/**
 * The 66-bit token and its 20-digit decimal form. The 2 class bits are never encrypted: they are
 * swapped into ciphertext bits 28/27, and the displaced bits become token bits 65/64.
 */

export const TOKEN_DIGITS = 20;
const MAX_TOKEN = (1n << 66n) - 1n;
const CLASS_BITS_MASK = 0x18000000; // bits 28 and 27 of the low word

export interface TokenBits {
  tokenClass: number;
  /** Ciphertext (plaintext for class 1) bits 63..32 and 31..0, with bits 28/27 restored. */
  hi: number;
  lo: number;
}

/** Transposes the class bits into the ciphertext and writes the 66-bit value as 20 digits. */
export function tokenToDigits(tokenClass: number, hi: number, lo: number): string {
  const displaced = (lo & CLASS_BITS_MASK) >>> 27;
  const loWithClass = ((lo & ~CLASS_BITS_MASK) | ((tokenClass & 3) << 27)) >>> 0;
  const value = (BigInt(displaced) << 64n) | (BigInt(hi >>> 0) << 32n) | BigInt(loWithClass);
  return value.toString().padStart(TOKEN_DIGITS, '0');
}

/** Reads a 20-digit token (spaces and dashes allowed), refusing anything that is not a possible token. */
export function parseTokenDigits(text: string): TokenBits {
  const digits = text.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) {
    throw new StsError(
      'STS_INVALID_TOKEN',
      'A token has digits only.',
      `token ${JSON.stringify(text)} contains characters other than digits, spaces and dashes`,
    );
  }
  if (digits.length !== TOKEN_DIGITS) {
    throw new StsError(
      'STS_INVALID_TOKEN',
      `A token has exactly 20 digits; this one has ${digits.length}.`,
      `token has ${digits.length} digits, expected ${TOKEN_DIGITS}`,
    );
  }
  const value = BigInt(digits);
  if (value > MAX_TOKEN) {
    throw new StsError(
      'STS_TOKEN_OUT_OF_RANGE',
      'This is not a valid token number. Check the digits.',
      `token value ${digits} exceeds 2^66-1`,
    );
  }
  const hi = Number((value >> 32n) & 0xffffffffn);
  const loWithClass = Number(value & 0xffffffffn);
  const tokenClass = (loWithClass & CLASS_BITS_MASK) >>> 27;
  const displaced = Number(value >> 64n);
  const lo = ((loWithClass & ~CLASS_BITS_MASK) | (displaced << 27)) >>> 0;
  return { tokenClass, hi, lo };
}

/** 4-4-4-4-4 grouping, as printed on receipts and shown on screen. */
export const groupTokenDigits = (digits: string, separator = ' '): string =>
  digits.replace(/(\d{4})(?=\d)/g, `$1${separator}`);
