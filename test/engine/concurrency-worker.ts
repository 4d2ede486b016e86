// Concurrency-test worker: opens its own engine on the shared ledger, reports "ready", waits for "go" on
// stdin (so both workers start together), then makes COUNT deterministic vends and prints one JSON line
// per sale; ORDER "reverse" makes the vends n = COUNT−1 … 0 instead of 0 … COUNT−1. After each sale the
// worker idles PAUSE_MS, as a till does: SQLite's busy handler is not fair, so without idle time one
// process can hold the write lock for all its sales while the other sleeps, and they would not interleave.
// Usage: node concurrency-worker.cjs DATA_DIR KEK_HEX OPERATOR RUN_TAG COUNT CLOCK_ISO [ORDER] [PAUSE_MS]
// (bundled by the test; no top-level await)
import { writeSync } from 'node:fs';
import { openEngine } from '../../src-main/engine/open-engine.ts';
import { demoVendableMeters, deterministicVend, fixedClock, sessionOf } from '../support/engine-fixture.ts';

/** What the worker prints for each sale. */
export interface ReportedSale {
  requestId: string;
  receiptNo: number;
  meterNo: string;
  replayed: boolean;
  tokens: Array<{ seq: number; kind: string; digits: string; tid: number | null }>;
}

const [dataDir, kekHex, operator, runTag, countText, clockIso, order, pauseText] = process.argv.slice(2);
const pauseMs = Number(pauseText ?? 0);
const idle = new Int32Array(new SharedArrayBuffer(4));
const print = (line: string) => writeSync(1, `${line}\n`);

function fail(error: unknown): never {
  print(
    `error ${JSON.stringify({ message: (error as Error).message, code: (error as { code?: string }).code })}`,
  );
  process.exit(1);
}

if (!dataDir || !kekHex || !operator || !runTag || !countText || !clockIso) {
  writeSync(
    2,
    'usage: concurrency-worker DATA_DIR KEK_HEX OPERATOR RUN_TAG COUNT CLOCK_ISO [ORDER] [PAUSE_MS]\n',
  );
  process.exit(2);
}

try {
  const kek = Buffer.from(kekHex, 'hex');
  const { engine, ledger } = openEngine(dataDir, {
    kek: { description: 'concurrency test KEK', load: () => kek },
    clock: fixedClock(new Date(clockIso)),
  });
  const session = sessionOf(ledger.sqlite, operator);
  const meters = demoVendableMeters();
  // Warm up (read-only) so the two workers really overlap instead of one spending its first sales compiling.
  for (const n of [0, 1, 18]) {
    const { meterNumber, tenderMinor } = deterministicVend(runTag, n, meters);
    engine.quote(session, meterNumber, tenderMinor);
  }
  process.stdin.setEncoding('utf8');
  process.stdin.once('data', () => {
    try {
      const count = Number(countText);
      for (let i = 0; i < count; i++) {
        const n = order === 'reverse' ? count - 1 - i : i;
        const result = engine.vend(session, deterministicVend(runTag, n, meters));
        const sale: ReportedSale = {
          requestId: result.requestId,
          receiptNo: result.receiptNo,
          meterNo: result.meterNo!,
          replayed: result.replayed === true,
          tokens: result.tokens.map(({ seq, kind, digits, tid }) => ({ seq, kind, digits, tid })),
        };
        print(JSON.stringify(sale));
        if (pauseMs > 0) Atomics.wait(idle, 0, 0, pauseMs);
      }
      ledger.close();
      print('finished');
      process.exit(0);
    } catch (error) {
      fail(error);
    }
  });
  print('ready');
} catch (error) {
  fail(error);
}
