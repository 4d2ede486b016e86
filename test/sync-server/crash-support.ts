import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createServer } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openLedger } from '../../src-main/ledger/database.ts';
import { batchesFrom, uploadRequestFor } from '../../src-main/sync/batches.ts';
import { enrollOutlet } from '../../src-main/sync/enroll.ts';
import { requireSyncIdentity } from '../../src-main/sync/identity.ts';
import { readSyncStatus, type SyncStatus } from '../../src-main/sync/sync-state.ts';
import { batchHash, batchSigningString, GENESIS_BATCH_HASH } from '../../src-shared/sync/protocol.ts';
import { verifyEd25519 } from '../../sync-server/auth.ts';
import { queryRows, type ServerDb } from '../../sync-server/db/database.ts';
import {
  createEngineFixture,
  deterministicVend,
  ledgerProblems,
  TEST_KEK,
} from '../support/engine-fixture.ts';
import { seedOutlet } from './support.ts';

/**
 * Helpers for the kill -9 tests (crash.test.ts): the real `openvend server` and `openvend sync push` as child
 * processes, outlets with real sales, a lock that holds a batch inside the server's ingest transaction, and
 * the invariants between an outlet ledger and the server database.
 */

const OPENVEND_BIN = new URL('../../src-main/bin/openvend.mjs', import.meta.url).pathname;

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly kind: 'server' | 'push';
  readonly child: ChildProcess;
  readonly ended: Promise<Ended>;
  stdout(): string;
  stderr(): string;
}

/** Every child started here, so cleanup can SIGKILL what is left after a failed assertion. */
const children = new Set<CliProcess>();

function spawnOpenvend(
  kind: CliProcess['kind'],
  args: string[],
  env: Record<string, string | undefined>,
): CliProcess {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    OPENVEND_KEK: TEST_KEK().toString('hex'),
    OPENVEND_LOG_LEVEL: 'warn',
    DATABASE_URL: undefined,
    ...env,
  };
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  const child = spawn(process.execPath, [OPENVEND_BIN, ...args], { env: childEnv });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const ended = new Promise<Ended>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const running: CliProcess = { kind, child, ended, stdout: () => stdout, stderr: () => stderr };
  children.add(running);
  void ended.then(() => children.delete(running));
  return running;
}

const isRunning = (p: CliProcess) => p.child.exitCode === null && p.child.signalCode === null;

/** SIGKILLs the processes in one tick (no chance to react in between) and waits until they are gone. */
export async function sigkill(...processes: CliProcess[]): Promise<Ended[]> {
  for (const p of processes) if (isRunning(p)) p.child.kill('SIGKILL');
  return Promise.all(processes.map((p) => p.ended));
}

/** Cleanup: SIGKILL every child still running (of one kind). */
export const killChildren = (kind?: CliProcess['kind']) =>
  sigkill(...[...children].filter((p) => kind === undefined || p.kind === kind));

/** A loopback port free now: the server is restarted on the same one (the outlet stored its URL). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface ServerProcess {
  process: CliProcess;
  /** Resolves with the server's URL once it listens. */
  ready: Promise<string>;
}

/**
 * Spawns `openvend server --insecure-http` on PostgreSQL (synchronously: it boots while the caller goes on).
 * `application_name` tags the server's database sessions, so the test can see them (blocked on a lock, or
 * gone after the kill).
 */
export function startServer(options: {
  port: number;
  dataDir: string;
  databaseUrl: string;
  applicationName: string;
}): ServerProcess {
  const databaseUrl = new URL(options.databaseUrl);
  databaseUrl.searchParams.set('application_name', options.applicationName);
  const server = spawnOpenvend(
    'server',
    ['server', '--insecure-http', '--port', String(options.port), '--data-dir', options.dataDir],
    { DATABASE_URL: databaseUrl.toString() },
  );
  const ready = new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /listening on (\S+)/.exec(server.stdout());
      if (match) {
        server.child.stdout?.off('data', onData);
        resolve(match[1]!);
      }
    };
    server.child.stdout?.on('data', onData);
    void server.ended.then((end) =>
      reject(
        new Error(`openvend server ended (${end.code ?? end.signal}) before listening: ${server.stderr()}`),
      ),
    );
  });
  // A server killed later is no failure of its start; whoever awaits `ready` still sees the rejection.
  ready.catch(() => undefined);
  return { process: server, ready };
}

