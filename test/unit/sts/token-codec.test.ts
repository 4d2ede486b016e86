import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeCurrencyAmount,
  encodeTransferAmount,
  MAX_CURRENCY_AMOUNT,
  MAX_TRANSFER_UNITS,
} from '../../../src-shared/sts/amount.ts';
import { tokenCrcField } from '../../../src-shared/sts/crc.ts';
import type { BlockCipher64 } from '../../../src-shared/sts/crypto/block-cipher.ts';
import type { StsError } from '../../../src-shared/sts/errors.ts';
import type { EncryptionAlgorithm } from '../../../src-shared/sts/identifiers.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import { MAX_TID } from '../../../src-shared/sts/tid.ts';
import { createTokenCipher } from '../../../src-shared/sts/token-cipher.ts';
import { crcHex, decodeToken, encodeToken, plainBlockHex } from '../../../src-shared/sts/token-codec.ts';
import { parseTokenDigits, tokenToDigits } from '../../../src-shared/sts/token-number.ts';
import {
  decodePlainBlock,
  encodePlainBlock,
  RESOURCES,
  type TokenPayload,
  type TokenType,
  tokenClassOf,
} from '../../../src-shared/sts/token-payload.ts';
import { expectStsError, expectStsErrorValue, vectorsOfKind } from '../../support/sts-vectors.ts';

const EAS: readonly EncryptionAlgorithm[] = ['EA07', 'EA09', 'EA11'];
const keyBytes = (ea: EncryptionAlgorithm) => (ea === 'EA11' ? 16 : 8);
const cipherFor = (ea: EncryptionAlgorithm, hex: string) =>
  createTokenCipher(ea, SecretKey.fromHex(hex, 'decoder key'));
const keyFor = (ea: EncryptionAlgorithm) =>
  fc.uint8Array({ minLength: keyBytes(ea), maxLength: keyBytes(ea) });
const cipherFromBytes = (ea: EncryptionAlgorithm, bytes: Uint8Array) =>
  createTokenCipher(ea, SecretKey.fromBytes(bytes));

// --- payload arbitraries: one per token type --------------------------------------------------------

const rnd = fc.integer({ min: 0, max: 15 });
const tid = fc.integer({ min: 0, max: MAX_TID });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.nat({ max: 0xffffffff });
const resource = fc.constantFrom(...RESOURCES);
const transferUnits = fc.integer({ min: 0, max: MAX_TRANSFER_UNITS });

const ARBITRARIES: Record<TokenType, fc.Arbitrary<TokenPayload>> = {
  'transfer-credit': fc.record({
    type: fc.constant('transfer-credit' as const),
    resource,
    rnd,
    tid,
    units: transferUnits,
  }),
  'currency-credit': fc.record({
    type: fc.constant('currency-credit' as const),
    resource,
    tid,
    amount: fc.oneof(
      fc.bigInt({ min: -MAX_CURRENCY_AMOUNT, max: MAX_CURRENCY_AMOUNT }),
      fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    ),
  }),
  'initiate-test': fc.oneof(
    fc.record({
      type: fc.constant('initiate-test' as const),
      manufacturerCodeDigits: fc.constant(2 as const),
      control: fc.nat({ max: 2 ** 36 - 1 }),
      manufacturerCode: fc.integer({ min: 0, max: 99 }),
    }),
    fc.record({
      type: fc.constant('initiate-test' as const),
      manufacturerCodeDigits: fc.constant(4 as const),
      control: fc.nat({ max: 2 ** 28 - 1 }),
      manufacturerCode: fc.integer({ min: 0, max: 9999 }),
    }),
  ),
  'set-max-power-limit': fc.record({
    type: fc.constant('set-max-power-limit' as const),
    rnd,
    tid,
    watts: transferUnits,
  }),
  'clear-credit': fc.record({ type: fc.constant('clear-credit' as const), rnd, tid, register: u16 }),
  'set-tariff-rate': fc.record({ type: fc.constant('set-tariff-rate' as const), rnd, tid, rate: u16 }),
  'clear-tamper': fc.record({ type: fc.constant('clear-tamper' as const), rnd, tid, pad: u16 }),
  'set-max-phase-unbalance-limit': fc.record({
    type: fc.constant('set-max-phase-unbalance-limit' as const),
    rnd,
    tid,
    watts: transferUnits,
  }),
  'set-water-meter-factor': fc.record({
    type: fc.constant('set-water-meter-factor' as const),
    rnd,
    tid,
    factor: u16,
  }),
  'key-change-1': fc.record({
    type: fc.constant('key-change-1' as const),
    kenHigh: fc.integer({ min: 0, max: 15 }),
    krn: fc.integer({ min: 1, max: 9 }),
    rollover: fc.boolean(),
    reserved: fc.integer({ min: 0, max: 1 }),
    keyType: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
    keyWord: u32,
  }),
  'key-change-2': fc.record({
    type: fc.constant('key-change-2' as const),
    kenLow: fc.integer({ min: 0, max: 15 }),
    ti: fc.integer({ min: 0, max: 99 }),
    keyWord: u32,
  }),
  'key-change-3': fc.record({
    type: fc.constant('key-change-3' as const),
    sgcLow: fc.nat({ max: 0xfff }),
    keyWord: u32,
  }),
  'key-change-4': fc.record({
    type: fc.constant('key-change-4' as const),
    sgcHigh: fc.nat({ max: 0xfff }),
    keyWord: u32,
  }),
};

