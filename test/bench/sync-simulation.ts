/**
 * Nightly-style sync simulation: many fast-check cases of outlets syncing through a faulty link (the model is
 * test/support/sync-simulation.ts, the same as the CI test's), on PGlite in memory or the real PostgreSQL.
 *
 *   npm run sim:sync                                   # 10,000 cases, PGlite, a random seed (printed)
 *   npm run sim:sync -- --runs 500 --seed 1234 --backend postgresql
 *
 * Prints progress and a summary (cases, faults injected by kind, duration); on a broken invariant, the seed,
 * the path and the shrunk case to replay it, and exits 1.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { formatStats, SyncSimulation, simCaseArbitrary } from '../support/sync-simulation.ts';
import type { BackendName } from '../sync-server/support.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    backend: { type: 'string', default: 'pglite' },
  },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const backend = values.backend as BackendName;
if (
  !Number.isSafeInteger(runs) ||
  runs < 1 ||
  !Number.isSafeInteger(seed) ||
  !['pglite', 'postgresql'].includes(backend)
) {
  console.error('usage: sync-simulation.ts [--runs N] [--seed S] [--backend pglite|postgresql]');
  process.exit(2);
}

async function main(): Promise<number> {
  console.log(`sync simulation: ${runs} cases, seed ${seed}, ${backend}`);
  const simulation = await SyncSimulation.create(backend);
  const started = performance.now();
  const every = Math.max(1, Math.round(runs / 20));
  let exitCode = 0;
  try {
    const result = await fc.check(
      fc.asyncProperty(simCaseArbitrary, async (simCase) => {
        await simulation.runCase(simCase);
        const done = simulation.stats.cases;
        if (done % every === 0) {
          const seconds = (performance.now() - started) / 1000;
          console.log(
            `  ${done}/${runs} cases, ${seconds.toFixed(0)} s, ${simulation.stats.link.requests} requests`,
          );
        }
      }),
      { numRuns: runs, seed },
    );
    if (result.failed) {
      console.error(fc.defaultReportMessage(result));
      exitCode = 1;
    }
  } finally {
    console.log(formatStats(simulation.stats, performance.now() - started));
    await simulation.close();
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
