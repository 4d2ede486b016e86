import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncTransport, TransportResponse } from '../../../src-main/sync/transport.ts';
import { queryRows } from '../../../sync-server/db/database.ts';
import {
  crashBeforeCommit,
  FAULT_KINDS,
  type Fault,
  FaultyLink,
  ServerCrashBeforeCommit,
} from '../../support/faulty-link.ts';
import {
  type CaseDevice,
  formatStats,
  type SimCase,
  SimulationFailure,
  SyncSimulation,
  simCaseArbitrary,
} from '../../support/sync-simulation.ts';
import { BACKEND_START_MS } from '../../sync-server/support.ts';

/**
 * Property-based sync simulation (issue section 7): outlets vend offline and sync through a link that drops,
 * duplicates, delays and reorders requests, answers 5xx, and crashes the client or the server mid-batch; after
 * convergence the server holds exactly the outlets' events, each device chain verifies and the money adds up.
 * Fixed seeds: a failure prints the seed, the path and the shrunk case. The model: test/support/sync-simulation.ts;
 * 10,000 cases nightly-style: `npm run sim:sync`.
 */

const SEED = 20_260_310;
// The 1,000 CI cases run on PostgreSQL: an upload costs ~20 ms of server CPU there against ~30 ms on PGlite.
const PGLITE_RUNS = 50;
const POSTGRESQL_RUNS = 1_000;

/** A stand-in server for the link's own tests: records what reaches it, answers 200 with a counter. */
function recordingServer(name: string) {
  const received: string[] = [];
  const transport: SyncTransport & { received: string[] } = {
    received,
    async send(method, path, body) {
      received.push(`${method} ${path} ${body?.toString() ?? ''}`.trim());
      return { status: 200, body: Buffer.from(JSON.stringify({ status: `${name}#${received.length}` })) };
    },
    close() {},
  };
  return transport;
}

function linkWith(schedule: Array<Fault | null>) {
  const server = recordingServer('server');
  const crashingServer = recordingServer('crashing');
  const link = new FaultyLink({ server, crashingServer, schedule });
  const post = (body: string) => link.send('POST', '/v1/batches', Buffer.from(body), {});
  return { server, crashingServer, link, post };
}

const statusOf = (response: TransportResponse) =>
  (JSON.parse(response.body.toString()) as { status: string }).status;