const anyPayload = fc.oneof(...Object.values(ARBITRARIES));

/** What a meter reads back: amounts are rounded up to what the field carries, everything else is exact. */
function expectedDecoded(payload: TokenPayload): TokenPayload {
  switch (payload.type) {
    case 'transfer-credit':
      return { ...payload, units: encodeTransferAmount(payload.units).encodedUnits };
    case 'set-max-power-limit':
    case 'set-max-phase-unbalance-limit':
      return { ...payload, watts: encodeTransferAmount(payload.watts).encodedUnits };
    case 'currency-credit':
      return { ...payload, amount: encodeCurrencyAmount(payload.amount).encodedAmount };
    default:
      return payload;
  }
}

const EXPECTED_CLASS: Record<TokenType, [number, number | null]> = {
  'transfer-credit': [0, null],
  'currency-credit': [0, null],
  'initiate-test': [1, null],
  'set-max-power-limit': [2, 0],
  'clear-credit': [2, 1],
  'set-tariff-rate': [2, 2],
  'key-change-1': [2, 3],
  'key-change-2': [2, 4],
  'clear-tamper': [2, 5],
  'set-max-phase-unbalance-limit': [2, 6],
  'set-water-meter-factor': [2, 7],
  'key-change-3': [2, 8],
  'key-change-4': [2, 9],
};

describe('class and subclass of every payload type', () => {
  it('credit 0/0–0/3 and currency 0/4–0/7 follow the resource order', () => {
    RESOURCES.forEach((r, index) => {
      expect(tokenClassOf({ type: 'transfer-credit', resource: r, rnd: 0, tid: 0, units: 0 })).toEqual({
        tokenClass: 0,
        subclass: index,
      });
      expect(tokenClassOf({ type: 'currency-credit', resource: r, tid: 0, amount: 0n })).toEqual({
        tokenClass: 0,
        subclass: 4 + index,
      });
    });
    expect(RESOURCES).toEqual(['electricity', 'water', 'gas', 'time']);
  });

  it('class 1 and class 2 subclasses match §2.2', () => {
    expect(
      tokenClassOf({ type: 'initiate-test', manufacturerCodeDigits: 2, control: 0, manufacturerCode: 0 }),
    ).toEqual({
      tokenClass: 1,
      subclass: 0,
    });
    expect(
      tokenClassOf({ type: 'initiate-test', manufacturerCodeDigits: 4, control: 0, manufacturerCode: 0 }),
    ).toEqual({
      tokenClass: 1,
      subclass: 1,
    });
    fc.assert(
      fc.property(anyPayload, (payload) => {
        const [cls, sub] = EXPECTED_CLASS[payload.type];
        const got = tokenClassOf(payload);
        expect(got.tokenClass).toBe(cls);
        if (sub !== null) expect(got.subclass).toBe(sub);
        const plain = encodePlainBlock(payload);
        expect(plain.tokenClass).toBe(got.tokenClass);
        expect(plain.hi >>> 28).toBe(got.subclass);
      }),
    );
  });
});

