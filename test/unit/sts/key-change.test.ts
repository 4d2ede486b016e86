import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoderKeyDeriver } from '../../../src-shared/sts/decoder-key.ts';
import type { EncryptionAlgorithm, KeyType } from '../../../src-shared/sts/identifiers.ts';
import {
  generateKeyChangeTokens,
  type KeyChangeTarget,
  keyChangePayloads,
} from '../../../src-shared/sts/key-change.ts';
import { meterPanFromParts, parseMeterPan } from '../../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import type { BaseDate } from '../../../src-shared/sts/tid.ts';
import { createTokenCipher } from '../../../src-shared/sts/token-cipher.ts';
import { decodeToken, plainBlockHex } from '../../../src-shared/sts/token-codec.ts';
import {
  type DecoderKeyDerivation,
  expectStsError,
  type KeyChangeTokenVector,
  vectorById,
  vectorsOfKind,
} from '../../support/sts-vectors.ts';

const key = (hex: string) => SecretKey.fromHex(hex, 'decoder key');
const cipher = (ea: EncryptionAlgorithm, hex: string) => createTokenCipher(ea, key(hex));

function derive(spec: DecoderKeyDerivation): SecretKey {
  const algorithm = spec.algorithm as 'DKGA02' | 'DKGA04';
  const pan =
    typeof spec.meter_pan === 'string'
      ? parseMeterPan(spec.meter_pan)
      : meterPanFromParts(spec.iin!, spec.iain!);
  return createDecoderKeyDeriver(algorithm, SecretKey.fromHex(spec.vending_key_hex!, 'vending key')).derive({
    pan,
    keyType: spec.key_type as KeyType,
    sgc: spec.sgc!,
    ti: Number(spec.ti),
    krn: spec.krn!,
    baseDate: (spec.base_date ?? 1993) as BaseDate,
    ea:
      spec.algorithm === 'DKGA04' ? (`EA${String(spec.ea).padStart(2, '0')}` as EncryptionAlgorithm) : 'EA07',
  });
}

function targetOf(vector: KeyChangeTokenVector): KeyChangeTarget {
  const { inputs, expected } = vector;
  return {
    newKey: key(expected.intermediate_new_decoder_key_hex_msb_first),
    ken: (inputs.kenho << 4) | inputs.kenlo,
    krn: inputs.krn_new,
    keyType: inputs.key_type_new as KeyType,
    ti: Number(inputs.ti_new),
    sgc: inputs.sgc_for_3rd_section ?? '000000',
    rollover: inputs.ro === 1,
    reserved: inputs.res_3kct,
  };
}

function expectedTokens(vector: KeyChangeTokenVector): { tokens: string[]; blocks: string[] } {
  const e = vector.expected;
  if (e.set1st_section_token_class2_sub3 !== undefined) {
    return {
      tokens: [e.set1st_section_token_class2_sub3, e.set2nd_section_token_class2_sub4!],
      blocks: [e.intermediate_set1st_plain_block_hex!, e.intermediate_set2nd_plain_block_hex!],
    };
  }
  const b = e.intermediate_plain_blocks_hex!;
  return {
    tokens: [
      e.set1st_section_token!,
      e.set2nd_section_token!,
      e.set3rd_section_token!,
      e.set4th_section_token!,
    ],
    blocks: [b.set1st, b.set2nd, b.set3rd, b.set4th],
  };
}

const vectors = vectorsOfKind('keychange_token');

