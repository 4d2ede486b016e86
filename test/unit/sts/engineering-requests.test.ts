import { describe, expect, it } from 'vitest';
import { encodeTransferAmount } from '../../../src-shared/sts/amount.ts';
import {
  executeDecodeRequest,
  executeDecoderKeyRequest,
  executeKeyChangeRequest,
  executeTokenRequest,
  type RequestContext,
} from '../../../src-shared/sts/engineering-requests.ts';
import type { StsErrorCode } from '../../../src-shared/sts/errors.ts';
import { expectStsError, vectorById, vectorsOfKind } from '../../support/sts-vectors.ts';

const context: RequestContext = { now: () => new Date('2004-03-01T13:55:30Z'), randomNibble: () => 5 };

const VK02 = 'abababababababab';
const VK04 = 'abababababababab949494949494949401234567';

/** The CTSA 0-02 meter: DKGA02, EA07, PAN 600727000000000009, KT 2, SGC 123456, TI 01, KRN 1, base 1993. */
const dkga02Meter = {
  vendingKey: VK02,
  dkga: 'DKGA02',
  pan: '600727000000000009',
  keyType: 2,
  sgc: '123456',
  ti: '01',
  krn: 1,
  baseDate: 1993,
  ea: 'EA07',
};

/** The CTSA 0-04 meter: DKGA04, EA11, SGC 123457, base 1993. */
const dkga04Meter = { ...dkga02Meter, vendingKey: VK04, dkga: 'DKGA04', sgc: '123457', ea: 'EA11' };

const credit = (extra: Record<string, unknown>) => ({
  ...dkga02Meter,
  class: 0,
  subclass: 0,
  units: 1,
  ...extra,
});

