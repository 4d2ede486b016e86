import type { BlockCipher64 } from './block-cipher.ts';

/**
 * EA07, the Standard Transfer Algorithm: 16 rounds of key-selected 4-bit substitution followed by a
 * 64-bit permutation. Bit 0 is the least-significant bit; nibble 0 is the least-significant nibble.
 *
 * Speed comes from folding substitution and permutation into one lookup per data byte: for each byte
 * position and each pair of S-box selectors, a 256-entry table gives that byte's permuted contribution.
 */

// Production tables (STS 531-1 / IEC 62055-41), as listed in shared/docs/sts-algorithms.md §9.1.
const S1 = [14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11];
const S2 = [12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14];
const P = [
  55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50, 6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4,
  32, 20, 63, 25, 51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5, 40, 60, 39, 11, 15, 17, 1, 0,
  57, 34, 59, 8, 47, 14, 45, 26,
];

export const STA_KEY_BYTES = 8;

const invert = (table: readonly number[]): number[] => {
  const inverse = new Array<number>(table.length);
  table.forEach((value, index) => {
    inverse[value] = index;
  });
  return inverse;
};
const S1_INV = invert(S1);
const S2_INV = invert(S2);

/** Where each input bit lands under the permutation, as (word, mask) for fast table building. */
function permuteBits(hiIn: number, loIn: number, table: readonly number[]): [number, number] {
  let hi = 0;
  let lo = 0;
  for (let j = 0; j < 64; j++) {
    const set = j < 32 ? (loIn >>> j) & 1 : (hiIn >>> (j - 32)) & 1;
    if (!set) continue;
    const target = table[j]!;
    if (target < 32) lo |= 1 << target;
    else hi |= 1 << (target - 32);
  }
  return [hi >>> 0, lo >>> 0];
}

const substituteByte = (value: number, selectors: number, low: number[][], high: number[][]): number => {
  const lowNibble = low[selectors & 1]![value & 15]!;
  const highNibble = high[(selectors >> 1) & 1]![value >> 4]!;
  return (highNibble << 4) | lowNibble;
};

/** Builds [position][selectors][byte] → (hi, lo) tables, flattened: index = ((pos*4 + sel)*256 + byte)*2. */
function buildRoundTables(boxes: number[][], permutation: readonly number[]): Uint32Array {
  const tables = new Uint32Array(8 * 4 * 256 * 2);
  for (let position = 0; position < 8; position++) {
    for (let selectors = 0; selectors < 4; selectors++) {
      for (let byte = 0; byte < 256; byte++) {
        const substituted = substituteByte(byte, selectors, boxes, boxes);
        const shift = position * 8;
        const hiIn = shift >= 32 ? substituted << (shift - 32) : 0;
        const loIn = shift < 32 ? substituted << shift : 0;
        const [hi, lo] = permuteBits(hiIn >>> 0, loIn >>> 0, permutation);
        const index = ((position * 4 + selectors) * 256 + byte) * 2;
        tables[index] = hi;
        tables[index + 1] = lo;
      }
    }
  }
  return tables;
}

/** Same layout, but for the plain permutation of one byte position (selectors unused). */
function buildPermutationTables(permutation: readonly number[]): Uint32Array {
  const tables = new Uint32Array(8 * 256 * 2);
  for (let position = 0; position < 8; position++) {
    for (let byte = 0; byte < 256; byte++) {
      const shift = position * 8;
      const [hi, lo] = permuteBits(
        shift >= 32 ? (byte << (shift - 32)) >>> 0 : 0,
        shift < 32 ? (byte << shift) >>> 0 : 0,
        permutation,
      );
      tables[(position * 256 + byte) * 2] = hi;
      tables[(position * 256 + byte) * 2 + 1] = lo;
    }
  }
  return tables;
}

