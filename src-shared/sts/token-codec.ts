import { wordsToHex } from '../encoding/hex.ts';
import type { BlockCipher64 } from './crypto/block-cipher.ts';
import { parseTokenDigits, tokenToDigits } from './token-number.ts';
import {
  type DecodedBlock,
  decodePlainBlock,
  encodePlainBlock,
  type PlainBlock,
  type TokenPayload,
} from './token-payload.ts';

/** A generated token and the values that went into it (none of them secret). */
export interface EncodedToken {
  digits: string;
  tokenClass: number;
  subclass: number;
  plain: PlainBlock;
}

const scratch = new Uint32Array(2);

/** Payload → plain block → EA encryption (not for class 1) → class-bit transposition → 20 digits. */
export function encodeToken(payload: TokenPayload, cipher: BlockCipher64 | null): EncodedToken {
  const plain = encodePlainBlock(payload);
  scratch[0] = plain.hi;
  scratch[1] = plain.lo;
  if (plain.tokenClass !== 1) {
    if (!cipher) throw new TypeError(`a class ${plain.tokenClass} token needs the meter's decoder key`);
    cipher.encryptBlock(scratch);
  }
  return {
    digits: tokenToDigits(plain.tokenClass, scratch[0]!, scratch[1]!),
    tokenClass: plain.tokenClass,
    subclass: plain.hi >>> 28,
    plain,
  };
}

export interface ReadToken extends DecodedBlock {
  plain: PlainBlock;
}

/** 20 digits → class → decryption (classes 0 and 2) → CRC check → fields. Throws StsError on any failure. */
export function decodeToken(digits: string, cipher: BlockCipher64 | null): ReadToken {
  const bits = parseTokenDigits(digits);
  const block = new Uint32Array([bits.hi, bits.lo]);
  if (bits.tokenClass !== 1) {
    if (!cipher)
      throw new TypeError(`a class ${bits.tokenClass} token needs the meter's decoder key to read`);
    cipher.decryptBlock(block);
  }
  const plain: PlainBlock = { tokenClass: bits.tokenClass, hi: block[0]!, lo: block[1]! };
  return { ...decodePlainBlock(plain), plain };
}

export const plainBlockHex = (plain: PlainBlock): string => wordsToHex(plain.hi, plain.lo);
export const crcHex = (plain: PlainBlock): string => (plain.lo & 0xffff).toString(16).padStart(4, '0');
