import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decoderKeyBytes,
  formatTi,
  requireDecoderKeyAlgorithm,
  requireEncryptionAlgorithm,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
  requireUnsigned,
} from '../../../src-shared/sts/identifiers.ts';
import { expectStsError } from '../../support/sts-vectors.ts';

describe('requireSgc', () => {
  it('accepts 6-digit strings and returns them unchanged (leading zeros kept)', () => {
    expect(requireSgc('123456')).toBe('123456');
    expect(requireSgc('000046')).toBe('000046');
    expect(requireSgc('999152')).toBe('999152');
  });

  it('accepts a 6-digit integer, but never pads one (a dropped digit must not pass)', () => {
    expect(requireSgc(123457)).toBe('123457');
    expectStsError(() => requireSgc(46), 'STS_INVALID_SGC');
    expectStsError(() => requireSgc(12345), 'STS_INVALID_SGC');
  });

  it.each([
    '12345',
    '1234567',
    '12a456',
    '',
    ' 123456',
    '12 456',
    '-12345',
    '12345.',
    1234567,
    -1,
    1.5,
    null,
    undefined,
    {},
  ])('refuses %j with STS_INVALID_SGC', (value) => {
    expectStsError(() => requireSgc(value), 'STS_INVALID_SGC');
  });

  it('every 6-digit string is accepted as itself (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 6, maxLength: 6 }),
        (sgc) => {
          expect(requireSgc(sgc)).toBe(sgc);
        },
      ),
    );
  });
});

describe('requireTi', () => {
  it('accepts 00–99 as numbers or 1–2 digit strings', () => {
    expect(requireTi('01')).toBe(1);
    expect(requireTi('1')).toBe(1);
    expect(requireTi('00')).toBe(0);
    expect(requireTi(0)).toBe(0);
    expect(requireTi(99)).toBe(99);
    expect(requireTi('99')).toBe(99);
  });

  it.each([-1, 100, '1a', '100', '-1', '', ' 1', 1.5, Number.NaN, null, undefined])(
    'refuses %j with STS_INVALID_TI',
    (value) => {
      expectStsError(() => requireTi(value), 'STS_INVALID_TI');
    },
  );

  it('formatTi pads to two digits', () => {
    expect(formatTi(1)).toBe('01');
    expect(formatTi(0)).toBe('00');
    expect(formatTi(42)).toBe('42');
  });

  it('round-trips every valid TI through formatTi (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), (ti) => {
        expect(requireTi(formatTi(ti))).toBe(ti);
      }),
    );
  });
});

describe('requireKrn', () => {
  it('accepts 1–9', () => {
    for (let krn = 1; krn <= 9; krn++) expect(requireKrn(krn)).toBe(krn);
  });

  it.each([0, 10, -1, 1.5, '1', null])('refuses %j with STS_INVALID_KRN', (value) => {
    expectStsError(() => requireKrn(value), 'STS_INVALID_KRN');
  });
});

describe('requireKeyType', () => {
  it('accepts 0–3', () => {
    for (let kt = 0; kt <= 3; kt++) expect(requireKeyType(kt)).toBe(kt);
  });

  it.each([4, -1, 2.5, '2', null])('refuses %j with STS_INVALID_KEY_TYPE', (value) => {
    expectStsError(() => requireKeyType(value), 'STS_INVALID_KEY_TYPE');
  });
});

describe('requireKen', () => {
  it('accepts 0–255', () => {
    expect(requireKen(0)).toBe(0);
    expect(requireKen(85)).toBe(85);
    expect(requireKen(255)).toBe(255);
  });

  it.each([256, -1, 1.5, '255', null])('refuses %j with STS_INVALID_KEN', (value) => {
    expectStsError(() => requireKen(value), 'STS_INVALID_KEN');
  });
});

describe('requireEncryptionAlgorithm', () => {
  it('accepts EA07, EA09, EA11 and the bare numbers 7, 9, 11', () => {
    expect(requireEncryptionAlgorithm('EA07')).toBe('EA07');
    expect(requireEncryptionAlgorithm('EA09')).toBe('EA09');
    expect(requireEncryptionAlgorithm('EA11')).toBe('EA11');
    expect(requireEncryptionAlgorithm(7)).toBe('EA07');
    expect(requireEncryptionAlgorithm(9)).toBe('EA09');
    expect(requireEncryptionAlgorithm(11)).toBe('EA11');
  });

  it.each(['EA08', 'EA7', 'ea07', '07', 8, 'DES', '', null])(
    'refuses %j with STS_INVALID_ALGORITHM',
    (value) => {
      expectStsError(() => requireEncryptionAlgorithm(value), 'STS_INVALID_ALGORITHM');
    },
  );

  it('key lengths: 8 bytes for EA07/EA09, 16 for EA11', () => {
    expect(decoderKeyBytes('EA07')).toBe(8);
    expect(decoderKeyBytes('EA09')).toBe(8);
    expect(decoderKeyBytes('EA11')).toBe(16);
  });
});

describe('requireDecoderKeyAlgorithm', () => {
  it('accepts DKGA02 and DKGA04 only', () => {
    expect(requireDecoderKeyAlgorithm('DKGA02')).toBe('DKGA02');
    expect(requireDecoderKeyAlgorithm('DKGA04')).toBe('DKGA04');
    for (const bad of ['DKGA01', 'DKGA03', 'dkga02', 'RAW', 2, null]) {
      expectStsError(() => requireDecoderKeyAlgorithm(bad), 'STS_INVALID_ALGORITHM');
    }
  });
});

describe('requireUnsigned', () => {
  it('accepts 0..2^bits−1', () => {
    expect(requireUnsigned(0, 4, 'RND')).toBe(0);
    expect(requireUnsigned(15, 4, 'RND')).toBe(15);
    expect(requireUnsigned(0xffff, 16, 'register')).toBe(0xffff);
  });

  it('refuses values outside the width, fractions and non-numbers, naming the field', () => {
    for (const bad of [16, -1, 1.5, Number.NaN, '3', null]) {
      const error = expectStsError(() => requireUnsigned(bad, 4, 'random number (RND)'), 'STS_INVALID_FIELD');
      expect(error.userMessage).toContain('random number (RND)');
    }
  });
});
