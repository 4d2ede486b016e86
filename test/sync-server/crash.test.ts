import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src-main/ledger/database.ts';
import { DEFAULT_SEAL_POLICY } from '../../src-main/sync/batches.ts';
import { SyncClient } from '../../src-main/sync/client.ts';
import { queryRows } from '../../sync-server/db/database.ts';
import { TEST_KEK } from '../support/engine-fixture.ts';
import {
  type CliProcess,
  createSalesTemplate,
  type EnrolledOutlet,
  enrolledCopy,
  freePort,
  IngestPin,
  inspectSync,
  killChildren,
  pushOutcome,
  type ServerProcess,
  type SyncPicture,
  serverLastSeq,
  serverSessions,
  sigkill,
  startPush,
  startServer,
  waitFor,
} from './crash-support.ts';
import { BACKEND_START_MS, createBackend, type TestBackend } from './support.ts';

/**
 * Fault tests with real processes (sync issue, section 7): `openvend server` on PostgreSQL and
 * `openvend sync push` as child processes, killed with SIGKILL in the middle of an upload of 15 large batches
 * (1 500 real sales; the push seals 100 events per batch), restarted, killed again at another moment of the
 * resumed upload, three times, and then left to finish. Killed: the server, the push, or both at once.
 *
 * After every kill the outlet ledger and the server database are checked against each other (crash-support.ts
 * `inspectSync`: the server holds a prefix of the outlet's chain, each event once, nothing lost, nothing
 * quarantined, the projections agree); after the last push, that nothing waits and the sale totals are equal,
 * and that exactly the batches whose answer a kill lost were acknowledged "duplicate" on the resend.
 *
 * The three moments of each kind:
 * - pinned: a batch after the second is held inside its ingest transaction (its batch, event and sale rows written,
 *   not committed) by a row lock the test holds, so the kill lands mid-ingest for certain;
 * - as soon as the resumed upload has its first new batch applied;
 * - late in the upload (11 of 15 batches on the server).
 * The last two land wherever the processes happen to be.
 */

const SALES = 1_500;
/** `openvend sync push` seals with the default policy (no option to change it). */
const BATCHES = SALES / DEFAULT_SEAL_POLICY.maxEvents;
/** Several processes start per case (tsx, on 2 cores that are also busy elsewhere): minutes, not seconds. */
const CASE_MS = 300_000;

interface KillPoint {
  name: string;
  /** The kill comes once the server holds this many batches (given how many it held when the push started)... */
  serverHolds: (atStart: number) => number;
  /** ...and, pinned, once the next batch is held inside its transaction. */
  pinned: boolean;
}

const KILL_POINTS: KillPoint[] = [
  { name: 'inside the ingest transaction of a batch after the second', serverHolds: () => 2, pinned: true },
  {
    name: 'as soon as the resumed upload has a new batch applied',
    serverHolds: (atStart) => atStart + 1,
    pinned: false,
  },
  { name: 'late in the upload', serverHolds: () => 11, pinned: false },
];

let backend: TestBackend;
let template: ReturnType<typeof createSalesTemplate>;
let work: string;
const pins = new Set<IngestPin>();
const lanes = new Map<Victim, Lane>();

type Victim = 'server' | 'push' | 'both';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'openvend-sync-crash-'));
  backend = await createBackend('postgresql');
  // The servers boot in their processes while this one vends the outlet's sales.
  for (const victim of ['server', 'push', 'both'] as const)
    lanes.set(victim, new Lane(victim, await freePort()));
  template = createSalesTemplate(SALES);
  for (const lane of lanes.values()) await lane.server.ready;
}, BACKEND_START_MS);

afterEach(async () => {
  for (const pin of pins) await pin.release();
  pins.clear();
  await killChildren('push');
});

