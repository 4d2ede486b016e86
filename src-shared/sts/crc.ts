/**
 * STS CRC: CRC-16/MODBUS (reflected polynomial 0xA001, init 0xFFFF, no final XOR) over the 50-bit
 * `class | subclass | data` value right-aligned in 7 big-endian bytes. The token stores the register
 * byte-swapped. Currency credit tokens (class 0, subclasses 4–7) use CRC_C: one extra byte 0x01.
 */

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    table[n] = crc;
  }
  return table;
})();

const step = (crc: number, byte: number): number => (crc >>> 8) ^ TABLE[(crc ^ byte) & 0xff]!;

/** The CRC-16/MODBUS register over arbitrary bytes (check value for "123456789" is 0x4B37). */
export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) crc = step(crc, byte);
  return crc;
}

/** Swaps the two bytes of a 16-bit register: how STS stores its CRC in the token. */
export const swapCrcBytes = (register: number): number => ((register & 0xff) << 8) | (register >>> 8);

/**
 * The stored (byte-swapped) CRC field for a token block.
 * `hi` is block bits 63..32 (subclass and data top), `lo` is bits 31..0 (only its top 16 bits, the data tail, count).
 */
export function tokenCrcField(tokenClass: number, hi: number, lo: number, currency = false): number {
  let crc = step(0xffff, tokenClass & 3);
  crc = step(crc, hi >>> 24);
  crc = step(crc, (hi >>> 16) & 0xff);
  crc = step(crc, (hi >>> 8) & 0xff);
  crc = step(crc, hi & 0xff);
  crc = step(crc, lo >>> 24);
  crc = step(crc, (lo >>> 16) & 0xff);
  if (currency) crc = step(crc, 0x01);
  return swapCrcBytes(crc);
}