/** `openvend sync push --json` on an outlet data folder. */
export const startPush = (dataDir: string): CliProcess =>
  spawnOpenvend('push', ['sync', 'push', '--data-dir', dataDir, '--json'], {});

export interface PushSummary {
  sealed: number;
  applied: number;
  duplicates: number;
  rejectedEvents: number;
  halted: string | null;
  error: { code: string; message: string; detail: string } | null;
}

/** Waits for a push that was not killed and reads its JSON summary. */
export async function pushOutcome(push: CliProcess): Promise<{ end: Ended; summary: PushSummary }> {
  const end = await push.ended;
  try {
    return { end, summary: JSON.parse(push.stdout()) as PushSummary };
  } catch {
    throw new Error(
      `openvend sync push (${end.code ?? end.signal}) printed no summary: ${push.stdout()} ${push.stderr()}`,
    );
  }
}

/**
 * An outlet ledger with `sales` real sales, made once: each test outlet is a copy of its folder (not enrolled
 * yet), so thousands of sales cost one vending run, and every copy enrolls as a device of its own.
 */
export function createSalesTemplate(sales: number) {
  const fixture = createEngineFixture({ now: new Date() });
  const open = fixture.open();
  try {
    for (let n = 1; n <= sales; n++) {
      open.engine.vend(fixture.sessions.cashier, deterministicVend('crash', n, fixture.vendableMeters));
    }
  } finally {
    open.close();
  }
  return { dataDir: fixture.dataDir, cleanup: () => fixture.cleanup() };
}

export interface EnrolledOutlet {
  dataDir: string;
  deviceId: string;
  outletId: number;
}

/** Copies the template ledger to `dataDir` and enrolls it (in-process, over HTTP) as a new outlet's device. */
export async function enrolledCopy(
  templateDir: string,
  dataDir: string,
  db: ServerDb,
  serverUrl: string,
): Promise<EnrolledOutlet> {
  cpSync(templateDir, dataDir, { recursive: true });
  const { outletCode, code } = await seedOutlet(db, undefined, new Date());
  const ledger = openLedger(dataDir);
  try {
    const { deviceId } = await enrollOutlet(ledger.sqlite, TEST_KEK(), {
      serverUrl,
      code,
      insecureHttp: true,
      now: new Date(),
    });
    const [outlet] = await queryRows<{ id: number }>(
      db,
      sql`SELECT id FROM outlet WHERE code = ${outletCode}`,
    );
    return { dataDir, deviceId, outletId: outlet!.id };
  } finally {
    ledger.close();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined; `what` names it in the timeout error. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(options.everyMs ?? 5);
  }
}

/** The server's chain head for a device (committed state). */
export async function serverLastSeq(db: ServerDb, deviceId: string): Promise<number> {
  const [row] = await queryRows<{ lastSeq: number }>(
    db,
    sql`SELECT last_seq::int AS "lastSeq" FROM device WHERE id = ${deviceId}`,
  );
  return row!.lastSeq;
}

