import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOpenvend } from '../support/run-cli.ts';

const fixturePath = new URL('../../../shared/fixtures/sts-vectors.json', import.meta.url).pathname;
const vectors = JSON.parse(readFileSync(fixturePath, 'utf8')) as Array<{
  id: string;
  kind: string;
  expected: Record<string, unknown>;
}>;
const work = mkdtempSync(join(tmpdir(), 'openvend-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ctsa01Meter = {
  vendingKey: 'abababababababab',
  dkga: 'DKGA02',
  pan: '600727000000000009',
  keyType: 2,
  sgc: '123456',
  ti: '01',
  krn: 1,
  ea: 'EA07',
  baseDate: 1993,
};

describe('openvend --help', () => {
  it.each([
    [[], 'sts'],
    [['sts'], 'kct-campaign'],
    [['sts', 'token'], 'manufacturerCode'],
    [['sts', 'key-change'], 'rollover'],
    [['sts', 'decode'], 'token'],
    [['sts', 'decoder-key'], '--reveal'],
    [['sts', 'vectors'], '--json'],
    [['sts', 'kct-campaign'], 'new_base_date'],
    [['start'], 'browser mode'],
  ])('%j --help documents its options', (args, expected) => {
    const result = runOpenvend([...args, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(expected);
  });

  it('status prints a one-line engine status', () => {
    const result = runOpenvend(['status']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/STS engine ready .* self-test 2\/2 passed/);
  });

  it('npx openvend resolves the bin entry from the repository root', () => {
    const repoRoot = new URL('../../', import.meta.url).pathname;
    const result = spawnSync('npx', ['--offline', 'openvend', '--version'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown command is a usage error', () => {
    const result = runOpenvend(['sts', 'tokens']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'tokens'");
  });
});

describe('openvend sts vectors', () => {
  it('runs the whole shared fixture file: every vector passes, exit 0', () => {
    const result = runOpenvend(['sts', 'vectors', fixturePath]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`${vectors.length} vectors: ${vectors.length} passed, 0 failed`);
    for (const vector of vectors) expect(result.stdout).toContain(`PASS  ${vector.id}  (${vector.kind})`);
    // Computed values are printed, not just verdicts.
    expect(result.stdout).toContain('token = 67586531586639825066');
  });

  it('--json reports computed values and mismatches per vector', () => {
    const result = runOpenvend(['sts', 'vectors', fixturePath, '--json']);
    expect(result.status).toBe(0);
    const report = result.json<{
      summary: { vectors: number; passed: number };
      results: Array<{ id: string; pass: boolean; computed: Record<string, unknown> }>;
    }>();
    expect(report.summary).toEqual({ vectors: 118, passed: 118, failed: 0 });
    const kct = report.results.find((r) => r.id === 'ctsa19-0-04-step2-kct')!;
    expect(kct.computed.set4th_section_token).toBe('31051353433275215300');
  });

  it('a tampered vector fails with exit 1 and names the field', () => {
    const tampered = vectors
      .filter((v) => v.kind === 'credit_token')
      .slice(0, 2)
      .map((v) => structuredClone(v));
    tampered[1]!.expected.token = '00000000000000000000';
    const file = join(work, 'tampered.json');
    writeFileSync(file, JSON.stringify(tampered));
    const result = runOpenvend(['sts', 'vectors', file]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`FAIL  ${tampered[1]!.id}`);
    expect(result.stdout).toContain('✗ token: expected 00000000000000000000');
    expect(result.stdout).toContain('2 vectors: 1 passed, 1 failed');
  });

  it('a file that is not a vector array is refused', () => {
    const file = join(work, 'object.json');
    writeFileSync(file, '{"id":1}');
    const result = runOpenvend(['sts', 'vectors', file]);
    expect(result.status).toBe(2);
    expect(result.error().message).toContain('JSON array');
  });
});

describe('openvend sts token', () => {
  it('reproduces CTSA01 step 1 from derivation inputs on standard input', () => {
    const result = runOpenvend(['sts', 'token'], {
      ...ctsa01Meter,
      class: 0,
      subclass: 0,
      rnd: 5,
      issuedAt: '2004-03-01T13:55',
      units: 1,
    });
    expect(result.status).toBe(0);
    const out = result.json();
    expect(out.token).toBe('23716100501183194197');
    expect(out.display).toBe('2371 6100 5011 8319 4197');
    expect(out.plainBlock).toBe('05599863000119e6');
    expect(JSON.stringify(out)).not.toContain('e653341f9d5bf36f');
  });

  it('reads the request from --request FILE, and takes a raw decoder key', () => {
    const file = join(work, 'token.json');
    writeFileSync(
      file,
      JSON.stringify({
        decoderKey: 'e653341f9d5bf36f',
        ea: 'EA07',
        class: 2,
        subclass: 5,
        rnd: 5,
        tid: 5910360,
      }),
    );
    const result = runOpenvend(['sts', 'token', '--request', file]);
    expect(result.status).toBe(0);
    expect(result.json().token).toBe('37037300014464855694');
  });

  it('moves the reserved 00:01 minute to 00:02 (CTSA09 step 2)', () => {
    const result = runOpenvend(['sts', 'token'], {
      ...ctsa01Meter,
      class: 0,
      subclass: 0,
      rnd: 5,
      issuedAt: '2004-03-29T00:01',
      units: 1,
    });
    expect(result.status).toBe(0);
    expect((result.json().fields as { tid: number }).tid).toBe(5911202);
  });

  it.each([
    ['DRN letters', { pan: '60072700000000000A' }, 'STS_INVALID_DIGITS'],
    ['wrong check digit', { pan: '600727000000000008' }, 'STS_BAD_CHECK_DIGIT'],
    ['SGC not 6 digits', { sgc: '12345' }, 'STS_INVALID_SGC'],
    ['TI outside 00-99', { ti: 100 }, 'STS_INVALID_TI'],
    ['KRN outside 1-9', { krn: 10 }, 'STS_INVALID_KRN'],
    ['negative amount', { units: -1 }, 'STS_INVALID_AMOUNT'],
    ['too large amount', { units: 18201625 }, 'STS_AMOUNT_OUT_OF_RANGE'],
    ['wrong key length', { vendingKey: 'abababababab' }, 'STS_INVALID_KEY'],
    ['TID past roll-over', { issuedAt: '2024-11-24T20:16' }, 'STS_TID_ROLLOVER'],
    ['key expired (CTSA16)', { ken: 85, issuedAt: '2004-04-01T09:30' }, 'STS_KEY_EXPIRED'],
    ['a misspelt field', { unitz: 5 }, 'STS_INVALID_REQUEST'],
  ])('%s: exit 2 with a typed error on stderr and nothing on stdout', (_name, change, code) => {
    const request = {
      ...ctsa01Meter,
      class: 0,
      subclass: 0,
      rnd: 5,
      issuedAt: '2004-03-01T13:55',
      units: 1,
      ...change,
    };
    const result = runOpenvend(['sts', 'token'], request);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const error = result.error();
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(10);
    expect(result.stderr).not.toContain('abababababababab');
  });

  it('invalid JSON is a clear error', () => {
    const result = runOpenvend(['sts', 'token'], '{not json');
    expect(result.status).toBe(2);
    expect(result.error().message).toBe('The token request is not valid JSON.');
  });
});

describe('openvend sts key-change', () => {
  it('reproduces CTSA05 step 2 (EA07 pair) and asks for the KCTs to be entered first', () => {
    const result = runOpenvend(['sts', 'key-change'], {
      current: { ...ctsa01Meter, ti: '02' },
      next: { ...ctsa01Meter, ti: '01', ken: 255 },
    });
    expect(result.status).toBe(0);
    const out = result.json<{ instructions: string; tokens: Array<{ token: string }> }>();
    expect(out.tokens.map((t) => t.token)).toEqual(['26553210520543055412', '00943705441908264439']);
    expect(out.instructions).toContain('first');
  });

  it('reproduces CTSA19 step 2 (EA11 set of 4, DKGA04)', () => {
    const meter = {
      vendingKey: 'abababababababab949494949494949401234567',
      dkga: 'DKGA04',
      pan: '600727000000000009',
      keyType: 2,
      sgc: '123457',
      ti: '01',
      baseDate: 1993,
      ea: 'EA11',
    };
    const result = runOpenvend(['sts', 'key-change'], {
      current: { ...meter, krn: 1 },
      next: { ...meter, krn: 2 },
    });
    expect(result.status).toBe(0);
    expect(result.json<{ tokens: Array<{ token: string }> }>().tokens.map((t) => t.token)).toEqual([
      '40937788669556693706',
      '55900126766830063715',
      '70168064023104948668',
      '31051353433275215300',
    ]);
  });
});

describe('openvend sts decode', () => {
  it('decodes a class 2 tariff-rate token with its fields', () => {
    const result = runOpenvend(['sts', 'decode'], {
      decoderKey: '0abc12def3456789',
      ea: 'EA07',
      token: '19631747338835776219',
    });
    expect(result.status).toBe(0);
    const out = result.json<{
      class: number;
      subclass: number;
      fields: Record<string, unknown>;
      tidDateTime: string;
    }>();
    expect(out.class).toBe(2);
    expect(out.subclass).toBe(2);
    expect(out.fields.rate_hex).toBe('ffff');
    expect(out.tidDateTime).toBe('1996-03-25T13:55');
  });

  it.each([
    ['19 digits', '1963174733883577621', 'STS_INVALID_TOKEN'],
    ['21 digits', '196317473388357762190', 'STS_INVALID_TOKEN'],
    ['above 2^66-1', '73786976294838206464', 'STS_TOKEN_OUT_OF_RANGE'],
    ['bad CRC (one digit changed)', '19631747338835776218', 'STS_BAD_CRC'],
  ])('%s is refused with exit 2', (_name, token, code) => {
    const result = runOpenvend(['sts', 'decode'], { decoderKey: '0abc12def3456789', ea: 'EA07', token });
    expect(result.status).toBe(2);
    expect(result.error().code).toBe(code);
  });
});

describe('openvend sts decoder-key', () => {
  it('prints the KCV but not the key, unless --reveal', () => {
    const hidden = runOpenvend(['sts', 'decoder-key'], ctsa01Meter);
    expect(hidden.status).toBe(0);
    expect(hidden.stdout).not.toContain('e653341f9d5bf36f');
    expect(hidden.json().decoderKeyKcv).toMatch(/^[0-9A-F]{6}$/);
    expect(hidden.json().decoderKey).toBeUndefined();
    const revealed = runOpenvend(['sts', 'decoder-key', '--reveal'], ctsa01Meter);
    expect(revealed.json().decoderKey).toBe('e653341f9d5bf36f');
    expect(revealed.json().decoderKeyKcv).toBe(hidden.json().decoderKeyKcv);
  });
});
