import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceVector,
  runConformanceVector,
  SUPPORTED_KINDS,
} from '../../../src-shared/sts/conformance.ts';
import {
  allVectors,
  cloneVector,
  EXPECTED_VECTOR_COUNT,
  STS_VECTORS_PATH,
  vectorById,
  vectorsOfKind,
} from '../../support/sts-vectors.ts';

const vectors = allVectors();

/** Changes one digit of a 20-digit token (the last one, +1 mod 10). */
const tamperDigit = (token: string, index = token.length - 1): string =>
  token.slice(0, index) + String((Number(token[index]) + 1) % 10) + token.slice(index + 1);

describe('the shared vector file', () => {
  it('is found in shared/ beside the repository', () => {
    const repoParent = new URL('../../../../', import.meta.url).pathname;
    expect(STS_VECTORS_PATH).toBe(`${repoParent}shared/fixtures/sts-vectors.json`);
    expect(existsSync(STS_VECTORS_PATH)).toBe(true);
  });

  it(`holds exactly ${EXPECTED_VECTOR_COUNT} vectors with unique ids`, () => {
    expect(vectors).toHaveLength(118);
    expect(new Set(vectors.map((v) => v.id)).size).toBe(118);
  });

  it('uses only kinds the engine supports, and every supported kind has vectors', () => {
    const kinds = new Set(vectors.map((v) => v.kind));
    for (const kind of kinds) expect(SUPPORTED_KINDS).toContain(kind);
    for (const kind of SUPPORTED_KINDS) expect(kinds.has(kind)).toBe(true);
  });

  it('has the documented confidence levels only', () => {
    for (const vector of vectors) expect(['high', 'medium', 'low']).toContain(vector.confidence);
    expect(vectors.filter((v) => v.confidence === 'low')).toHaveLength(1);
  });
});

describe('runConformanceVector over every vector', () => {
  it.each(vectors.map((vector) => ({ id: vector.id, vector })))('$id', ({ vector }) => {
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.error).toBeUndefined();
    expect(result.mismatches).toEqual([]);
    expect(result.pass).toBe(true);
    expect(result.id).toBe(vector.id);
    expect(result.kind).toBe(vector.kind);
    // Every asserted expectation was actually computed (no silently missing output).
    for (const field of Object.keys(vector.expected)) {
      if (field in result.notAsserted) continue;
      expect(result.computed, `computed.${field}`).toHaveProperty([field]);
    }
  });
});