describe('key change fixture vectors via generateKeyChangeTokens', () => {
  it('has EA07 pairs and EA11 sets', () => {
    expect(vectors.some((v) => v.inputs.encryption_algorithm === 'EA07')).toBe(true);
    expect(vectors.some((v) => v.inputs.encryption_algorithm === 'EA11')).toBe(true);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s', (_id, vector) => {
    const ea = vector.inputs.encryption_algorithm;
    const current = cipher(ea, vector.expected.intermediate_current_decoder_key_hex_msb_first);
    const tokens = generateKeyChangeTokens(current, targetOf(vector));
    const expected = expectedTokens(vector);
    expect(tokens.map((t) => t.digits)).toEqual(expected.tokens);
    expect(tokens.map((t) => plainBlockHex(t.plain))).toEqual(expected.blocks);
    expect(tokens.map((t) => [t.tokenClass, t.subclass])).toEqual(
      ea === 'EA11'
        ? [
            [2, 3],
            [2, 4],
            [2, 8],
            [2, 9],
          ]
        : [
            [2, 3],
            [2, 4],
          ],
    );
    if (vector.expected.intermediate_nkho_hex !== undefined) {
      expect(expected.blocks[0]!.slice(4, 12)).toBe(vector.expected.intermediate_nkho_hex);
      expect(expected.blocks[1]!.slice(4, 12)).toBe(vector.expected.intermediate_nklo_hex);
    }
  });

  it.each(vectors.map((v) => [v.id, v] as const))(
    '%s: the keys derive from the fixture inputs',
    (_id, vector) => {
      expect(derive(vector.inputs.current_decoder_key_derivation).revealHex()).toBe(
        vector.expected.intermediate_current_decoder_key_hex_msb_first,
      );
      expect(derive(vector.inputs.new_decoder_key_derivation).revealHex()).toBe(
        vector.expected.intermediate_new_decoder_key_hex_msb_first,
      );
    },
  );

  it.each(vectors.map((v) => [v.id, v] as const))(
    '%s: decodes with the OLD key to the sections; the new key gives STS_BAD_CRC',
    (_id, vector) => {
      const ea = vector.inputs.encryption_algorithm;
      const oldHex = vector.expected.intermediate_current_decoder_key_hex_msb_first;
      const newHex = vector.expected.intermediate_new_decoder_key_hex_msb_first;
      const payloads = keyChangePayloads(targetOf(vector));
      const { tokens } = expectedTokens(vector);
      tokens.forEach((digits, index) => {
        expect(decodeToken(digits, cipher(ea, oldHex)).payload).toEqual(payloads[index]);
      });
      if (oldHex !== newHex) {
        for (const digits of tokens)
          expectStsError(() => decodeToken(digits, cipher(ea, newHex)), 'STS_BAD_CRC');
      } else {
        // nectar-service-kct-kt0 re-issues the same key; any other key must fail.
        const other = ea === 'EA11' ? '00'.repeat(16) : '0123456789abcdef';
        for (const digits of tokens)
          expectStsError(() => decodeToken(digits, cipher(ea, other)), 'STS_BAD_CRC');
      }
    },
  );
});

