import type Database from 'better-sqlite3';
import { closeShift } from '../../../src-main/engine/shifts.ts';
import { enrollOutlet } from '../../../src-main/sync/enroll.ts';
import type { SyncTransport } from '../../../src-main/sync/transport.ts';
import { createEngineFixture, deterministicVend, type EngineFixture } from '../../support/engine-fixture.ts';
import { seedOutlet } from '../../sync-server/support.ts';

/** A demo outlet (engine fixture) with its engine open; vends and closes shifts through the real engine. */
export function outletFixture(now: Date) {
  const fixture: EngineFixture = createEngineFixture({ now });
  const open = fixture.open(() => new Date(now.getTime()));
  let n = 0;
  return {
    fixture,
    sqlite: open.engine.sqlite as Database.Database,
    vend(count = 1) {
      for (let i = 0; i < count; i++) {
        open.engine.vend(fixture.sessions.cashier, deterministicVend('sync', ++n, fixture.vendableMeters));
      }
    },
    closeShift() {
      return closeShift(open.engine, fixture.sessions.cashier, 0, now);
    },
    outboxCount: () =>
      (open.engine.sqlite.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n,
    cleanup: () => fixture.cleanup(),
  };
}

export type OutletFixture = ReturnType<typeof outletFixture>;

/** Enrolls the outlet with a server reached in-process (plain-HTTP identity: no certificate to pin). */
export async function enrollInProcess(
  outlet: OutletFixture,
  db: Parameters<typeof seedOutlet>[0],
  transport: SyncTransport,
  now: Date,
  options: { replace?: boolean } = {},
) {
  const { code } = await seedOutlet(db);
  return enrollOutlet(outlet.sqlite, outlet.fixture.kek, {
    serverUrl: 'http://sync.test',
    code,
    insecureHttp: true,
    now,
    transportFor: () => transport,
    ...(options.replace ? { replace: true } : {}),
  });
}
