import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  groupTokenDigits,
  parseTokenDigits,
  TOKEN_DIGITS,
  tokenToDigits,
} from '../../../src-shared/sts/token-number.ts';
import { expectStsError, vectorsOfKind } from '../../support/sts-vectors.ts';

const word = fc.nat({ max: 0xffffffff });
const tokenClass = fc.integer({ min: 0, max: 3 });
const MAX_TOKEN = (1n << 66n) - 1n;

/** §7 written directly with BigInt: swap the class into bits 28/27 and move those bits to 65/64. */
function referenceTransposition(cls: number, hi: number, lo: number): bigint {
  const e = (BigInt(hi) << 32n) | BigInt(lo);
  const b28 = (e >> 28n) & 1n;
  const b27 = (e >> 27n) & 1n;
  let e2 = e & ~((1n << 28n) | (1n << 27n));
  e2 |= BigInt((cls >> 1) & 1) << 28n;
  e2 |= BigInt(cls & 1) << 27n;
  return (b28 << 65n) | (b27 << 64n) | e2;
}

describe('tokenToDigits', () => {
  it('§12 worked trace: ciphertext 0x492083C0AE7CE455, class 0 → 0x1492083C0A67CE455 → 23716100501183194197', () => {
    const digits = tokenToDigits(0, 0x492083c0, 0xae7ce455);
    expect(BigInt(digits)).toBe(0x1492083c0a67ce455n);
    expect(digits).toBe('23716100501183194197');
  });

  it('§9.3 IEC example: 0x9335C6C96B7352DC → 0x19335C6C9637352DC → 29054347139309851356', () => {
    const digits = tokenToDigits(0, 0x9335c6c9, 0x6b7352dc);
    expect(BigInt(digits).toString(16)).toBe('19335c6c9637352dc');
    expect(digits).toBe('29054347139309851356');
  });

  it('class-1 CTSA11 tokens: the plain block plus class bits, zero-padded to 20 digits', () => {
    for (const vector of vectorsOfKind('class1_token').filter((v) => v.confidence === 'high')) {
      const block = vector.expected.intermediate_plain_64bit_block_hex!;
      const digits = tokenToDigits(
        1,
        Number.parseInt(block.slice(0, 8), 16),
        Number.parseInt(block.slice(8), 16),
      );
      expect(digits, vector.id).toBe(vector.expected.token);
      expect(digits).toHaveLength(20);
    }
  });

  it('pads small values with zeros to 20 digits', () => {
    expect(tokenToDigits(0, 0, 0)).toBe('00000000000000000000');
    expect(tokenToDigits(1, 0, 0)).toBe((1n << 27n).toString().padStart(20, '0'));
    expect(tokenToDigits(0, 0, 1)).toBe('00000000000000000001');
  });

  it('the largest token is 2^66 − 1 = 73786976294838206463 (all bits set, class 3)', () => {
    expect(tokenToDigits(3, 0xffffffff, 0xffffffff)).toBe('73786976294838206463');
  });

  it('matches a direct BigInt reference of §7 (property)', () => {
    fc.assert(
      fc.property(tokenClass, word, word, (cls, hi, lo) => {
        const digits = tokenToDigits(cls, hi, lo);
        expect(digits).toHaveLength(TOKEN_DIGITS);
        expect(digits).toMatch(/^[0-7]\d{19}$/);
        expect(BigInt(digits)).toBe(referenceTransposition(cls, hi, lo));
        expect(BigInt(digits) <= MAX_TOKEN).toBe(true);
      }),
    );
  });
});

