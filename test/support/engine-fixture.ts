import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { verifyAuditChain } from '../../src-main/engine/audit-log.ts';
import { DEMO_OPERATORS, demoPan, seedDemo } from '../../src-main/engine/demo.ts';
import { FLOAT_TOP_UP_KIND, moveFloat } from '../../src-main/engine/float.ts';
import { addOperator } from '../../src-main/engine/master-data.ts';
import { type OpenEngine, openEngine } from '../../src-main/engine/open-engine.ts';
import { authenticate, type OperatorSession } from '../../src-main/engine/operators.ts';
import { openShift } from '../../src-main/engine/shifts.ts';
import type { Clock, VendRequest } from '../../src-main/engine/vend-engine.ts';
import { openLedger } from '../../src-main/ledger/database.ts';
import { createDecoderKeyDeriver, type DecoderKeyDeriver } from '../../src-shared/sts/decoder-key.ts';
import type { DecoderKeyAlgorithm, EncryptionAlgorithm, KeyType } from '../../src-shared/sts/identifiers.ts';
import { decoderKeyCheckValue, vendingKeyCheckValue } from '../../src-shared/sts/key-check-value.ts';
import { type IinLength, parseMeterPan } from '../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../src-shared/sts/secret-key.ts';
import type { BaseDate } from '../../src-shared/sts/tid.ts';
import { VirtualMeter } from '../../src-shared/sts/virtual-meter.ts';
import type { Role } from '../../src-shared/vending/roles.ts';

/**
 * Engine test fixture: a demo outlet (`seedDemo`) in a fresh temporary data directory, sealed with a fixed
 * KEK, with a large float, a second cashier, and sessions logged in through the real `authenticate`.
 * Also: the demo vending keys (public test values) so tests can build an independent VirtualMeter per meter,
 * a deterministic request scheme shared by the crash and concurrency workers, and row counters.
 */

/** 10:00 in Africa/Johannesburg (the demo utility's zone); TIDs are per local minute. */
export const FIXED_NOW = new Date('2026-03-10T08:00:00Z');
export const TEST_KEK_HEX = '5e6f0123456789abcdeffedcba98765432100123456789abcdeffedcba987654';
export const TEST_KEK = (): Buffer => Buffer.from(TEST_KEK_HEX, 'hex');
/** Float after the fixture's top-up: R 100 million, enough for any test or benchmark here. */
export const FIXTURE_FLOAT_MINOR = 10_000_000_000;

export const fixedClock =
  (at: Date = FIXED_NOW): Clock =>
  () =>
    new Date(at.getTime());

/** The demo supply groups' vending keys, as seeded by `seedDemo` in src-main/engine/demo.ts (public test keys). */
export const DEMO_VENDING_KEYS: ReadonlyArray<{
  dkga: DecoderKeyAlgorithm;
  sgc: string;
  krn: number;
  hex: string;
}> = [
  { dkga: 'DKGA02', sgc: '123456', krn: 1, hex: 'abababababababab' },
  { dkga: 'DKGA02', sgc: '123456', krn: 2, hex: 'cdcdcdcdcdcdcdcd' },
  { dkga: 'DKGA04', sgc: '123457', krn: 1, hex: 'abababababababab949494949494949401234567' },
];

const derivers = new Map<string, DecoderKeyDeriver>();

/** An independent decoder key deriver for a demo supply group key, built from the hex above. */
export function demoDeriver(dkga: DecoderKeyAlgorithm, sgc: string, krn: number): DecoderKeyDeriver {
  const id = `${dkga}/${sgc}/${krn}`;
  let deriver = derivers.get(id);
  if (!deriver) {
    const entry = DEMO_VENDING_KEYS.find((k) => k.dkga === dkga && k.sgc === sgc && k.krn === krn);
    if (!entry) throw new Error(`no demo vending key ${id}`);
    deriver = createDecoderKeyDeriver(dkga, SecretKey.fromHex(entry.hex, 'demo vending key'));
    derivers.set(id, deriver);
  }
  return deriver;
}

/** Check values of the demo keys, to prove the ledger holds the same keys as DEMO_VENDING_KEYS. */
export const demoVendingKeyCheckValues = () =>
  DEMO_VENDING_KEYS.map((k) => ({
    dkga: k.dkga,
    sgc: k.sgc,
    krn: k.krn,
    kcv: vendingKeyCheckValue(SecretKey.fromHex(k.hex, 'demo vending key'), k.dkga),
  }));