describe('executeTokenRequest reproduces fixture tokens', () => {
  it('CTSA01 step 1 with the context clock (2004-03-01 13:55 UTC, RND 5) = 23716100501183194197', () => {
    const result = executeTokenRequest(credit({}), context);
    expect(result.token).toBe('23716100501183194197');
    expect(result.display).toBe('2371 6100 5011 8319 4197');
    expect(result.plainBlock).toBe('05599863000119e6');
    expect(result.crc).toBe('19e6');
    expect(result.valueField).toBe('0001');
    expect(result.class).toBe(0);
    expect(result.subclass).toBe(0);
    expect(result.fields).toMatchObject({ tid: 5871715, rnd: 5, tid_datetime: '2004-03-01T13:55' });
    expect(result.ea).toBe('EA07');
    expect(result.decoderKeyKcv).toMatch(/^[0-9A-F]{6}$/);
    expect(JSON.stringify(result)).not.toContain('e653341f');
  });

  it('the time zone applies to "now": Africa/Johannesburg is two hours later', () => {
    const result = executeTokenRequest(credit({ timeZone: 'Africa/Johannesburg' }), context);
    expect(result.fields).toMatchObject({ tid: 5871715 + 120, tid_datetime: '2004-03-01T15:55' });
  });

  it('CTSA01 0-02 step 5 (gas, 14:15) with issuedAt', () => {
    const vector = vectorById('ctsa01-0-02-step5', 'credit_token');
    const result = executeTokenRequest(
      credit({ subclass: 2, issuedAt: '2004-03-01T14:15', units: 1 }),
      context,
    );
    expect(result.token).toBe(vector.expected.token);
    expect(result.plainBlock).toBe(vector.expected.intermediate_plain_64bit_block_hex);
  });

  it('every DKGA02/EA07 credit fixture with an issue time, via the request (tid given)', () => {
    const vectors = vectorsOfKind('credit_token').filter(
      (v) => v.inputs.decoder_key_derivation.algorithm === 'DKGA02' && v.inputs.issue_datetime !== null,
    );
    expect(vectors.length).toBeGreaterThan(20);
    for (const vector of vectors) {
      const d = vector.inputs.decoder_key_derivation;
      const result = executeTokenRequest(
        {
          vendingKey: d.vending_key_hex,
          dkga: 'DKGA02',
          iin: d.iin,
          drn: d.iain,
          keyType: d.key_type,
          sgc: d.sgc,
          ti: d.ti,
          krn: d.krn,
          baseDate: vector.inputs.base_date,
          ea: 'EA07',
          class: 0,
          subclass: vector.inputs.token_subclass,
          rnd: vector.inputs.random_no,
          tid: vector.inputs.tid_minutes,
          units: vector.inputs['transfer_amount_units_0.1'],
        },
        context,
      );
      expect(result.token, vector.id).toBe(vector.expected.token);
    }
  });

  it('a DKGA04/EA11 vector (CTSA01 0-04 step 9, base date 2014, KRN 4)', () => {
    const vector = vectorById('ctsa01-0-04-step9', 'credit_token');
    const result = executeTokenRequest(
      {
        ...dkga04Meter,
        krn: 4,
        baseDate: 2014,
        class: 0,
        subclass: 0,
        issuedAt: '2014-01-01T08:00',
        units: 1,
      },
      context,
    );
    expect(result.token).toBe(vector.expected.token);
    expect(result.plainBlock).toBe(vector.expected.intermediate_plain_64bit_block_hex);
    expect(result.ea).toBe('EA11');
    expect(result.baseDate).toBe(2014);
  });

  it('a management token (CTSA09 0-04 clear credit, register FFFF, EA11)', () => {
    const vector = vectorById('ctsa09-0-04-step3a-clearcredit', 'mgmt_token');
    const result = executeTokenRequest(
      { ...dkga04Meter, class: 2, subclass: 1, register: 0xffff, issuedAt: '2004-03-29T00:03' },
      context,
    );
    expect(result.token).toBe(vector.expected.token);
  });

  it('CTSA09: issued at 00:01 the TID is bumped to 5911202', () => {
    const result = executeTokenRequest(
      { ...dkga04Meter, class: 2, subclass: 1, register: 0xffff, issuedAt: '2004-03-29T00:01' },
      context,
    );
    expect(result.fields).toMatchObject({ tid: 5911202 });
  });

  it('lastIssuedTid moves a second vend in the same minute to the next minute', () => {
    const result = executeTokenRequest(credit({ lastIssuedTid: 5871715 }), context);
    expect(result.fields).toMatchObject({ tid: 5871716 });
  });

  it('MPL via the request equals the fixture (CTSA12 0-02 step 3)', () => {
    const vector = vectorById('ctsa12-0-02-step3-mpl16384', 'mgmt_token');
    const result = executeTokenRequest(
      { ...dkga02Meter, class: 2, subclass: 0, mpl: 16384, tid: 5915950 },
      context,
    );
    expect(result.token).toBe(vector.expected.token);
  });

  it('kwh is rounded up to 0.1 units; transferAmount gives the raw field', () => {
    expect(executeTokenRequest(credit({ units: undefined, kwh: '1.82' }), context).fields).toMatchObject({
      'transfer_amount_units_0.1': 19,
    });
    expect(
      executeTokenRequest(credit({ units: undefined, transferAmount: '0x416a' }), context).valueField,
    ).toBe('416a');
    expect(executeTokenRequest(credit({ units: undefined, transferAmount: 16746 }), context).valueField).toBe(
      '416a',
    );
    expectStsError(
      () => executeTokenRequest(credit({ units: undefined, transferAmount: '416a' }), context),
      'STS_INVALID_FIELD',
    );
    expect(executeTokenRequest(credit({ units: 20000 }), context).valueField).toBe(
      encodeTransferAmount(20000).field.toString(16),
    );
  });

  it('class 1 needs no key', () => {
    const vector = vectorById('ctsa11-0-02-ctrl100-mfr4digit', 'class1_token');
    const result = executeTokenRequest({ class: 1, subclass: 1, control: 256 }, context);
    expect(result.token).toBe(vector.expected.token);
    expect(result).not.toHaveProperty('decoderKeyKcv');
  });

  it('currency credit round-trips through decode (100 → 100.00624)', () => {
    const made = executeTokenRequest(credit({ subclass: 4, units: undefined, amount: '100' }), context);
    expect(made.valueField).toBe('dff6');
    const read = executeDecodeRequest({ ...dkga02Meter, token: made.token });
    expect(read.fields).toMatchObject({ amount: '100.00624', amount_1e5: '10000624' });
  });
});

