import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src-main/ledger/database.ts';
import type { IssuedToken } from '../../src-shared/bridge/domain-schemas.ts';
import {
  bundleWorker,
  createEngineFixture,
  demoVendableMeters,
  deterministicVend,
  type EngineFixture,
  FIXED_NOW,
  fixedClock,
  ledgerProblems,
  ledgerState,
  readMeterKeys,
  sessionOf,
  TEST_KEK_HEX,
  virtualMeterFor,
} from '../support/engine-fixture.ts';

/**
 * Crash safety: a worker process vends in a loop and is killed with SIGKILL at a random moment, again and
 * again (KILLS times, in LANES independent outlets at once so two cores are used). After every kill the
 * ledger is reopened and checked with SQL, and the last request the worker attempted is replayed through
 * a fresh engine: a committed sale comes back unchanged, an uncommitted one is sold now.
 */
const KILLS = Number(process.env.OPENVEND_CRASH_KILLS ?? 200);
const LANES = Number(process.env.OPENVEND_CRASH_LANES ?? 2);
const WORKER = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));

// The worker makes no TLS connections: without NODE_EXTRA_CA_CERTS (set on some machines) node starts ~50 ms sooner.
const WORKER_ENV = { ...process.env };
delete WORKER_ENV.NODE_EXTRA_CA_CERTS;

let workDir: string;
let workerBundle: string;
beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'openvend-crash-'));
  workerBundle = await bundleWorker(WORKER, workDir);
}, 60_000);
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface WorkerRun {
  lines: string[];
  stderr: string;
  signal: NodeJS.Signals | null;
  code: number | null;
}

interface CrashWorker {
  /** Resolves once the worker has loaded (it then waits for "go"). */
  booted: Promise<void>;
  closed: Promise<WorkerRun>;
  /** Lets the worker open the engine and vend; SIGKILLs it `delayMs` after it reports ready. */
  start(delayMs: number): void;
  kill(): void;
}

/** Spawns a worker for one run; it boots while the parent still checks the previous crash. */
function bootWorker(dataDir: string, runTag: string, pauseMs: number): CrashWorker {
  const args = [workerBundle, dataDir, TEST_KEK_HEX, runTag, FIXED_NOW.toISOString(), String(pauseMs)];
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: WORKER_ENV,
  });
  let stdout = '';
  let stderr = '';
  let delayMs: number | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let onBooted = () => {};
  const booted = new Promise<void>((resolve) => {
    onBooted = resolve;
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith('booted\n')) onBooted();
    if (delayMs !== undefined && killTimer === undefined && stdout.startsWith('booted\nready\n'))
      killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.on('error', () => {}); // a worker that died early: its exit status tells
  const closed = new Promise<WorkerRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      clearTimeout(killTimer);
      onBooted();
      resolve({ lines: stdout.split('\n').filter(Boolean), stderr, signal, code });
    });
  });
  return {
    booted,
    closed,
    start(delay) {
      delayMs = delay;
      child.stdin.write('go\n');
    },
    kill: () => child.kill('SIGKILL'),
  };
}

const all = <T>(sqlite: Database.Database, sql: string, ...params: unknown[]) =>
  sqlite.prepare(sql).all(...params) as T[];

interface LaneStats {
  kills: number;
  committedLast: number;
  uncommittedLast: number;
  noAttempt: number;
  workerSales: number;
  replaySales: number;
}