/** A meter's key data as stored in the ledger (read it before vending: a sale moves a pending key change in). */
export interface MeterKeyRow {
  id: number;
  pan: string;
  meterNo: string;
  iinLength: IinLength;
  sgc: string;
  ti: number;
  krn: number;
  keyType: KeyType;
  ea: EncryptionAlgorithm;
  dkga: DecoderKeyAlgorithm;
  baseDate: BaseDate;
  ken: number;
  pendingSgc: string | null;
  pendingTi: number | null;
  pendingKrn: number | null;
  pendingBaseDate: BaseDate | null;
}

export function readMeterKeys(sqlite: Database.Database): Map<string, MeterKeyRow> {
  const rows = sqlite
    .prepare(
      `SELECT id, pan, meter_no AS meterNo, iin_length AS iinLength, sgc, ti, krn, key_type AS keyType, ea, dkga,
        base_date AS baseDate, ken, pending_sgc AS pendingSgc, pending_ti AS pendingTi, pending_krn AS pendingKrn,
        pending_base_date AS pendingBaseDate
       FROM meter ORDER BY id`,
    )
    .all() as MeterKeyRow[];
  return new Map(rows.map((row) => [row.meterNo, row]));
}

/** The decoder key the meter holds for the given key data, derived independently of the engine. */
export function expectedDecoderKey(
  row: MeterKeyRow,
  key: Partial<Pick<MeterKeyRow, 'sgc' | 'ti' | 'krn'>> = {},
) {
  const sgc = key.sgc ?? row.sgc;
  const krn = key.krn ?? row.krn;
  return demoDeriver(row.dkga, sgc, krn).derive({
    pan: parseMeterPan(row.pan, row.iinLength),
    keyType: row.keyType,
    sgc,
    ti: key.ti ?? row.ti,
    krn,
    baseDate: row.baseDate,
    ea: row.ea,
  });
}

/** The check value of the decoder key the meter should hold after its pending key change. */
export function pendingDecoderKeyKcv(row: MeterKeyRow): string {
  const key = demoDeriver(row.dkga, row.pendingSgc ?? row.sgc, row.pendingKrn ?? row.krn).derive({
    pan: parseMeterPan(row.pan, row.iinLength),
    keyType: row.keyType,
    sgc: row.pendingSgc ?? row.sgc,
    ti: row.pendingTi ?? row.ti,
    krn: row.pendingKrn ?? row.krn,
    baseDate: row.pendingBaseDate ?? row.baseDate,
    ea: row.ea,
  });
  return decoderKeyCheckValue(key, row.ea);
}

/**
 * A simulated meter in the state the ledger row describes; a pending base-date move is announced with
 * `expectBaseDate`, as a field technician's meter would know it from its firmware.
 */
export function virtualMeterFor(row: MeterKeyRow): VirtualMeter {
  const meter = new VirtualMeter({
    pan: parseMeterPan(row.pan, row.iinLength),
    decoderKey: expectedDecoderKey(row),
    ea: row.ea,
    baseDate: row.baseDate,
    ken: row.ken,
    krn: row.krn,
    keyType: row.keyType,
    ti: row.ti,
    sgc: row.sgc,
  });
  if (row.pendingBaseDate !== null && row.pendingBaseDate > row.baseDate)
    meter.expectBaseDate(row.pendingBaseDate);
  return meter;
}

export interface OperatorSessions {
  cashier: OperatorSession;
  cashier2: OperatorSession;
  supervisor: OperatorSession;
  engineer: OperatorSession;
  admin: OperatorSession;
}

export const CASHIER2 = {
  username: 'cashier2',
  displayName: 'Zanele Cashier',
  role: 'cashier' as Role,
  password: 'demo-cashier2-pass',
};

/** A session for a known operator, read from the ledger without a password (worker processes only). */
export function sessionOf(sqlite: Database.Database, username: string): OperatorSession {
  const row = sqlite
    .prepare('SELECT id, username, display_name AS displayName, role FROM operator WHERE username = ?')
    .get(username) as OperatorSession | undefined;
  if (!row) throw new Error(`no operator ${username}`);
  return row;
}

export interface EngineFixture {
  dataDir: string;
  kek: Buffer;
  now: Date;
  /** Opens another engine on the fixture's ledger (fixed clock at `now` unless given); closed by cleanup. */
  open(clock?: Clock): OpenEngine;
  sessions: OperatorSessions;
  /** The 24 demo meter numbers (12 digits as printed), meter n at index n − 1. */
  meterNumbers: string[];
  /** Demo meter 7: blocked. */
  blockedMeter: string;
  /** Demo meter 3: TID roll-over key change pending (base 1993 → 2014, KRN 1 → 2). */
  keyChangeMeter: string;
  /** Every meter that can be vended (all but the blocked one). */
  vendableMeters: string[];
  cleanup(): void;
}

