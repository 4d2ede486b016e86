import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSta, STA_KEY_BYTES } from '../../../../src-shared/sts/crypto/sta.ts';
import { tokenToDigits } from '../../../../src-shared/sts/token-number.ts';
import {
  blockFromHex,
  blockToHex,
  bytesToHex,
  hexToBytes,
  vectorsOfKind,
} from '../../../support/sts-vectors.ts';

// Production tables from sts-algorithms.md §9.1, for an independent bit-by-bit reference.
const S1 = [14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11];
const S2 = [12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14];
const P = [
  55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50, 6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4,
  32, 20, 63, 25, 51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5, 40, 60, 39, 11, 15, 17, 1, 0,
  57, 34, 59, 8, 47, 14, 45, 26,
];
const S1_INV = [9, 11, 6, 5, 12, 7, 14, 2, 13, 3, 1, 15, 4, 8, 0, 10];
const S2_INV = [12, 6, 2, 7, 13, 9, 5, 4, 1, 10, 14, 8, 0, 3, 15, 11];
const P_INV = [
  55, 54, 8, 25, 27, 47, 16, 26, 59, 14, 2, 51, 18, 46, 61, 52, 23, 53, 3, 37, 29, 5, 9, 42, 4, 31, 63, 12,
  45, 39, 43, 41, 28, 35, 57, 7, 17, 20, 21, 50, 48, 44, 1, 11, 6, 62, 38, 60, 40, 36, 15, 32, 33, 22, 34, 0,
  10, 56, 13, 58, 49, 19, 24, 30,
];

const MASK = (1n << 64n) - 1n;
const rol = (x: bigint, n: number) => ((x << BigInt(n)) | (x >> BigInt(64 - n))) & MASK;
const ror = (x: bigint, n: number) => ((x >> BigInt(n)) | (x << BigInt(64 - n))) & MASK;
const bit = (x: bigint, i: number) => Number((x >> BigInt(i)) & 1n);

/** §9: K0 = ROR64(NOT K, 12); Kr = ROL64(K0, r); S-box chosen by bit 4i+3 of Kr; output bit P[j] = input bit j. */
function referenceEncrypt(key: bigint, plain: bigint): bigint {
  const k0 = ror(~key & MASK, 12);
  let data = plain;
  for (let r = 0; r < 16; r++) {
    const kr = r === 0 ? k0 : rol(k0, r);
    let substituted = 0n;
    for (let i = 0; i < 16; i++) {
      const nibble = Number((data >> BigInt(4 * i)) & 15n);
      const box = bit(kr, 4 * i + 3) === 0 ? S1 : S2;
      substituted |= BigInt(box[nibble]!) << BigInt(4 * i);
    }
    let permuted = 0n;
    for (let j = 0; j < 64; j++) if (bit(substituted, j)) permuted |= 1n << BigInt(P[j]!);
    data = permuted;
  }
  return data;
}

function referenceDecrypt(key: bigint, cipher: bigint): bigint {
  const k0 = ror(~key & MASK, 12);
  let data = cipher;
  for (let r = 15; r >= 0; r--) {
    const kr = r === 0 ? k0 : rol(k0, r);
    let permuted = 0n;
    for (let j = 0; j < 64; j++) if (bit(data, P[j]!)) permuted |= 1n << BigInt(j);
    let substituted = 0n;
    for (let i = 0; i < 16; i++) {
      const nibble = Number((permuted >> BigInt(4 * i)) & 15n);
      const box = bit(kr, 4 * i + 3) === 0 ? S1_INV : S2_INV;
      substituted |= BigInt(box[nibble]!) << BigInt(4 * i);
    }
    data = substituted;
  }
  return data;
}

const big = (hex: string) => BigInt(`0x${hex}`);
const encryptHex = (keyHex: string, plainHex: string): string => {
  const block = blockFromHex(plainHex);
  createSta(hexToBytes(keyHex)).encryptBlock(block);
  return blockToHex(block);
};
const decryptHex = (keyHex: string, cipherHex: string): string => {
  const block = blockFromHex(cipherHex);
  createSta(hexToBytes(keyHex)).decryptBlock(block);
  return blockToHex(block);
};

const key8 = fc.uint8Array({ minLength: 8, maxLength: 8 });
const word = fc.nat({ max: 0xffffffff });

describe('STA reference (the test oracle itself)', () => {
  it('the documented inverse tables invert the documented tables', () => {
    for (let i = 0; i < 16; i++) {
      expect(S1_INV[S1[i]!]).toBe(i);
      expect(S2_INV[S2[i]!]).toBe(i);
    }
    for (let j = 0; j < 64; j++) expect(P_INV[P[j]!]).toBe(j);
  });

  it('K0 for the IEC key 0x0ABC12DEF3456789 is 0x876F543ED210CBA9', () => {
    expect(ror(~0x0abc12def3456789n & MASK, 12)).toBe(0x876f543ed210cba9n);
  });

  it('reproduces the IEC production example, so it can judge the engine', () => {
    expect(referenceEncrypt(0x0abc12def3456789n, 0x0b19eb230100c207n)).toBe(0x9335c6c96b7352dcn);
    expect(referenceDecrypt(0x0abc12def3456789n, 0x9335c6c96b7352dcn)).toBe(0x0b19eb230100c207n);
  });
});

