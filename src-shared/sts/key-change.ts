import { wordsFromBytes } from '../encoding/hex.ts';
import type { BlockCipher64 } from './crypto/block-cipher.ts';
import { StsError } from './errors.ts';
import {
  type KeyType,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
} from './identifiers.ts';
import type { SecretKey } from './secret-key.ts';
import { type EncodedToken, encodeToken } from './token-codec.ts';
import type { TokenPayload } from './token-payload.ts';

/** The new key's parameters, carried inside the key change token set. */
export interface KeyChangeTarget {
  newKey: SecretKey;
  ken: number;
  krn: number;
  keyType: KeyType;
  ti: number;
  /** Carried only by the 3rd/4th sections of a 128-bit key change. */
  sgc: string;
  /** Roll-over: the meter clears its TID history (base-date move). */
  rollover: boolean;
  /** The Res/3KCT bit; 0 in every public vector. */
  reserved?: number;
}

/**
 * The key change token (KCT) set: encrypted under the meter's **current** key, carrying the new one.
 * 64-bit keys (EA07/EA09) need 2 tokens, 128-bit keys (EA11) need 4. The customer enters them before
 * any credit token made with the new key.
 */
export function keyChangePayloads(target: KeyChangeTarget): TokenPayload[] {
  const ken = requireKen(target.ken);
  const krn = requireKrn(target.krn);
  const keyType = requireKeyType(target.keyType);
  const ti = requireTi(target.ti);
  const key = target.newKey.bytes();
  if (key.length !== 8 && key.length !== 16) {
    throw new StsError(
      'STS_INVALID_KEY',
      'The new decoder key must be 8 or 16 bytes.',
      `new decoder key is ${key.length} bytes, expected 8 (EA07/EA09) or 16 (EA11)`,
    );
  }
  const first: TokenPayload = {
    type: 'key-change-1',
    kenHigh: ken >> 4,
    krn,
    rollover: target.rollover,
    reserved: target.reserved ?? 0,
    keyType,
    keyWord: 0,
  };
  const second: TokenPayload = { type: 'key-change-2', kenLow: ken & 15, ti, keyWord: 0 };
  if (key.length === 8) {
    const [high, low] = wordsFromBytes(key);
    return [
      { ...first, keyWord: high },
      { ...second, keyWord: low },
    ];
  }
  const sgc = Number(requireSgc(target.sgc));
  const [w127, w95] = wordsFromBytes(key, 0);
  const [w63, w31] = wordsFromBytes(key, 8);
  return [
    { ...first, keyWord: w127 },
    { ...second, keyWord: w31 },
    { type: 'key-change-3', sgcLow: sgc & 0xfff, keyWord: w95 },
    { type: 'key-change-4', sgcHigh: sgc >>> 12, keyWord: w63 },
  ];
}

export function generateKeyChangeTokens(
  currentCipher: BlockCipher64,
  target: KeyChangeTarget,
): EncodedToken[] {
  return keyChangePayloads(target).map((payload) => encodeToken(payload, currentCipher));
}
