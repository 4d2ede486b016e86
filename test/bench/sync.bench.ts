// npm run bench:sync — sync ingestion figures on loopback, PostgreSQL. Prints them next to the floor; asserts
// nothing (tests do that). Each server instance runs in its own process (this file with `--serve <url>`), so
// the load generator and the servers do not share an event loop. The run creates and drops its own database.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { APP_VERSION } from '../../src-main/app-version.ts';
import { SyncApi } from '../../src-main/sync/api.ts';
import { createTransport } from '../../src-main/sync/transport.ts';
import type { UploadRequest } from '../../src-shared/sync/protocol.ts';
import { buildSyncServer } from '../../sync-server/app.ts';
import { SERVER_MIGRATIONS } from '../../sync-server/db/bundled.ts';
import { openServerDatabase } from '../../sync-server/db/database.ts';
import { migrateServerDatabase } from '../../sync-server/db/migrator.ts';
import {
  chainOfBatches,
  DATABASE_URL,
  enrollPayload,
  newDeviceKey,
  seedOutlet,
  type TestDevice,
} from '../sync-server/support.ts';

const OUTLETS = 8;
const BATCHES_PER_OUTLET = 40;
const WARM_UP_BATCHES = 3;
const EVENTS_PER_BATCH = 100;
const FLOOR_EVENTS_PER_S = 2_000;
const FLOOR_P99_MS = 250;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Child mode: one server instance on its own port; prints the port, runs until killed. */
async function serve(url: string) {
  const database = await openServerDatabase({ databaseUrl: url, poolSize: 8 });
  const server = buildSyncServer({ database, logger: false, tls: null, fingerprint: null });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  say(JSON.stringify({ port: (server.app.server.address() as { port: number }).port }));
}

function startInstance(url: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server instance exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
  });
}

const quantile = (sortedValues: number[], q: number) =>
  sortedValues[Math.min(sortedValues.length - 1, Math.floor(q * sortedValues.length))]!;

async function run(instances: number, url: string) {
  const servers = await Promise.all(Array.from({ length: instances }, () => startInstance(url)));
  const apis = servers.map(
    ({ port }) =>
      new SyncApi(
        createTransport({ serverUrl: `http://127.0.0.1:${port}`, certificatePem: null, fingerprint: null }),
      ),
  );
  const admin = await openServerDatabase({ databaseUrl: url, poolSize: 2 });
  try {
    // Fresh outlets for each run, enrolled through the real route; every outlet talks to one instance.
    const outlets: Array<{ device: TestDevice; api: SyncApi; chain: UploadRequest[] }> = [];
    for (let i = 0; i < OUTLETS; i++) {
      const { code } = await seedOutlet(admin.db, `BENCH-${instances}-${i}`, new Date());
      const key = newDeviceKey();
      const api = apis[i % apis.length]!;
      const enrolled = await api.enroll(enrollPayload(code, key));
      const device = { deviceId: enrolled.deviceId, ...key };
      outlets.push({
        device,
        api,
        chain: chainOfBatches(device, WARM_UP_BATCHES + BATCHES_PER_OUTLET, EVENTS_PER_BATCH),
      });
    }
    await Promise.all(
      outlets.map(async (o) => {
        for (const request of o.chain.slice(0, WARM_UP_BATCHES)) await o.api.upload(o.device, request);
      }),
    );
    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(
      outlets.map(async (o) => {
        for (const request of o.chain.slice(WARM_UP_BATCHES)) {
          const sent = performance.now();
          const response = await o.api.upload(o.device, request);
          latencies.push(performance.now() - sent);
          if (response.status !== 'applied')
            throw new Error(`batch ${request.batch.seq}: ${response.status}`);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const [stored] = (
      (await admin.db.execute(sql`SELECT count(*)::int AS n FROM event`)) as unknown as {
        rows: { n: number }[];
      }
    ).rows;
    return {
      eventsPerSecond: (OUTLETS * BATCHES_PER_OUTLET * EVENTS_PER_BATCH) / seconds,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      stored: stored!.n,
    };
  } finally {
    for (const api of apis) api.close();
    for (const { child } of servers) {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
    }
    await admin.close();
  }
}

async function main() {
  const serveAt = process.argv.indexOf('--serve');
  if (serveAt >= 0) return serve(process.argv[serveAt + 1]!);

  const dbName = `ovbench_${randomBytes(6).toString('hex')}`;
  const root = await openServerDatabase({ databaseUrl: DATABASE_URL, poolSize: 1 });
  const url = new URL(DATABASE_URL);
  url.pathname = `/${dbName}`;
  say(
    `OpenVend sync ingestion benchmark — node ${process.version}, ${cpus().length} CPU(s), PostgreSQL ${url.host}, ` +
      `${OUTLETS} outlets × ${BATCHES_PER_OUTLET} batches × ${EVENTS_PER_BATCH} events (after ${WARM_UP_BATCHES} warm-up batches each)`,
  );
  await root.db.execute(sql.raw(`CREATE DATABASE ${dbName}`));
  try {
    const migrated = await openServerDatabase({ databaseUrl: url.toString(), poolSize: 1 });
    await migrateServerDatabase(migrated.db, SERVER_MIGRATIONS, APP_VERSION);
    await migrated.close();
    let expected = 0;
    for (const instances of [1, 2]) {
      const r = await run(instances, url.toString());
      expected += OUTLETS * (WARM_UP_BATCHES + BATCHES_PER_OUTLET) * EVENTS_PER_BATCH;
      // sampleEvents makes 9 sales and 1 float top-up in every 10 events: the floor counts vend events.
      const vendsPerSecond = r.eventsPerSecond * 0.9;
      const ok = vendsPerSecond >= FLOOR_EVENTS_PER_S && r.p99 < FLOOR_P99_MS;
      say(
        `${instances} instance${instances > 1 ? 's' : ' '}: ${Math.round(r.eventsPerSecond)} events/s ` +
          `(${Math.round(vendsPerSecond)} vend events/s), ` +
          `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms per ${EVENTS_PER_BATCH}-event batch ` +
          `(floor ≥ ${FLOOR_EVENTS_PER_S}/s, p99 < ${FLOOR_P99_MS} ms: ${ok ? 'meets' : 'MISSES'}); ` +
          `server holds ${r.stored} events`,
      );
      if (r.stored !== expected) say(`  WARNING: expected ${expected} stored events`);
    }
  } finally {
    await root.db.execute(sql.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    await root.close();
  }
}

await main();
