/**
 * A 64-bit block cipher with its key schedule already expanded.
 *
 * Blocks travel as two unsigned 32-bit words so the hot path never allocates:
 * `block[0]` holds bits 63..32 (big-endian bytes 0..3), `block[1]` holds bits 31..0.
 * Both methods work in place.
 */
export interface BlockCipher64 {
  encryptBlock(block: Uint32Array): void;
  decryptBlock(block: Uint32Array): void;
}
