import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDes } from '../../../src-shared/sts/crypto/des.ts';
import {
  createDecoderKeyDeriver,
  type DecoderKeyInputs,
  type Dkga02Trace,
  type Dkga04Trace,
  VENDING_KEY_BYTES,
} from '../../../src-shared/sts/decoder-key.ts';
import type { EncryptionAlgorithm, KeyType } from '../../../src-shared/sts/identifiers.ts';
import { meterPanFromParts, parseMeterPan } from '../../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import type { BaseDate } from '../../../src-shared/sts/tid.ts';
import {
  blockFromHex,
  blockToHex,
  bytesToHex,
  type DecoderKeyDerivation,
  expectStsError,
  hexToBytes,
  vectorById,
  vectorsOfKind,
} from '../../support/sts-vectors.ts';

const VK02 = 'abababababababab';
const VK04 = 'abababababababab949494949494949401234567';
const vk = (hex: string) => SecretKey.fromHex(hex, 'vending key');

const ctsaInputs = (overrides: Partial<DecoderKeyInputs> = {}): DecoderKeyInputs => ({
  pan: parseMeterPan('600727000000000009'),
  keyType: 2,
  sgc: '123456',
  ti: 1,
  krn: 1,
  baseDate: 1993,
  ea: 'EA07',
  ...overrides,
});

const reverseHex = (hex: string) => bytesToHex(hexToBytes(hex).reverse());

/** Inputs of a fixture derivation object (DKGA02 or DKGA04). */
function inputsOf(spec: DecoderKeyDerivation, ea: EncryptionAlgorithm = 'EA07'): DecoderKeyInputs {
  const pan =
    typeof spec.meter_pan === 'string'
      ? parseMeterPan(spec.meter_pan, spec.iin?.length === 4 ? 4 : 6)
      : meterPanFromParts(spec.iin!, spec.iain!);
  return {
    pan,
    keyType: spec.key_type as KeyType,
    sgc: spec.sgc!,
    ti: Number(spec.ti),
    krn: spec.krn!,
    baseDate: (spec.base_date ?? 1993) as BaseDate,
    ea: spec.algorithm === 'DKGA04' ? (`EA${String(spec.ea).padStart(2, '0')}` as EncryptionAlgorithm) : ea,
  };
}

/** DKGA02 from §8.1, using the DES module directly: DK = DES_VK(D) ⊕ D ⊕ VK. */
function referenceDkga02(vendingKeyHex: string, panBlock: string, controlBlock: string): string {
  const d = BigInt(`0x${panBlock}`) ^ BigInt(`0x${controlBlock}`);
  const block = blockFromHex(d.toString(16).padStart(16, '0'));
  createDes(hexToBytes(vendingKeyHex)).encryptBlock(block);
  const des = BigInt(`0x${blockToHex(block)}`);
  return (des ^ d ^ BigInt(`0x${vendingKeyHex}`)).toString(16).padStart(16, '0');
}

describe('DKGA02 fixture vector', () => {
  const vector = vectorById('dkga02-ctsa01-pan600727', 'dkga02');
  const inputs = inputsOf(vector.inputs);
  const deriver = createDecoderKeyDeriver('DKGA02', vk(vector.inputs.vending_key_hex));

  it('derives e653341f9d5bf36f (standard order); Nectar order is the byte reversal', () => {
    const key = deriver.derive(inputs);
    expect(key.length).toBe(8);
    expect(key.revealHex()).toBe(vector.expected.decoder_key_hex_standard_order);
    expect(reverseHex(key.revealHex())).toBe(vector.expected.decoder_key_hex_nectar_storage_order);
  });

  it('reproduces the intermediates: PAN block, control block, PAN ⊕ CB', () => {
    const trace = deriver.trace(inputs) as Dkga02Trace;
    expect(trace.panBlockHex).toBe(vector.expected.intermediate_pan_block);
    expect(trace.controlBlockHex.toLowerCase()).toBe(
      vector.expected.intermediate_control_block.toLowerCase(),
    );
    expect(trace.panXorControlHex).toBe(vector.expected.intermediate_pan_xor_cb);
  });

  it('§12 trace: DES_VK(D) = 6ca9aad4270fa73b and DK = DES ⊕ D ⊕ VK', () => {
    const block = blockFromHex('2151356011ffffff');
    createDes(hexToBytes(VK02)).encryptBlock(block);
    expect(blockToHex(block)).toBe('6ca9aad4270fa73b');
    expect(referenceDkga02(VK02, '0072700000000000', '2123456011FFFFFF')).toBe('e653341f9d5bf36f');
  });
});