const ENCRYPT_ROUND = buildRoundTables([S1, S2], P);
const P_INV = invert(P);
const DECRYPT_PERMUTE = buildPermutationTables(P_INV);
const DECRYPT_ROUND = buildRoundTables([S1_INV, S2_INV], P_INV);
const SUBSTITUTE_INV = buildRoundTables(
  [S1_INV, S2_INV],
  Array.from({ length: 64 }, (_, i) => i),
);

/** Table offsets for each round and byte position, derived from the round key's selector bits. */
function roundOffsets(key: Uint8Array): Int32Array {
  // Kr = ROL64(K0, r) and K0 = ROR64(NOT K, 12), so bit b of Kr is bit (b - r + 12) mod 64 of NOT K.
  const notHi = ~((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!);
  const notLo = ~((key[4]! << 24) | (key[5]! << 16) | (key[6]! << 8) | key[7]!);
  const offsets = new Int32Array(16 * 8);
  for (let round = 0; round < 16; round++) {
    for (let position = 0; position < 8; position++) {
      const lowBit = (position * 8 + 3 - round + 12 + 64) & 63;
      const highBit = (lowBit + 4) & 63;
      const low = lowBit < 32 ? (notLo >>> lowBit) & 1 : (notHi >>> (lowBit - 32)) & 1;
      const high = highBit < 32 ? (notLo >>> highBit) & 1 : (notHi >>> (highBit - 32)) & 1;
      offsets[round * 8 + position] = (position * 4 + (low | (high << 1))) * 512;
    }
  }
  return offsets;
}

function applyTables(tables: Uint32Array, offsets: Int32Array, base: number, block: Uint32Array): void {
  const hiIn = block[0]!;
  const loIn = block[1]!;
  let i = offsets[base]! + ((loIn & 255) << 1);
  let hi = tables[i]!;
  let lo = tables[i + 1]!;
  i = offsets[base + 1]! + (((loIn >>> 8) & 255) << 1);
  hi |= tables[i]!;
  lo |= tables[i + 1]!;
  i = offsets[base + 2]! + (((loIn >>> 16) & 255) << 1);
  hi |= tables[i]!;
  lo |= tables[i + 1]!;
  i = offsets[base + 3]! + ((loIn >>> 24) << 1);
  hi |= tables[i]!;
  lo |= tables[i + 1]!;
  i = offsets[base + 4]! + ((hiIn & 255) << 1);
  hi |= tables[i]!;
  lo |= tables[i + 1]!;
  i = offsets[base + 5]! + (((hiIn >>> 8) & 255) << 1);
  hi |= tables[i]!;
  lo |= tables[i + 1]!;
  i = offsets[base + 6]! + (((hiIn >>> 16) & 255) << 1);
  hi |= tables[i]!;
  lo |= tables[i + 1]!;
  i = offsets[base + 7]! + ((hiIn >>> 24) << 1);
  hi |= tables[i]!;
  lo |= tables[i + 1]!;
  block[0] = hi;
  block[1] = lo;
}

const PLAIN_PERMUTE_OFFSETS = Int32Array.from({ length: 8 }, (_, position) => position * 512);

export function createSta(key: Uint8Array): BlockCipher64 {
  if (key.length !== STA_KEY_BYTES) {
    throw new RangeError(`EA07 (STA) needs an ${STA_KEY_BYTES}-byte decoder key, got ${key.length} bytes`);
  }
  const offsets = roundOffsets(key);
  return {
    encryptBlock(block) {
      for (let round = 0; round < 16; round++) applyTables(ENCRYPT_ROUND, offsets, round * 8, block);
    },
    // Decryption is invS_r ∘ invP for r = 15..0, regrouped as invP, then (invP ∘ invS_r) for r = 15..1, then invS_0.
    decryptBlock(block) {
      applyTables(DECRYPT_PERMUTE, PLAIN_PERMUTE_OFFSETS, 0, block);
      for (let round = 15; round >= 1; round--) applyTables(DECRYPT_ROUND, offsets, round * 8, block);
      applyTables(SUBSTITUTE_INV, offsets, 0, block);
    },
  };
}
