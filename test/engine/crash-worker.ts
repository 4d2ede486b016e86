// Crash-test worker: boots, waits for "go" on stdin (so the parent can start it while it still checks the
// previous crash), opens the engine once and vends continuously until the parent kills it (SIGKILL).
// Before each vend it prints the request id ("try ID"), after it "done ID RECEIPT", so the parent knows
// that every id before the last one committed and the last one may or may not have.
// PAUSE_MS (optional) idles between sales, as a till does while the cashier hands over the receipt; it
// widens the window in which a kill finds the last attempted sale already committed.
// Usage: node crash-worker.cjs DATA_DIR KEK_HEX RUN_TAG CLOCK_ISO [PAUSE_MS]   (bundled; no top-level await)
import { writeSync } from 'node:fs';
import { openEngine } from '../../src-main/engine/open-engine.ts';
import { demoVendableMeters, deterministicVend, fixedClock, sessionOf } from '../support/engine-fixture.ts';

const [dataDir, kekHex, runTag, clockIso, pauseText] = process.argv.slice(2);
const pauseMs = Number(pauseText ?? 0);
const idle = new Int32Array(new SharedArrayBuffer(4));
const print = (line: string) => writeSync(1, `${line}\n`);

function vendUntilKilled(): void {
  try {
    const kek = Buffer.from(kekHex!, 'hex');
    const { engine, ledger } = openEngine(dataDir!, {
      kek: { description: 'crash test KEK', load: () => kek },
      clock: fixedClock(new Date(clockIso!)),
    });
    // No password check here: scrypt would cost ~50 ms per start; the engine tests cover authentication.
    const session = sessionOf(ledger.sqlite, 'cashier');
    const meters = demoVendableMeters();
    // Warm up with read-only quotes (EA07 and EA11 meters), so kills do not all land in the first, cold vend.
    for (const n of [0, 1, 18]) {
      const { meterNumber, tenderMinor } = deterministicVend(runTag!, n, meters);
      engine.quote(session, meterNumber, tenderMinor);
    }
    print('ready');
    // Bounded, so a worker the parent fails to kill still ends.
    for (let n = 0; n < 100_000; n++) {
      const request = deterministicVend(runTag!, n, meters);
      print(`try ${request.requestId}`);
      const result = engine.vend(session, request);
      print(`done ${request.requestId} ${result.receiptNo}`);
      if (pauseMs > 0) Atomics.wait(idle, 0, 0, pauseMs);
    }
    print('finished');
    process.exit(0);
  } catch (error) {
    print(
      `error ${JSON.stringify({ message: (error as Error).message, code: (error as { code?: string }).code })}`,
    );
    process.exit(1);
  }
}

if (!dataDir || !kekHex || !runTag || !clockIso) {
  writeSync(2, 'usage: crash-worker DATA_DIR KEK_HEX RUN_TAG CLOCK_ISO [PAUSE_MS]\n');
  process.exit(2);
}
process.stdin.setEncoding('utf8');
process.stdin.once('data', vendUntilKilled);
print('booted');
