/**
 * Single DES (FIPS 46-3), one 64-bit block at a time (ECB).
 *
 * Layout of the fast path:
 * - The eight S-boxes are fused with the P permutation into eight 64-entry tables (SP tables),
 *   built once at module load from the FIPS tables below, so a round is eight lookups and XORs.
 * - The E expansion is never materialised: each 6-bit E group is a window of the 32-bit half,
 *   so two rotated copies of the half expose all eight groups in byte lanes. Subkeys are stored
 *   pre-split into the same byte lanes (one word for even groups, one for odd groups).
 * - During the rounds both halves are kept rotated left by one bit, which makes the odd-group
 *   word a plain XOR; the SP tables are rotated to match.
 * - IP and FP use swap-move steps instead of bit-by-bit permutation.
 * - The key schedule is table-driven too (PC-1 per key byte, PC-2 per 7-bit chunk of C and D).
 *
 * Nothing is allocated per block: state lives in local integers and the caller's Uint32Array.
 */
import type { BlockCipher64 } from './block-cipher.ts';

export const DES_KEY_BYTES = 8;

const ROUNDS = 16;

// ---------------------------------------------------------------------------------------------
// FIPS 46-3 tables, 1-based bit numbers with bit 1 the most significant, exactly as published.
// ---------------------------------------------------------------------------------------------