describe('the faulty link', () => {
  it('loses a request, or only its answer, as a timeout the client retries', async () => {
    const { server, link, post } = linkWith([{ kind: 'drop-request' }, { kind: 'drop-response' }]);
    await expect(post('a')).rejects.toMatchObject({ code: 'SYNC_UNAVAILABLE', errorClass: 'retry' });
    expect(server.received).toEqual([]);
    await expect(post('b')).rejects.toMatchObject({ code: 'SYNC_UNAVAILABLE' });
    expect(server.received).toEqual(['POST /v1/batches b']);
    expect(statusOf(await post('c'))).toBe('server#2');
    expect(link.stats.faults).toMatchObject({ 'drop-request': 1, 'drop-response': 1 });
    expect(link.stats.requests).toBe(3);
  });

  it('delivers a duplicated request twice and answers with the first or the second answer', async () => {
    const { server, post } = linkWith([
      { kind: 'duplicate', answer: 'first' },
      { kind: 'duplicate', answer: 'second' },
    ]);
    expect(statusOf(await post('a'))).toBe('server#1');
    expect(statusOf(await post('b'))).toBe('server#4');
    expect(server.received).toEqual([
      'POST /v1/batches a',
      'POST /v1/batches a',
      'POST /v1/batches b',
      'POST /v1/batches b',
    ]);
  });

  it('holds a delayed request and delivers it late, before or after the request that releases it', async () => {
    const { server, link, post } = linkWith([
      { kind: 'delay', afterSends: 2, before: false },
      { kind: 'delay', afterSends: 1, before: true },
    ]);
    await expect(post('old')).rejects.toMatchObject({ code: 'SYNC_UNAVAILABLE' });
    await expect(post('older')).rejects.toMatchObject({ code: 'SYNC_UNAVAILABLE' });
    expect(link.heldCount).toBe(2);
    await post('new');
    // "older" was released before "new"; "old" after it: both arrive after requests sent later.
    expect(server.received).toEqual([
      'POST /v1/batches older',
      'POST /v1/batches new',
      'POST /v1/batches old',
    ]);
    expect(link.heldCount).toBe(0);
    expect(link.stats.lateDeliveries).toEqual({
      'POST /v1/batches 200 server#1': 1,
      'POST /v1/batches 200 server#3': 1,
    });
  });

  it('answers 503 without delivering, and sends a server crash to the crashing server', async () => {
    const { server, crashingServer, post } = linkWith([{ kind: 'server-error' }, { kind: 'server-crash' }]);
    const answer = await post('a');
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body.toString())).toMatchObject({
      error: { code: 'SYNC_UNAVAILABLE', class: 'retry' },
    });
    await expect(post('b')).rejects.toMatchObject({ code: 'SYNC_UNAVAILABLE' });
    expect(server.received).toEqual([]);
    expect(crashingServer.received).toEqual(['POST /v1/batches b']);
  });

  it('a client crash: the request never settles and the crash is signalled, delivered or not', async () => {
    const { server, link, post } = linkWith([
      { kind: 'client-crash', delivered: true },
      { kind: 'client-crash', delivered: false },
    ]);
    let settled = false;
    void post('a').finally(() => {
      settled = true;
    });
    await link.clientCrashed;
    link.afterClientRestart();
    void post('b');
    await link.clientCrashed;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(server.received).toEqual(['POST /v1/batches a']);
  });

  it('heals (no more faults), loads a new schedule, and flushes what it still holds', async () => {
    const { server, link, post } = linkWith([
      { kind: 'delay', afterSends: 9, before: true },
      { kind: 'drop-request' },
    ]);
    await expect(post('held')).rejects.toMatchObject({ code: 'SYNC_UNAVAILABLE' });
    link.heal();
    expect(statusOf(await post('a'))).toBe('server#1');
    await link.flushHeld();
    expect(server.received).toEqual(['POST /v1/batches a', 'POST /v1/batches held']);
    link.load([{ kind: 'drop-request' }]);
    await expect(post('b')).rejects.toMatchObject({ code: 'SYNC_UNAVAILABLE' });
    expect(link.stats.faults['drop-request']).toBe(1);
  });
});

/** A hand-written case: two outlets, every fault kind on the first link, a shift close on the second. */
const EVERY_FAULT: SimCase = {
  outlets: [
    {
      // Each fault ends its run, and what it left unacknowledged is sent again by the next run.
      chunks: [4, 3, 2, 0, 1, 0, 0, 0].map((vends, index) => ({
        vends,
        closeShift: index === 1,
        sync: true,
        forceSeal: index % 2 === 0,
      })),
      faults: [
        { kind: 'server-crash' },
        { kind: 'duplicate', answer: 'second' },
        { kind: 'delay', afterSends: 1, before: false },
        { kind: 'drop-response' },
        { kind: 'client-crash', delivered: true },
        { kind: 'server-error' },
        { kind: 'drop-request' },
      ],
    },
    {
      chunks: [
        { vends: 5, closeShift: true, sync: false, forceSeal: false },
        { vends: 1, closeShift: false, sync: true, forceSeal: true },
      ],
      faults: [{ kind: 'drop-response' }, null, { kind: 'duplicate', answer: 'first' }],
    },
  ],
  turns: [1, 0, 0, 1],
};

