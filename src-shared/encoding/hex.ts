const HEX_DIGITS = '0123456789abcdef';

/** Strict hex → bytes. The caller names the value so errors stay meaningful without echoing it. */
export function hexToBytes(hex: string, what = 'value'): Uint8Array {
  const clean = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new TypeError(`${what} must be an even number of hex digits (got ${clean.length} characters)`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
  return out;
}

/** Lower-case, zero-padded hex of an unsigned integer of `digits` nibbles. */
export function toHex(value: number | bigint, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

/** Two 32-bit words (hi, lo) as 16 hex digits. */
export function wordsToHex(hi: number, lo: number): string {
  return toHex(hi >>> 0, 8) + toHex(lo >>> 0, 8);
}

export function wordsFromBytes(bytes: Uint8Array, offset = 0): [number, number] {
  const hi =
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0;
  const lo =
    ((bytes[offset + 4]! << 24) |
      (bytes[offset + 5]! << 16) |
      (bytes[offset + 6]! << 8) |
      bytes[offset + 7]!) >>>
    0;
  return [hi, lo];
}

export function wordsToBytes(hi: number, lo: number): Uint8Array {
  return new Uint8Array([
    hi >>> 24,
    (hi >>> 16) & 255,
    (hi >>> 8) & 255,
    hi & 255,
    lo >>> 24,
    (lo >>> 16) & 255,
    (lo >>> 8) & 255,
    lo & 255,
  ]);
}