describe('executeDecodeRequest', () => {
  it.each(vectorsOfKind('decode').map((v) => [v.id, v] as const))('%s', (_id, vector) => {
    const result = executeDecodeRequest({
      decoderKey: vector.inputs.decoder_key_hex,
      ea: vector.inputs.encryption_algorithm,
      baseDate: vector.inputs.base_date,
      token: vector.inputs.token,
    });
    expect(result.class).toBe(vector.expected.class);
    expect(result.subclass).toBe(vector.expected.subclass);
    expect(result.plainBlock).toBe(vector.expected.intermediate_decrypted_64bit_block_hex);
    expect(result.crcOk).toBe(true);
    if (vector.expected.tid_datetime !== undefined)
      expect(result.tidDateTime).toBe(vector.expected.tid_datetime);
    if (vector.expected.amount !== undefined) expect(result.fields.amount).toBe(vector.expected.amount);
  });

  it('decodes a derived-key credit token and reports key expiry against KEN', () => {
    const fresh = executeDecodeRequest({ ...dkga02Meter, token: '23716100501183194197' });
    expect(fresh.fields).toMatchObject({ tid: 5871715, amount: 0.1 });
    expect(fresh.keyExpired).toBe(false);
    const expired = executeDecodeRequest({ ...dkga02Meter, ken: 85, token: '23716100501183194197' });
    expect(expired.keyExpired).toBe(true);
  });

  it('accepts the grouped display form', () => {
    expect(executeDecodeRequest({ ...dkga02Meter, token: '2371 6100 5011 8319 4197' }).plainBlock).toBe(
      '05599863000119e6',
    );
  });
});

describe('executeKeyChangeRequest', () => {
  it('CTSA05 0-02 step 2: TI 02 → 01 under DKGA02', () => {
    const vector = vectorById('ctsa05-0-02-step2', 'keychange_token');
    const result = executeKeyChangeRequest({ current: { ...dkga02Meter, ti: '02' }, next: dkga02Meter });
    expect(result.tokens.map((t) => t.token)).toEqual([
      vector.expected.set1st_section_token_class2_sub3,
      vector.expected.set2nd_section_token_class2_sub4,
    ]);
    expect(result.tokens.map((t) => t.fields)).toEqual([
      { type: 'key-change-1', kenho: 15, krn: 1, ro: 0, res: 0, kt: 2 },
      { type: 'key-change-2', kenlo: 15, ti: 1 },
    ]);
    // No part of the new key leaves without an explicit reveal.
    expect(JSON.stringify(result)).not.toContain('e653341f');
    expect(JSON.stringify(result)).not.toContain('9d5bf36f');
    expect(result.next).toMatchObject({ ti: '01', krn: 1, keyType: 2, ken: 255, rollover: false });
    expect(result.next.decoderKeyKcv).toMatch(/^[0-9A-F]{6}$/);
    expect(result.currentDecoderKeyKcv).not.toBe(result.next.decoderKeyKcv);
    expect(JSON.stringify(result.next)).not.toContain('e653341f');
  });

  it('CTSA19 0-04 step 2: KRN 1 → 2 under DKGA04/EA11 gives four tokens', () => {
    const vector = vectorById('ctsa19-0-04-step2-kct', 'keychange_token');
    const result = executeKeyChangeRequest({ current: dkga04Meter, next: { ...dkga04Meter, krn: 2 } });
    expect(result.tokens.map((t) => t.token)).toEqual([
      vector.expected.set1st_section_token,
      vector.expected.set2nd_section_token,
      vector.expected.set3rd_section_token,
      vector.expected.set4th_section_token,
    ]);
    expect(result.tokens.map((t) => t.subclass)).toEqual([3, 4, 8, 9]);
  });

  it('a base-date move sets roll-over by default', () => {
    const result = executeKeyChangeRequest({
      current: dkga04Meter,
      next: { ...dkga04Meter, baseDate: 2014 },
    });
    expect(result.next.rollover).toBe(true);
    expect(result.next.baseDate).toBe(2014);
    expect(result.tokens[0]!.fields).toMatchObject({ krn: 1, ro: 1, kt: 2 });
    const same = executeKeyChangeRequest({ current: dkga04Meter, next: { ...dkga04Meter, krn: 2 } });
    expect(same.next.rollover).toBe(false);
    expect(same.tokens[0]!.fields).toMatchObject({ krn: 2, ro: 0 });
    const forced = executeKeyChangeRequest({
      current: dkga04Meter,
      next: { ...dkga04Meter, krn: 2 },
      rollover: true,
    });
    expect(forced.tokens[0]!.fields).toMatchObject({ krn: 2, ro: 1 });
  });
});