describe('keyChangePayloads', () => {
  it('§11 example: new key eb4ad6d9e42e59f7, KEN FF, KRN 1, KT 0, TI 01', () => {
    const payloads = keyChangePayloads({
      newKey: key('eb4ad6d9e42e59f7'),
      ken: 0xff,
      krn: 1,
      keyType: 0,
      ti: 1,
      sgc: '000046',
      rollover: false,
    });
    expect(payloads).toEqual([
      {
        type: 'key-change-1',
        kenHigh: 15,
        krn: 1,
        rollover: false,
        reserved: 0,
        keyType: 0,
        keyWord: 0xeb4ad6d9,
      },
      { type: 'key-change-2', kenLow: 15, ti: 1, keyWord: 0xe42e59f7 },
    ]);
    const current = cipher('EA07', 'eb4ad6d9e42e59f7');
    expect(
      generateKeyChangeTokens(current, {
        newKey: key('eb4ad6d9e42e59f7'),
        ken: 0xff,
        krn: 1,
        keyType: 0,
        ti: 1,
        sgc: '000046',
        rollover: false,
      }).map((t) => plainBlockHex(t.plain)),
    ).toEqual(['3f10eb4ad6d977c4', '4f01e42e59f72610']);
  });

  it('2 tokens for 8-byte keys, 4 for 16-byte keys, with the 128-bit key split as §11 says', () => {
    const target = { ken: 0x5a, krn: 3, keyType: 2 as const, ti: 7, sgc: '123457', rollover: true };
    const two = keyChangePayloads({ ...target, newKey: key('0011223344556677') });
    expect(two).toHaveLength(2);
    const four = keyChangePayloads({ ...target, newKey: key('00112233445566778899aabbccddeeff') });
    expect(four).toEqual([
      {
        type: 'key-change-1',
        kenHigh: 5,
        krn: 3,
        rollover: true,
        reserved: 0,
        keyType: 2,
        keyWord: 0x00112233,
      },
      { type: 'key-change-2', kenLow: 0xa, ti: 7, keyWord: 0xccddeeff },
      { type: 'key-change-3', sgcLow: 0x241, keyWord: 0x44556677 },
      { type: 'key-change-4', sgcHigh: 0x01e, keyWord: 0x8899aabb },
    ]);
  });

  it('the sections carry the whole new key and the target fields (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 8, maxLength: 8 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
        ),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 999999 }),
        fc.boolean(),
        (bytes, ken, krn, keyType, ti, sgcNumber, rollover) => {
          const sgc = String(sgcNumber).padStart(6, '0');
          const payloads = keyChangePayloads({
            newKey: SecretKey.fromBytes(bytes),
            ken,
            krn,
            keyType,
            ti,
            sgc,
            rollover,
          });
          expect(payloads).toHaveLength(bytes.length === 8 ? 2 : 4);
          const words = new Map(payloads.map((p) => [p.type, 'keyWord' in p ? p.keyWord : -1]));
          const hex = (w: number) => w.toString(16).padStart(8, '0');
          const rebuilt =
            bytes.length === 8
              ? hex(words.get('key-change-1')!) + hex(words.get('key-change-2')!)
              : hex(words.get('key-change-1')!) +
                hex(words.get('key-change-3')!) +
                hex(words.get('key-change-4')!) +
                hex(words.get('key-change-2')!);
          expect(rebuilt).toBe(SecretKey.fromBytes(bytes).revealHex());
          const [first, second, third, fourth] = payloads;
          expect(first).toMatchObject({ kenHigh: ken >> 4, krn, keyType, rollover, reserved: 0 });
          expect(second).toMatchObject({ kenLow: ken & 15, ti });
          if (bytes.length === 16) {
            expect(third).toMatchObject({ sgcLow: sgcNumber & 0xfff });
            expect(fourth).toMatchObject({ sgcHigh: sgcNumber >>> 12 });
          }
        },
      ),
    );
  });

  it('tokens are encrypted under the current key and decode back to the payloads (property)', () => {
    const eaAndKeys = fc
      .constantFrom<EncryptionAlgorithm>('EA07', 'EA09', 'EA11')
      .chain((ea) =>
        fc.tuple(
          fc.constant(ea),
          fc.uint8Array({ minLength: ea === 'EA11' ? 16 : 8, maxLength: ea === 'EA11' ? 16 : 8 }),
          fc.uint8Array({ minLength: ea === 'EA11' ? 16 : 8, maxLength: ea === 'EA11' ? 16 : 8 }),
        ),
      );
    fc.assert(
      fc.property(eaAndKeys, ([ea, oldBytes, newBytes]) => {
        const current = createTokenCipher(ea, SecretKey.fromBytes(oldBytes));
        const target: KeyChangeTarget = {
          newKey: SecretKey.fromBytes(newBytes),
          ken: 255,
          krn: 1,
          keyType: 2,
          ti: 1,
          sgc: '123457',
          rollover: false,
        };
        const tokens = generateKeyChangeTokens(current, target);
        const payloads = keyChangePayloads(target);
        expect(tokens.map((t) => decodeToken(t.digits, current).payload)).toEqual(payloads);
      }),
      { numRuns: 30 },
    );
  });

  it('a base-date move sets RO in the first section', () => {
    const [first] = generateKeyChangeTokens(cipher('EA07', 'e653341f9d5bf36f'), {
      newKey: key('0011223344556677'),
      ken: 255,
      krn: 1,
      keyType: 2,
      ti: 1,
      sgc: '123456',
      rollover: true,
    });
    expect((first!.plain.hi >>> 19) & 1).toBe(1);
  });

  it.each([
    ['KEN 256', { ken: 256 }, 'STS_INVALID_KEN'],
    ['KEN -1', { ken: -1 }, 'STS_INVALID_KEN'],
    ['KRN 0', { krn: 0 }, 'STS_INVALID_KRN'],
    ['KRN 10', { krn: 10 }, 'STS_INVALID_KRN'],
    ['KT 4', { keyType: 4 }, 'STS_INVALID_KEY_TYPE'],
    ['TI 100', { ti: 100 }, 'STS_INVALID_TI'],
    ['reserved 2', { reserved: 2 }, 'STS_INVALID_FIELD'],
  ] as const)('refuses %s', (_label, override, code) => {
    const target = {
      newKey: key('0011223344556677'),
      ken: 255,
      krn: 1,
      keyType: 2,
      ti: 1,
      sgc: '123456',
      rollover: false,
      ...override,
    } as KeyChangeTarget;
    expectStsError(() => generateKeyChangeTokens(cipher('EA07', 'e653341f9d5bf36f'), target), code);
  });

  it('refuses a 128-bit key change without a valid SGC', () => {
    const target = {
      newKey: key('00112233445566778899aabbccddeeff'),
      ken: 255,
      krn: 1,
      keyType: 2 as const,
      ti: 1,
      rollover: false,
    };
    expectStsError(() => keyChangePayloads({ ...target, sgc: '12345' }), 'STS_INVALID_SGC');
    expectStsError(() => keyChangePayloads({ ...target, sgc: '12a456' }), 'STS_INVALID_SGC');
  });

  it('refuses new keys that are not 8 or 16 bytes, without showing them', () => {
    for (const hex of ['00112233445566', '001122334455667788', '00112233445566778899aabbccddeeff00']) {
      const error = expectStsError(
        () =>
          keyChangePayloads({
            newKey: key(hex),
            ken: 255,
            krn: 1,
            keyType: 2,
            ti: 1,
            sgc: '123456',
            rollover: false,
          }),
        'STS_INVALID_KEY',
      );
      expect(`${error.userMessage} ${error.detail}`).not.toContain(hex.slice(0, 12));
    }
  });

  it('the CTSA05 step-2 vector really changes TI 02 → 01 (the old key is derived with TI 02)', () => {
    const vector = vectorById('ctsa05-0-02-step2', 'keychange_token');
    expect(vector.inputs.current_decoder_key_derivation.ti).toBe('02');
    expect(vector.inputs.ti_new).toBe('01');
  });
});
