import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SaleResult } from '../../src-shared/bridge/domain-schemas.ts';
import {
  bundleWorker,
  createEngineFixture,
  type EngineFixture,
  FIXED_NOW,
  ledgerProblems,
  type MeterKeyRow,
  readMeterKeys,
  TEST_KEK_HEX,
  virtualMeterFor,
} from '../support/engine-fixture.ts';
import type { ReportedSale } from './concurrency-worker.ts';

/**
 * Two engine instances on one ledger, in two processes, selling to the same meters at the same time (with the
 * same fixed clock, so every sale of a meter competes for the same minute): the ledger's write lock must make
 * receipt numbers and TIDs come out exactly as if the sales had been made one after the other.
 */
const N = 200;
/** Idle time after each sale (see concurrency-worker.ts); the sale itself takes 1–3 ms. */
const PAUSE_MS = 1;
const WORKER = fileURLToPath(new URL('./concurrency-worker.ts', import.meta.url));
const WORKER_ENV = { ...process.env };
delete WORKER_ENV.NODE_EXTRA_CA_CERTS; // no TLS in the worker; node starts faster without the CA bundle

let workDir: string;
let workerBundle: string;
const fixtures: EngineFixture[] = [];
beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'openvend-concurrency-'));
  workerBundle = await bundleWorker(WORKER, workDir);
}, 60_000);
afterAll(() => {
  for (const f of fixtures) f.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

interface Worker {
  ready: Promise<void>;
  done: Promise<{ sales: ReportedSale[]; code: number | null; lines: string[]; stderr: string }>;
  go(): void;
}

function startWorker(
  f: EngineFixture,
  operator: string,
  runTag: string,
  count: number,
  order: 'forward' | 'reverse' = 'forward',
): Worker {
  const args = [
    workerBundle,
    f.dataDir,
    TEST_KEK_HEX,
    operator,
    runTag,
    String(count),
    FIXED_NOW.toISOString(),
    order,
    String(PAUSE_MS),
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: WORKER_ENV });
  let stdout = '';
  let stderr = '';
  let onReady = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('ready\n')) onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.on('error', () => {});
  const done = new Promise<Awaited<Worker['done']>>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      onReady();
      const lines = stdout.split('\n').filter(Boolean);
      const sales = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ReportedSale);
      resolve({ sales, code, lines, stderr });
    });
  });
  return { ready, done, go: () => child.stdin.write('go\n') };
}

/** Runs the workers together: all warm and ready first, then "go" to each at once. */
async function runTogether(workers: Worker[]) {
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.go();
  const results = await Promise.all(workers.map((w) => w.done));
  for (const r of results) expect(r.code, `${r.lines.at(-1)} ${r.stderr}`).toBe(0);
  return results.map((r) => r.sales);
}

/** Every token of every sale, in receipt order, is accepted once by its meter and refused the second time. */
function expectAcceptedOnce(sales: ReportedSale[], keysBefore: Map<string, MeterKeyRow>): void {
  const meters = new Map([...keysBefore].map(([no, row]) => [no, virtualMeterFor(row)]));
  const ordered = [...sales].sort((a, b) => a.receiptNo - b.receiptNo);
  for (const sale of ordered)
    for (const token of sale.tokens) {
      const response = meters.get(sale.meterNo)!.apply(token.digits);
      expect(response.accepted, `receipt ${sale.receiptNo} ${token.kind}: ${response.display}`).toBe(true);
    }
  for (const sale of ordered)
    for (const token of sale.tokens)
      expect(meters.get(sale.meterNo)!.apply(token.digits).accepted).toBe(false);
}

function tokensInLedger(sqlite: Database.Database) {
  return new Map(
    (
      sqlite
        .prepare(
          `SELECT s.receipt_no AS receiptNo, json_group_array(json_object('seq', t.seq, 'kind', t.kind, 'digits', t.digits, 'tid', t.tid)) AS tokens
           FROM sale s JOIN token t ON t.sale_id = s.id GROUP BY s.id ORDER BY s.receipt_no`,
        )
        .all() as Array<{ receiptNo: number; tokens: string }>
    ).map((r) => [
      r.receiptNo,
      (JSON.parse(r.tokens) as ReportedSale['tokens']).sort((a, b) => a.seq - b.seq),
    ]),
  );
}

