import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDes, DES_KEY_BYTES } from '../../../../src-shared/sts/crypto/des.ts';

function keyFromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function blockFromHex(hex: string): Uint32Array {
  return new Uint32Array([Number.parseInt(hex.slice(0, 8), 16), Number.parseInt(hex.slice(8, 16), 16)]);
}

function blockToHex(block: Uint32Array): string {
  return block[0]!.toString(16).padStart(8, '0') + block[1]!.toString(16).padStart(8, '0');
}

function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function encryptHex(keyHex: string, plainHex: string): string {
  const block = blockFromHex(plainHex);
  createDes(keyFromHex(keyHex)).encryptBlock(block);
  return blockToHex(block);
}

function decryptHex(keyHex: string, cipherHex: string): string {
  const block = blockFromHex(cipherHex);
  createDes(keyFromHex(keyHex)).decryptBlock(block);
  return blockToHex(block);
}

const key64 = fc.uint8Array({ minLength: 8, maxLength: 8 });
const block64 = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }));

describe('DES known-answer vectors', () => {
  const vectors: ReadonlyArray<{ name: string; key: string; plain: string; cipher: string }> = [
    {
      name: 'textbook example',
      key: '133457799bbcdff1',
      plain: '0123456789abcdef',
      cipher: '85e813540f0ab405',
    },
    // NBS / SP 800-17 variable-plaintext test, key 0101010101010101.
    {
      name: 'variable plaintext #1',
      key: '0101010101010101',
      plain: '8000000000000000',
      cipher: '95f8a5e5dd31d900',
    },
    {
      name: 'variable plaintext #2',
      key: '0101010101010101',
      plain: '4000000000000000',
      cipher: 'dd7f121ca5015619',
    },
    {
      name: 'variable plaintext #3',
      key: '0101010101010101',
      plain: '2000000000000000',
      cipher: '2e8653104f3834ea',
    },
    // SP 800-17 variable-key test, plaintext 0.
    {
      name: 'variable key #1',
      key: '8001010101010101',
      plain: '0000000000000000',
      cipher: '95a8d72813daa94d',
    },
    {
      name: 'variable key #2',
      key: '4001010101010101',
      plain: '0000000000000000',
      cipher: '0eec1487dd8c26d5',
    },
    {
      name: 'zero ciphertext',
      key: '0e329232ea6d0d73',
      plain: '8787878787878787',
      cipher: '0000000000000000',
    },
    {
      name: 'SP 800-17 sample',
      key: '7ca110454a1a6e57',
      plain: '01a1d6d039776742',
      cipher: '690f5b0d9a26939b',
    },
    // STS DKGA02 step: the DES encryption that derives a decoder key.
    {
      name: 'STS DKGA02 step',
      key: 'abababababababab',
      plain: '2151356011ffffff',
      cipher: '6ca9aad4270fa73b',
    },
  ];

  for (const v of vectors) {
    it(`encrypts and decrypts: ${v.name}`, () => {
      expect(encryptHex(v.key, v.plain)).toBe(v.cipher);
      expect(decryptHex(v.key, v.cipher)).toBe(v.plain);
    });
  }

  it('exports the key size', () => {
    expect(DES_KEY_BYTES).toBe(8);
  });
});