describe('createSta: fixture sta_encrypt vectors', () => {
  const vectors = vectorsOfKind('sta_encrypt');

  it('there are STA vectors and all use the production tables', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(2);
    for (const vector of vectors) expect(vector.inputs.tables).toBe('production');
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s', (_id, vector) => {
    const { key_hex: key, plaintext_hex: plain } = vector.inputs;
    expect(encryptHex(key, plain)).toBe(vector.expected.ciphertext_hex);
    expect(decryptHex(key, vector.expected.ciphertext_hex)).toBe(plain);
    const block = blockFromHex(vector.expected.ciphertext_hex);
    if (vector.expected.token_66bit_after_class0_insert_hex !== undefined) {
      const digits = tokenToDigits(0, block[0]!, block[1]!);
      expect(BigInt(digits).toString(16)).toBe(vector.expected.token_66bit_after_class0_insert_hex);
      expect(digits).toBe(vector.expected.token_20digit);
    }
  });
});

describe('createSta: documented examples', () => {
  it('§9.3 IEC example, production tables: 0x0B19EB230100C207 → 0x9335C6C96B7352DC, token 29054347139309851356', () => {
    expect(encryptHex('0abc12def3456789', '0b19eb230100c207')).toBe('9335c6c96b7352dc');
    const block = blockFromHex('9335c6c96b7352dc');
    expect(tokenToDigits(0, block[0]!, block[1]!)).toBe('29054347139309851356');
  });

  it('§12 worked trace: DK e653341f9d5bf36f, plain 0x05599863000119E6 → 0x492083C0AE7CE455', () => {
    expect(encryptHex('e653341f9d5bf36f', '05599863000119e6')).toBe('492083c0ae7ce455');
    expect(decryptHex('e653341f9d5bf36f', '492083c0ae7ce455')).toBe('05599863000119e6');
  });

  it('the Nectar (byte-reversed) key gives a different ciphertext: key order matters', () => {
    expect(encryptHex('6ff35b9d1f3453e6', '05599863000119e6')).not.toBe('492083c0ae7ce455');
  });

  it('the MSB-first-permutation result from §9.3 (0x9ACA01DB1F46D890, sample tables) is not produced', () => {
    expect(encryptHex('0abc12def3456789', '0b19eb230100c207')).not.toBe('9aca01db1f46d890');
  });

  it('refuses keys that are not 8 bytes', () => {
    expect(STA_KEY_BYTES).toBe(8);
    for (const length of [0, 7, 9, 16]) expect(() => createSta(new Uint8Array(length))).toThrow(RangeError);
  });

  it('does not keep a reference to the key bytes (changing them later changes nothing)', () => {
    const key = hexToBytes('e653341f9d5bf36f');
    const cipher = createSta(key);
    key.fill(0);
    const block = blockFromHex('05599863000119e6');
    cipher.encryptBlock(block);
    expect(blockToHex(block)).toBe('492083c0ae7ce455');
  });
});

describe('createSta: properties', () => {
  it('agrees with the bit-by-bit reference for random keys and blocks (property)', () => {
    fc.assert(
      fc.property(key8, word, word, (key, hi, lo) => {
        const block = Uint32Array.of(hi, lo);
        createSta(key).encryptBlock(block);
        const expected = referenceEncrypt(big(bytesToHex(key)), (BigInt(hi) << 32n) | BigInt(lo));
        expect(blockToHex(block)).toBe(expected.toString(16).padStart(16, '0'));
      }),
      { numRuns: 200 },
    );
  });

  it('decrypt(encrypt(x)) = x and encrypt(decrypt(x)) = x (property)', () => {
    fc.assert(
      fc.property(key8, word, word, (key, hi, lo) => {
        const cipher = createSta(key);
        const block = Uint32Array.of(hi, lo);
        cipher.encryptBlock(block);
        cipher.decryptBlock(block);
        expect([block[0], block[1]]).toEqual([hi, lo]);
        cipher.decryptBlock(block);
        cipher.encryptBlock(block);
        expect([block[0], block[1]]).toEqual([hi, lo]);
      }),
      { numRuns: 500 },
    );
  });

  it('decryption agrees with the reference decryption (property)', () => {
    fc.assert(
      fc.property(key8, word, word, (key, hi, lo) => {
        const block = Uint32Array.of(hi, lo);
        createSta(key).decryptBlock(block);
        const expected = referenceDecrypt(big(bytesToHex(key)), (BigInt(hi) << 32n) | BigInt(lo));
        expect(blockToHex(block)).toBe(expected.toString(16).padStart(16, '0'));
      }),
      { numRuns: 100 },
    );
  });

  it('every one of the 64 key bits matters: flipping any one changes the IEC ciphertext, as the reference says', () => {
    const key = hexToBytes('0abc12def3456789');
    const seen = new Set<string>();
    for (let flip = 0; flip < 64; flip++) {
      const other = Uint8Array.from(key);
      other[flip >> 3]! ^= 1 << (flip & 7);
      const ciphertext = encryptHex(bytesToHex(other), '0b19eb230100c207');
      expect(ciphertext, `key bit ${flip}`).not.toBe('9335c6c96b7352dc');
      expect(ciphertext).toBe(
        referenceEncrypt(big(bytesToHex(other)), 0x0b19eb230100c207n)
          .toString(16)
          .padStart(16, '0'),
      );
      seen.add(ciphertext);
    }
    expect(seen.size).toBe(64);
  });
});