describe('encode → decode round trip for every token type', () => {
  for (const ea of EAS) {
    for (const [type, arbitrary] of Object.entries(ARBITRARIES) as [
      TokenType,
      fc.Arbitrary<TokenPayload>,
    ][]) {
      it(`${type} under ${ea} decodes to its inputs (property)`, () => {
        fc.assert(
          fc.property(keyFor(ea), arbitrary, (key, payload) => {
            const cipher = cipherFromBytes(ea, key);
            const token = encodeToken(payload, cipher);
            expect(token.digits).toMatch(/^[0-7]\d{19}$/);
            const read = decodeToken(token.digits, cipher);
            expect(read.payload).toEqual(expectedDecoded(payload));
            expect(read.tokenClass).toBe(token.tokenClass);
            expect(read.subclass).toBe(token.subclass);
            expect(read.plain).toEqual(token.plain);
            expect(tokenClassOf(payload)).toEqual({ tokenClass: token.tokenClass, subclass: token.subclass });
          }),
          { numRuns: 40 },
        );
      });
    }
  }

  it('class 1 tokens are not encrypted: the digits are the plain block plus the class', () => {
    fc.assert(
      fc.property(ARBITRARIES['initiate-test'], (payload) => {
        const token = encodeToken(payload, null);
        expect(token.digits).toBe(tokenToDigits(1, token.plain.hi, token.plain.lo));
        expect(decodeToken(token.digits, null).payload).toEqual(payload);
        // A cipher, if given, is ignored for class 1.
        expect(encodeToken(payload, cipherFor('EA07', '0abc12def3456789')).digits).toBe(token.digits);
      }),
    );
  });

  it('classes 0 and 2 are encrypted: the digits differ from the unencrypted transposition', () => {
    const cipher = cipherFor('EA07', 'e653341f9d5bf36f');
    const token = encodeToken(
      { type: 'transfer-credit', resource: 'electricity', rnd: 5, tid: 5871715, units: 1 },
      cipher,
    );
    expect(token.digits).toBe('23716100501183194197');
    expect(token.digits).not.toBe(tokenToDigits(0, token.plain.hi, token.plain.lo));
    expect(plainBlockHex(token.plain)).toBe('05599863000119e6');
    expect(crcHex(token.plain)).toBe('19e6');
  });

  it('classes 0 and 2 need a cipher', () => {
    expect(() =>
      encodeToken({ type: 'transfer-credit', resource: 'electricity', rnd: 5, tid: 1, units: 1 }, null),
    ).toThrow(TypeError);
    expect(() => decodeToken('23716100501183194197', null)).toThrow(TypeError);
  });

  it('the same payload gives different tokens under EA07, EA09 and EA11', () => {
    const payload: TokenPayload = {
      type: 'transfer-credit',
      resource: 'electricity',
      rnd: 5,
      tid: 480,
      units: 1,
    };
    const tokens = new Set([
      encodeToken(payload, cipherFor('EA07', '0123456789abcdef')).digits,
      encodeToken(payload, cipherFor('EA09', '0123456789abcdef')).digits,
      encodeToken(payload, cipherFor('EA11', '0123456789abcdef0123456789abcdef')).digits,
    ]);
    expect(tokens.size).toBe(3);
  });

  it('currency tokens (0/4–0/7) use CRC_C and put S&E where RND would be', () => {
    const payload: TokenPayload = {
      type: 'currency-credit',
      resource: 'electricity',
      tid: 5871715,
      amount: 10_000_000n,
    };
    const plain = encodePlainBlock(payload);
    expect(plainBlockHex(plain)).toBe('40599863dff68504');
    expect(plain.lo & 0xffff).toBe(tokenCrcField(0, plain.hi, plain.lo, true));
    expect(plain.lo & 0xffff).not.toBe(tokenCrcField(0, plain.hi, plain.lo, false));
    const negative = encodePlainBlock({ ...payload, amount: -10_000_000n });
    expect(plainBlockHex(negative).slice(0, 2)).toBe('48');
    // A currency block carrying the plain CRC is refused as a bad CRC.
    const wrongCrc = {
      ...plain,
      lo: ((plain.lo & 0xffff0000) | tokenCrcField(0, plain.hi, plain.lo, false)) >>> 0,
    };
    expectStsError(() => decodePlainBlock(wrongCrc), 'STS_BAD_CRC');
  });
});