/** Database sessions of one server process (tagged by application_name), e.g. to wait until a killed one's are gone. */
export async function serverSessions(db: ServerDb, applicationName: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = ${applicationName}`,
  );
  return row!.n;
}

/**
 * Holds the row lock on the outlet's `outlet_float` row. The server updates that row at the end of applying
 * a batch (projections.ts), after the batch, its events and the sale facts are written: the next batch of
 * this outlet waits there, inside its open transaction, unanswered, for as long as the pin is held.
 */
export class IngestPin {
  readonly #client: pg.Client;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  /** Connected ahead, so that taking the lock later is one quick statement. */
  static async connect(databaseUrl: string): Promise<IngestPin> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return new IngestPin(client);
  }

  async hold(outletId: number): Promise<void> {
    await this.#client.query('BEGIN');
    const locked = await this.#client.query('SELECT 1 FROM outlet_float WHERE outlet_id = $1 FOR UPDATE', [
      outletId,
    ]);
    if (locked.rowCount !== 1) throw new Error(`outlet ${outletId} has no outlet_float row to lock yet`);
  }

  /** Resolves with the statement a session of `applicationName` is blocked in, once one is blocked on a lock. */
  waitUntilBlocked(db: ServerDb, applicationName: string): Promise<string> {
    return waitFor(`a ${applicationName} session blocked on the pinned row`, async () => {
      const [row] = await queryRows<{ query: string }>(
        db,
        sql`SELECT query FROM pg_stat_activity WHERE datname = current_database()
              AND application_name = ${applicationName} AND wait_event_type = 'Lock'`,
      );
      return row?.query;
    });
  }

  async release(): Promise<void> {
    await this.#client.query('ROLLBACK').catch(() => undefined);
    await this.#client.end().catch(() => undefined);
  }
}

export interface SaleTotals {
  sales: number;
  takenMinor: number;
  units: number;
  tokensWithTid: number;
}

export interface SyncPicture {
  /** Broken invariants that must hold at EVERY moment, crash or not (empty when all is well). */
  problems: string[];
  outletBatches: number;
  outletAcknowledged: number;
  /** How the server acknowledged each outlet batch (index = seq − 1): applied, duplicate, or null (not yet). */
  acknowledgements: Array<string | null>;
  serverBatches: number;
  deviceStatus: string;
  incidents: number;
  rejectedEvents: number;
  status: SyncStatus;
  /** Server projections (sale_fact, token_fact) for this device. */
  serverTotals: SaleTotals;
  /** The outlet's own sales that are in the batches the server holds. */
  outletTotalsSent: SaleTotals;
  /** Every sale of the outlet. */
  outletTotalsAll: SaleTotals;
  /** The server's central-float count of money sold by this outlet. */
  floatSoldMinor: number;
  /** The outlet ledger's own invariants (receipts, tokens, money, audit chain): the kills must not touch them. */
  ledgerProblems: string[];
}

interface OutboxEvent {
  seq: number;
  batchSeq: number;
  type: string;
  createdAt: string;
  payloadJson: string;
}

interface ServerEvent {
  eventSeq: number;
  batchSeq: number;
  type: string;
  createdAt: string;
  payload: unknown;
}

/**
 * Reads both sides and checks the invariants between them. Those that hold at every moment, after any kill:
 * the outlet's chain verifies (seq 1..n, prev-hash links, each body rebuilt from the outbox hashes to its
 * sealed hash, signatures verify); the server holds a prefix 1..S of exactly that chain, with the head on the
 * device row; the server's events are exactly the outlet's events of those batches, each once, unchanged;
 * every batch the outlet counts as acknowledged is on the server (S ≥ acknowledged), and at most the one
 * request in flight beyond (S ≤ acknowledged + 1); the projections hold those events' sales once.
 * The server side is read in one REPEATABLE READ transaction, so a live server committing meanwhile cannot
 * make it look torn.
 */
export async function inspectSync(db: ServerDb, outlet: EnrolledOutlet): Promise<SyncPicture> {
  const problems: string[] = [];
  const ledger = openLedger(outlet.dataDir);
  try {
    const sqlite = ledger.sqlite;
    const identity = requireSyncIdentity(sqlite);
    if (identity.deviceId !== outlet.deviceId) problems.push(`outlet is enrolled as ${identity.deviceId}`);
    const batches = batchesFrom(sqlite, outlet.deviceId, 1, Number.MAX_SAFE_INTEGER);
    let previous = GENESIS_BATCH_HASH;
    let acknowledged = 0;
    batches.forEach((batch, index) => {
      if (batch.seq !== index + 1) problems.push(`outlet batch #${index + 1} has seq ${batch.seq}`);
      if (batch.prevHash !== previous)
        problems.push(`outlet batch ${batch.seq} does not follow its predecessor`);
      if (batchHash(uploadRequestFor(sqlite, batch).batch) !== batch.hash)
        problems.push(`outlet batch ${batch.seq} no longer hashes to its sealed hash`);
      if (!verifyEd25519(identity.publicKey, batchSigningString(batch.hash), batch.signature))
        problems.push(`outlet batch ${batch.seq}: signature does not verify`);
      if (batch.ackStatus !== null && batch.ackStatus !== 'applied' && batch.ackStatus !== 'duplicate')
        problems.push(`outlet batch ${batch.seq} is ${batch.ackStatus}`);
      if (batch.ackStatus !== null) {
        if (acknowledged !== index) problems.push(`outlet batch ${batch.seq} acknowledged after a gap`);
        acknowledged = index + 1;
      }
      previous = batch.hash;
    });

    const server = await db.transaction(
      async (tx) => {
        const [device] = await queryRows<{ lastSeq: number; lastHash: string; status: string }>(
          tx,
          sql`SELECT last_seq::int AS "lastSeq", last_hash AS "lastHash", status FROM device WHERE id = ${outlet.deviceId}`,
        );
        const serverBatches = await queryRows<{ seq: number; hash: string; prevHash: string }>(
          tx,
          sql`SELECT seq::int AS seq, hash, prev_hash AS "prevHash" FROM batch WHERE device_id = ${outlet.deviceId} ORDER BY seq`,
        );
        const events = await queryRows<ServerEvent>(
          tx,
          sql`SELECT event_seq::int AS "eventSeq", batch_seq::int AS "batchSeq", type, created_at AS "createdAt", payload
                FROM event WHERE device_id = ${outlet.deviceId} ORDER BY event_seq, id`,
        );
        const [counts] = await queryRows<{ incidents: number; rejected: number; floatSold: number }>(
          tx,
          sql`SELECT (SELECT count(*)::int FROM device_incident WHERE device_id = ${outlet.deviceId}) AS incidents,
                     (SELECT count(*)::int FROM rejected_event WHERE device_id = ${outlet.deviceId}) AS rejected,
                     (SELECT coalesce(sum(sold_minor), 0)::bigint FROM outlet_float WHERE outlet_id = ${outlet.outletId}) AS "floatSold"`,
        );
        const [totals] = await queryRows<SaleTotals>(
          tx,
          sql`SELECT count(*)::int AS sales,
                     coalesce(sum(charges_minor + debt_minor + levies_minor + vat_minor + energy_minor), 0)::bigint AS "takenMinor",
                     coalesce(sum(units), 0)::bigint AS units,
                     (SELECT count(*)::int FROM token_fact WHERE device_id = ${outlet.deviceId}) AS "tokensWithTid"
                FROM sale_fact WHERE device_id = ${outlet.deviceId}`,
        );
        return { device: device!, batches: serverBatches, events, counts: counts!, totals: totals! };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );

    const held = server.batches.length;
    server.batches.forEach((batch, index) => {
      if (batch.seq !== index + 1) problems.push(`server batch #${index + 1} has seq ${batch.seq}`);
      if (batch.prevHash !== (index === 0 ? GENESIS_BATCH_HASH : server.batches[index - 1]!.hash))
        problems.push(`server batch ${batch.seq} does not follow its predecessor`);
      if (batch.hash !== batches[index]?.hash) problems.push(`server batch ${batch.seq} is not the outlet's`);
    });
    if (server.device.lastSeq !== held)
      problems.push(`device head ${server.device.lastSeq}, ${held} batches`);
    if (server.device.lastHash !== (held === 0 ? GENESIS_BATCH_HASH : server.batches[held - 1]!.hash))
      problems.push('device head hash is not its last batch');
    if (held < acknowledged)
      problems.push(`outlet has ${acknowledged} batches acknowledged, the server holds ${held}: lost`);
    if (held > acknowledged + 1)
      problems.push(`server holds ${held} batches, more than one beyond the ${acknowledged} acknowledged`);

    const sent = sqlite
      .prepare(
        `SELECT o.seq, b.seq AS batchSeq, o.event_type AS type, o.created_at AS createdAt, o.payload_json AS payloadJson
           FROM outbox o JOIN sync_batch b ON b.id = o.batch_id
          WHERE b.device_id = ? AND b.seq <= ? ORDER BY o.seq`,
      )
      .all(outlet.deviceId, held) as OutboxEvent[];
    problems.push(...eventDifferences(sent, server.events));

    const sentReceipts = new Set(
      sent
        .filter((e) => e.type.startsWith('sale.'))
        .map((e) => (JSON.parse(e.payloadJson) as { receiptNo: number }).receiptNo),
    );
    const sales = sqlite
      .prepare(
        `SELECT s.receipt_no AS receiptNo, s.tender_minor - s.change_minor AS takenMinor, s.units,
                (SELECT count(*) FROM token t WHERE t.sale_id = s.id AND t.tid IS NOT NULL) AS tokensWithTid
           FROM sale s`,
      )
      .all() as Array<Omit<SaleTotals, 'sales'> & { receiptNo: number }>;

    return {
      problems,
      outletBatches: batches.length,
      outletAcknowledged: acknowledged,
      acknowledgements: batches.map((batch) => batch.ackStatus),
      serverBatches: held,
      deviceStatus: server.device.status,
      incidents: server.counts.incidents,
      rejectedEvents: server.counts.rejected,
      status: readSyncStatus(sqlite),
      serverTotals: numbers(server.totals),
      outletTotalsSent: sumSales(sales.filter((sale) => sentReceipts.has(sale.receiptNo))),
      outletTotalsAll: sumSales(sales),
      floatSoldMinor: Number(server.counts.floatSold),
      ledgerProblems: ledgerProblems(sqlite),
    };
  } finally {
    ledger.close();
  }
}