/** S-boxes as published: [box][row][column]. */
const S_BOXES: readonly (readonly (readonly number[])[])[] = [
  [
    [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7],
    [0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8],
    [4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0],
    [15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  ],
  [
    [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10],
    [3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5],
    [0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15],
    [13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  ],
  [
    [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8],
    [13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1],
    [13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7],
    [1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  ],
  [
    [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15],
    [13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9],
    [10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4],
    [3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  ],
  [
    [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9],
    [14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6],
    [4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14],
    [11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  ],
  [
    [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11],
    [10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8],
    [9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6],
    [4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  ],
  [
    [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1],
    [13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6],
    [1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2],
    [6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  ],
  [
    [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7],
    [1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2],
    [7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8],
    [2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
  ],
];

/** P: output bit i comes from S-box output bit P[i]. */
const P_PERMUTATION: readonly number[] = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22,
  11, 4, 25,
];

/** PC-1: first 28 entries build C, last 28 build D; the parity bits (8, 16, ..., 64) never appear. */
const PERMUTED_CHOICE_1: readonly number[] = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];

/** PC-2: selects the 48 subkey bits from the 56 bits of C followed by D. */
const PERMUTED_CHOICE_2: readonly number[] = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47,
  55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

/** Left rotations of C and D before each round. */
const KEY_ROTATIONS: readonly number[] = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

// ---------------------------------------------------------------------------------------------
// Tables derived at module load.
// ---------------------------------------------------------------------------------------------

function rotateLeft32(value: number, count: number): number {
  return (value << count) | (value >>> (32 - count));
}

/**
 * SP table for one S-box: for each 6-bit input, the S-box output placed in its nibble, pushed
 * through P, then rotated left by one to match the rotated halves used during the rounds.
 * Int32Array keeps every entry a small integer for the JIT.
 */
function buildSpTable(boxIndex: number): Int32Array {
  const sBox = S_BOXES[boxIndex]!;
  const table = new Int32Array(64);
  for (let input = 0; input < 64; input++) {
    // Outer bits pick the row, the middle four bits pick the column.
    const row = ((input >>> 4) & 2) | (input & 1);
    const column = (input >>> 1) & 15;
    const nibble = sBox[row]![column]!;
    const beforeP = nibble << (28 - 4 * boxIndex);
    let afterP = 0;
    for (let outBit = 0; outBit < 32; outBit++) {
      const sourceBit = P_PERMUTATION[outBit]! - 1;
      if ((beforeP >>> (31 - sourceBit)) & 1) afterP |= 1 << (31 - outBit);
    }
    table[input] = rotateLeft32(afterP, 1);
  }
  return table;
}

const SP1 = buildSpTable(0);
const SP2 = buildSpTable(1);
const SP3 = buildSpTable(2);
const SP4 = buildSpTable(3);
const SP5 = buildSpTable(4);
const SP6 = buildSpTable(5);
const SP7 = buildSpTable(6);
const SP8 = buildSpTable(7);

/**
 * PC-1 by key byte: entry [byteIndex * 256 + byteValue] holds that byte's contribution to the
 * 28-bit C register (bit 1 of C at bit 27) and, in the second table, to D.
 */
const PC1_TO_C = new Int32Array(8 * 256);
const PC1_TO_D = new Int32Array(8 * 256);

/**
 * Where subkey bit k (0-based, FIPS numbering minus one) lands in the split subkey words.
 * E group g is bits 6g..6g+5 of the subkey. Even groups go to the "even" word and odd groups to
 * the "odd" word; within each, groups 0/1, 2/3, 4/5, 6/7 sit in bits 24-29, 16-21, 8-13, 0-5.
 */
function subkeyBitPosition(subkeyBit: number): { odd: boolean; shift: number } {
  const group = Math.floor(subkeyBit / 6);
  const bitInGroup = 5 - (subkeyBit % 6);
  const lane = 3 - (group >>> 1);
  return { odd: (group & 1) === 1, shift: lane * 8 + bitInGroup };
}

/**
 * PC-2 by 7-bit chunk of C or D. Chunk c (0..3 for C, 4..7 for D) covers register bits
 * 27-7*(c%4) down to 21-7*(c%4); entry [c * 128 + chunkValue] is the chunk's contribution.
 */
const PC2_TO_EVEN = new Int32Array(8 * 128);
const PC2_TO_ODD = new Int32Array(8 * 128);

function buildKeyScheduleTables(): void {
  for (let outBit = 0; outBit < 56; outBit++) {
    const keyBit = PERMUTED_CHOICE_1[outBit]! - 1;
    const byteIndex = keyBit >>> 3;
    const bitMask = 0x80 >>> (keyBit & 7);
    const target = outBit < 28 ? PC1_TO_C : PC1_TO_D;
    const registerBit = 1 << (27 - (outBit % 28));
    for (let value = 0; value < 256; value++) {
      if (value & bitMask) target[byteIndex * 256 + value]! |= registerBit;
    }
  }
  for (let subkeyBit = 0; subkeyBit < 48; subkeyBit++) {
    const sourceBit = PERMUTED_CHOICE_2[subkeyBit]! - 1; // 0..27 in C, 28..55 in D
    const chunk = Math.floor(sourceBit / 7);
    const chunkMask = 0x40 >>> (sourceBit % 7);
    const { odd, shift } = subkeyBitPosition(subkeyBit);
    const target = odd ? PC2_TO_ODD : PC2_TO_EVEN;
    for (let value = 0; value < 128; value++) {
      if (value & chunkMask) target[chunk * 128 + value]! |= 1 << shift;
    }
  }
}

buildKeyScheduleTables();

// ---------------------------------------------------------------------------------------------
// Key schedule and block function.
// ---------------------------------------------------------------------------------------------

/**
 * Returns the 16 (even, odd) subkey word pairs in round order.
 *
 * A plain array rather than a typed array: every word fits in 30 bits, so V8 keeps it as packed
 * small integers, and allocating it is about ten times cheaper than an Int32Array,
 * which dominated the cost of creating a cipher per key.
 */
function expandKey(key: Uint8Array): number[] {
  const subkeys: number[] = [];
  let c = 0;
  let d = 0;
  for (let i = 0; i < 8; i++) {
    const index = i * 256 + key[i]!;
    c |= PC1_TO_C[index]!;
    d |= PC1_TO_D[index]!;
  }
  for (let round = 0; round < ROUNDS; round++) {
    const shift = KEY_ROTATIONS[round]!;
    c = ((c << shift) | (c >>> (28 - shift))) & 0x0fffffff;
    d = ((d << shift) | (d >>> (28 - shift))) & 0x0fffffff;
    const even =
      PC2_TO_EVEN[(c >>> 21) & 0x7f]! |
      PC2_TO_EVEN[128 + ((c >>> 14) & 0x7f)]! |
      PC2_TO_EVEN[256 + ((c >>> 7) & 0x7f)]! |
      PC2_TO_EVEN[384 + (c & 0x7f)]! |
      PC2_TO_EVEN[512 + ((d >>> 21) & 0x7f)]! |
      PC2_TO_EVEN[640 + ((d >>> 14) & 0x7f)]! |
      PC2_TO_EVEN[768 + ((d >>> 7) & 0x7f)]! |
      PC2_TO_EVEN[896 + (d & 0x7f)]!;
    const odd =
      PC2_TO_ODD[(c >>> 21) & 0x7f]! |
      PC2_TO_ODD[128 + ((c >>> 14) & 0x7f)]! |
      PC2_TO_ODD[256 + ((c >>> 7) & 0x7f)]! |
      PC2_TO_ODD[384 + (c & 0x7f)]! |
      PC2_TO_ODD[512 + ((d >>> 21) & 0x7f)]! |
      PC2_TO_ODD[640 + ((d >>> 14) & 0x7f)]! |
      PC2_TO_ODD[768 + ((d >>> 7) & 0x7f)]! |
      PC2_TO_ODD[896 + (d & 0x7f)]!;
    subkeys.push(even, odd);
  }
  return subkeys;
}

/** The same subkey pairs in reverse round order, for decryption. */
function reverseSubkeyPairs(subkeys: readonly number[]): number[] {
  const reversed: number[] = [];
  for (let k = subkeys.length - 2; k >= 0; k -= 2) reversed.push(subkeys[k]!, subkeys[k + 1]!);
  return reversed;
}

/**
 * Runs IP, the 16 Feistel rounds with the given subkey order, and FP on one block in place.
 * Encryption and decryption differ only in subkey order.
 */
function cryptBlock(block: Uint32Array, subkeys: readonly number[]): void {
  let left = block[0]! | 0;
  let right = block[1]! | 0;
  let swap: number;

  // Initial permutation as five swap-move steps (each exchanges bit groups between the halves).
  swap = ((left >>> 4) ^ right) & 0x0f0f0f0f;
  right ^= swap;
  left ^= swap << 4;
  swap = ((left >>> 16) ^ right) & 0x0000ffff;
  right ^= swap;
  left ^= swap << 16;
  swap = ((right >>> 2) ^ left) & 0x33333333;
  left ^= swap;
  right ^= swap << 2;
  swap = ((right >>> 8) ^ left) & 0x00ff00ff;
  left ^= swap;
  right ^= swap << 8;
  swap = ((left >>> 1) ^ right) & 0x55555555;
  right ^= swap;
  left ^= swap << 1;

  // Keep halves rotated left by one: the odd E groups then line up with a plain XOR.
  left = (left << 1) | (left >>> 31);
  right = (right << 1) | (right >>> 31);

  let oddLanes: number;
  let evenLanes: number;
  for (let k = 0; k < 4 * (ROUNDS / 2); k += 4) {
    evenLanes = ((right >>> 4) | (right << 28)) ^ subkeys[k]!;
    oddLanes = right ^ subkeys[k + 1]!;
    left ^=
      SP1[(evenLanes >>> 24) & 63]! |
      SP3[(evenLanes >>> 16) & 63]! |
      SP5[(evenLanes >>> 8) & 63]! |
      SP7[evenLanes & 63]! |
      SP2[(oddLanes >>> 24) & 63]! |
      SP4[(oddLanes >>> 16) & 63]! |
      SP6[(oddLanes >>> 8) & 63]! |
      SP8[oddLanes & 63]!;

    evenLanes = ((left >>> 4) | (left << 28)) ^ subkeys[k + 2]!;
    oddLanes = left ^ subkeys[k + 3]!;
    right ^=
      SP1[(evenLanes >>> 24) & 63]! |
      SP3[(evenLanes >>> 16) & 63]! |
      SP5[(evenLanes >>> 8) & 63]! |
      SP7[evenLanes & 63]! |
      SP2[(oddLanes >>> 24) & 63]! |
      SP4[(oddLanes >>> 16) & 63]! |
      SP6[(oddLanes >>> 8) & 63]! |
      SP8[oddLanes & 63]!;
  }

  // Undo the rotation and apply the final swap: the output is R16 || L16.
  const finalLeft = (right >>> 1) | (right << 31);
  right = (left >>> 1) | (left << 31);
  left = finalLeft;

  // Final permutation: the same swap-move steps in reverse order undo IP.
  swap = ((left >>> 1) ^ right) & 0x55555555;
  right ^= swap;
  left ^= swap << 1;
  swap = ((right >>> 8) ^ left) & 0x00ff00ff;
  left ^= swap;
  right ^= swap << 8;
  swap = ((right >>> 2) ^ left) & 0x33333333;
  left ^= swap;
  right ^= swap << 2;
  swap = ((left >>> 16) ^ right) & 0x0000ffff;
  right ^= swap;
  left ^= swap << 16;
  swap = ((left >>> 4) ^ right) & 0x0f0f0f0f;
  right ^= swap;
  left ^= swap << 4;

  // Uint32Array stores wrap the signed intermediates back to unsigned.
  block[0] = left;
  block[1] = right;
}

class DesCipher implements BlockCipher64 {
  readonly #encryptSubkeys: readonly number[];
  readonly #decryptSubkeys: readonly number[];

  constructor(key: Uint8Array) {
    this.#encryptSubkeys = expandKey(key);
    this.#decryptSubkeys = reverseSubkeyPairs(this.#encryptSubkeys);
  }

  encryptBlock(block: Uint32Array): void {
    cryptBlock(block, this.#encryptSubkeys);
  }

  decryptBlock(block: Uint32Array): void {
    cryptBlock(block, this.#decryptSubkeys);
  }
}

/**
 * Creates a DES cipher for an 8-byte key in standard byte order. The low bit of each key byte
 * (the parity bit) is ignored, as FIPS 46-3 specifies. The key is expanded immediately; the
 * caller's array is not retained.
 */
export function createDes(key: Uint8Array): BlockCipher64 {
  if (key.length !== DES_KEY_BYTES) {
    throw new RangeError(`DES key must be exactly ${DES_KEY_BYTES} bytes, got ${key.length}`);
  }
  return new DesCipher(key);
}