describe('fixture tokens', () => {
  it('every credit fixture block decodes to its inputs', () => {
    for (const vector of vectorsOfKind('credit_token')) {
      const { tid_minutes: t, random_no: r, token_subclass: sub } = vector.inputs;
      const hex = vector.expected.intermediate_plain_64bit_block_hex;
      const decoded = decodePlainBlock({
        tokenClass: 0,
        hi: Number.parseInt(hex.slice(0, 8), 16),
        lo: Number.parseInt(hex.slice(8), 16),
      });
      expect(decoded.payload, vector.id).toEqual({
        type: 'transfer-credit',
        resource: RESOURCES[sub],
        rnd: r,
        tid: t,
        units: encodeTransferAmount(vector.inputs['transfer_amount_units_0.1']).encodedUnits,
      });
      expect(decoded.valueField!.toString(16).padStart(4, '0')).toBe(
        vector.expected.intermediate_transfer_amount_16bit_hex,
      );
    }
  });

  it('every credit fixture token decodes under its decoder key', () => {
    for (const vector of vectorsOfKind('credit_token')) {
      const cipher = cipherFor(
        vector.inputs.encryption_algorithm,
        vector.expected.intermediate_decoder_key_hex_msb_first,
      );
      const read = decodeToken(vector.expected.token, cipher);
      expect(plainBlockHex(read.plain), vector.id).toBe(vector.expected.intermediate_plain_64bit_block_hex);
      expect(read.payload).toMatchObject({
        type: 'transfer-credit',
        tid: vector.inputs.tid_minutes,
        rnd: vector.inputs.random_no,
      });
    }
  });

  it('every management fixture token decodes to its class-2 fields', () => {
    for (const vector of vectorsOfKind('mgmt_token')) {
      const cipher = cipherFor(
        vector.inputs.encryption_algorithm,
        vector.expected.intermediate_decoder_key_hex_msb_first,
      );
      const read = decodeToken(vector.expected.token, cipher);
      expect(read.tokenClass, vector.id).toBe(2);
      expect(read.subclass).toBe(vector.inputs.token_subclass);
      expect(read.valueField!.toString(16).padStart(4, '0')).toBe(vector.inputs.encoded_16bit_field_hex);
      expect(read.payload).toMatchObject({ tid: vector.inputs.tid_minutes, rnd: vector.inputs.random_no });
      if (vector.inputs.register !== undefined)
        expect(read.payload).toMatchObject({ register: vector.inputs.register });
      if (vector.inputs.pad !== undefined) expect(read.payload).toMatchObject({ pad: vector.inputs.pad });
      if (vector.inputs.mpl !== undefined)
        expect(read.payload).toMatchObject({ watts: encodeTransferAmount(vector.inputs.mpl).encodedUnits });
      if (vector.inputs.mppul !== undefined)
        expect(read.payload).toMatchObject({ watts: encodeTransferAmount(vector.inputs.mppul).encodedUnits });
    }
  });

  it('decode fixtures: fields match', () => {
    for (const vector of vectorsOfKind('decode')) {
      const read = decodeToken(
        vector.inputs.token,
        cipherFor(vector.inputs.encryption_algorithm, vector.inputs.decoder_key_hex),
      );
      expect(read.tokenClass, vector.id).toBe(vector.expected.class);
      expect(read.subclass).toBe(vector.expected.subclass);
      expect(plainBlockHex(read.plain)).toBe(vector.expected.intermediate_decrypted_64bit_block_hex);
    }
    const gas = decodeToken('36694449120075654222', cipherFor('EA07', '0abc12def3456789'));
    expect(gas.payload).toEqual({
      type: 'transfer-credit',
      resource: 'gas',
      rnd: 11,
      tid: 1698595,
      units: 456,
    });
    const kct = decodeToken('14367398748900528122', cipherFor('EA07', '0abc12def3456789'));
    expect(kct.payload).toEqual({ type: 'key-change-2', kenLow: 15, ti: 1, keyWord: 0xf3456789 });
    const rate = decodeToken('19631747338835776219', cipherFor('EA07', '0abc12def3456789'));
    expect(rate.payload).toEqual({ type: 'set-tariff-rate', rnd: 11, tid: 1698595, rate: 0xffff });
  });

  it('class-1 fixtures: generated tokens and blocks match', () => {
    for (const vector of vectorsOfKind('class1_token')) {
      const { token_subclass: sub, control, manufacturer_code: code } = vector.inputs;
      const token = encodeToken(
        { type: 'initiate-test', manufacturerCodeDigits: sub === 0 ? 2 : 4, control, manufacturerCode: code },
        null,
      );
      const expected = vector.expected.recomputed_token_with_mfr_code_encoded ?? vector.expected.token;
      expect(token.digits, vector.id).toBe(expected);
      if (vector.expected.intermediate_plain_64bit_block_hex)
        expect(plainBlockHex(token.plain)).toBe(vector.expected.intermediate_plain_64bit_block_hex);
    }
  });
});