/** pg answers bigint aggregates as strings. */
const numbers = (t: SaleTotals): SaleTotals => ({
  sales: Number(t.sales),
  takenMinor: Number(t.takenMinor),
  units: Number(t.units),
  tokensWithTid: Number(t.tokensWithTid),
});

const sumSales = (rows: Array<Omit<SaleTotals, 'sales'>>): SaleTotals =>
  rows.reduce<SaleTotals>(
    (sum, row) => ({
      sales: sum.sales + 1,
      takenMinor: sum.takenMinor + row.takenMinor,
      units: sum.units + row.units,
      tokensWithTid: sum.tokensWithTid + row.tokensWithTid,
    }),
    { sales: 0, takenMinor: 0, units: 0, tokensWithTid: 0 },
  );

/** Each outlet event sent must be on the server once, unchanged; the server must hold nothing else. */
function eventDifferences(sent: OutboxEvent[], held: ServerEvent[]): string[] {
  const out: string[] = [];
  const bySeq = new Map<number, ServerEvent[]>();
  for (const e of held) bySeq.set(e.eventSeq, [...(bySeq.get(e.eventSeq) ?? []), e]);
  for (const e of sent) {
    const copies = bySeq.get(e.seq) ?? [];
    bySeq.delete(e.seq);
    if (copies.length !== 1) {
      out.push(`event ${e.seq} is on the server ${copies.length} times`);
      continue;
    }
    const copy = copies[0]!;
    if (
      copy.batchSeq !== e.batchSeq ||
      copy.type !== e.type ||
      Date.parse(copy.createdAt) !== Date.parse(e.createdAt) ||
      !isDeepStrictEqual(copy.payload, JSON.parse(e.payloadJson))
    )
      out.push(`event ${e.seq} differs on the server`);
  }
  for (const seq of bySeq.keys()) out.push(`server holds event ${seq}, not in the batches it holds`);
  return out.slice(0, 20);
}
