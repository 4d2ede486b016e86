import { bytesToHex, hexToBytes } from '../encoding/hex.ts';
import { StsError } from './errors.ts';

const REDACTED = '[secret key]';

/**
 * Key material (vending keys, decoder keys). It never prints itself: toString, JSON and Node's
 * inspector all show a placeholder. The hex leaves only through `revealHex()`, which callers use
 * for an explicit operator request (`--reveal`) and nowhere else.
 */
export class SecretKey {
  readonly #bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  static fromBytes(bytes: Uint8Array): SecretKey {
    return new SecretKey(Uint8Array.from(bytes));
  }

  /** Parses hex; errors name the key and its length, never its content. */
  static fromHex(hex: string, what: string, expectedBytes?: readonly number[]): SecretKey {
    let bytes: Uint8Array;
    try {
      bytes = hexToBytes(hex.trim(), what);
    } catch {
      throw new StsError(
        'STS_INVALID_KEY',
        `The ${what} is not valid hexadecimal.`,
        `${what} must be hex digits (got ${hex.length} characters)`,
      );
    }
    if (expectedBytes && !expectedBytes.includes(bytes.length)) {
      const wanted = expectedBytes.map((n) => `${n} bytes (${n * 2} hex digits)`).join(' or ');
      throw new StsError(
        'STS_INVALID_KEY',
        `The ${what} has the wrong length: it must be ${wanted}.`,
        `${what} is ${bytes.length} bytes, expected ${wanted}`,
      );
    }
    return new SecretKey(bytes);
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** The raw bytes, for the cryptographic code that consumes them. Do not log. */
  bytes(): Uint8Array {
    return this.#bytes;
  }

  revealHex(): string {
    return bytesToHex(this.#bytes);
  }

  equals(other: SecretKey): boolean {
    const a = this.#bytes;
    const b = other.#bytes;
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
    return diff === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
