import { StsError } from './errors.ts';

/** Validators for the small STS identifiers; each returns the canonical form or throws a clear StsError. */

export type KeyType = 0 | 1 | 2 | 3; // DITK, DDTK, DUTK, DCTK
export const KEY_TYPE_NAMES = ['DITK', 'DDTK', 'DUTK', 'DCTK'] as const;

export type EncryptionAlgorithm = 'EA07' | 'EA09' | 'EA11';
export const ENCRYPTION_ALGORITHMS: readonly EncryptionAlgorithm[] = ['EA07', 'EA09', 'EA11'];
export type DecoderKeyAlgorithm = 'DKGA02' | 'DKGA04';
export const DECODER_KEY_ALGORITHMS: readonly DecoderKeyAlgorithm[] = ['DKGA02', 'DKGA04'];

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

/** Supply group code: exactly 6 decimal digits. */
export function requireSgc(value: unknown): string {
  // A number is accepted only with 6 digits: padding 12345 would hide a dropped digit. Leading zeros need a string.
  const text = typeof value === 'number' && isInt(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{6}$/.test(text)) {
    throw new StsError(
      'STS_INVALID_SGC',
      'The supply group code must be exactly 6 digits.',
      `SGC ${JSON.stringify(value)} is not 6 decimal digits`,
    );
  }
  return text;
}

/** Tariff index 00–99, given as a number or a 1–2 digit string. */
export function requireTi(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,2}$/.test(value) ? Number(value) : value;
  if (!isInt(n) || n < 0 || n > 99) {
    throw new StsError(
      'STS_INVALID_TI',
      'The tariff index must be between 00 and 99.',
      `TI ${JSON.stringify(value)} is outside 00–99`,
    );
  }
  return n;
}

export const formatTi = (ti: number): string => String(ti).padStart(2, '0');

export function requireKrn(value: unknown): number {
  if (!isInt(value) || value < 1 || value > 9) {
    throw new StsError(
      'STS_INVALID_KRN',
      'The key revision number must be between 1 and 9.',
      `KRN ${JSON.stringify(value)} is outside 1–9`,
    );
  }
  return value;
}

export function requireKeyType(value: unknown): KeyType {
  if (!isInt(value) || value < 0 || value > 3) {
    throw new StsError(
      'STS_INVALID_KEY_TYPE',
      'The key type must be 0, 1, 2 or 3.',
      `KT ${JSON.stringify(value)} is outside 0–3`,
    );
  }
  return value as KeyType;
}

export function requireKen(value: unknown): number {
  if (!isInt(value) || value < 0 || value > 255) {
    throw new StsError(
      'STS_INVALID_KEN',
      'The key expiry number must be between 0 and 255.',
      `KEN ${JSON.stringify(value)} is outside 0–255`,
    );
  }
  return value;
}

export function requireEncryptionAlgorithm(value: unknown): EncryptionAlgorithm {
  const text = typeof value === 'number' ? `EA${String(value).padStart(2, '0')}` : value;
  if (!ENCRYPTION_ALGORITHMS.includes(text as EncryptionAlgorithm)) {
    throw new StsError(
      'STS_INVALID_ALGORITHM',
      'The encryption algorithm must be EA07, EA09 or EA11.',
      `encryption algorithm ${JSON.stringify(value)} is not supported`,
    );
  }
  return text as EncryptionAlgorithm;
}

export function requireDecoderKeyAlgorithm(value: unknown): DecoderKeyAlgorithm {
  if (!DECODER_KEY_ALGORITHMS.includes(value as DecoderKeyAlgorithm)) {
    throw new StsError(
      'STS_INVALID_ALGORITHM',
      'The decoder key algorithm must be DKGA02 or DKGA04.',
      `decoder key generation algorithm ${JSON.stringify(value)} is not supported`,
    );
  }
  return value as DecoderKeyAlgorithm;
}

/** A small non-negative integer field of `bits` width (RND, register, rate, …). */
export function requireUnsigned(value: unknown, bits: number, what: string): number {
  if (!isInt(value) || value < 0 || value >= 2 ** bits) {
    throw new StsError(
      'STS_INVALID_FIELD',
      `The ${what} is out of range.`,
      `${what} ${JSON.stringify(value)} is not an integer in 0..${2 ** bits - 1}`,
    );
  }
  return value;
}

/** Decoder key length in bytes for each encryption algorithm. */
export const decoderKeyBytes = (ea: EncryptionAlgorithm): number => (ea === 'EA11' ? 16 : 8);