async function lane(f: EngineFixture, laneNo: number, kills: number): Promise<LaneStats> {
  const meters = demoVendableMeters();
  const stats: LaneStats = {
    kills: 0,
    committedLast: 0,
    uncommittedLast: 0,
    noAttempt: 0,
    workerSales: 0,
    replaySales: 0,
  };
  let expectedSales = 0;
  const tagOf = (run: number) => `crash-l${laneNo}-r${String(run).padStart(4, '0')}`;
  // Half the runs sell back to back, half idle 1–3 ms between sales (see crash-worker.ts).
  const boot = (run: number) => bootWorker(f.dataDir, tagOf(run), run % 2 === 0 ? 0 : 1 + (run % 3));
  let next = boot(0);
  try {
    for (let run = 0; run < kills; run++) {
      const runTag = tagOf(run);
      const worker = next;
      await worker.booted;
      worker.start(5 + Math.floor(Math.random() * 56));
      if (run + 1 < kills) next = boot(run + 1);
      const result = await worker.closed;
      checkRun(result, runTag);
    }
  } finally {
    next.kill();
  }
  return stats;

  function checkRun(result: WorkerRun, runTag: string): void {
    expect(result.signal, `worker ended on its own: ${result.lines.at(-1)} ${result.stderr}`).toBe('SIGKILL');
    expect(result.lines.slice(0, 2)).toEqual(['booted', 'ready']);
    stats.kills++;
    const tries = result.lines.filter((l) => l.startsWith('try ')).map((l) => l.slice(4));
    const done = result.lines.filter((l) => l.startsWith('done ')).map((l) => l.split(' ')[1]);
    // The worker moves on only after a vend returned, so all but the last attempt are done.
    expect(done).toEqual(tries.slice(0, done.length));
    expect(tries.length - done.length).toBeLessThanOrEqual(1);

    // Restart 1: the ledger as the next process finds it.
    const ledger = openLedger(f.dataDir);
    let lastCommitted: { resultJson: string } | undefined;
    try {
      expect(ledgerProblems(ledger.sqlite)).toEqual([]);
      const { sale: sales } = ledgerState(ledger.sqlite);
      const ours = all<{ requestId: string }>(
        ledger.sqlite,
        'SELECT request_id AS requestId FROM sale WHERE request_id LIKE ? ORDER BY receipt_no',
        `${runTag}-%`,
      ).map((r) => r.requestId);
      // Every attempt before the last committed, in order; the last one did or did not.
      expect(ours).toEqual(tries.slice(0, ours.length));
      expect(ours.length).toBeGreaterThanOrEqual(Math.max(0, tries.length - 1));
      stats.workerSales += ours.length;
      expectedSales += ours.length;
      expect(sales).toBe(expectedSales);
      if (tries.length > 0)
        lastCommitted = ledger.sqlite
          .prepare(
            'SELECT d.result_json AS resultJson FROM sale s JOIN sale_document d ON d.sale_id = s.id WHERE s.request_id = ?',
          )
          .get(tries.at(-1)) as { resultJson: string } | undefined;
    } finally {
      ledger.close();
    }
    if (tries.length === 0) {
      stats.noAttempt++;
      return;
    }

    // Restart 2: a fresh engine replays the last attempted request.
    const n = Number(tries.at(-1)!.slice(runTag.length + 1));
    const request = deterministicVend(runTag, n, meters);
    expect(request.requestId).toBe(tries.at(-1));
    const open = f.open(fixedClock(FIXED_NOW));
    try {
      const before = ledgerState(open.ledger.sqlite);
      const replay = open.engine.vend(sessionOf(open.ledger.sqlite, 'cashier'), request);
      if (lastCommitted) {
        stats.committedLast++;
        const stored = JSON.parse(lastCommitted.resultJson) as { receiptNo: number; tokens: IssuedToken[] };
        expect(replay.replayed).toBe(true);
        expect(replay.receiptNo).toBe(stored.receiptNo);
        expect(replay.tokens).toEqual(stored.tokens);
        expect(ledgerState(open.ledger.sqlite)).toEqual(before);
      } else {
        stats.uncommittedLast++;
        stats.replaySales++;
        expectedSales++;
        expect(replay.replayed).toBeUndefined();
        expect(replay.receiptNo).toBe(before.sale + 1);
        expect(ledgerState(open.ledger.sqlite).sale).toBe(before.sale + 1);
      }
    } finally {
      open.close();
    }
  }
}

