import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecoderKeyDeriver } from '../../src-shared/sts/decoder-key.ts';
import { parseMeterPan } from '../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../src-shared/sts/secret-key.ts';
import { createTokenCipher } from '../../src-shared/sts/token-cipher.ts';
import { decodeToken, encodeToken } from '../../src-shared/sts/token-codec.ts';
import { VirtualMeter } from '../../src-shared/sts/virtual-meter.ts';
import { runOpenvend } from '../support/run-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-campaign-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const keys = {
  vendingKeys: [
    { dkga: 'DKGA02', sgc: '123456', krn: 1, key: 'abababababababab' },
    { dkga: 'DKGA02', sgc: '123456', krn: 2, key: 'cdcdcdcdcdcdcdcd' },
    { dkga: 'DKGA04', sgc: '123457', krn: 1, key: 'abababababababab949494949494949401234567' },
    { dkga: 'DKGA04', sgc: '123457', krn: 2, key: 'abababababababab949494949494949401234567' },
  ],
};
const keysPath = join(work, 'keys.json');
writeFileSync(keysPath, JSON.stringify(keys), { mode: 0o600 });

const header =
  'pan,sgc,ti,krn,kt,ea,dkga,base_date,new_sgc,new_ti,new_krn,new_kt,new_ea,new_dkga,new_base_date,new_ken';
const meters = [
  header,
  '600727000000000009,123456,01,1,2,EA07,DKGA02,1993,,,2,,,,2014,255', // TID roll-over: KRN 1→2, base 1993→2014
  '600727000000000009,123457,01,1,2,EA11,DKGA04,1993,,,2,,,,,', // EA11 key revision change, same base date
  '600727000000000008,123456,01,1,2,EA07,DKGA02,1993,,,2,,,,2014,255', // wrong check digit
  '600727000000000009,999999,01,1,2,EA07,DKGA02,1993,,,2,,,,2014,255', // no vending key for SGC 999999
].join('\n');
const metersPath = join(work, 'meters.csv');
writeFileSync(metersPath, `${meters}\n`);

type Row = Record<string, string>;

