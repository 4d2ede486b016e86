import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMisty1, MISTY1_KEY_BYTES } from '../../../../src-shared/sts/crypto/misty1.ts';

const RFC_KEY_HEX = '00112233445566778899aabbccddeeff';

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}

/** 16 hex digits -> the two-word block layout of BlockCipher64 (word 0 = bits 63..32). */
function hexToBlock(hex: string): Uint32Array {
  return new Uint32Array([Number.parseInt(hex.slice(0, 8), 16), Number.parseInt(hex.slice(8, 16), 16)]);
}

function blockToHex(block: Uint32Array): string {
  return Array.from(block, (word) => word.toString(16).padStart(8, '0')).join('');
}

interface Misty1Vector {
  id: string;
  kind: string;
  inputs: { key_hex: string; plaintext_hex: string };
  expected: { ciphertext_hex: string };
}

function loadFixtureVectors(): Misty1Vector[] {
  const url = new URL('../../../../../shared/fixtures/sts-vectors.json', import.meta.url);
  const all = JSON.parse(readFileSync(url, 'utf8')) as Array<{ kind: string }>;
  return all.filter((entry) => entry.kind === 'misty1_encrypt') as Misty1Vector[];
}

describe('MISTY1 (RFC 2994, STS EA11)', () => {
  const rfcVectors = [
    { plaintext: '0123456789abcdef', ciphertext: '8b1da5f56ab3d07c' },
    { plaintext: 'fedcba9876543210', ciphertext: '04b68240b13be95d' },
  ];

  for (const { plaintext, ciphertext } of rfcVectors) {
    it(`encrypts RFC 2994 vector ${plaintext} -> ${ciphertext}`, () => {
      const block = hexToBlock(plaintext);
      createMisty1(hexToBytes(RFC_KEY_HEX)).encryptBlock(block);
      expect(blockToHex(block)).toBe(ciphertext);
    });

    it(`decrypts RFC 2994 vector ${ciphertext} -> ${plaintext}`, () => {
      const block = hexToBlock(ciphertext);
      createMisty1(hexToBytes(RFC_KEY_HEX)).decryptBlock(block);
      expect(blockToHex(block)).toBe(plaintext);
    });
  }

  it('passes exactly the two misty1_encrypt vectors of the shared fixture file, both directions', () => {
    const vectors = loadFixtureVectors();
    expect(vectors).toHaveLength(2);
    for (const vector of vectors) {
      const cipher = createMisty1(hexToBytes(vector.inputs.key_hex));
      const block = hexToBlock(vector.inputs.plaintext_hex);
      cipher.encryptBlock(block);
      expect(blockToHex(block), vector.id).toBe(vector.expected.ciphertext_hex.toLowerCase());
      cipher.decryptBlock(block);
      expect(blockToHex(block), vector.id).toBe(vector.inputs.plaintext_hex.toLowerCase());
    }
  });

  it('decrypt(encrypt(x)) === x for random keys and blocks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: MISTY1_KEY_BYTES, maxLength: MISTY1_KEY_BYTES }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (key, high, low) => {
          const cipher = createMisty1(key);
          const block = new Uint32Array([high, low]);
          cipher.encryptBlock(block);
          cipher.decryptBlock(block);
          expect(block[0]).toBe(high);
          expect(block[1]).toBe(low);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  it('works in place on a subarray view and leaves neighbouring words alone', () => {
    const words = new Uint32Array([0xdeadbeef, 0x01234567, 0x89abcdef, 0xcafef00d]);
    const cipher = createMisty1(hexToBytes(RFC_KEY_HEX));
    cipher.encryptBlock(words.subarray(1, 3));
    expect(blockToHex(words.subarray(1, 3))).toBe('8b1da5f56ab3d07c');
    expect(words[0]).toBe(0xdeadbeef);
    expect(words[3]).toBe(0xcafef00d);
  });

  it.each([0, 8, 15, 17, 24, 32])(
    'rejects a %i-byte key with a RangeError that does not leak the key',
    (length) => {
      const key = new Uint8Array(length);
      for (let i = 0; i < length; i++) key[i] = 0xa0 + (i % 16);
      const keyHex = Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('');

      let caught: unknown;
      try {
        createMisty1(key);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RangeError);
      const message = (caught as RangeError).message;
      expect(message).toMatch(/16 bytes/);
      if (keyHex.length > 0) {
        expect(message.toLowerCase()).not.toContain(keyHex);
        expect(message.toLowerCase()).not.toContain(keyHex.slice(0, 8));
      }
    },
  );
});
