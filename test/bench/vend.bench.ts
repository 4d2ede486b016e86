// npm run bench:vend — vend engine figures. Prints them next to the floors; asserts nothing (tests do that).
import { statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../../src-main/engine/open-engine.ts';
import { closeShift, xReport } from '../../src-main/engine/shifts.ts';
import { LEDGER_FILE } from '../../src-main/ledger/data-dir.ts';
import { openLedger } from '../../src-main/ledger/database.ts';
import { createEngineFixture, sessionOf, TEST_KEK } from '../support/engine-fixture.ts';
import { BIG_SHIFT_SALES, ensureBenchLedger, SMALL_SHIFT_SALES } from './vend-ledger.ts';

const DURABLE_VENDS = 2_000;
const WARM_UP_VENDS = 100;
const CONFIRMS = 5_000;

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const quantile = (values: number[], q: number) => {
  const s = sorted(values);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (values: number[]) => quantile(values, 0.5);
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
const time = (body: () => void) => {
  const start = performance.now();
  body();
  return performance.now() - start;
};

const rows: Array<{ what: string; figure: string; floor: string; verdict: string }> = [];
const report = (what: string, figure: string, floor = '', ok?: boolean) =>
  rows.push({ what, figure, floor, verdict: ok === undefined ? '' : ok ? 'meets' : 'MISSES' });
const say = (line: string) => process.stdout.write(`${line}\n`);

say(`OpenVend vend engine benchmark — node ${process.version}, ${cpus().length} CPU(s), ${tmpdir()}`);

// --- 1. Durable vends: the engine's own ledger settings (WAL, synchronous = FULL) on a real file -------------
{
  const f = createEngineFixture({ now: new Date() });
  try {
    const { engine, ledger } = f.open(() => new Date());
    const synchronous = ledger.sqlite.pragma('synchronous', { simple: true });
    const journal = ledger.sqlite.pragma('journal_mode', { simple: true });
    say(
      `\n1. Durable vends: ${ledger.path} (journal_mode=${journal}, synchronous=${synchronous} [2 = FULL])`,
    );
    const meters = f.vendableMeters;
    const vend = (i: number) =>
      engine.vend(f.sessions.cashier, {
        requestId: `bench-${String(i).padStart(8, '0')}`,
        meterNumber: meters[i % meters.length]!,
        tenderMinor: 5_000 + (i % 40) * 1_000,
      });
    for (let i = 0; i < WARM_UP_VENDS; i++) vend(i);
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = WARM_UP_VENDS; i < WARM_UP_VENDS + DURABLE_VENDS; i++) latencies.push(time(() => vend(i)));
    const seconds = (performance.now() - started) / 1000;
    const rate = DURABLE_VENDS / seconds;
    report(
      `durable vends, sustained (${DURABLE_VENDS.toLocaleString('en')} in a row)`,
      `${Math.round(rate).toLocaleString('en')} vends/s`,
      '≥ 200 vends/s',
      rate >= 200,
    );
    report('one durable vend, p50', ms(median(latencies)));
    const p99 = quantile(latencies, 0.99);
    report('one durable vend, p99', ms(p99), '< 20 ms', p99 < 20);
    report('one durable vend, max', ms(Math.max(...latencies)));
  } finally {
    f.cleanup();
  }
}

// --- 2. A ledger of 1,000,000 transactions -------------------------------------------------------------------
{
  say(
    `\n2. Ledger of ${BIG_SHIFT_SALES.toLocaleString('en')} + ${SMALL_SHIFT_SALES.toLocaleString('en')} transactions`,
  );
  const bench = ensureBenchLedger(say);
  const file = join(bench.dataDir, LEDGER_FILE);
  say(
    `   ${bench.generated ? 'generated' : 'cached'}: ${file} (${(statSync(file).size / 2 ** 30).toFixed(2)} GiB), ready in ${bench.seconds.toFixed(1)} s`,
  );
  if (bench.generated)
    report('generate the 1M-transaction ledger (one transaction)', `${bench.seconds.toFixed(1)} s`);

  const opens: number[] = [];
  for (let i = 0; i < 5; i++) {
    let ledger: ReturnType<typeof openLedger> | undefined;
    opens.push(time(() => (ledger = openLedger(bench.dataDir))));
    ledger!.close();
  }
  report(
    'open the ledger (openLedger: quick_check + migrations), median of 5, warm file cache',
    ms(median(opens)),
  );

  const kek = TEST_KEK();
  const open = openEngine(bench.dataDir, { kek: { description: 'bench KEK', load: () => kek } });
  try {
    const { engine } = open;
    const sqlite = engine.sqlite;
    const sales = (sqlite.prepare('SELECT COUNT(*) AS n FROM sale').get() as { n: number }).n;
    say(
      `   ${sales.toLocaleString('en')} sales, ${bench.meterNumbers.length.toLocaleString('en')} vendable meters`,
    );

    const confirms: number[] = [];
    let seed = 1;
    const nextMeter = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return bench.meterNumbers[seed % bench.meterNumbers.length]!;
    };
    for (let i = 0; i < 500; i++) engine.confirmMeter(nextMeter());
    for (let i = 0; i < CONFIRMS; i++) {
      const meter = nextMeter();
      confirms.push(time(() => engine.confirmMeter(meter)));
    }
    const confirm = median(confirms);
    report(`meter confirm, median of ${CONFIRMS.toLocaleString('en')}`, ms(confirm), '< 2 ms', confirm < 2);
    report(`meter confirm, p99`, ms(quantile(confirms, 0.99)));

    const shiftFigures = (username: string, count: number, floor: boolean) => {
      const session = sessionOf(sqlite, username);
      const now = new Date();
      const xs: number[] = [];
      for (let i = 0; i < 5; i++) xs.push(time(() => xReport(engine, session, now)));
      const zs: number[] = [];
      for (let i = 0; i < 3; i++) {
        // closeShift inside an outer transaction that is rolled back: the cached ledger stays as generated.
        sqlite.exec('BEGIN');
        try {
          zs.push(time(() => closeShift(engine, session, 0, now)));
        } finally {
          sqlite.exec('ROLLBACK');
        }
      }
      const label = `${count.toLocaleString('en')} sales`;
      const z = median(zs);
      report(`X report, shift of ${label}, median of 5`, ms(median(xs)));
      report(
        `Z report (closeShift, rolled back), shift of ${label}, median of 3`,
        ms(z),
        floor ? '< 500 ms' : '',
        floor ? z < 500 : undefined,
      );
    };
    shiftFigures(bench.bigShiftOperator, BIG_SHIFT_SALES, true);
    shiftFigures(bench.smallShiftOperator, SMALL_SHIFT_SALES, false);
  } finally {
    open.close();
  }
}

// --- Results ---------------------------------------------------------------------------------------------------
const width = Math.max(...rows.map((r) => r.what.length));
const figureWidth = Math.max(...rows.map((r) => r.figure.length));
const floorWidth = Math.max(...rows.map((r) => r.floor.length));
say(`\n${'measure'.padEnd(width)}  ${'figure'.padStart(figureWidth)}  ${'floor'.padEnd(floorWidth)}`);
for (const r of rows)
  say(
    `${r.what.padEnd(width)}  ${r.figure.padStart(figureWidth)}  ${r.floor.padEnd(floorWidth)}  ${r.verdict}`.trimEnd(),
  );