describe('executeDecoderKeyRequest', () => {
  it('without reveal there is no decoderKey field', () => {
    const result = executeDecoderKeyRequest(dkga02Meter, { reveal: false });
    expect(result).not.toHaveProperty('decoderKey');
    expect(JSON.stringify(result)).not.toContain('e653341f');
    expect(result).toMatchObject({
      dkga: 'DKGA02',
      ea: 'EA07',
      pan: '600727000000000009',
      sgc: '123456',
      ti: '01',
      keyBytes: 8,
    });
    expect(result.decoderKeyKcv).toMatch(/^[0-9A-F]{6}$/);
    expect(result.vendingKeyKcv).toMatch(/^[0-9A-F]{6}$/);
  });

  it('with reveal it gives the standard-order key (DKGA02 fixture)', () => {
    const vector = vectorById('dkga02-ctsa01-pan600727', 'dkga02');
    const result = executeDecoderKeyRequest(dkga02Meter, { reveal: true });
    expect(result.decoderKey).toBe(vector.expected.decoder_key_hex_standard_order);
  });

  it('DKGA04: EA07 gives the fixture key, EA11 16 bytes', () => {
    const vector = vectorById('dkga04-sta-bd1993-krn1', 'dkga04');
    const ea07 = executeDecoderKeyRequest({ ...dkga04Meter, ea: 'EA07' }, { reveal: true });
    expect(ea07.decoderKey).toBe(vector.expected.decoder_key_hex_standard_order);
    const ea11 = executeDecoderKeyRequest(dkga04Meter, { reveal: true });
    expect(ea11.keyBytes).toBe(16);
    expect(ea11.decoderKey).toBe('f94b6ed353c3bfdb113e2d3a7ea3c41d');
  });

  it('the key check value identifies the key without revealing it', () => {
    const a = executeDecoderKeyRequest(dkga02Meter, { reveal: false });
    const b = executeDecoderKeyRequest({ ...dkga02Meter, krn: 2 }, { reveal: false });
    expect(a.decoderKeyKcv).not.toBe(b.decoderKeyKcv);
    expect(a.vendingKeyKcv).toBe(b.vendingKeyKcv);
  });
});

/** Table rows as objects, so test names show the label and code rather than the whole request. */
const named = <R>(rows: [string, R, StsErrorCode][]) =>
  rows.map(([label, request, code]) => ({ label, request, code }));