export interface FixtureOptions {
  /** Seeding time and the default engine clock; FIXED_NOW unless given. */
  now?: Date;
  /** Where to create the data directory (a fresh temporary directory under os.tmpdir() by default). */
  dataDir?: string;
  floatMinor?: number;
  /** Operators whose shift is opened at `now`; ['cashier'] unless given. */
  openShiftsFor?: Array<keyof OperatorSessions>;
}

export function createEngineFixture(options: FixtureOptions = {}): EngineFixture {
  const now = options.now ?? FIXED_NOW;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'openvend-engine-test-'));
  const kek = TEST_KEK();
  const ledger = openLedger(dataDir);
  let meterNumbers: string[];
  let sessions: OperatorSessions;
  try {
    const sqlite = ledger.sqlite;
    meterNumbers = seedDemo(sqlite, kek, now).meters.map((pan) => pan.slice(6));
    addOperator(sqlite, CASHIER2, null, now);
    topUpFloat(sqlite, (options.floatMinor ?? FIXTURE_FLOAT_MINOR) - currentFloat(sqlite), now);
    const login = (username: string) => {
      const password =
        username === CASHIER2.username
          ? CASHIER2.password
          : DEMO_OPERATORS.find((o) => o.username === username)!.password;
      return authenticate(sqlite, username, password, now);
    };
    sessions = {
      cashier: login('cashier'),
      cashier2: login('cashier2'),
      supervisor: login('super'),
      engineer: login('engineer'),
      admin: login('admin'),
    };
  } finally {
    ledger.close();
  }
  const opened: OpenEngine[] = [];
  const open = (clock: Clock = fixedClock(now)): OpenEngine => {
    const engine = openEngine(dataDir, { kek: { description: 'test KEK', load: () => kek }, clock });
    opened.push(engine);
    return engine;
  };
  const shifts = options.openShiftsFor ?? ['cashier'];
  if (shifts.length > 0) {
    const { engine } = open();
    for (const who of shifts) openShift(engine, sessions[who], now);
  }
  return {
    dataDir,
    kek,
    now,
    open,
    sessions,
    meterNumbers,
    blockedMeter: meterNumbers[6]!,
    keyChangeMeter: meterNumbers[2]!,
    vendableMeters: meterNumbers.filter((_, index) => index !== 6),
    cleanup() {
      for (const engine of opened) if (engine.ledger.sqlite.open) engine.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function currentFloat(sqlite: Database.Database): number {
  return (sqlite.prepare('SELECT float_balance_minor AS f FROM outlet WHERE id = 1').get() as { f: number })
    .f;
}

/** A float top-up as head office would record it: the outlet balance and a float movement, in one transaction. */
export function topUpFloat(sqlite: Database.Database, amountMinor: number, at: Date): void {
  if (amountMinor === 0) return;
  sqlite.transaction(() => {
    moveFloat(sqlite, { now: at, kind: FLOAT_TOP_UP_KIND, amountMinor, reference: 'test fixture top-up' });
  })();
}

/** Rows of every table a sale writes, plus the money state, to prove that a failure wrote nothing. */
export function ledgerState(sqlite: Database.Database) {
  const count = (table: string) =>
    (sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const outlet = sqlite
    .prepare(
      'SELECT float_balance_minor AS floatMinor, authority_used_minor AS authorityUsedMinor FROM outlet WHERE id = 1',
    )
    .get() as { floatMinor: number; authorityUsedMinor: number };
  const counters = sqlite.prepare('SELECT name, value FROM counter ORDER BY name').all();
  const meters = sqlite
    .prepare(
      'SELECT id, krn, base_date, pending_krn, last_tid, mtd_units, fbe_last_month, last_purchase_at FROM meter ORDER BY id',
    )
    .all();
  const debts = sqlite.prepare('SELECT id, balance_minor FROM debt ORDER BY id').all();
  return {
    sale: count('sale'),
    sale_line: count('sale_line'),
    token: count('token'),
    audit_log: count('audit_log'),
    outbox: count('outbox'),
    float_movement: count('float_movement'),
    ...outlet,
    counters,
    meters,
    debts,
  };
}

const rows = <T>(sqlite: Database.Database, sql: string) => sqlite.prepare(sql).all() as T[];
const row = <T>(sqlite: Database.Database, sql: string) => sqlite.prepare(sql).get() as T;

/**
 * Every invariant a committed ledger keeps, whatever moment a process died at or however two engines
 * interleaved; returns what is wrong (an empty list when all is well). For ledgers made by this fixture
 * (the float starts at FIXTURE_FLOAT_MINOR, and sales are the only float movements after the top-up).
 */
export function ledgerProblems(sqlite: Database.Database): string[] {
  const problems: string[] = [];
  const expectNone = (what: string, found: unknown[]) => {
    if (found.length > 0) problems.push(`${what}: ${JSON.stringify(found.slice(0, 5))}`);
  };
  // Receipt numbers 1..N, no gap, no duplicate, and the counter agrees.
  const receipts = row<{
    n: number;
    lo: number | null;
    hi: number | null;
    distinct: number;
    counter: number;
  }>(
    sqlite,
    `SELECT COUNT(*) AS n, MIN(receipt_no) AS lo, MAX(receipt_no) AS hi, COUNT(DISTINCT receipt_no) AS "distinct",
       (SELECT value FROM counter WHERE name = 'receipt') AS counter FROM sale`,
  );
  const { n } = receipts;
  if (
    n > 0
      ? receipts.lo !== 1 || receipts.hi !== n || receipts.distinct !== n || receipts.counter !== n
      : receipts.counter !== 0
  )
    problems.push(`receipt numbers are not 1..${n}: ${JSON.stringify(receipts)}`);
  // Every sale has its tokens (seq 1..k, exactly one credit token) ...
  expectNone(
    'sales without their tokens',
    rows(
      sqlite,
      `SELECT s.receipt_no FROM sale s LEFT JOIN token t ON t.sale_id = s.id GROUP BY s.id
       HAVING COUNT(t.id) = 0 OR MIN(t.seq) <> 1 OR MAX(t.seq) <> COUNT(t.id) OR SUM(t.kind = 'credit') <> 1`,
    ),
  );
  // ... money columns that add up to the tender (charges net; VAT of charges and energy together), and
  // exactly one float movement, of the money taken ...
  expectNone(
    'sales whose money does not add up or whose float movement is wrong',
    rows(
      sqlite,
      `SELECT s.receipt_no FROM sale s
       LEFT JOIN (SELECT sale_id, COUNT(*) AS n, SUM(amount_minor) AS amount FROM float_movement WHERE sale_id IS NOT NULL GROUP BY sale_id) f
         ON f.sale_id = s.id
       WHERE s.charges_minor + s.debt_minor + s.levies_minor + s.vat_minor + s.energy_minor + s.change_minor <> s.tender_minor
         OR f.n IS NOT 1 OR f.amount <> s.change_minor - s.tender_minor`,
    ),
  );
  // ... and exactly one audit entry and one outbox event; none exists for a sale that did not commit.
  const sales = JSON.stringify(
    rows(sqlite, 'SELECT receipt_no AS receiptNo, request_id AS requestId FROM sale ORDER BY receipt_no'),
  );
  const audited = rows<{ receiptNo: number }>(
    sqlite,
    "SELECT CAST(entity_id AS INTEGER) AS receiptNo FROM audit_log WHERE action = 'sale.sale' ORDER BY receiptNo",
  );
  if (
    JSON.stringify(audited) !==
    JSON.stringify(JSON.parse(sales).map(({ receiptNo }: { receiptNo: number }) => ({ receiptNo })))
  )
    problems.push('audit entries do not match the sales one to one');
  const events = rows(
    sqlite,
    `SELECT json_extract(payload_json, '$.receiptNo') AS receiptNo, json_extract(payload_json, '$.requestId') AS requestId
     FROM outbox WHERE event_type = 'sale.sale' ORDER BY receiptNo`,
  );
  if (JSON.stringify(events) !== sales) problems.push('outbox events do not match the sales one to one');
  // No TID repeats for a meter, TIDs rise in sale order, and each meter's last TID is its newest token's.
  expectNone(
    'repeated TIDs',
    rows(
      sqlite,
      'SELECT meter_id, tid FROM token WHERE tid IS NOT NULL GROUP BY meter_id, tid HAVING COUNT(*) > 1',
    ),
  );
  expectNone(
    'TIDs not rising in sale order',
    rows(
      sqlite,
      `SELECT meter_id, tid, prev FROM (
         SELECT t.meter_id, t.tid, LAG(t.tid) OVER (PARTITION BY t.meter_id ORDER BY s.receipt_no, t.seq) AS prev
         FROM token t JOIN sale s ON s.id = t.sale_id WHERE t.tid IS NOT NULL)
       WHERE prev IS NOT NULL AND tid <= prev`,
    ),
  );
  expectNone(
    "meters whose last TID is not their newest token's",
    rows(
      sqlite,
      'SELECT id FROM meter m WHERE m.last_tid IS NOT (SELECT MAX(tid) FROM token t WHERE t.meter_id = m.id)',
    ),
  );
  // A pending key change is issued once (2 KCTs for a 64-bit key), together with the move to the new key.
  expectNone(
    'key changes issued other than once',
    rows(
      sqlite,
      `SELECT m.id, m.krn, m.pending_krn, (SELECT COUNT(*) FROM token t WHERE t.meter_id = m.id AND t.kind = 'key-change') AS kcts
       FROM meter m WHERE NOT ((m.pending_krn IS NULL AND kcts IN (0, 2)) OR (m.pending_krn IS NOT NULL AND kcts = 0))`,
    ),
  );
  // Float and vending authority match the committed sales exactly.
  const money = row<{ float: number; authority: number; taken: number; credit: number; last: number }>(
    sqlite,
    `SELECT o.float_balance_minor AS float, o.authority_used_minor AS authority,
       (SELECT COALESCE(SUM(tender_minor - change_minor), 0) FROM sale) AS taken,
       (SELECT COALESCE(SUM(s.tender_minor - s.change_minor - s.debt_minor), 0) FROM sale s)
         - (SELECT COALESCE(SUM(l.amount_minor + l.vat_minor), 0) FROM sale_line l WHERE l.kind = 'fixed-charge') AS credit,
       (SELECT balance_after_minor FROM float_movement ORDER BY id DESC LIMIT 1) AS last
     FROM outlet o`,
  );
  if (money.float !== FIXTURE_FLOAT_MINOR - money.taken || money.last !== money.float)
    problems.push(
      `float ${money.float} (last movement ${money.last}) ≠ ${FIXTURE_FLOAT_MINOR} − ${money.taken} taken`,
    );
  if (money.authority !== money.credit)
    problems.push(`vending authority used ${money.authority} ≠ credit value sold ${money.credit}`);
  // The hash chain is unbroken.
  const audit = verifyAuditChain(sqlite);
  if (!audit.ok) problems.push(`audit chain: ${JSON.stringify(audit.problems.slice(0, 5))}`);
  return problems;
}

/** Tenders of the deterministic scheme: R 50.00 to R 500.00, always above every demo meter's charges and debt. */
export const deterministicTender = (n: number): number => 5_000 + ((n * 7_919) % 46) * 1_000;

/**
 * The deterministic vend of step `n` of a run: a request id that names the run and the step, a meter
 * (round robin over the vendable meters) and a tender. Workers print the id before vending, so the parent
 * can rebuild the exact request (and its fingerprint) to replay it.
 */
export function deterministicVend(runTag: string, n: number, vendableMeters: readonly string[]): VendRequest {
  return {
    requestId: `${runTag}-${String(n).padStart(6, '0')}`,
    meterNumber: vendableMeters[n % vendableMeters.length]!,
    tenderMinor: deterministicTender(n),
  };
}

/** Demo meter numbers without a ledger (the fixture's `meterNumbers`, in seeding order). */
export const demoMeterNumbers = (): string[] =>
  Array.from({ length: 24 }, (_, index) => demoPan(index + 1).slice(6));
export const demoVendableMeters = (): string[] => demoMeterNumbers().filter((_, index) => index !== 6);

// Spelt in parts so that bundling this file does not rewrite the text itself.
const META_URL = ['import', 'meta', 'url'].join('.');

/**
 * Bundles a TypeScript worker (and the engine it imports) into one plain CommonJS file, so a child process
 * starts in ~0.2 s with `node file.cjs` instead of ~1 s through tsx (CommonJS loads ~30 ms faster than the
 * same bundle as ESM). better-sqlite3 (native) stays external, required by absolute path, and each module's
 * `import.meta.url` is replaced by its own source file's URL (the engine reads package.json relative to it).
 * The worker must not use top-level await. esbuild is the bundler tsx itself runs on.
 */
export async function bundleWorker(entry: string, outDir: string): Promise<string> {
  const { build } = await import('esbuild');
  const { readFile } = await import('node:fs/promises');
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  const require = createRequire(import.meta.url);
  const outfile = join(outDir, `${entry.replace(/^.*[\\/]/, '').replace(/\.ts$/, '')}.cjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
    plugins: [
      {
        name: 'openvend-worker',
        setup(b) {
          b.onResolve({ filter: /^(better-sqlite3|esbuild)$/ }, (args) => ({
            path: require.resolve(args.path),
            external: true,
          }));
          b.onLoad({ filter: /\.ts$/ }, async (args) => ({
            contents: (await readFile(args.path, 'utf8')).replaceAll(
              META_URL,
              JSON.stringify(pathToFileURL(args.path).href),
            ),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  return outfile;
}