describe('DES properties', () => {
  it('decryptBlock inverts encryptBlock', () => {
    fc.assert(
      fc.property(key64, block64, (key, [hi, lo]) => {
        const cipher = createDes(key);
        const block = new Uint32Array([hi, lo]);
        cipher.encryptBlock(block);
        cipher.decryptBlock(block);
        expect(block[0]).toBe(hi);
        expect(block[1]).toBe(lo);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('satisfies the complementation property E(~k, ~p) = ~E(k, p)', () => {
    fc.assert(
      fc.property(key64, block64, (key, [hi, lo]) => {
        const block = new Uint32Array([hi, lo]);
        createDes(key).encryptBlock(block);
        const complemented = new Uint32Array([~hi, ~lo]);
        createDes(key.map((b) => ~b & 0xff)).encryptBlock(complemented);
        expect(complemented[0]).toBe(~block[0]! >>> 0);
        expect(complemented[1]).toBe(~block[1]! >>> 0);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('ignores the parity bit of every key byte', () => {
    fc.assert(
      fc.property(key64, block64, (key, [hi, lo]) => {
        const withParityFlipped = key.map((b) => b ^ 0x01);
        const a = new Uint32Array([hi, lo]);
        const b = new Uint32Array([hi, lo]);
        createDes(key).encryptBlock(a);
        createDes(withParityFlipped).encryptBlock(b);
        expect(Array.from(b)).toEqual(Array.from(a));
      }),
      { seed: 42, numRuns: 200 },
    );
    expect(encryptHex('123456789bbcdff0', '0123456789abcdef')).toBe('85e813540f0ab405');
  });

  it('does not keep a reference to the caller key array', () => {
    const key = keyFromHex('133457799bbcdff1');
    const cipher = createDes(key);
    key.fill(0);
    const block = blockFromHex('0123456789abcdef');
    cipher.encryptBlock(block);
    expect(blockToHex(block)).toBe('85e813540f0ab405');
  });

  it('can be reused for many blocks', () => {
    const cipher = createDes(keyFromHex('0101010101010101'));
    const block = new Uint32Array(2);
    for (const [plain, expected] of [
      ['8000000000000000', '95f8a5e5dd31d900'],
      ['4000000000000000', 'dd7f121ca5015619'],
      ['2000000000000000', '2e8653104f3834ea'],
    ] as const) {
      block.set(blockFromHex(plain));
      cipher.encryptBlock(block);
      expect(blockToHex(block)).toBe(expected);
    }
  });
});

describe('DES key validation', () => {
  for (const length of [0, 7, 9, 16, 24]) {
    it(`rejects a ${length}-byte key with a RangeError that does not leak the key`, () => {
      const key = new Uint8Array(length).map((_, i) => 0xa0 + i);
      const keyHex = bytesToHex(key);
      let caught: unknown;
      try {
        createDes(key);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RangeError);
      const message = (caught as RangeError).message;
      expect(message).toMatch(/8 bytes/);
      if (keyHex.length > 0) {
        expect(message.toLowerCase()).not.toContain(keyHex);
        expect(message.toLowerCase()).not.toContain(keyHex.slice(0, 4));
      }
    });
  }
});

/** Encrypts whole blocks with OpenSSL DES-ECB (legacy provider); .ci/run installs openssl. */
function opensslDesEcb(keyHex: string, plaintext: Uint8Array): Uint8Array | undefined {
  const result = spawnSync(
    'openssl',
    ['enc', '-des-ecb', '-provider', 'legacy', '-provider', 'default', '-K', keyHex, '-nopad'],
    { input: plaintext },
  );
  if (result.error || result.status !== 0) return undefined;
  return new Uint8Array(result.stdout);
}

describe('DES cross-check against OpenSSL', () => {
  it('matches openssl des-ecb for random keys and blocks', () => {
    const samples = fc.sample(fc.tuple(key64, fc.uint8Array({ minLength: 32, maxLength: 32 })), {
      seed: 42,
      numRuns: 12,
    });
    for (const [key, plaintext] of samples) {
      const expected = opensslDesEcb(bytesToHex(key), plaintext);
      expect(expected).toBeDefined();

      const cipher = createDes(key);
      const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
      const actual = new Uint8Array(plaintext.length);
      const actualView = new DataView(actual.buffer);
      const block = new Uint32Array(2);
      for (let offset = 0; offset < plaintext.length; offset += 8) {
        block[0] = view.getUint32(offset);
        block[1] = view.getUint32(offset + 4);
        cipher.encryptBlock(block);
        actualView.setUint32(offset, block[0]!);
        actualView.setUint32(offset + 4, block[1]!);
      }
      expect(bytesToHex(actual)).toBe(bytesToHex(expected!));
    }
  });
});
