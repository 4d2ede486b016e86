// npm run bench:sts — STS engine throughput. Prints figures; asserts nothing (tests do that).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDecoderKeyDeriver, type DecoderKeyInputs } from '../../src-shared/sts/decoder-key.ts';
import { generateKeyChangeTokens } from '../../src-shared/sts/key-change.ts';
import { meterPanFromParts } from '../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../src-shared/sts/secret-key.ts';
import { createTokenCipher } from '../../src-shared/sts/token-cipher.ts';
import { encodeToken } from '../../src-shared/sts/token-codec.ts';
import { CAMPAIGN_KEYS, writeCampaignMeters } from './meters-csv.ts';

const RUNS = 5;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs `body(i)` n times per run, RUNS runs after a warm-up; returns the median operations per second. */
function measure(n: number, body: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) body(i);
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) body(i);
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

// Distinct meters, so derivation work is never cached away.
const pans = Array.from({ length: 4096 }, (_, i) =>
  meterPanFromParts('600727', String(10_000_000 + i).padStart(11, '0')),
);
const inputs = (i: number, ea: 'EA07' | 'EA11', krn = 1): DecoderKeyInputs => ({
  pan: pans[i & 4095]!,
  keyType: 2,
  sgc: '123457',
  ti: 1,
  krn,
  baseDate: 1993,
  ea,
});
const credit = (i: number) => ({
  type: 'transfer-credit' as const,
  resource: 'electricity' as const,
  rnd: i & 15,
  tid: 5_871_715 + i,
  units: 1 + (i % 50_000),
});

const dkga02 = createDecoderKeyDeriver('DKGA02', SecretKey.fromHex('abababababababab', 'bench vending key'));
const dkga04 = createDecoderKeyDeriver(
  'DKGA04',
  SecretKey.fromHex('abababababababab949494949494949401234567', 'bench vending key'),
);
const fixedCipher = createTokenCipher('EA07', dkga02.derive(inputs(0, 'EA07')));

const results: Array<[string, string, string]> = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en');

results.push([
  '(a) credit tokens, EA07, decoder key given',
  `${fmt(measure(300_000, (i) => encodeToken(credit(i), fixedCipher)))} tokens/s`,
  '≥ 300,000',
]);
results.push([
  '(b) credit tokens, DKGA02 derivation per token + EA07',
  `${fmt(measure(200_000, (i) => encodeToken(credit(i), createTokenCipher('EA07', dkga02.derive(inputs(i, 'EA07'))))))} tokens/s`,
  '≥ 100,000',
]);
results.push([
  '(c) credit tokens, DKGA04 derivation per token + EA11',
  `${fmt(measure(100_000, (i) => encodeToken(credit(i), createTokenCipher('EA11', dkga04.derive(inputs(i, 'EA11'))))))} tokens/s`,
  '≥ 50,000',
]);
results.push([
  '(d) KCT pairs, EA07, both keys derived (DKGA02) per meter',
  `${fmt(
    measure(100_000, (i) => {
      const current = createTokenCipher('EA07', dkga02.derive(inputs(i, 'EA07', 1)));
      const newKey = dkga02.derive(inputs(i, 'EA07', 2));
      generateKeyChangeTokens(current, {
        newKey,
        ken: 255,
        krn: 2,
        keyType: 2,
        ti: 1,
        sgc: '123457',
        rollover: false,
      });
    }),
  )} pairs/s`,
  '–',
]);

const meters = Number(process.env.BENCH_CAMPAIGN_METERS ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'openvend-bench-'));
try {
  const metersPath = join(dir, 'meters.csv');
  const keysPath = join(dir, 'keys.json');
  await writeCampaignMeters(metersPath, meters);
  writeFileSync(keysPath, JSON.stringify(CAMPAIGN_KEYS), { mode: 0o600 });
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./kct-campaign-child.ts', import.meta.url).pathname,
      metersPath,
      keysPath,
      join(dir, 'kcts.csv'),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`kct-campaign child failed: ${child.stderr}`);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
    summary: { meters: number; ok: number; metersPerSecond: number; seconds: number };
    maxRssMiB: number;
  };
  results.push([
    `(e) openvend sts kct-campaign, ${fmt(report.summary.meters)} meters (EA07, KRN 1→2, base date 1993→2014)`,
    `${fmt(report.summary.metersPerSecond)} meters/s (${report.summary.seconds} s), peak RSS ${report.maxRssMiB.toFixed(0)} MiB`,
    '≥ 50,000 meters/s, < 300 MB',
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const width = Math.max(...results.map((r) => r[0].length));
console.log(`STS engine benchmark (median of ${RUNS} runs; Node ${process.version})`);
for (const [name, figure, floor] of results)
  console.log(`${name.padEnd(width)}  ${figure.padEnd(52)}  floor ${floor}`);