describe('damaged tokens are never read as the original', () => {
  /** Classifies a decode attempt: an StsError code, or the decoded block. */
  function attempt(
    digits: string,
    cipher: BlockCipher64 | null,
  ): { code: string } | { plain: string; cls: number } {
    try {
      const read = decodeToken(digits, cipher);
      return { plain: plainBlockHex(read.plain), cls: read.tokenClass };
    } catch (error) {
      expectStsErrorValue(error, (error as StsError).code);
      return { code: (error as StsError).code };
    }
  }

  it('one changed digit gives STS_BAD_CRC (or another refusal) or a different payload, for every EA (property)', () => {
    const ea = fc.constantFrom(...EAS);
    fc.assert(
      fc.property(
        ea.chain((e) => fc.tuple(fc.constant(e), keyFor(e))),
        anyPayload,
        fc.nat({ max: 19 }),
        fc.integer({ min: 1, max: 9 }),
        ([e, key], payload, position, delta) => {
          const cipher = cipherFromBytes(e, key);
          const token = encodeToken(payload, cipher);
          const digit = (Number(token.digits[position]) + delta) % 10;
          const damaged = token.digits.slice(0, position) + digit + token.digits.slice(position + 1);
          const result = attempt(damaged, cipher);
          if ('code' in result) {
            expect(['STS_BAD_CRC', 'STS_TOKEN_OUT_OF_RANGE', 'STS_UNSUPPORTED_TOKEN']).toContain(result.code);
          } else {
            // It passed the CRC by chance (1 in 65536): then it must not be the original token's content.
            expect(result).not.toEqual({ plain: plainBlockHex(token.plain), cls: token.tokenClass });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one changed digit of each fixture credit token is STS_BAD_CRC', () => {
    for (const vector of vectorsOfKind('credit_token').slice(0, 20)) {
      const cipher = cipherFor(
        vector.inputs.encryption_algorithm,
        vector.expected.intermediate_decoder_key_hex_msb_first,
      );
      const token = vector.expected.token;
      for (const position of [0, 9, 19]) {
        const replacement = token[position] === '0' ? '1' : '0';
        const damaged = token.slice(0, position) + replacement + token.slice(position + 1);
        const error = expectStsError(() => decodeToken(damaged, cipher), 'STS_BAD_CRC');
        expect(error.userMessage).toMatch(/mistyped|does not belong/);
      }
    }
  });

  it('two swapped adjacent digits are refused', () => {
    const cipher = cipherFor('EA07', 'e653341f9d5bf36f');
    const token = '23716100501183194197';
    expect(decodeToken(token, cipher).payload).toMatchObject({ units: 1 });
    const swapped = `${token[1]}${token[0]}${token.slice(2)}`;
    expectStsError(() => decodeToken(swapped, cipher), 'STS_BAD_CRC');
  });

  it('a wrong key gives STS_BAD_CRC (fixture tokens, every other fixture key)', () => {
    const credit = vectorsOfKind('credit_token');
    for (const vector of credit) {
      const ea = vector.inputs.encryption_algorithm;
      const own = vector.expected.intermediate_decoder_key_hex_msb_first;
      const other = credit.find(
        (v) =>
          v.inputs.encryption_algorithm === ea && v.expected.intermediate_decoder_key_hex_msb_first !== own,
      );
      expect(other, `another ${ea} key for ${vector.id}`).toBeDefined();
      const wrong = cipherFor(ea, other!.expected.intermediate_decoder_key_hex_msb_first);
      expectStsError(() => decodeToken(vector.expected.token, wrong), 'STS_BAD_CRC');
    }
  });

  it('a wrong key gives STS_BAD_CRC for random keys and payloads (property, fixed seed)', () => {
    for (const ea of EAS) {
      fc.assert(
        fc.property(keyFor(ea), keyFor(ea), anyPayload, (keyA, keyB, payload) => {
          fc.pre(tokenClassOf(payload).tokenClass !== 1);
          fc.pre(keyA.some((byte, i) => byte !== keyB[i]));
          const token = encodeToken(payload, cipherFromBytes(ea, keyA));
          expectStsError(() => decodeToken(token.digits, cipherFromBytes(ea, keyB)), 'STS_BAD_CRC');
        }),
        // A wrong key passes the 16-bit CRC with probability 2^-16, so the seed is fixed to keep the test stable.
        { numRuns: 100, seed: 20040301 },
      );
    }
  });
});

describe('unsupported classes and subclasses', () => {
  /** An encrypted token with a valid CRC for any class/subclass (so only the type check can refuse it). */
  function craft(
    cipher: BlockCipher64,
    tokenClass: number,
    subclass: number,
    data44 = 0x123456789ab,
  ): string {
    const hi = ((subclass << 28) | Math.floor(data44 / 65536)) >>> 0;
    const dataLow = data44 % 65536;
    const currency = tokenClass === 0 && subclass >= 4 && subclass <= 7;
    const crc = tokenCrcField(tokenClass, hi, (dataLow << 16) >>> 0, currency);
    const block = Uint32Array.of(hi, ((dataLow << 16) | crc) >>> 0);
    if (tokenClass !== 1) cipher.encryptBlock(block);
    return tokenToDigits(tokenClass, block[0]!, block[1]!);
  }

  const cipher = cipherFor('EA07', 'e653341f9d5bf36f');

  it('class 3 (reserved) is STS_UNSUPPORTED_TOKEN for every subclass', () => {
    for (let sub = 0; sub < 16; sub++) {
      const digits = craft(cipher, 3, sub);
      expect(parseTokenDigits(digits).tokenClass).toBe(3);
      expectStsError(() => decodeToken(digits, cipher), 'STS_UNSUPPORTED_TOKEN');
    }
  });

  it('class 0 subclasses 8–15, class 1 subclasses 2–15 and class 2 subclasses 10–15 are STS_UNSUPPORTED_TOKEN', () => {
    for (let sub = 8; sub < 16; sub++)
      expectStsError(() => decodeToken(craft(cipher, 0, sub), cipher), 'STS_UNSUPPORTED_TOKEN');
    for (let sub = 2; sub < 16; sub++)
      expectStsError(() => decodeToken(craft(cipher, 1, sub), null), 'STS_UNSUPPORTED_TOKEN');
    for (let sub = 10; sub < 16; sub++)
      expectStsError(() => decodeToken(craft(cipher, 2, sub), cipher), 'STS_UNSUPPORTED_TOKEN');
  });

  it('the crafted tokens are well-formed: the supported subclasses decode', () => {
    expect(decodeToken(craft(cipher, 0, 3), cipher).payload.type).toBe('transfer-credit');
    expect(decodeToken(craft(cipher, 0, 7), cipher).payload.type).toBe('currency-credit');
    expect(decodeToken(craft(cipher, 1, 1), null).payload.type).toBe('initiate-test');
    expect(decodeToken(craft(cipher, 2, 9), cipher).payload.type).toBe('key-change-4');
  });

  it('the CRC is checked before the type: a class-3 token with a bad CRC is STS_BAD_CRC', () => {
    const digits = craft(cipher, 3, 0);
    const bits = parseTokenDigits(digits);
    const block = Uint32Array.of(bits.hi, bits.lo);
    cipher.decryptBlock(block);
    block[1] = (block[1]! ^ 1) >>> 0;
    cipher.encryptBlock(block);
    expectStsError(() => decodeToken(tokenToDigits(3, block[0]!, block[1]!), cipher), 'STS_BAD_CRC');
  });
});

describe('encodePlainBlock refuses fields that do not fit', () => {
  const base = { rnd: 5, tid: 5871715 };
  it.each(
    (
      [
        [
          { type: 'transfer-credit', resource: 'electricity', ...base, rnd: 16, units: 1 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'transfer-credit', resource: 'electricity', ...base, rnd: -1, units: 1 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'transfer-credit', resource: 'electricity', ...base, tid: MAX_TID + 1, units: 1 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'transfer-credit', resource: 'electricity', ...base, tid: 1.5, units: 1 },
          'STS_INVALID_FIELD',
        ],
        [{ type: 'transfer-credit', resource: 'electricity', ...base, units: -1 }, 'STS_INVALID_AMOUNT'],
        [
          { type: 'transfer-credit', resource: 'electricity', ...base, units: Number.NaN },
          'STS_INVALID_AMOUNT',
        ],
        [
          { type: 'transfer-credit', resource: 'electricity', ...base, units: MAX_TRANSFER_UNITS + 1 },
          'STS_AMOUNT_OUT_OF_RANGE',
        ],
        [{ type: 'transfer-credit', resource: 'steam', ...base, units: 1 }, 'STS_INVALID_FIELD'],
        [{ type: 'currency-credit', resource: 'electricity', tid: -1, amount: 1n }, 'STS_INVALID_FIELD'],
        [
          { type: 'currency-credit', resource: 'electricity', tid: 1, amount: MAX_CURRENCY_AMOUNT + 1n },
          'STS_AMOUNT_OUT_OF_RANGE',
        ],
        [
          { type: 'initiate-test', manufacturerCodeDigits: 2, control: 2 ** 36, manufacturerCode: 0 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'initiate-test', manufacturerCodeDigits: 2, control: 1, manufacturerCode: 100 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'initiate-test', manufacturerCodeDigits: 4, control: 2 ** 28, manufacturerCode: 0 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'initiate-test', manufacturerCodeDigits: 4, control: 1, manufacturerCode: 10000 },
          'STS_INVALID_FIELD',
        ],
        [{ type: 'set-max-power-limit', ...base, watts: -5 }, 'STS_INVALID_AMOUNT'],
        [
          { type: 'set-max-phase-unbalance-limit', ...base, watts: MAX_TRANSFER_UNITS + 1 },
          'STS_AMOUNT_OUT_OF_RANGE',
        ],
        [{ type: 'clear-credit', ...base, register: 0x10000 }, 'STS_INVALID_FIELD'],
        [{ type: 'set-tariff-rate', ...base, rate: -1 }, 'STS_INVALID_FIELD'],
        [{ type: 'clear-tamper', ...base, pad: 0.5 }, 'STS_INVALID_FIELD'],
        [{ type: 'set-water-meter-factor', ...base, factor: 70000 }, 'STS_INVALID_FIELD'],
        [
          { type: 'key-change-1', kenHigh: 16, krn: 1, rollover: false, reserved: 0, keyType: 2, keyWord: 0 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'key-change-1', kenHigh: 15, krn: 0, rollover: false, reserved: 0, keyType: 2, keyWord: 0 },
          'STS_INVALID_KRN',
        ],
        [
          { type: 'key-change-1', kenHigh: 15, krn: 1, rollover: false, reserved: 2, keyType: 2, keyWord: 0 },
          'STS_INVALID_FIELD',
        ],
        [
          { type: 'key-change-1', kenHigh: 15, krn: 1, rollover: false, reserved: 0, keyType: 4, keyWord: 0 },
          'STS_INVALID_KEY_TYPE',
        ],
        [
          {
            type: 'key-change-1',
            kenHigh: 15,
            krn: 1,
            rollover: false,
            reserved: 0,
            keyType: 2,
            keyWord: 2 ** 32,
          },
          'STS_INVALID_FIELD',
        ],
        [{ type: 'key-change-2', kenLow: 15, ti: 100, keyWord: 0 }, 'STS_INVALID_TI'],
        [{ type: 'key-change-2', kenLow: -1, ti: 1, keyWord: 0 }, 'STS_INVALID_FIELD'],
        [{ type: 'key-change-3', sgcLow: 0x1000, keyWord: 0 }, 'STS_INVALID_FIELD'],
        [{ type: 'key-change-4', sgcHigh: 0, keyWord: -1 }, 'STS_INVALID_FIELD'],
      ] as const
    ).map(
      ([payload, code]) =>
        [JSON.stringify(payload, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)), payload, code] as const,
    ),
  )('%s → %s', (_label, payload, code) => {
    expectStsError(() => encodePlainBlock(payload as unknown as TokenPayload), code);
  });
});
