import { isDeepStrictEqual } from 'node:util';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import type { OpenEngine } from '../../src-main/engine/open-engine.ts';
import { openShift } from '../../src-main/engine/shifts.ts';
import { SyncApi } from '../../src-main/sync/api.ts';
import { SyncClient, type SyncLogger, type SyncRunReport } from '../../src-main/sync/client.ts';
import { readSyncStatus } from '../../src-main/sync/sync-state.ts';
import {
  batchHash,
  batchSigningString,
  GENESIS_BATCH_HASH,
  type SyncBatch,
} from '../../src-shared/sync/protocol.ts';
import type { SyncServer } from '../../sync-server/app.ts';
import { verifyEd25519 } from '../../sync-server/auth.ts';
import { queryRows, type ServerDb } from '../../sync-server/db/database.ts';
import {
  type BackendName,
  createBackend,
  injectTransport,
  TEST_NOW,
  type TestBackend,
  testServer,
} from '../sync-server/support.ts';
import { enrollInProcess, type OutletFixture, outletFixture } from '../unit/sync/outlet-support.ts';
import { crashBeforeCommit, emptyLinkStats, type Fault, FaultyLink, type LinkStats } from './faulty-link.ts';

/**
 * The sync simulation shared by the CI property test and the nightly script: outlets (real engines) vend
 * offline, close shifts and sync through faulty links (see faulty-link.ts) to the real server on a real
 * database, their clients crash and restart from the ledger; then the links heal, each client runs until
 * nothing waits, and the server must hold exactly the outlets' events (none lost, none twice), each
 * device's batch chain must verify, and the money must add up.
 *
 * Creating an outlet takes ~0.6 s (demo seeding, scrypt logins) and enrolling one ~30 ms, so a pool of
 * enrolled outlets is reused across cases, and the invariants are per case: over the events, sales and
 * batches made during the case (after the case's marks), the chain checked from the head the case started
 * at. A client lives on from case to case until a fault crashes it. An outlet whose case failed is thrown
 * away with the whole pool, so shrinking replays every smaller case on fresh outlets and devices.
 */

export const MAX_VENDS_PER_OUTLET = 30;
export const MAX_OUTLETS = 4;
/**
 * Events per sealed batch of each pooled outlet's client (a client setting, fixed for its life): small, so a
 * case has several batches to lose, repeat and reorder; 1 makes every event a batch of its own.
 */
const MAX_EVENTS_PER_BATCH = [5, 8, 3, 1] as const;
/** Simulated time per step: the signed-request window (5 min) is never left, as on a working network. */
const STEP_MS = 1_000;

export interface ChunkPlan {
  /** Sales made now (offline: the client does not run). */
  vends: number;
  /** Close the cashier's shift (Z report, always the end of a batch) and open the next one. */
  closeShift: boolean;
  /** Then one run of the sync client through the faulty link. */
  sync: boolean;
  forceSeal: boolean;
}

export interface OutletPlan {
  chunks: ChunkPlan[];
  /** The link's schedule: the n-th request meets the n-th entry (null: passes). */
  faults: Array<Fault | null>;
}

export interface SimCase {
  outlets: OutletPlan[];
  /** Which outlet takes its next chunk (index modulo the outlet count); then round robin for the rest. */
  turns: number[];
}

const faultArbitrary: fc.Arbitrary<Fault | null> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant({ kind: 'drop-request' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'drop-response' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('duplicate' as const),
      answer: fc.constantFrom('first', 'second'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delay' as const),
      afterSends: fc.integer({ min: 1, max: 4 }),
      before: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'server-error' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'server-crash' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('client-crash' as const), delivered: fc.boolean() }),
  },
);

const chunkArbitrary: fc.Arbitrary<ChunkPlan> = fc.record({
  // Mostly a few sales, sometimes a rush: small cases keep 1,000 of them within the CI budget.
  vends: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 2 }) }, fc.integer({ min: 3, max: 10 })),
  closeShift: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  sync: fc.boolean(),
  forceSeal: fc.boolean(),
});