describe('two engine processes on one ledger', () => {
  it(`${N} + ${N} simultaneous vends to the same meters: receipts 1..${2 * N}, no shared TID, every token accepted once`, async () => {
    const f = createEngineFixture({ openShiftsFor: ['cashier', 'cashier2'] });
    fixtures.push(f);
    const setup = f.open();
    const keysBefore = readMeterKeys(setup.ledger.sqlite);
    setup.close();

    const [a, b] = await runTogether([
      startWorker(f, 'cashier', 'conc-a', N),
      startWorker(f, 'cashier2', 'conc-b', N),
    ]);
    expect(a).toHaveLength(N);
    expect(b).toHaveLength(N);
    const all = [...a!, ...b!];
    expect(all.map((s) => s.receiptNo).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 2 * N }, (_, i) => i + 1),
    );
    expect(all.every((s) => !s.replayed)).toBe(true);
    // They really ran at the same time: each worker's receipts lie within the other's range.
    const range = (sales: ReportedSale[]) => [sales[0]!.receiptNo, sales.at(-1)!.receiptNo] as const;
    const [aFirst, aLast] = range(a!);
    const [bFirst, bLast] = range(b!);
    expect(aFirst < bLast && bFirst < aLast, `a ${aFirst}..${aLast}, b ${bFirst}..${bLast}`).toBe(true);
    const byReceipt = [...all].sort((x, y) => x.receiptNo - y.receiptNo);
    const switches = byReceipt.filter(
      (s, i) => i > 0 && s.requestId[5] !== byReceipt[i - 1]!.requestId[5],
    ).length;
    console.log(`two processes: ${switches} hand-overs of the write lock between them in ${2 * N} sales`);

    // No TID twice for a meter, across both processes.
    const tids = new Map<string, number[]>();
    for (const sale of all)
      for (const t of sale.tokens)
        if (t.tid !== null) tids.set(sale.meterNo, [...(tids.get(sale.meterNo) ?? []), t.tid]);
    for (const [meterNo, list] of tids) expect(new Set(list).size, meterNo).toBe(list.length);

    // What each process was told is exactly what the ledger holds, and the ledger is consistent.
    const open = f.open();
    try {
      const sqlite = open.ledger.sqlite;
      const stored = tokensInLedger(sqlite);
      expect(stored.size).toBe(2 * N);
      for (const sale of all)
        expect(stored.get(sale.receiptNo), `receipt ${sale.receiptNo}`).toEqual(sale.tokens);
      const operators = sqlite
        .prepare(
          `SELECT o.username, COUNT(*) AS n, COUNT(DISTINCT s.shift_id) AS shifts FROM sale s JOIN operator o ON o.id = s.operator_id
           GROUP BY o.username ORDER BY o.username`,
        )
        .all();
      expect(operators).toEqual([
        { username: 'cashier', n: N, shifts: 1 },
        { username: 'cashier2', n: N, shifts: 1 },
      ]);
      expect(ledgerProblems(sqlite)).toEqual([]);
    } finally {
      open.close();
    }
    expectAcceptedOnce(all, keysBefore);
  }, 120_000);

  it('the same requests sent by both processes at once are sold once; the other gets the original tokens back', async () => {
    // One worker goes through the requests forwards, the other backwards: they meet in the middle, where both
    // try the same request at the same moment (the engine re-checks the request id inside the write lock).
    const M = 150;
    const f = createEngineFixture();
    fixtures.push(f);
    const setup = f.open();
    const keysBefore = readMeterKeys(setup.ledger.sqlite);
    setup.close();

    const [a, b] = await runTogether([
      startWorker(f, 'cashier', 'same-request', M, 'forward'),
      startWorker(f, 'cashier', 'same-request', M, 'reverse'),
    ]);
    expect(a).toHaveLength(M);
    expect(b).toHaveLength(M);
    const fromB = new Map(b!.map((s) => [s.requestId, s]));
    for (const x of a!) {
      const y = fromB.get(x.requestId)!;
      expect(y, x.requestId).toBeDefined();
      expect(x.receiptNo).toBe(y.receiptNo);
      expect(x.tokens).toEqual(y.tokens);
      expect([x.replayed, y.replayed].filter(Boolean), x.requestId).toHaveLength(1);
    }
    expect(a!.map((s) => s.receiptNo).sort((x, y) => x - y)).toEqual(
      Array.from({ length: M }, (_, i) => i + 1),
    );
    // Both processes sold some of the requests, so they did overlap.
    const soldBy = (sales: ReportedSale[]) => sales.filter((s) => !s.replayed).length;
    expect(soldBy(a!)).toBeGreaterThan(0);
    expect(soldBy(b!)).toBeGreaterThan(0);
    const open = f.open();
    try {
      expect(tokensInLedger(open.ledger.sqlite).size).toBe(M);
      expect(ledgerProblems(open.ledger.sqlite)).toEqual([]);
    } finally {
      open.close();
    }
    expectAcceptedOnce(a!, keysBefore);
  }, 120_000);
});

describe('two engine instances in one process', () => {
  it('interleaved sales to one meter get consecutive receipts and TIDs from either connection', () => {
    const f = createEngineFixture({ openShiftsFor: ['cashier', 'cashier2'] });
    fixtures.push(f);
    const one = f.open();
    const two = f.open();
    const keysBefore = readMeterKeys(one.ledger.sqlite);
    const meterNumber = f.meterNumbers[11]!; // FBE household: the first sale carries the FBE token too
    const results: SaleResult[] = [];
    for (let i = 0; i < 20; i++) {
      const [engine, session] =
        i % 2 === 0 ? [one.engine, f.sessions.cashier] : [two.engine, f.sessions.cashier2];
      results.push(
        engine.vend(session, {
          requestId: `inproc-${String(i).padStart(4, '0')}`,
          meterNumber,
          tenderMinor: 6_000 + i * 500,
        }),
      );
    }
    expect(results.map((r) => r.receiptNo)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const tids = results.flatMap((r) => r.tokens.map((t) => t.tid!));
    expect(tids).toEqual(tids.map((_, i) => tids[0]! + i));
    expect(results[0]!.tokens.map((t) => t.kind)).toEqual(['fbe', 'credit']);
    expect(results.slice(1).every((r) => r.tokens.length === 1)).toBe(true);
    expectAcceptedOnce(
      results.map((r) => ({
        requestId: r.requestId,
        receiptNo: r.receiptNo,
        meterNo: r.meterNo!,
        replayed: false,
        tokens: r.tokens,
      })),
      keysBefore,
    );
    expect(ledgerProblems(one.ledger.sqlite)).toEqual([]);
  });
});
