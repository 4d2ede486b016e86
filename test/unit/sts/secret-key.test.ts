import { format, inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import { expectStsError } from '../../support/sts-vectors.ts';

const HEX = 'e653341f9d5bf36f';
const LONG_HEX = 'abababababababab949494949494949401234567';

/** Every ordinary way a value ends up in a log line. */
function renderings(value: unknown): string[] {
  return [
    String(value),
    `${value}`,
    JSON.stringify(value),
    JSON.stringify({ key: value }),
    JSON.stringify([value]),
    inspect(value),
    inspect({ nested: { key: value } }, { depth: 10, showHidden: true }),
    format('%s %o %O %j', value, value, value, value),
  ];
}

describe('SecretKey never shows its hex', () => {
  it.each([HEX, LONG_HEX, 'f94b6ed353c3bfdb113e2d3a7ea3c41d'])(
    '%s is hidden from String, JSON and inspect',
    (hex) => {
      const key = SecretKey.fromHex(hex, 'decoder key');
      for (const text of renderings(key)) {
        expect(text.toLowerCase()).not.toContain(hex.slice(0, 8));
        expect(text.toLowerCase()).not.toContain(hex.slice(-8));
        expect(text).toContain('[secret key]');
      }
      expect(Object.keys(key)).toEqual([]);
      expect({ ...key }).toEqual({});
    },
  );

  it('no rendering contains the key bytes in any order (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 20 }), (bytes) => {
        fc.pre(new Set(bytes).size > 2); // avoid keys such as 00000000… that appear in any text
        const key = SecretKey.fromBytes(bytes);
        const hex = key.revealHex();
        const decimal = Array.from(bytes).join(',');
        for (const text of renderings(key)) {
          expect(text.toLowerCase()).not.toContain(hex);
          expect(text.toLowerCase()).not.toContain(hex.slice(0, 12));
          expect(text).not.toContain(decimal);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('an Error that mentions the key shows the redaction mark only', () => {
    const key = SecretKey.fromHex(HEX, 'decoder key');
    const error = new Error(`failed with ${key}`);
    expect(error.message).toBe('failed with [secret key]');
  });
});

describe('SecretKey.fromHex', () => {
  it('reads hex (either case, optional 0x, surrounding space) and reveals it lower-case on request', () => {
    expect(SecretKey.fromHex(HEX, 'decoder key').revealHex()).toBe(HEX);
    expect(SecretKey.fromHex(HEX.toUpperCase(), 'decoder key').revealHex()).toBe(HEX);
    expect(SecretKey.fromHex(`0x${HEX}`, 'decoder key').revealHex()).toBe(HEX);
    expect(SecretKey.fromHex(` ${HEX}\n`, 'decoder key').revealHex()).toBe(HEX);
    expect(SecretKey.fromHex(HEX, 'decoder key').length).toBe(8);
    expect(SecretKey.fromHex(LONG_HEX, 'vending key', [20]).length).toBe(20);
  });

  it.each([
    ['not hex', 'e653341f9d5bf36g'],
    ['odd length', 'e653341f9d5bf36'],
    ['inner space', 'e653341f 9d5bf36f'],
    ['dashes', 'e653-341f-9d5b-f36f'],
  ])('refuses %s with STS_INVALID_KEY and does not echo the input', (_label, hex) => {
    const error = expectStsError(() => SecretKey.fromHex(hex, 'decoder key'), 'STS_INVALID_KEY');
    for (const text of [
      error.userMessage,
      error.detail,
      error.message,
      String(error),
      JSON.stringify(error),
    ]) {
      expect(text).not.toContain(hex);
      expect(text).not.toContain('e653341f');
      expect(text).not.toContain('9d5bf36');
    }
    expect(error.userMessage).toContain('decoder key');
  });

  it('refuses a wrong length with STS_INVALID_KEY, stating the lengths wanted, not the key', () => {
    const error = expectStsError(
      () => SecretKey.fromHex(`${HEX}ab`, 'decoder key', [8, 16]),
      'STS_INVALID_KEY',
    );
    expect(error.userMessage).toContain('8 bytes (16 hex digits) or 16 bytes (32 hex digits)');
    for (const text of [error.userMessage, error.detail, error.message, inspect(error)]) {
      expect(text).not.toContain('e653341f');
    }
    const vending = expectStsError(() => SecretKey.fromHex(HEX, 'vending key', [20]), 'STS_INVALID_KEY');
    expect(`${vending.userMessage} ${vending.detail} ${vending.stack ?? ''}`).not.toContain('e653341f');
  });

  it('errors for random malformed keys never contain the input (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefgyz'), minLength: 12, maxLength: 40 }),
        (text) => {
          fc.pre(/[gyz]/.test(text) || text.length % 2 === 1);
          const error = expectStsError(() => SecretKey.fromHex(text, 'key'), 'STS_INVALID_KEY');
          expect(`${error.userMessage}|${error.detail}|${error.message}`).not.toContain(text);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('SecretKey behaviour', () => {
  it('fromBytes copies its input: later changes to the array do not change the key', () => {
    const bytes = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const key = SecretKey.fromBytes(bytes);
    bytes.fill(0);
    expect(key.revealHex()).toBe('0102030405060708');
  });

  it('equals compares content and length', () => {
    const a = SecretKey.fromHex(HEX, 'k');
    expect(a.equals(SecretKey.fromHex(HEX.toUpperCase(), 'k'))).toBe(true);
    expect(a.equals(SecretKey.fromHex('e653341f9d5bf36e', 'k'))).toBe(false);
    expect(a.equals(SecretKey.fromHex(`${HEX}00`, 'k'))).toBe(false);
  });

  it('bytes() gives the key bytes for the crypto code', () => {
    expect(Array.from(SecretKey.fromHex('00ff10', 'k').bytes())).toEqual([0, 255, 16]);
  });

  it('revealHex(fromBytes(b)) round-trips (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), (bytes) => {
        const key = SecretKey.fromBytes(bytes);
        expect(SecretKey.fromHex(key.revealHex(), 'k').equals(key)).toBe(true);
        expect(key.length).toBe(bytes.length);
      }),
    );
  });
});