describe('bad requests give clear typed errors', () => {
  const BAD_TOKEN_REQUESTS: [string, Record<string, unknown>, StsErrorCode][] = [
    ['DRN with letters (pan)', credit({ pan: '60072700000000000A' }), 'STS_INVALID_DIGITS'],
    [
      'DRN with letters (iin + drn)',
      credit({ pan: undefined, iin: '600727', drn: '0000000000A' }),
      'STS_INVALID_DIGITS',
    ],
    ['wrong check digit', credit({ pan: '600727000000000008' }), 'STS_BAD_CHECK_DIGIT'],
    ['PAN too short', credit({ pan: '60072700000000009' }), 'STS_INVALID_PAN'],
    ['SGC 5 digits', credit({ sgc: '12345' }), 'STS_INVALID_SGC'],
    ['SGC 7 digits', credit({ sgc: '1234567' }), 'STS_INVALID_SGC'],
    ['SGC with a letter', credit({ sgc: '12a456' }), 'STS_INVALID_SGC'],
    ['TI 100', credit({ ti: 100 }), 'STS_INVALID_TI'],
    ['TI -1', credit({ ti: -1 }), 'STS_INVALID_TI'],
    ['TI "1a"', credit({ ti: '1a' }), 'STS_INVALID_TI'],
    ['KRN 0', credit({ krn: 0 }), 'STS_INVALID_KRN'],
    ['KRN 10', credit({ krn: 10 }), 'STS_INVALID_KRN'],
    ['KT 4', credit({ keyType: 4 }), 'STS_INVALID_KEY_TYPE'],
    ['KEN 256', credit({ ken: 256 }), 'STS_INVALID_KEN'],
    ['EA08', credit({ ea: 'EA08' }), 'STS_INVALID_ALGORITHM'],
    ['DKGA03', credit({ dkga: 'DKGA03' }), 'STS_INVALID_ALGORITHM'],
    ['DKGA02 with EA11', credit({ ea: 'EA11' }), 'STS_INVALID_ALGORITHM'],
    ['base date 2000', credit({ baseDate: 2000 }), 'STS_INVALID_BASE_DATE'],
    ['negative units', credit({ units: -1 }), 'STS_INVALID_AMOUNT'],
    ['negative kwh (number)', credit({ units: undefined, kwh: -1 }), 'STS_INVALID_AMOUNT'],
    ['negative kwh (text)', credit({ units: undefined, kwh: '-0.5' }), 'STS_INVALID_AMOUNT'],
    ['kwh not a number', credit({ units: undefined, kwh: 'ten' }), 'STS_INVALID_AMOUNT'],
    ['units too large', credit({ units: 18201625 }), 'STS_AMOUNT_OUT_OF_RANGE'],
    ['kwh too large', credit({ units: undefined, kwh: '1820162.5' }), 'STS_AMOUNT_OUT_OF_RANGE'],
    ['units and kwh both', credit({ kwh: '1' }), 'STS_INVALID_REQUEST'],
    ['no amount', credit({ units: undefined }), 'STS_INVALID_REQUEST'],
    ['fractional units', credit({ units: 1.5 }), 'STS_INVALID_REQUEST'],
    [
      'currency with 6 decimals',
      credit({ subclass: 4, units: undefined, amount: '1.123456' }),
      'STS_INVALID_AMOUNT',
    ],
    [
      'decoder key too short',
      { ...credit({}), vendingKey: undefined, decoderKey: 'e653341f9d5bf3' },
      'STS_INVALID_KEY',
    ],
    [
      'decoder key 16 bytes for EA07',
      { ...credit({}), vendingKey: undefined, decoderKey: 'e653341f9d5bf36fe653341f9d5bf36f' },
      'STS_INVALID_KEY',
    ],
    [
      'decoder key not hex',
      { ...credit({}), vendingKey: undefined, decoderKey: 'e653341f9d5bf36z' },
      'STS_INVALID_KEY',
    ],
    ['vending key too long for DKGA02', credit({ vendingKey: `${VK02}94` }), 'STS_INVALID_KEY'],
    [
      'vending key 8 bytes for DKGA04',
      { ...dkga04Meter, class: 0, subclass: 0, units: 1, vendingKey: VK02 },
      'STS_INVALID_KEY',
    ],
    ['both keys', credit({ decoderKey: 'e653341f9d5bf36f' }), 'STS_INVALID_REQUEST'],
    ['no key', credit({ vendingKey: undefined }), 'STS_INVALID_REQUEST'],
    ['no dkga', credit({ dkga: undefined }), 'STS_INVALID_REQUEST'],
    ['no sgc', credit({ sgc: undefined }), 'STS_INVALID_REQUEST'],
    ['no meter number', credit({ pan: undefined }), 'STS_INVALID_REQUEST'],
    ['TID past roll-over', credit({ issuedAt: '2024-11-24T20:16' }), 'STS_TID_ROLLOVER'],
    ['tid past roll-over', credit({ tid: 16777216 }), 'STS_TID_ROLLOVER'],
    [
      'issue time before the base date',
      credit({ baseDate: 2014, dkga: 'DKGA02', issuedAt: '2013-12-31T23:59' }),
      'STS_TID_BEFORE_BASE_DATE',
    ],
    ['impossible date', credit({ issuedAt: '2023-02-30T10:00' }), 'STS_INVALID_TIME'],
    ['issue time with a zone', credit({ issuedAt: '2004-03-01T13:55Z' }), 'STS_INVALID_TIME'],
    ['unknown time zone', credit({ timeZone: 'Nowhere/Special' }), 'STS_INVALID_TIME'],
    ['tid and issuedAt', credit({ tid: 5, issuedAt: '2004-03-01T13:55' }), 'STS_INVALID_REQUEST'],
    ['expired key (CTSA16)', credit({ ken: 85, issuedAt: '2004-04-01T09:30' }), 'STS_KEY_EXPIRED'],
    ['RND 16', credit({ rnd: 16 }), 'STS_INVALID_FIELD'],
    [
      'register 65536',
      credit({ class: 2, subclass: 1, units: undefined, register: 65536 }),
      'STS_INVALID_FIELD',
    ],
    ['MPL missing', credit({ class: 2, subclass: 0, units: undefined }), 'STS_INVALID_REQUEST'],
    ['key change section as a single token', credit({ class: 2, subclass: 3 }), 'STS_INVALID_REQUEST'],
    ['class 3', credit({ class: 3 }), 'STS_UNSUPPORTED_TOKEN'],
    ['class 2 subclass 10', credit({ class: 2, subclass: 10 }), 'STS_UNSUPPORTED_TOKEN'],
    [
      'manufacturer code too long',
      { class: 1, subclass: 0, control: 1, manufacturerCode: 100 },
      'STS_INVALID_FIELD',
    ],
    ['unknown field "unit" (typo)', { ...credit({ units: undefined }), unit: 1 }, 'STS_INVALID_REQUEST'],
    [
      'unknown field "vendingkey" (typo)',
      { ...credit({ vendingKey: undefined }), vendingkey: VK02 },
      'STS_INVALID_REQUEST',
    ],
    ['wrong type for krn', credit({ krn: '1' }), 'STS_INVALID_REQUEST'],
    ['class missing', { ...dkga02Meter, subclass: 0, units: 1 }, 'STS_INVALID_REQUEST'],
    ['not an object', 'class 0' as unknown as Record<string, unknown>, 'STS_INVALID_REQUEST'],
  ];

  it.each(named(BAD_TOKEN_REQUESTS))('token request: $label → $code', ({ request, code }) => {
    const cleaned = typeof request === 'object' ? JSON.parse(JSON.stringify(request)) : request;
    expectStsError(() => executeTokenRequest(cleaned, context), code);
  });

  it('NaN cannot travel in JSON: the library refuses NaN, ±Infinity and fractions as amounts', () => {
    expect(JSON.parse(JSON.stringify({ units: Number.NaN })).units).toBeNull();
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5]) {
      expectStsError(() => encodeTransferAmount(value), 'STS_INVALID_AMOUNT');
    }
    // …and through the request, a NaN that did get in is refused as a malformed request.
    expectStsError(() => executeTokenRequest(credit({ units: Number.NaN }), context), 'STS_INVALID_REQUEST');
    expectStsError(() => executeTokenRequest(credit({ units: null }), context), 'STS_INVALID_REQUEST');
  });

  it('the unknown-field error names the field', () => {
    const error = expectStsError(
      () => executeTokenRequest({ ...credit({ units: undefined }), unit: 1 }, context),
      'STS_INVALID_REQUEST',
    );
    expect(`${error.userMessage} ${error.detail}`).toContain('unit');
  });

  it('the roll-over error tells the operator what to do', () => {
    const error = expectStsError(
      () => executeTokenRequest(credit({ issuedAt: '2024-11-24T20:16' }), context),
      'STS_TID_ROLLOVER',
    );
    expect(error.userMessage).toContain('2024-11-24T20:15');
    expect(error.userMessage).toMatch(/key change/);
  });

  it('key errors never echo the key', () => {
    const hex = 'e653341f9d5bf3';
    const error = expectStsError(
      () => executeTokenRequest({ ...credit({}), vendingKey: undefined, decoderKey: hex }, context),
      'STS_INVALID_KEY',
    );
    expect(`${error.userMessage} ${error.detail} ${error.message}`).not.toContain(hex);
    const vending = expectStsError(
      () => executeTokenRequest(credit({ vendingKey: `${VK02}94` }), context),
      'STS_INVALID_KEY',
    );
    expect(`${vending.userMessage} ${vending.detail} ${vending.message}`).not.toContain('abababab');
  });

  const decode = (token: string) => ({ ...dkga02Meter, token });
  const BAD_DECODE_REQUESTS: [string, Record<string, unknown>, StsErrorCode][] = [
    ['19 digits', decode('2371610050118319419'), 'STS_INVALID_TOKEN'],
    ['21 digits', decode('237161005011831941970'), 'STS_INVALID_TOKEN'],
    ['letters', decode('2371610050118319419O'), 'STS_INVALID_TOKEN'],
    ['2^66', decode('73786976294838206464'), 'STS_TOKEN_OUT_OF_RANGE'],
    ['starts with 9', decode('93716100501183194197'), 'STS_TOKEN_OUT_OF_RANGE'],
    ['bad CRC (one digit changed)', decode('23716100501183194198'), 'STS_BAD_CRC'],
    ['wrong key (other TI)', { ...decode('23716100501183194197'), ti: '02' }, 'STS_BAD_CRC'],
    ['wrong algorithm', { ...decode('23716100501183194197'), ea: 'EA09' }, 'STS_BAD_CRC'],
    ['no token', dkga02Meter, 'STS_INVALID_REQUEST'],
    ['token as a number', { ...dkga02Meter, token: 2371610050 }, 'STS_INVALID_REQUEST'],
    ['typo "tokn"', { ...dkga02Meter, tokn: '23716100501183194197' }, 'STS_INVALID_REQUEST'],
    [
      'wrong check digit',
      { ...decode('23716100501183194197'), pan: '600727000000000001' },
      'STS_BAD_CHECK_DIGIT',
    ],
    [
      'decoder key wrong length',
      { decoderKey: 'abcd', ea: 'EA07', token: '23716100501183194197' },
      'STS_INVALID_KEY',
    ],
  ];

  it.each(named(BAD_DECODE_REQUESTS))('decode request: $label → $code', ({ request, code }) => {
    expectStsError(() => executeDecodeRequest(request), code);
  });

  it('the decode error for 19 digits says how many digits there were', () => {
    const error = expectStsError(
      () => executeDecodeRequest(decode('2371610050118319419')),
      'STS_INVALID_TOKEN',
    );
    expect(error.userMessage).toContain('19');
  });

  const BAD_KEY_CHANGE_REQUESTS: [string, unknown, StsErrorCode][] = [
    [
      'KRN 10 for the new key',
      { current: dkga02Meter, next: { ...dkga02Meter, krn: 10 } },
      'STS_INVALID_KRN',
    ],
    ['TI 100 for the new key', { current: dkga02Meter, next: { ...dkga02Meter, ti: 100 } }, 'STS_INVALID_TI'],
    [
      'SGC 12345 for the current key',
      { current: { ...dkga02Meter, sgc: '12345' }, next: dkga02Meter },
      'STS_INVALID_SGC',
    ],
    [
      'new decoder key without its parameters',
      { current: dkga02Meter, next: { decoderKey: '0011223344556677' } },
      'STS_INVALID_REQUEST',
    ],
    [
      'new decoder key wrong length',
      { current: dkga02Meter, next: { decoderKey: '00112233', keyType: 2, krn: 1, ti: 1, sgc: '123456' } },
      'STS_INVALID_KEY',
    ],
    ['KEN 256', { current: dkga02Meter, next: { ...dkga02Meter, ken: 256 } }, 'STS_INVALID_KEN'],
    ['typo "nxt"', { current: dkga02Meter, nxt: dkga02Meter }, 'STS_INVALID_REQUEST'],
    [
      'unknown field inside next',
      { current: dkga02Meter, next: { ...dkga02Meter, kyeType: 2 } },
      'STS_INVALID_REQUEST',
    ],
    [
      'rollover not boolean',
      { current: dkga02Meter, next: dkga02Meter, rollover: 'yes' },
      'STS_INVALID_REQUEST',
    ],
    ['reserved 2', { current: dkga02Meter, next: dkga02Meter, reserved: 2 }, 'STS_INVALID_FIELD'],
  ];

  it.each(named(BAD_KEY_CHANGE_REQUESTS))('key change request: $label → $code', ({ request, code }) => {
    expectStsError(() => executeKeyChangeRequest(request), code);
  });

  const BAD_DECODER_KEY_REQUESTS: [string, unknown, StsErrorCode][] = [
    ['no vending key', { ...dkga02Meter, vendingKey: undefined }, 'STS_INVALID_REQUEST'],
    [
      'decoder key instead of vending key',
      { ...dkga02Meter, vendingKey: undefined, decoderKey: 'e653341f9d5bf36f' },
      'STS_INVALID_REQUEST',
    ],
    ['vending key wrong length', { ...dkga02Meter, vendingKey: 'abababab' }, 'STS_INVALID_KEY'],
    [
      'DRN letters',
      { ...dkga02Meter, pan: undefined, iin: '600727', drn: '0000000000A' },
      'STS_INVALID_DIGITS',
    ],
    ['wrong check digit', { ...dkga02Meter, pan: '600727000000000008' }, 'STS_BAD_CHECK_DIGIT'],
    ['KRN 0', { ...dkga02Meter, krn: 0 }, 'STS_INVALID_KRN'],
    ['typo', { ...dkga02Meter, revel: true }, 'STS_INVALID_REQUEST'],
  ];

  it.each(named(BAD_DECODER_KEY_REQUESTS))('decoder-key request: $label → $code', ({ request, code }) => {
    const cleaned = JSON.parse(JSON.stringify(request));
    const error = expectStsError(() => executeDecoderKeyRequest(cleaned, { reveal: true }), code);
    expect(`${error.userMessage} ${error.detail}`).not.toContain('abababab');
  });
});
