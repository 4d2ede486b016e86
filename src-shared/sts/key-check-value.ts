import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../encoding/hex.ts';
import { createDes } from './crypto/des.ts';
import type { DecoderKeyAlgorithm, EncryptionAlgorithm } from './identifiers.ts';
import type { SecretKey } from './secret-key.ts';
import { createTokenCipher } from './token-cipher.ts';

/**
 * Key check values: 6 hex digits that identify a key without revealing it, for screens, receipts of key
 * loading and support calls. Decoder keys: the first 3 bytes of the zero block encrypted with the meter's
 * own algorithm (the usual ANSI KCV for DES keys). DKGA04 vending keys (HMAC keys): the first 3 bytes of
 * HMAC-SHA-256 over 8 zero bytes.
 */
export function decoderKeyCheckValue(key: SecretKey, ea: EncryptionAlgorithm): string {
  const block = new Uint32Array(2);
  createTokenCipher(ea, key).encryptBlock(block);
  return (block[0]! >>> 8).toString(16).padStart(6, '0').toUpperCase();
}

export function vendingKeyCheckValue(key: SecretKey, dkga: DecoderKeyAlgorithm): string {
  if (dkga === 'DKGA02') {
    const block = new Uint32Array(2);
    createDes(key.bytes()).encryptBlock(block);
    return (block[0]! >>> 8).toString(16).padStart(6, '0').toUpperCase();
  }
  return bytesToHex(hmac(sha256, key.bytes(), new Uint8Array(8)).subarray(0, 3)).toUpperCase();
}