describe('runConformanceVector reports failures', () => {
  it('a credit token with one changed digit fails with a mismatch naming "token"', () => {
    const vector = cloneVector(vectorById('ctsa01-0-02-step5', 'credit_token'));
    const original = vector.expected.token;
    vector.expected.token = tamperDigit(original);
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.error).toBeUndefined();
    expect(result.mismatches).toEqual([
      { field: 'token', expected: vector.expected.token, computed: original },
    ]);
  });

  it('every token-bearing vector fails when its token is tampered with', () => {
    for (const original of [...vectorsOfKind('credit_token'), ...vectorsOfKind('mgmt_token')]) {
      const vector = cloneVector(original);
      vector.expected.token = tamperDigit(vector.expected.token, 7);
      const result = runConformanceVector(vector as ConformanceVector);
      expect(result.pass, vector.id).toBe(false);
      expect(result.mismatches.map((m) => m.field)).toEqual(['token']);
    }
  });

  it('a tampered key-change section names that section', () => {
    const vector = cloneVector(vectorById('ctsa19-0-04-step2-kct', 'keychange_token'));
    vector.expected.set3rd_section_token = tamperDigit(vector.expected.set3rd_section_token!);
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.mismatches.map((m) => m.field)).toEqual(['set3rd_section_token']);
  });

  it('a tampered intermediate names the intermediate field', () => {
    const vector = cloneVector(vectorById('dkga02-ctsa01-pan600727', 'dkga02'));
    vector.expected.intermediate_pan_xor_cb = '2151356011fffffe';
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.mismatches).toEqual([
      { field: 'intermediate_pan_xor_cb', expected: '2151356011fffffe', computed: '2151356011ffffff' },
    ]);
  });

  it('a tampered nested expectation (EA11 plain blocks) fails', () => {
    const vector = cloneVector(vectorById('ctsa19-0-04-step4-kct', 'keychange_token'));
    vector.expected.intermediate_plain_blocks_hex!.set4th = '0000000000000000';
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.mismatches.map((m) => m.field)).toEqual(['intermediate_plain_blocks_hex']);
  });

  it('a numeric expectation that differs fails (amount exponent)', () => {
    const vector = cloneVector(vectorById('amount-180223', 'amount'));
    vector.expected.exponent = 1;
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.mismatches).toEqual([{ field: 'exponent', expected: 1, computed: 2 }]);
  });

  it('an expected field the engine does not compute is a mismatch, not a pass', () => {
    const vector = cloneVector(vectorById('crc-iec-example', 'crc'));
    (vector.expected as Record<string, unknown>).no_such_output = 'x';
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.mismatches).toEqual([{ field: 'no_such_output', expected: 'x', computed: null }]);
  });

  it('an unknown kind reports an error and does not pass', () => {
    const result = runConformanceVector({ id: 'x', kind: 'des_encrypt', inputs: {}, expected: { a: 1 } });
    expect(result.pass).toBe(false);
    expect(result.error?.code).toBe('UNSUPPORTED_KIND');
    expect(result.error?.message).toContain('des_encrypt');
    expect(result.mismatches).toEqual([]);
  });

  it('invalid inputs report the engine error code and its user message', () => {
    const vector = cloneVector(vectorById('ctsa01-0-02-step5', 'credit_token'));
    vector.inputs.decoder_key_derivation.sgc = '12345';
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.error?.code).toBe('STS_INVALID_SGC');
    expect(result.error?.message).toMatch(/^[A-Z].*\.$/);
  });

  it('a wrong check digit in a vector PAN is reported, not ignored', () => {
    const vector = cloneVector(vectorById('dkga04-sta-bd1993-krn1', 'dkga04'));
    vector.inputs.meter_pan = '600727000000000008';
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.error?.code).toBe('STS_BAD_CHECK_DIGIT');
  });

  it('a decode vector with a mistyped token reports STS_BAD_CRC', () => {
    const vector = cloneVector(vectorById('decode-0-2-36694449120075654222', 'decode'));
    vector.inputs.token = '36694449120075654223';
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.error?.code).toBe('STS_BAD_CRC');
  });
});

describe('the low-confidence class-1 vector', () => {
  const lows = vectors.filter((v) => v.confidence === 'low');

  it('is the Nectar service test that drops the manufacturer code', () => {
    expect(lows.map((v) => v.id)).toEqual(['nectar-service-class1-sub0-mfr21']);
  });

  it('reports "token" under notAsserted and asserts the recomputed token instead', () => {
    const vector = vectorById('nectar-service-class1-sub0-mfr21', 'class1_token');
    const result = runConformanceVector(vector as ConformanceVector);
    expect(Object.keys(result.notAsserted)).toEqual(['token']);
    expect(result.notAsserted.token).toMatch(/manufacturer code/);
    expect(result.pass).toBe(true);
    expect(result.computed.token).toBe(vector.expected.recomputed_token_with_mfr_code_encoded);
    expect(result.computed.token).not.toBe(vector.expected.token);
  });

  it('still fails when the asserted recomputed token is tampered with', () => {
    const vector = cloneVector(vectorById('nectar-service-class1-sub0-mfr21', 'class1_token'));
    vector.expected.recomputed_token_with_mfr_code_encoded = tamperDigit(
      vector.expected.recomputed_token_with_mfr_code_encoded!,
    );
    const result = runConformanceVector(vector as ConformanceVector);
    expect(result.pass).toBe(false);
    expect(result.mismatches.map((m) => m.field)).toEqual(['recomputed_token_with_mfr_code_encoded']);
  });

  it('high-confidence vectors have nothing under notAsserted', () => {
    for (const vector of vectors.filter((v) => v.confidence !== 'low')) {
      expect(runConformanceVector(vector as ConformanceVector).notAsserted, vector.id).toEqual({});
    }
  });
});
