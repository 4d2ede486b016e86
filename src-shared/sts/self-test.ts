import { hexToBytes, wordsFromBytes, wordsToHex } from '../encoding/hex.ts';
import { createMisty1 } from './crypto/misty1.ts';
import { createDecoderKeyDeriver } from './decoder-key.ts';
import { parseMeterPan } from './meter-pan.ts';
import { SecretKey } from './secret-key.ts';
import { createTokenCipher } from './token-cipher.ts';
import { encodeToken } from './token-codec.ts';

/**
 * Known-answer checks run at start-up: the CTSA01 step-1 trace (DKGA02 with DES, CRC, STA, transposition)
 * and the RFC 2994 MISTY1 vector. A failure means the build is broken and must not issue tokens.
 */
export function stsSelfTest(): { passed: number; failed: string[] } {
  const failed: string[] = [];
  const deriver = createDecoderKeyDeriver(
    'DKGA02',
    SecretKey.fromHex('abababababababab', 'test vending key'),
  );
  const pan = parseMeterPan('600727000000000009');
  const key = deriver.derive({ pan, keyType: 2, sgc: '123456', ti: 1, krn: 1, baseDate: 1993, ea: 'EA07' });
  const token = encodeToken(
    { type: 'transfer-credit', resource: 'electricity', rnd: 5, tid: 5871715, units: 1 },
    createTokenCipher('EA07', key),
  );
  if (token.digits !== '23716100501183194197') failed.push('CTSA01 step 1 (DKGA02, STA, CRC, transposition)');
  const block = Uint32Array.from(wordsFromBytes(hexToBytes('0123456789abcdef')));
  createMisty1(hexToBytes('00112233445566778899aabbccddeeff')).encryptBlock(block);
  if (wordsToHex(block[0]!, block[1]!) !== '8b1da5f56ab3d07c') failed.push('RFC 2994 MISTY1');
  return { passed: 2 - failed.length, failed };
}