export const simCaseArbitrary: fc.Arbitrary<SimCase> = fc.record({
  outlets: fc.array(
    fc.record({
      chunks: fc.array(chunkArbitrary, { minLength: 1, maxLength: 4 }),
      faults: fc.array(faultArbitrary, { maxLength: 16 }),
    }),
    { minLength: 2, maxLength: MAX_OUTLETS },
  ),
  turns: fc.array(fc.nat({ max: MAX_OUTLETS - 1 }), { maxLength: 24 }),
});

export interface SimulationStats {
  cases: number;
  vends: number;
  shiftCloses: number;
  syncRuns: number;
  clientCrashes: number;
  /** Ingest transactions the crashing server rolled back. */
  rolledBack: number;
  serverEvents: number;
  serverBatches: number;
  link: LinkStats;
}

interface PooledOutlet {
  outlet: OutletFixture;
  /** A second engine on the ledger, to open the next shift after a close (the fixture opens only the first). */
  shifts: OpenEngine;
  deviceId: string;
  link: FaultyLink;
  client: SyncClient;
}

interface Participant {
  index: number;
  pooled: PooledOutlet;
  plan: OutletPlan;
  deviceId: string;
  vendBudget: number;
  /** The ledger before the case: the case's events, sales and batches come after these. */
  outboxMark: number;
  saleMark: number;
  batchMark: number;
}

const quiet: SyncLogger = { info: () => {}, warn: () => {} };

/** What went wrong with a case; the message lists every broken invariant. */
export class SimulationFailure extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`sync simulation: ${problems.length} invariant(s) broken:\n- ${problems.join('\n- ')}`);
    this.problems = problems;
  }
}

export class SyncSimulation {
  readonly stats: SimulationStats = {
    cases: 0,
    vends: 0,
    shiftCloses: 0,
    syncRuns: 0,
    clientCrashes: 0,
    rolledBack: 0,
    serverEvents: 0,
    serverBatches: 0,
    link: emptyLinkStats(),
  };
  readonly backend: TestBackend;
  readonly #server: SyncServer;
  readonly #crashingServer: SyncServer;
  readonly #pool: Array<PooledOutlet | undefined> = [];
  #now = TEST_NOW;

