import type { BlockCipher64 } from './crypto/block-cipher.ts';
import { createDes } from './crypto/des.ts';
import { createMisty1 } from './crypto/misty1.ts';
import { createSta } from './crypto/sta.ts';
import { StsError } from './errors.ts';
import { decoderKeyBytes, type EncryptionAlgorithm, requireEncryptionAlgorithm } from './identifiers.ts';
import type { SecretKey } from './secret-key.ts';

/** The block cipher a meter uses with its decoder key: EA07 (STA), EA09 (DES) or EA11 (MISTY1). */
export function createTokenCipher(ea: EncryptionAlgorithm, decoderKey: SecretKey): BlockCipher64 {
  requireEncryptionAlgorithm(ea);
  const expected = decoderKeyBytes(ea);
  if (decoderKey.length !== expected) {
    throw new StsError(
      'STS_INVALID_KEY',
      `The decoder key has the wrong length for ${ea}: it must be ${expected} bytes.`,
      `${ea} decoder key is ${decoderKey.length} bytes, expected ${expected}`,
    );
  }
  switch (ea) {
    case 'EA07':
      return createSta(decoderKey.bytes());
    case 'EA09':
      return createDes(decoderKey.bytes());
    case 'EA11':
      return createMisty1(decoderKey.bytes());
  }
}