describe('DKGA02 in the token fixtures', () => {
  const derivations: { id: string; spec: DecoderKeyDerivation; expected: string }[] = [];
  for (const v of vectorsOfKind('credit_token'))
    derivations.push({
      id: v.id,
      spec: v.inputs.decoder_key_derivation,
      expected: v.expected.intermediate_decoder_key_hex_msb_first,
    });
  for (const v of vectorsOfKind('mgmt_token'))
    derivations.push({
      id: v.id,
      spec: v.inputs.decoder_key_derivation,
      expected: v.expected.intermediate_decoder_key_hex_msb_first,
    });
  for (const v of vectorsOfKind('keychange_token')) {
    derivations.push({
      id: `${v.id} current`,
      spec: v.inputs.current_decoder_key_derivation,
      expected: v.expected.intermediate_current_decoder_key_hex_msb_first,
    });
    derivations.push({
      id: `${v.id} new`,
      spec: v.inputs.new_decoder_key_derivation,
      expected: v.expected.intermediate_new_decoder_key_hex_msb_first,
    });
  }
  const derived = derivations.filter((d) => d.spec.algorithm !== 'RAW');

  it('covers both algorithms', () => {
    expect(derived.some((d) => d.spec.algorithm === 'DKGA02')).toBe(true);
    expect(derived.some((d) => d.spec.algorithm === 'DKGA04')).toBe(true);
  });

  it.each(derived.map((d) => [d.id, d] as const))('%s', (_id, { spec, expected }) => {
    const deriver = createDecoderKeyDeriver(spec.algorithm as 'DKGA02' | 'DKGA04', vk(spec.vending_key_hex!));
    expect(deriver.algorithm).toBe(spec.algorithm);
    expect(deriver.derive(inputsOf(spec)).revealHex()).toBe(expected);
  });
});