  private constructor(backend: TestBackend) {
    this.backend = backend;
    const clock = () => this.#now;
    this.#server = testServer(backend.database, clock);
    this.#crashingServer = testServer(
      crashBeforeCommit(backend.database, () => this.stats.rolledBack++),
      clock,
    );
  }

  /** One database for the whole run (PGlite in memory, or a fresh PostgreSQL database). */
  static async create(backend: BackendName): Promise<SyncSimulation> {
    return new SyncSimulation(await createBackend(backend));
  }

  get db(): ServerDb {
    return this.backend.database.db;
  }

  async close(): Promise<void> {
    await this.#server.app.close();
    await this.#crashingServer.app.close();
    this.discardOutlets();
    await this.backend.drop();
  }

  /** The next case starts on fresh outlets and devices (after a failure, or a test that tampered). */
  discardOutlets(): void {
    for (const pooled of this.#pool) pooled?.outlet.cleanup();
    this.#pool.length = 0;
  }

  /**
   * Runs one case to convergence and checks it; throws SimulationFailure listing every broken invariant.
   * Returns the case's devices (for `checkCase` again, e.g. after a test tampered with the server).
   */
  async runCase(simCase: SimCase): Promise<CaseDevice[]> {
    const participants: Participant[] = [];
    let passed = false;
    try {
      if (this.#pool.length === 0) await this.#fillPool();
      for (const [index, plan] of simCase.outlets.entries()) participants.push(this.#join(index, plan));
      for (const p of this.#schedule(simCase, participants)) await this.#step(p);
      const problems: string[] = [];
      for (const p of participants) {
        p.pooled.link.heal();
        problems.push(...(await this.#converge(p)));
      }
      // Requests still held in the network arrive now, after convergence: stale, they must change nothing.
      for (const p of participants) await p.pooled.link.flushHeld();
      problems.push(...(await this.checkCase(participants)));
      this.stats.cases++;
      if (problems.length > 0) throw new SimulationFailure(problems);
      passed = true;
      return participants;
    } finally {
      if (!passed) this.discardOutlets();
    }
  }

  /**
   * Makes and enrolls every outlet of the pool (through a clean link: enrollment is not under test here).
   * The clock starts again: `seedOutlet`'s enrollment codes expire an hour after TEST_NOW.
   */
  async #fillPool(): Promise<void> {
    this.#now = TEST_NOW;
    for (let index = 0; index < MAX_OUTLETS; index++) {
      const outlet = outletFixture(TEST_NOW);
      try {
        const shifts = outlet.fixture.open();
        // No fsync per sale: power loss is the crash test's subject (test/engine/crash.test.ts); a client
        // crash here is the process dying, after which every committed row is still there.
        for (const sqlite of [outlet.sqlite, shifts.engine.sqlite]) sqlite.pragma('synchronous = OFF');
        const { deviceId } = await enrollInProcess(outlet, this.db, injectTransport(this.#server), this.#now);
        const link = new FaultyLink({
          server: injectTransport(this.#server),
          crashingServer: injectTransport(this.#crashingServer),
          schedule: [],
          stats: this.stats.link,
        });
        const pooled: PooledOutlet = {
          outlet,
          shifts,
          deviceId,
          link,
          client: null as unknown as SyncClient,
        };
        pooled.client = this.#newClient(pooled, MAX_EVENTS_PER_BATCH[index]!);
        this.#pool[index] = pooled;
      } catch (error) {
        outlet.cleanup();
        throw error;
      }
    }
  }

  #join(index: number, plan: OutletPlan): Participant {
    const pooled = this.#pool[index]!;
    pooled.link.load(plan.faults);
    const sqlite = pooled.outlet.sqlite;
    const mark = (query: string, ...params: unknown[]) =>
      (sqlite.prepare(query).get(...params) as { n: number }).n;
    const participant: Participant = {
      index,
      pooled,
      plan,
      deviceId: pooled.deviceId,
      vendBudget: MAX_VENDS_PER_OUTLET,
      outboxMark: mark('SELECT coalesce(max(seq), 0) AS n FROM outbox'),
      saleMark: mark('SELECT coalesce(max(id), 0) AS n FROM sale'),
      batchMark: mark(
        'SELECT coalesce(max(seq), 0) AS n FROM sync_batch WHERE device_id = ?',
        pooled.deviceId,
      ),
    };
    return participant;
  }

  /** A client as the engine thread starts it: everything it knows comes from the ledger. */
  #newClient(pooled: PooledOutlet, maxEvents: number, sqlite = pooled.outlet.sqlite): SyncClient {
    const clock = () => this.#now;
    return new SyncClient({
      sqlite,
      kek: pooled.outlet.fixture.kek,
      log: quiet,
      clock,
      api: new SyncApi(pooled.link, clock),
      policy: { maxEvents, maxBytes: 1024 * 1024, maxAgeMs: 30_000 },
    });
  }

  /** The order of the steps: the generated turns, then round robin over what is left. */
  *#schedule(simCase: SimCase, participants: Participant[]): Generator<{ p: Participant; chunk: ChunkPlan }> {
    const next = participants.map(() => 0);
    const take = function* (index: number) {
      const p = participants[index]!;
      const chunk = p.plan.chunks[next[index]!];
      if (chunk) {
        next[index]!++;
        yield { p, chunk };
      }
    };
    for (const turn of simCase.turns) yield* take(turn % participants.length);
    for (let left = true; left; ) {
      left = false;
      for (let index = 0; index < participants.length; index++) {
        if (next[index]! < participants[index]!.plan.chunks.length) {
          left = true;
          yield* take(index);
        }
      }
    }
  }

  async #step({ p, chunk }: { p: Participant; chunk: ChunkPlan }): Promise<void> {
    const vends = Math.min(chunk.vends, p.vendBudget);
    p.vendBudget -= vends;
    p.pooled.outlet.vend(vends);
    this.stats.vends += vends;
    if (chunk.closeShift) {
      p.pooled.outlet.closeShift();
      openShift(p.pooled.shifts.engine, p.pooled.outlet.fixture.sessions.cashier, TEST_NOW);
      this.stats.shiftCloses++;
    }
    this.#tick();
    if (chunk.sync) await this.#syncRun(p, chunk.forceSeal);
  }

  #tick(): void {
    this.#now = new Date(this.#now.getTime() + STEP_MS);
  }

  /** One client run; a client crash leaves the old client dead mid-request and starts a new one. */
  async #syncRun(p: Participant, forceSeal: boolean): Promise<SyncRunReport | null> {
    this.stats.syncRuns++;
    const { pooled } = p;
    const run = pooled.client.runOnce({ forceSeal });
    const crashed = pooled.link.clientCrashed.then(() => null);
    const report = await Promise.race([run, crashed]);
    this.#tick();
    if (report) return report;
    this.stats.clientCrashes++;
    pooled.link.afterClientRestart();
    // The restarted process opens the ledger again: what was committed is all it has.
    const reopened = pooled.outlet.fixture.open().engine.sqlite;
    reopened.pragma('synchronous = OFF');
    pooled.client = this.#newClient(pooled, MAX_EVENTS_PER_BATCH[p.index]!, reopened);
    return null;
  }

  /** Fault-free now: one run must upload everything waiting, with no halt and no error. */
  async #converge(p: Participant): Promise<string[]> {
    const who = `device ${p.deviceId}`;
    const report = await this.#syncRun(p, true);
    const problems: string[] = [];
    if (!report) return [`${who}: the client crashed on a healed link`];
    if (report.error || report.halted) {
      problems.push(
        `${who}: the first fault-free run failed: ${report.error?.code} ${report.error?.detail} (halted: ${report.halted})`,
      );
    }
    const status = readSyncStatus(p.pooled.outlet.sqlite);
    if (status.pendingEvents > 0 || status.unacknowledgedBatches > 0) {
      problems.push(
        `${who}: after a fault-free run ${status.pendingEvents} events / ${status.unacknowledgedBatches} batches still wait`,
      );
    }
    return problems;
  }

  /** Every invariant of a converged case; an empty list when all hold. Public for the checker's own tests. */
  async checkCase(participants: ReadonlyArray<CaseDevice>): Promise<string[]> {
    const problems: string[] = [];
    for (const p of participants) problems.push(...(await this.#checkDevice(p)));
    return problems;
  }

  async #checkDevice(p: CaseDevice): Promise<string[]> {
    const problems: string[] = [];
    const who = `device ${p.deviceId}`;
    const sqlite = p.pooled.outlet.sqlite;
    const state = readSyncStatus(sqlite);
    if (state.haltedCode) problems.push(`${who}: uploads halted (${state.haltedCode}) by network faults`);
    if (state.quarantinedEvents > 0)
      problems.push(`${who}: ${state.quarantinedEvents} events in the quarantine`);

    // The outlet side: every event made in this case, sealed under this device and acknowledged.
    const outletEvents = sqlite
      .prepare(
        `SELECT o.seq, o.event_type AS type, o.payload_json AS payloadJson, o.created_at AS createdAt,
                o.sent_at AS sentAt, b.device_id AS deviceId, b.seq AS batchSeq
           FROM outbox o LEFT JOIN sync_batch b ON b.id = o.batch_id
          WHERE o.seq > ? ORDER BY o.seq`,
      )
      .all(p.outboxMark) as Array<{
      seq: number;
      type: string;
      payloadJson: string;
      createdAt: string;
      sentAt: string | null;
      deviceId: string | null;
      batchSeq: number | null;
    }>;
    const strays = outletEvents.filter((e) => e.deviceId !== p.deviceId || e.sentAt === null);
    if (strays.length > 0) {
      problems.push(
        `${who}: outbox events not sent under this device: ${strays.map((e) => e.seq).join(',')}`,
      );
    }
    const outletBatches = sqlite
      .prepare(
        'SELECT seq, hash, ack_status AS ack FROM sync_batch WHERE device_id = ? AND seq >= ? ORDER BY seq',
      )
      .all(p.deviceId, p.batchMark) as Array<{ seq: number; hash: string; ack: string | null }>;
    // The head the case started from (the previous case ended converged on it), then the case's batches.
    const startHash = p.batchMark === 0 ? GENESIS_BATCH_HASH : outletBatches.shift()?.hash;

    // The server side.
    const [device] = await queryRows<{
      status: string;
      public_key: string;
      last_seq: number;
      last_hash: string;
      rejected: number;
      incidents: number;
    }>(
      this.db,
      sql`SELECT status, public_key, last_seq::int AS last_seq, last_hash,
                 (SELECT count(*)::int FROM rejected_event r WHERE r.device_id = d.id) AS rejected,
                 (SELECT count(*)::int FROM device_incident i WHERE i.device_id = d.id) AS incidents
            FROM device d WHERE id = ${p.deviceId}`,
    );
    if (!device) return [...problems, `${who}: unknown to the server`];
    if (device.status !== 'active')
      problems.push(`${who}: ${device.status} on the server after network faults`);
    const iso = (column: string) =>
      sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
    const serverEvents = await queryRows<{
      event_seq: number;
      batch_seq: number;
      type: string;
      payload: unknown;
      created_at: string;
    }>(
      this.db,
      sql`SELECT event_seq::int AS event_seq, batch_seq::int AS batch_seq, type, payload, ${iso('created_at')} AS created_at
            FROM event WHERE device_id = ${p.deviceId} AND event_seq > ${p.outboxMark} ORDER BY event_seq, id`,
    );
    const serverBatches = await queryRows<{
      seq: number;
      hash: string;
      prev_hash: string;
      signature: string;
      event_count: number;
      first_event_seq: number;
      last_event_seq: number;
      protocol_version: number;
      schema_version: number;
      app_version: string;
      sealed_at: string;
    }>(
      this.db,
      sql`SELECT seq::int AS seq, hash, prev_hash, signature, event_count, first_event_seq::int AS first_event_seq,
                 last_event_seq::int AS last_event_seq, protocol_version, schema_version, app_version,
                 ${iso('sealed_at')} AS sealed_at
            FROM batch WHERE device_id = ${p.deviceId} AND seq > ${p.batchMark} ORDER BY seq, id`,
    );
    if (device.rejected > 0 || device.incidents > 0) {
      problems.push(
        `${who}: ${device.rejected} rejected events, ${device.incidents} incidents on the server`,
      );
    }
    this.stats.serverEvents += serverEvents.length;
    this.stats.serverBatches += serverBatches.length;

    // Exactly once: the server holds each of the case's events once, and nothing else, with the same content.
    const distinct = new Set(serverEvents.map((e) => e.event_seq));
    if (distinct.size !== serverEvents.length) {
      problems.push(`${who}: ${serverEvents.length - distinct.size} events stored twice on the server`);
    }
    const onServer = new Map(serverEvents.map((e) => [e.event_seq, e]));
    const lost = outletEvents.filter((e) => !onServer.has(e.seq)).map((e) => e.seq);
    if (lost.length > 0) problems.push(`${who}: events lost (outbox seq): ${lost.join(',')}`);
    const made = new Set(outletEvents.map((e) => e.seq));
    const foreign = serverEvents.filter((e) => !made.has(e.event_seq)).map((e) => e.event_seq);
    if (foreign.length > 0)
      problems.push(`${who}: server events not made in this case: ${foreign.join(',')}`);
    const altered = outletEvents.filter((e) => {
      const stored = onServer.get(e.seq);
      return (
        stored &&
        (stored.type !== e.type ||
          stored.created_at !== e.createdAt ||
          stored.batch_seq !== e.batchSeq ||
          !isDeepStrictEqual(stored.payload, JSON.parse(e.payloadJson)))
      );
    });
    if (altered.length > 0) {
      problems.push(`${who}: events differ from the outbox: ${altered.map((e) => e.seq).join(',')}`);
    }

    // The chain: 1..n, linked, each batch's hash recomputed from its stored header and events, signed.
    const eventsOf = new Map<number, typeof serverEvents>();
    for (const e of serverEvents) eventsOf.set(e.batch_seq, [...(eventsOf.get(e.batch_seq) ?? []), e]);
    let prevHash = startHash;
    for (const [index, b] of serverBatches.entries()) {
      const events = eventsOf.get(b.seq) ?? [];
      const rebuilt: SyncBatch = {
        protocolVersion: b.protocol_version,
        schemaVersion: b.schema_version,
        appVersion: b.app_version,
        deviceId: p.deviceId,
        seq: b.seq,
        prevHash: b.prev_hash,
        sealedAt: b.sealed_at,
        events: events.map((e) => ({
          seq: e.event_seq,
          type: e.type,
          createdAt: e.created_at,
          payload: e.payload as SyncBatch['events'][number]['payload'],
        })),
      };
      const broken: string[] = [];
      if (b.seq !== p.batchMark + index + 1)
        broken.push(`seq ${b.seq} at position ${p.batchMark + index + 1}`);
      if (b.prev_hash !== prevHash) broken.push('previous hash is not the previous batch');
      if (batchHash(rebuilt) !== b.hash) broken.push('hash does not match its header and events');
      if (!verifyEd25519(device.public_key, batchSigningString(b.hash), b.signature)) {
        broken.push('signature does not verify with the device key');
      }
      if (
        events.length !== b.event_count ||
        events[0]?.event_seq !== b.first_event_seq ||
        events.at(-1)?.event_seq !== b.last_event_seq
      ) {
        broken.push('event count or range differs from its events');
      }
      if (outletBatches[index]?.hash !== b.hash) broken.push('differs from the batch the outlet sealed');
      if (broken.length > 0) problems.push(`${who}: batch ${b.seq}: ${broken.join('; ')}`);
      prevHash = b.hash;
    }
    if (outletBatches.length !== serverBatches.length) {
      problems.push(
        `${who}: the outlet sealed ${outletBatches.length} batches, the server holds ${serverBatches.length}`,
      );
    }
    const unacknowledged = outletBatches.filter((b) => b.ack !== 'applied' && b.ack !== 'duplicate');
    if (unacknowledged.length > 0) {
      problems.push(
        `${who}: batches not acknowledged: ${unacknowledged.map((b) => `${b.seq}=${b.ack}`).join(',')}`,
      );
    }
    if (device.last_seq !== p.batchMark + serverBatches.length || device.last_hash !== prevHash) {
      problems.push(`${who}: server chain head ${device.last_seq}/${device.last_hash} is not its last batch`);
    }

    // Money: the sales on the server add up to the outlet's sale rows.
    const outletMoney = sqlite
      .prepare(
        `SELECT count(*) AS sales, coalesce(sum(tender_minor), 0) AS tender, coalesce(sum(change_minor), 0) AS change
           FROM sale WHERE id > ?`,
      )
      .get(p.saleMark) as { sales: number; tender: number; change: number };
    const serverSales = serverEvents.filter((e) => e.type.startsWith('sale.'));
    const money = (e: (typeof serverEvents)[number], field: 'tenderMinor' | 'changeMinor') =>
      (e.payload as { result?: { breakdown?: Record<string, number> | null } }).result?.breakdown?.[field] ??
      0;
    const serverMoney = {
      sales: serverSales.length,
      tender: serverSales.reduce((sum, e) => sum + money(e, 'tenderMinor'), 0),
      change: serverSales.reduce((sum, e) => sum + money(e, 'changeMinor'), 0),
    };
    if (!isDeepStrictEqual(serverMoney, outletMoney)) {
      problems.push(
        `${who}: server sales ${JSON.stringify(serverMoney)} ≠ outlet sales ${JSON.stringify(outletMoney)}`,
      );
    }
    return problems;
  }
}

/** What `checkCase` needs of a participant. */
export type CaseDevice = Pick<Participant, 'pooled' | 'deviceId' | 'outboxMark' | 'saleMark' | 'batchMark'>;

/** A readable summary of a run (the nightly script prints it; the CI test asserts on its counts). */
export function formatStats(stats: SimulationStats, elapsedMs: number): string {
  const faults = Object.entries(stats.link.faults)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const late = Object.entries(stats.link.lateDeliveries)
    .map(([answer, n]) => `${answer} ×${n}`)
    .join(', ');
  return [
    `cases ${stats.cases} in ${(elapsedMs / 1000).toFixed(1)} s (${(elapsedMs / Math.max(1, stats.cases)).toFixed(0)} ms/case)`,
    `vends ${stats.vends}, shift closes ${stats.shiftCloses}, sync runs ${stats.syncRuns}, requests ${stats.link.requests}`,
    `faults: ${faults}`,
    `client crashes ${stats.clientCrashes}; server transactions rolled back before COMMIT ${stats.rolledBack}`,
    `late (held) requests answered: ${late || 'none'}`,
    `verified on the server: ${stats.serverEvents} events in ${stats.serverBatches} batches`,
  ].join('\n');
}