describe('parseTokenDigits', () => {
  it('is the inverse of tokenToDigits for every class and 64-bit block (property)', () => {
    fc.assert(
      fc.property(tokenClass, word, word, (cls, hi, lo) => {
        expect(parseTokenDigits(tokenToDigits(cls, hi, lo))).toEqual({ tokenClass: cls, hi, lo });
      }),
    );
  });

  it('tokenToDigits(parse(x)) === x for every 66-bit value (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_TOKEN }), (value) => {
        const digits = value.toString().padStart(20, '0');
        const bits = parseTokenDigits(digits);
        expect(tokenToDigits(bits.tokenClass, bits.hi, bits.lo)).toBe(digits);
        expect(bits.hi >>> 0).toBe(bits.hi);
        expect(bits.lo >>> 0).toBe(bits.lo);
      }),
    );
  });

  it('reads the class from bits 28/27 (decode fixtures)', () => {
    for (const vector of vectorsOfKind('decode')) {
      expect(parseTokenDigits(vector.inputs.token).tokenClass, vector.id).toBe(
        vector.expected.intermediate_class_from_bits_28_27,
      );
    }
  });

  it('accepts the 4-4-4-4-4 display form with spaces or dashes', () => {
    const plain = parseTokenDigits('23716100501183194197');
    expect(parseTokenDigits('2371 6100 5011 8319 4197')).toEqual(plain);
    expect(parseTokenDigits('2371-6100-5011-8319-4197')).toEqual(plain);
    expect(plain).toEqual({ tokenClass: 0, hi: 0x492083c0, lo: 0xae7ce455 });
  });

  it.each(['2371610050118319419', '237161005011831941970', '', '1', '0'.repeat(40)])(
    'refuses %j (not 20 digits) with STS_INVALID_TOKEN',
    (text) => {
      const error = expectStsError(() => parseTokenDigits(text), 'STS_INVALID_TOKEN');
      if (text.length === 19) expect(error.userMessage).toContain('19');
    },
  );

  it.each([
    '2371610050118319419A',
    'abcdefghijklmnopqrst',
    '23716100501183194.97',
    '+2371610050118319419',
    '２３７１６１００５０１１８３１９４１９７',
  ])('refuses the non-digit text %j with STS_INVALID_TOKEN', (text) => {
    expectStsError(() => parseTokenDigits(text), 'STS_INVALID_TOKEN');
  });

  it('2^66 = 73786976294838206464 is STS_TOKEN_OUT_OF_RANGE; 2^66 − 1 is accepted', () => {
    expect((1n << 66n).toString()).toBe('73786976294838206464');
    expectStsError(() => parseTokenDigits('73786976294838206464'), 'STS_TOKEN_OUT_OF_RANGE');
    expect(parseTokenDigits('73786976294838206463')).toEqual({
      tokenClass: 3,
      hi: 0xffffffff,
      lo: 0xffffffff,
    });
  });

  it('every 20-digit number starting with 8 or 9 is out of range (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('8', '9'),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 19, maxLength: 19 }),
        (first, rest) => {
          expectStsError(() => parseTokenDigits(first + rest), 'STS_TOKEN_OUT_OF_RANGE');
        },
      ),
    );
  });

  it('every 20-digit number above 2^66 − 1 is out of range (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MAX_TOKEN + 1n, max: 10n ** 20n - 1n }), (value) => {
        expectStsError(() => parseTokenDigits(value.toString()), 'STS_TOKEN_OUT_OF_RANGE');
      }),
    );
  });
});

describe('groupTokenDigits', () => {
  it('groups 20 digits as 4-4-4-4-4', () => {
    expect(groupTokenDigits('23716100501183194197')).toBe('2371 6100 5011 8319 4197');
    expect(groupTokenDigits('00000000008724195840', '-')).toBe('0000-0000-0087-2419-5840');
  });

  it('grouping then parsing gives the same token (property)', () => {
    fc.assert(
      fc.property(tokenClass, word, word, (cls, hi, lo) => {
        const digits = tokenToDigits(cls, hi, lo);
        const grouped = groupTokenDigits(digits);
        expect(grouped).toMatch(/^\d{4} \d{4} \d{4} \d{4} \d{4}$/);
        expect(grouped.replaceAll(' ', '')).toBe(digits);
        expect(parseTokenDigits(grouped)).toEqual({ tokenClass: cls, hi, lo });
      }),
    );
  });
});