afterAll(async () => {
  await killChildren();
  await backend?.drop();
  template?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

/** One server (its own port and database sessions' name) and the outlet that uploads to it. */
class Lane {
  readonly name: string;
  readonly port: number;
  server: ServerProcess;

  constructor(name: string, port: number) {
    this.name = name;
    this.port = port;
    this.server = this.restart();
  }

  get applicationName(): string {
    return `openvend_crash_${this.name}`;
  }

  /** Starts the server (again) on the same port, data folder and database; await `server.ready`. */
  restart(): ServerProcess {
    this.server = startServer({
      port: this.port,
      dataDir: join(work, `server-${this.name}`),
      databaseUrl: backend.url!,
      applicationName: this.applicationName,
    });
    return this.server;
  }

  /** After a kill: until PostgreSQL has ended the dead server's sessions, its last transaction is undecided. */
  sessionsGone(): Promise<true> {
    return waitFor(`the killed ${this.name} server's database sessions to end`, async () =>
      (await serverSessions(backend.database.db, this.applicationName)) === 0 ? true : undefined,
    );
  }

  async newOutlet(label: string = this.name): Promise<EnrolledOutlet> {
    const dataDir = join(work, `outlet-${label}`);
    return enrolledCopy(template.dataDir, dataDir, backend.database.db, await this.server.ready);
  }
}

interface AtKill {
  pin: IngestPin | null;
  /** Pinned: the server's chain head while the next batch is held. */
  headAtKill: number | null;
}

/** Resolves at the kill point, while `push` is uploading; the caller kills in the same tick. */
async function reachKillPoint(
  lane: Lane,
  outlet: EnrolledOutlet,
  push: CliProcess,
  point: KillPoint,
): Promise<AtKill> {
  const db = backend.database.db;
  const pin = point.pinned ? await IngestPin.connect(backend.url!) : null;
  if (pin) pins.add(pin);
  const target = point.serverHolds(await serverLastSeq(db, outlet.deviceId));
  await waitFor(
    `${target} batches on the server`,
    async () => {
      if (push.child.exitCode !== null) {
        throw new Error(
          `the push ended before the kill point: ${push.stdout()} ${push.stderr()}\nserver: ${lane.server.process.stderr()}`,
        );
      }
      return (await serverLastSeq(db, outlet.deviceId)) >= target ? true : undefined;
    },
    { everyMs: 2 },
  );
  if (!pin) return { pin: null, headAtKill: null };
  await pin.hold(outlet.outletId);
  const statement = await pin.waitUntilBlocked(db, lane.applicationName);
  // The held batch's transaction has written its batch, events and sale facts and waits at its last update.
  expect(statement).toMatch(/outlet_float/);
  return { pin, headAtKill: await serverLastSeq(db, outlet.deviceId) };
}

/** What must hold right after any kill, before anything is restarted. */
function expectConsistent(picture: SyncPicture, when: string): void {
  expect(picture.problems, when).toEqual([]);
  expect(
    {
      device: picture.deviceStatus,
      incidents: picture.incidents,
      rejectedEvents: picture.rejectedEvents,
      halted: picture.status.haltedCode,
      quarantined: picture.status.quarantinedEvents,
    },
    when,
  ).toEqual({ device: 'active', incidents: 0, rejectedEvents: 0, halted: null, quarantined: 0 });
  expect(picture.serverTotals, when).toEqual(picture.outletTotalsSent);
  expect(picture.floatSoldMinor, when).toBe(picture.outletTotalsSent.takenMinor);
}

/**
 * Kills `victim` at each kill point of one outlet's upload, restarts what was killed and pushes again; then
 * lets the last push finish and checks the end state. Batches the server applied while their answer was lost
 * must come back "duplicate"; `lost` collects them (certain), `mayBeLost` those whose fate was still open.
 */
async function killThreeTimesAndFinish(victim: Victim): Promise<void> {
  const lane = lanes.get(victim)!;
  const db = backend.database.db;
  const outlet = await lane.newOutlet();
  const lost = new Set<number>();
  const mayBeLost = new Set<number>();
  let acknowledgedBefore = 0;

  for (const point of KILL_POINTS) {
    const push = startPush(outlet.dataDir);
    const at = await reachKillPoint(lane, outlet, push, point);
    const killed =
      victim === 'server' ? [lane.server.process] : victim === 'push' ? [push] : [push, lane.server.process];
    const ends = await sigkill(...killed);
    expect(
      ends.map((end) => end.signal),
      point.name,
    ).toEqual(killed.map(() => 'SIGKILL'));
    await at.pin?.release();
    if (victim === 'push' && at.headAtKill !== null) {
      const held = at.headAtKill;
      // The held batch commits after its sender died: the server applied it, the outlet never heard.
      await waitFor('the held batch to commit', async () =>
        (await serverLastSeq(db, outlet.deviceId)) === held + 1 ? true : undefined,
      );
    }
    let restarted: ServerProcess | null = null;
    if (victim !== 'push') {
      await lane.sessionsGone();
      restarted = lane.restart(); // boots while the state the kill left is checked
    }
    // The push outlived the server: it lost it mid-upload (a network error, retried later, never a refusal).
    const survivor = victim === 'server' ? await pushOutcome(push) : null;
    if (survivor) {
      expect(survivor.end.code, point.name).toBe(1);
      expect(survivor.summary, point.name).toMatchObject({
        halted: null,
        error: { code: 'SYNC_UNAVAILABLE' },
      });
    }
    const afterKill = await inspectSync(db, outlet);
    expectConsistent(afterKill, `after the kill ${point.name}`);
    expect(afterKill.outletAcknowledged, point.name).toBeLessThan(BATCHES);
    if (survivor) {
      expect(survivor.summary.applied + survivor.summary.duplicates, point.name).toBe(
        afterKill.outletAcknowledged - acknowledgedBefore,
      );
    }
    const answerLost = afterKill.serverBatches - afterKill.outletAcknowledged;
    if (at.headAtKill !== null) {
      // Server killed: the held batch's written rows died with its transaction. Push killed: it committed.
      expect(afterKill.serverBatches, point.name).toBe(at.headAtKill + (victim === 'push' ? 1 : 0));
    }
    if (answerLost === 1) lost.add(afterKill.serverBatches);
    // With the server alive, the batch in flight at the kill may still commit after this look.
    else if (victim === 'push') mayBeLost.add(afterKill.outletAcknowledged + 1);
    acknowledgedBefore = afterKill.outletAcknowledged;
    await restarted?.ready;
  }

  const push = startPush(outlet.dataDir);
  const { end, summary } = await pushOutcome(push);
  expect(end.code, push.stderr()).toBe(0);
  expect(summary).toMatchObject({ sealed: 0, rejectedEvents: 0, halted: null, error: null });
  expect(summary.applied + summary.duplicates).toBe(BATCHES - acknowledgedBefore);

  const final = await inspectSync(db, outlet);
  expectConsistent(final, 'at the end');
  expect(final.outletBatches).toBe(BATCHES);
  expect(final.serverBatches).toBe(BATCHES);
  expect(final.status).toMatchObject({
    state: 'online',
    pendingEvents: 0,
    pendingSales: 0,
    unacknowledgedBatches: 0,
  });
  expect(final.outletTotalsAll.sales).toBe(SALES);
  expect(final.serverTotals).toEqual(final.outletTotalsAll);
  expect(final.floatSoldMinor).toBe(final.outletTotalsAll.takenMinor);
  expect(final.ledgerProblems, 'the outlet ledger itself').toEqual([]);
  // Each batch acknowledged once, as "duplicate" exactly where a kill lost the answer to it.
  final.acknowledgements.forEach((status, index) => {
    const seq = index + 1;
    const expected = lost.has(seq)
      ? ['duplicate']
      : mayBeLost.has(seq)
        ? ['applied', 'duplicate']
        : ['applied'];
    expect(expected, `batch ${seq}`).toContain(status);
  });
  if (victim === 'push') expect(lost.size, 'the pinned kill loses an answer').toBeGreaterThanOrEqual(1);
}

describe('kill -9 during sync uploads (real processes, PostgreSQL)', () => {
  it(
    'the server killed three times while batches are ingested, restarted on the same database',
    () => killThreeTimesAndFinish('server'),
    CASE_MS,
  );

  it(
    'the push killed three times mid-upload; a batch applied after its sender died comes back duplicate',
    () => killThreeTimesAndFinish('push'),
    CASE_MS,
  );

  it(
    'the server and the push killed together three times, both restarted',
    () => killThreeTimesAndFinish('both'),
    CASE_MS,
  );

  it(
    'the checks themselves catch a batch lost after its acknowledgement, a lost event and an edited event',
    async () => {
      const db = backend.database.db;
      const outlet = await lanes.get('push')!.newOutlet('self-check');
      // Uploaded in this process: only the checks are under test here.
      const ledger = openLedger(outlet.dataDir);
      try {
        const client = new SyncClient({
          sqlite: ledger.sqlite,
          kek: TEST_KEK(),
          log: { info: () => undefined, warn: () => undefined },
        });
        const report = await client.runOnce({ forceSeal: true });
        await client.stop();
        expect(report).toMatchObject({ sealed: BATCHES, applied: BATCHES, error: null });
      } finally {
        ledger.close();
      }
      const clean = await inspectSync(db, outlet);
      expect(clean.problems).toEqual([]);
      expect(clean.serverTotals).toEqual(clean.outletTotalsAll);

      await db.execute(sql`DELETE FROM batch WHERE device_id = ${outlet.deviceId} AND seq = ${BATCHES}`);
      const [gone] = await queryRows<{ id: number; eventSeq: number }>(
        db,
        sql`SELECT id, event_seq::int AS "eventSeq" FROM event WHERE device_id = ${outlet.deviceId} ORDER BY event_seq LIMIT 1 OFFSET 10`,
      );
      await db.execute(sql`DELETE FROM token_fact WHERE event_id = ${gone!.id}`);
      await db.execute(sql`DELETE FROM sale_fact WHERE event_id = ${gone!.id}`);
      await db.execute(sql`DELETE FROM event WHERE id = ${gone!.id}`);
      const edited = openLedger(outlet.dataDir);
      try {
        edited.sqlite
          .prepare(
            "UPDATE outbox SET payload_json = json_set(payload_json, '$.ledger.units', 0) WHERE seq = ?",
          )
          .run(gone!.eventSeq + 1);
      } finally {
        edited.close();
      }
      const broken = await inspectSync(db, outlet);
      expect(broken.problems).toEqual(
        expect.arrayContaining([
          `outlet batch 1 no longer hashes to its sealed hash`,
          `outlet has ${BATCHES} batches acknowledged, the server holds ${BATCHES - 1}: lost`,
          `event ${gone!.eventSeq} is on the server 0 times`,
          `event ${gone!.eventSeq + 1} differs on the server`,
        ]),
      );
      expect(broken.serverTotals).not.toEqual(broken.outletTotalsSent);
    },
    CASE_MS,
  );
});