describe('DKGA02 rules', () => {
  const deriver = createDecoderKeyDeriver('DKGA02', vk(VK02));

  it('KT 3 (common key) zeroes the DRN part of the PAN block', () => {
    const pan = meterPanFromParts('600727', '47500150231');
    const unique = deriver.trace(ctsaInputs({ pan, keyType: 2 })) as Dkga02Trace;
    const common = deriver.trace(ctsaInputs({ pan, keyType: 3 })) as Dkga02Trace;
    expect(unique.panBlockHex).toBe('0072747500150231');
    expect(common.panBlockHex).toBe('0072700000000000');
    expect(common.controlBlockHex).toBe('3123456011FFFFFF');
  });

  it('KT 3 keys are the same for every meter of the IIN; other key types differ per meter (property)', () => {
    const drn = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 11, maxLength: 11 });
    fc.assert(
      fc.property(drn, drn, (a, b) => {
        fc.pre(a !== b);
        const pa = meterPanFromParts('600727', a);
        const pb = meterPanFromParts('600727', b);
        expect(
          deriver
            .derive(ctsaInputs({ pan: pa, keyType: 3 }))
            .equals(deriver.derive(ctsaInputs({ pan: pb, keyType: 3 }))),
        ).toBe(true);
        expect(
          deriver
            .derive(ctsaInputs({ pan: pa, keyType: 2 }))
            .equals(deriver.derive(ctsaInputs({ pan: pb, keyType: 2 }))),
        ).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('the PAN block is the 16 digits after the first, without the check digit (6-digit and 4-digit IIN)', () => {
    const six = deriver.trace(ctsaInputs({ pan: meterPanFromParts('123456', '78901234567') })) as Dkga02Trace;
    expect(six.panBlockHex).toBe('2345678901234567');
    const four = deriver.trace(
      ctsaInputs({ pan: meterPanFromParts('0000', '1234567890123') }),
    ) as Dkga02Trace;
    expect(four.panBlockHex).toBe('0001234567890123');
    const fourCommon = deriver.trace(
      ctsaInputs({ pan: meterPanFromParts('0000', '1234567890123'), keyType: 3 }),
    ) as Dkga02Trace;
    expect(fourCommon.panBlockHex).toBe('0000000000000000');
  });

  it('the control block is KT ‖ SGC ‖ TI ‖ KRN ‖ FFFFFF', () => {
    const trace = deriver.trace(ctsaInputs({ keyType: 1, sgc: '999152', ti: 7, krn: 9 })) as Dkga02Trace;
    expect(trace.controlBlockHex).toBe('1999152079FFFFFF');
  });

  it('the check digit does not matter to DKGA02 (property over DRNs)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 11, maxLength: 11 }),
        (drn) => {
          const pan = meterPanFromParts('600727', drn);
          const trace = deriver.trace(ctsaInputs({ pan })) as Dkga02Trace;
          expect(trace.panBlockHex).toBe(`00727${drn}`);
          expect(deriver.derive(ctsaInputs({ pan })).revealHex()).toBe(
            referenceDkga02(VK02, trace.panBlockHex, trace.controlBlockHex),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('every derivation input changes the key', () => {
    const base = deriver.derive(ctsaInputs()).revealHex();
    const variants: Partial<DecoderKeyInputs>[] = [
      { keyType: 1 },
      { sgc: '123457' },
      { ti: 2 },
      { krn: 2 },
      { pan: parseMeterPan('000001000000000082') },
    ];
    for (const variant of variants) expect(deriver.derive(ctsaInputs(variant)).revealHex()).not.toBe(base);
    // The vending key too.
    expect(
      createDecoderKeyDeriver('DKGA02', vk('abababababababaa')).derive(ctsaInputs()).revealHex(),
    ).not.toBe(base);
  });

  it('the base date and EA are not part of DKGA02', () => {
    const base = deriver.derive(ctsaInputs()).revealHex();
    expect(deriver.derive(ctsaInputs({ baseDate: 2014 })).revealHex()).toBe(base);
    expect(deriver.derive(ctsaInputs({ ea: 'EA09' })).revealHex()).toBe(base);
  });
});

describe('DKGA04', () => {
  const vector = vectorById('dkga04-sta-bd1993-krn1', 'dkga04');
  const deriver = createDecoderKeyDeriver('DKGA04', vk(VK04));
  const inputs = inputsOf(vector.inputs);

  it('fixture: EA07 key aa4baa8749c10d27, Nectar order reversed, HMAC message as listed', () => {
    const key = deriver.derive(inputs);
    expect(key.length).toBe(8);
    expect(key.revealHex()).toBe(vector.expected.decoder_key_hex_standard_order);
    expect(reverseHex(key.revealHex())).toBe(vector.expected.decoder_key_hex_nectar_storage_order);
    expect((deriver.trace(inputs) as Dkga04Trace).messageHex).toBe(
      vector.expected.intermediate_hmac_message_hex,
    );
  });

  it('EA11 gives 16 bytes: f94b6ed353c3bfdb113e2d3a7ea3c41d with the §8.2 message', () => {
    const ea11 = { ...inputs, ea: 'EA11' as const };
    const key = deriver.derive(ea11);
    expect(key.length).toBe(16);
    expect(key.revealHex()).toBe('f94b6ed353c3bfdb113e2d3a7ea3c41d');
    const documented =
      '04 02 3034 02 3933 02 3131 02 3031 00 04 06 313233343537 01 32 01 31 12 363030373237303030303030303030303039 00000080';
    expect((deriver.trace(ea11) as Dkga04Trace).messageHex).toBe(documented.replaceAll(' ', ''));
  });

  it('the key is the leftmost L bits of HMAC-SHA-256(VK, message) (checked with node:crypto)', () => {
    for (const ea of ['EA07', 'EA09', 'EA11'] as const) {
      for (const baseDate of [1993, 2014, 2035] as const) {
        const these = { ...inputs, ea, baseDate, krn: 4, ti: 12 };
        const message = (deriver.trace(these) as Dkga04Trace).messageHex;
        const mac = createHmac('sha256', Buffer.from(VK04, 'hex'))
          .update(Buffer.from(message, 'hex'))
          .digest('hex');
        const bytes = ea === 'EA11' ? 16 : 8;
        expect(deriver.derive(these).revealHex()).toBe(mac.slice(0, bytes * 2));
        // Message: label count, "04", YY, EA digits, TI; 0x00; context count, SGC, KT, KRN, PAN; L.
        expect(message.slice(0, 6)).toBe('040230');
        expect(message).toContain(Buffer.from(String(baseDate).slice(2)).toString('hex'));
        expect(message).toContain(Buffer.from(ea.slice(2)).toString('hex'));
        expect(message.endsWith(ea === 'EA11' ? '00000080' : '00000040')).toBe(true);
      }
    }
  });

  it('writes KT and KRN as hex digits and includes the full 18-digit PAN', () => {
    const message = (deriver.trace({ ...inputs, keyType: 3, krn: 9 }) as Dkga04Trace).messageHex;
    expect(message).toContain(`01${Buffer.from('3').toString('hex')}01${Buffer.from('9').toString('hex')}12`);
    expect(message).toContain(Buffer.from('600727000000000009').toString('hex'));
  });

  it('base date and EA change the key (base-date move needs a new key)', () => {
    const base = deriver.derive(inputs).revealHex();
    expect(deriver.derive({ ...inputs, baseDate: 2014 }).revealHex()).not.toBe(base);
    expect(deriver.derive({ ...inputs, ea: 'EA09' }).revealHex()).not.toBe(base);
    // EA11 keys are not an extension of the EA07 key (L is part of the message).
    expect(
      deriver
        .derive({ ...inputs, ea: 'EA11' })
        .revealHex()
        .slice(0, 16),
    ).not.toBe(base);
  });

  it('derivation is deterministic and the deriver is reusable across meters', () => {
    const first = deriver.derive(inputs).revealHex();
    deriver.derive({ ...inputs, pan: parseMeterPan('000001000000000082') });
    expect(deriver.derive(inputs).revealHex()).toBe(first);
  });
});

describe('vending key validation', () => {
  it('documents 8 bytes for DKGA02 and 20 for DKGA04', () => {
    expect(VENDING_KEY_BYTES).toEqual({ DKGA02: [8], DKGA04: [20] });
  });

  it.each([
    ['DKGA02', 'abababababababab94'],
    ['DKGA02', 'abababababab'],
    ['DKGA02', VK04],
    ['DKGA04', VK02],
    ['DKGA04', `${VK04}ab`],
  ] as const)(
    '%s with a %s-length key is STS_INVALID_KEY and the message does not show the key',
    (dkga, hex) => {
      const error = expectStsError(() => createDecoderKeyDeriver(dkga, vk(hex)), 'STS_INVALID_KEY');
      for (const text of [
        error.userMessage,
        error.detail,
        error.message,
        String(error),
        JSON.stringify(error),
      ]) {
        expect(text.toLowerCase()).not.toContain(hex.toLowerCase());
        expect(text.toLowerCase()).not.toContain(hex.slice(0, 8).toLowerCase());
      }
      expect(error.userMessage).toContain(dkga);
    },
  );

  it('refuses an unknown algorithm', () => {
    expectStsError(() => createDecoderKeyDeriver('DKGA03' as 'DKGA02', vk(VK02)), 'STS_INVALID_ALGORITHM');
  });
});

describe('derive refuses invalid inputs instead of deriving a wrong key', () => {
  const d02 = createDecoderKeyDeriver('DKGA02', vk(VK02));
  const d04 = createDecoderKeyDeriver('DKGA04', vk(VK04));
  it.each([
    ['TI 100', { ti: 100 }, 'STS_INVALID_TI'],
    ['TI -1', { ti: -1 }, 'STS_INVALID_TI'],
    ['SGC 12345', { sgc: '12345' }, 'STS_INVALID_SGC'],
    ['SGC 12a456', { sgc: '12a456' }, 'STS_INVALID_SGC'],
    ['KRN 0', { krn: 0 }, 'STS_INVALID_KRN'],
    ['KRN 10', { krn: 10 }, 'STS_INVALID_KRN'],
    ['KT 4', { keyType: 4 as KeyType }, 'STS_INVALID_KEY_TYPE'],
  ] as const)('%s', (_label, override, code) => {
    expectStsError(() => d02.derive(ctsaInputs(override)), code);
    expectStsError(() => d02.trace(ctsaInputs(override)), code);
    expectStsError(() => d04.derive(ctsaInputs(override)), code);
  });

  it('DKGA04 refuses an unknown base date or EA', () => {
    expectStsError(() => d04.derive(ctsaInputs({ baseDate: 2000 as BaseDate })), 'STS_INVALID_BASE_DATE');
    expectStsError(
      () => d04.derive(ctsaInputs({ ea: 'EA08' as EncryptionAlgorithm })),
      'STS_INVALID_ALGORITHM',
    );
  });
});