describe.each([
  { backend: 'pglite' as const, runs: PGLITE_RUNS },
  { backend: 'postgresql' as const, runs: POSTGRESQL_RUNS },
])('sync simulation on $backend', ({ backend, runs }) => {
  let simulation: SyncSimulation;
  beforeAll(async () => {
    simulation = await SyncSimulation.create(backend);
  }, BACKEND_START_MS);
  afterAll(async () => {
    await simulation?.close();
  });

  it('a server crash before COMMIT rolls the whole transaction back; other queries go through', async () => {
    let crashes = 0;
    const crashing = crashBeforeCommit(simulation.backend.database, () => crashes++);
    const code = `CRASH-${backend}`;
    const write = crashing.db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO utility (code, name) VALUES (${code}, 'crash test')`);
    });
    await expect(write).rejects.toBeInstanceOf(ServerCrashBeforeCommit);
    expect(crashes).toBe(1);
    const rows = await queryRows(crashing.db, sql`SELECT 1 FROM utility WHERE code = ${code}`);
    expect(rows).toEqual([]);
  });

  it('a hand-written case with every fault converges, and the checker finds tampering on the server', async () => {
    const before = structuredClone(simulation.stats.link.faults);
    const devices: CaseDevice[] = await simulation.runCase(EVERY_FAULT);
    for (const kind of FAULT_KINDS)
      expect(simulation.stats.link.faults[kind], kind).toBeGreaterThan(before[kind]);
    expect(await simulation.checkCase(devices)).toEqual([]);
    const [first] = devices;
    const db = simulation.db;
    try {
      // A lost event, another whose amount changed, and a batch linked to the wrong predecessor.
      await db.execute(sql`UPDATE event SET event_seq = event_seq + 1000000 WHERE id = (SELECT min(id) FROM event
        WHERE device_id = ${first!.deviceId} AND event_seq > ${first!.outboxMark})`);
      await db.execute(sql`UPDATE event SET payload = jsonb_set(payload, '{result,breakdown,tenderMinor}', '1')
        WHERE id = (SELECT max(id) FROM event WHERE device_id = ${first!.deviceId} AND type = 'sale.sale')`);
      await db.execute(sql`UPDATE batch SET prev_hash = ${'f'.repeat(64)}
        WHERE device_id = ${devices[1]!.deviceId} AND seq = (SELECT max(seq) FROM batch WHERE device_id = ${devices[1]!.deviceId})`);
      const problems = (await simulation.checkCase(devices)).join('\n');
      expect(problems).toMatch(new RegExp(`device ${first!.deviceId}: events lost \\(outbox seq\\): \\d+`));
      expect(problems).toMatch(/server events not made in this case: 100000\d/);
      expect(problems).toMatch(/events differ from the outbox/);
      expect(problems).toMatch(/hash does not match its header and events/);
      expect(problems).toMatch(/server sales .* ≠ outlet sales/);
      expect(problems).toMatch(
        new RegExp(`device ${devices[1]!.deviceId}: batch \\d+: previous hash is not the previous batch`),
      );
    } finally {
      simulation.discardOutlets();
    }
  }, 120_000);

  it(`${runs} generated cases: no loss, no duplicate, chains verify, totals match`, async () => {
    const started = performance.now();
    const before = structuredClone(simulation.stats);
    let failed = false;
    await fc.assert(
      fc.asyncProperty(simCaseArbitrary, async (simCase) => {
        try {
          await simulation.runCase(simCase);
        } catch (error) {
          // Shrinking replays cases on fresh outlets and can outlast the timeout: the first failure, now.
          if (!failed) console.error(`seed ${SEED}, first failing case: ${fc.stringify(simCase)}\n${error}`);
          failed = true;
          throw error;
        }
      }),
      {
        numRuns: runs,
        seed: SEED,
      },
    );
    const { stats } = simulation;
    console.log(`sync simulation (${backend}):\n${formatStats(stats, performance.now() - started)}`);
    expect(stats.cases - before.cases).toBe(runs);
    // The run did meet the faults it is about (with these seeds: checked, not assumed).
    for (const kind of FAULT_KINDS)
      expect(stats.link.faults[kind] - before.link.faults[kind], kind).toBeGreaterThan(0);
    expect(stats.rolledBack).toBeGreaterThan(before.rolledBack);
    expect(stats.clientCrashes).toBeGreaterThan(before.clientCrashes);
    expect(stats.serverEvents).toBeGreaterThan(before.serverEvents);
  }, 1_800_000);
});

describe('a failed case', () => {
  it('is reported with every broken invariant', () => {
    const failure = new SimulationFailure([
      'device a: events lost (outbox seq): 3',
      'device b: 1 events stored twice',
    ]);
    expect(failure.message).toBe(
      'sync simulation: 2 invariant(s) broken:\n- device a: events lost (outbox seq): 3\n- device b: 1 events stored twice',
    );
  });
});