describe('openvend sts kct-campaign', () => {
  const outPath = join(work, 'kcts.csv');
  const result = runOpenvend([
    'sts',
    'kct-campaign',
    '--meters',
    metersPath,
    '--keys',
    keysPath,
    '--out',
    outPath,
  ]);
  const rows = existsSync(outPath) ? (parse(readFileSync(outPath, 'utf8'), { columns: true }) as Row[]) : [];

  it('writes one output row per meter, rejected rows included, and exits 1 when any row is rejected', () => {
    expect(result.status).toBe(1);
    expect(result.json()).toMatchObject({ meters: 4, ok: 2, rejected: 2 });
    expect(rows.map((r) => r.status)).toEqual(['ok', 'ok', 'rejected', 'rejected']);
    expect(rows[2]!.error).toContain('STS_BAD_CHECK_DIGIT');
    expect(rows[3]!.error).toContain('STS_INVALID_KEY');
    expect(existsSync(`${outPath}.partial`)).toBe(false);
  });

  it('EA07 roll-over: 2 tokens under the old key carrying the new base-date key, with RO set', () => {
    const row = rows[0]!;
    expect(row.kct3).toBe('');
    expect(row.rollover).toBe('1');
    expect(row.new_base_date).toBe('2014');
    const pan = parseMeterPan(row.pan!);
    const oldKey = createDecoderKeyDeriver('DKGA02', SecretKey.fromHex('abababababababab', 'vk')).derive({
      pan,
      keyType: 2,
      sgc: '123456',
      ti: 1,
      krn: 1,
      baseDate: 1993,
      ea: 'EA07',
    });
    const newKey = createDecoderKeyDeriver('DKGA02', SecretKey.fromHex('cdcdcdcdcdcdcdcd', 'vk')).derive({
      pan,
      keyType: 2,
      sgc: '123456',
      ti: 1,
      krn: 2,
      baseDate: 2014,
      ea: 'EA07',
    });
    const cipher = createTokenCipher('EA07', oldKey);
    const first = decodeToken(row.kct1!, cipher).payload;
    const second = decodeToken(row.kct2!, cipher).payload;
    expect(first).toMatchObject({ type: 'key-change-1', krn: 2, rollover: true, keyType: 2, kenHigh: 15 });
    expect(second).toMatchObject({ type: 'key-change-2', ti: 1, kenLow: 15 });
    const carried = `${(first as { keyWord: number }).keyWord.toString(16).padStart(8, '0')}${(second as { keyWord: number }).keyWord.toString(16).padStart(8, '0')}`;
    expect(carried).toBe(newKey.revealHex());

    // A meter on the old key takes the set, moves to base date 2014 and then accepts new-key credit.
    const meter = new VirtualMeter({
      decoderKey: oldKey,
      ea: 'EA07',
      baseDate: 1993,
      krn: 1,
      keyType: 2,
      ti: 1,
      sgc: '123456',
    });
    meter.expectBaseDate(2014);
    expect(meter.apply(row.kct2!)).toMatchObject({ accepted: true, outcome: 'key-change-staged' });
    expect(meter.apply(row.kct1!)).toMatchObject({ accepted: true, outcome: 'key-changed' });
    expect(meter.baseDate).toBe(2014);
    const credit = encodeToken(
      { type: 'transfer-credit', resource: 'electricity', rnd: 3, tid: 6_000_000, units: 250 },
      createTokenCipher('EA07', newKey),
    );
    expect(meter.apply(credit.digits)).toMatchObject({ accepted: true, outcome: 'credit' });
    expect(meter.credit('electricity')).toBe(250);
    expect(meter.apply(credit.digits)).toMatchObject({ accepted: false, outcome: 'used' });
  });

  it('EA11: 4 tokens, no RO when the base date stays', () => {
    const row = rows[1]!;
    expect([row.kct1, row.kct2, row.kct3, row.kct4].every((t) => /^\d{20}$/.test(t!))).toBe(true);
    expect(row.rollover).toBe('0');
    expect(row.new_key_kcv).toMatch(/^[0-9A-F]{6}$/);
  });

  it('the output never contains a key', () => {
    const text = readFileSync(outPath, 'utf8');
    for (const entry of keys.vendingKeys) expect(text).not.toContain(entry.key);
  });
});

describe('openvend sts kct-campaign bad input', () => {
  /** Runs a campaign expected to fail before finishing: no output and no partial file may remain. */
  function failingCampaign(name: string, meters: string, keys: string) {
    const outPath = join(work, `${name}.csv`);
    const result = runOpenvend(['sts', 'kct-campaign', '--meters', meters, '--keys', keys, '--out', outPath]);
    expect(result.status).toBe(2);
    expect(existsSync(outPath)).toBe(false);
    expect(existsSync(`${outPath}.partial`)).toBe(false);
    return result.error();
  }

  it('a missing keys file stops before any output is written', () => {
    const error = failingCampaign('no-keys', metersPath, join(work, 'nope.json'));
    expect(error.message).toContain('Cannot read the vending key file');
  });

  it('a missing meters file is a typed error', () => {
    expect(failingCampaign('no-meters', join(work, 'nope.csv'), keysPath).code).toBe('FILE_UNREADABLE');
  });

  it('a malformed CSV is refused with its line', () => {
    const badPath = join(work, 'bad.csv');
    writeFileSync(badPath, `${header}\n"600727000000000009,123456,01,1,2,EA07,DKGA02,1993,,,2,,,,2014,255\n`);
    const error = failingCampaign('bad-out', badPath, keysPath);
    expect(error.code).toBe('CSV_INVALID');
    expect(error.message).toContain('line');
  });

  it('the required options are enforced', () => {
    const result = runOpenvend(['sts', 'kct-campaign', '--meters', metersPath]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("required option '--keys <file>' not specified");
  });
});