describe('the invariant checker used after each crash', () => {
  let f: EngineFixture;
  let sqlite: Database.Database;
  beforeAll(() => {
    f = createEngineFixture();
    const open = f.open();
    sqlite = open.ledger.sqlite;
    for (let n = 0; n < 30; n++)
      open.engine.vend(f.sessions.cashier, deterministicVend('checker', n, f.vendableMeters));
  });
  afterAll(() => f.cleanup());
  const damage: Array<[string, string]> = [
    [
      'a lost outbox event',
      "DELETE FROM outbox WHERE seq = (SELECT MAX(seq) FROM outbox WHERE event_type = 'sale.sale')",
    ],
    ['a lost token', 'DELETE FROM token WHERE id = (SELECT MAX(id) FROM token)'],
    [
      'a lost sale (receipt gap)',
      'DELETE FROM sale_document WHERE sale_id = 5; DELETE FROM sale_line WHERE sale_id = 5; DELETE FROM token WHERE sale_id = 5; DELETE FROM float_movement WHERE sale_id = 5; DELETE FROM sale WHERE id = 5',
    ],
    ['a skipped receipt number', "UPDATE counter SET value = value + 1 WHERE name = 'receipt'"],
    [
      'a repeated TID',
      'DROP INDEX token_meter_tid; UPDATE token SET tid = tid - 1 WHERE id = (SELECT MAX(id) FROM token WHERE meter_id = 1)',
    ],
    [
      'a wrong float movement',
      'UPDATE float_movement SET amount_minor = amount_minor + 1 WHERE id = (SELECT MAX(id) FROM float_movement)',
    ],
    ['a float that does not match', 'UPDATE outlet SET float_balance_minor = float_balance_minor - 1'],
    ['a lost audit entry', 'DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)'],
    ['an edited audit entry', "UPDATE audit_log SET details_json = '{}' WHERE seq = 3"],
    ['a meter whose last TID went back', 'UPDATE meter SET last_tid = last_tid - 1 WHERE id = 2'],
  ];
  it('finds nothing wrong with an intact ledger', () => {
    expect(ledgerProblems(sqlite)).toEqual([]);
  });
  it.each(damage)('notices %s', (_, damaging) => {
    sqlite.exec('BEGIN');
    try {
      sqlite.exec(damaging);
      expect(ledgerProblems(sqlite)).not.toEqual([]);
    } finally {
      sqlite.exec('ROLLBACK');
    }
    expect(ledgerProblems(sqlite)).toEqual([]);
  });
});

describe('crash safety under SIGKILL', () => {
  const fixtures: EngineFixture[] = [];
  afterAll(() => {
    for (const f of fixtures) f.cleanup();
  });

  it(`${KILLS} kills at random moments leave a consistent ledger, and replays are exact`, async () => {
    const started = performance.now();
    for (let l = 0; l < LANES; l++) fixtures.push(createEngineFixture());
    const perLane = Math.ceil(KILLS / LANES);
    const results = await Promise.all(fixtures.map((f, l) => lane(f, l, perLane)));
    const total = results.reduce(
      (sum, s) => ({
        kills: sum.kills + s.kills,
        committedLast: sum.committedLast + s.committedLast,
        uncommittedLast: sum.uncommittedLast + s.uncommittedLast,
        noAttempt: sum.noAttempt + s.noAttempt,
        workerSales: sum.workerSales + s.workerSales,
        replaySales: sum.replaySales + s.replaySales,
      }),
      { kills: 0, committedLast: 0, uncommittedLast: 0, noAttempt: 0, workerSales: 0, replaySales: 0 },
    );
    console.log(
      `crash test: ${total.kills} SIGKILLs in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `last attempt committed ${total.committedLast}×, not committed ${total.uncommittedLast}×, no attempt yet ${total.noAttempt}×; ` +
        `${total.workerSales} sales by workers, ${total.replaySales} by replays`,
    );
    expect(total.kills).toBeGreaterThanOrEqual(KILLS);
    // Kills landed both after a commit and before one (otherwise the test proves little).
    expect(total.uncommittedLast).toBeGreaterThan(0);
    expect(total.committedLast + total.workerSales).toBeGreaterThan(0);

    // Finally every token of every sale is accepted exactly once by its meter.
    for (const f of fixtures) {
      const open = f.open();
      try {
        const sqlite = open.ledger.sqlite;
        const keys = readMeterKeys(sqlite);
        // Meter 3's key data before its roll-over key change, as its meter still holds it.
        const meter3 = keys.get(f.keyChangeMeter)!;
        keys.set(f.keyChangeMeter, {
          ...meter3,
          krn: 1,
          baseDate: 1993,
          pendingKrn: 2,
          pendingBaseDate: 2014,
        });
        const tokens = all<{ meterNo: string; digits: string; kind: string }>(
          sqlite,
          `SELECT m.meter_no AS meterNo, t.digits, t.kind FROM token t JOIN sale s ON s.id = t.sale_id JOIN meter m ON m.id = t.meter_id
           ORDER BY s.receipt_no, t.seq`,
        );
        const meters = new Map([...keys].map(([no, row]) => [no, virtualMeterFor(row)]));
        for (const t of tokens)
          expect(meters.get(t.meterNo)!.apply(t.digits).accepted, `${t.meterNo} ${t.kind}`).toBe(true);
        for (const t of tokens) expect(meters.get(t.meterNo)!.apply(t.digits).accepted).toBe(false);
      } finally {
        open.close();
      }
    }
  }, 180_000);
});
