import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runOpenvend } from '../support/run-cli.ts';

// The CLI reads these from the environment: start every child from a known state.
for (const name of ['OPENVEND_KEK', 'OPENVEND_DATA_DIR', 'OPENVEND_OPERATOR', 'OPENVEND_PASSWORD']) {
  delete process.env[name];
}

const work = mkdtempSync(join(tmpdir(), 'openvend-ledger-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PASSWORDS: Record<string, string> = {
  admin: 'demo-admin-pass',
  super: 'demo-super-pass',
  cashier: 'demo-cashier-pass',
  engineer: 'demo-engineer-pass',
};
const GOOD_METER = '040400000019';
const BLOCKED_METER = '040400000076';

/**
 * Runs `openvend` with OPENVEND_PASSWORD set for this one child process (unset when `password` is undefined).
 * runOpenvend blocks the worker (spawnSync); yielding to the event loop first keeps vitest's worker RPC alive.
 */
async function openvend(args: string[], password?: string): Promise<CliResult> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  if (password === undefined) delete process.env.OPENVEND_PASSWORD;
  else process.env.OPENVEND_PASSWORD = password;
  try {
    return runOpenvend(args);
  } finally {
    delete process.env.OPENVEND_PASSWORD;
  }
}
const as = (operator: string, args: string[], dataDir: string, password = PASSWORDS[operator]) =>
  openvend([...args, '--data-dir', dataDir, '--operator', operator], password);

function readLedger<T>(dataDir: string, body: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'outlet.db'), { readonly: true, fileMustExist: true });
  try {
    return body(db);
  } finally {
    db.close();
  }
}
const saleCount = (dataDir: string) =>
  readLedger(dataDir, (db) => (db.prepare('SELECT count(*) AS n FROM sale').get() as { n: number }).n);

function expectCliError(result: CliResult, code: string): { code: string; message: string; detail: string } {
  expect(result.status, result.stderr).toBe(2);
  const error = result.error();
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace for a known error
  return error;
}

const grouped = (digits: string) => digits.replace(/(\d{4})(?=\d)/g, '$1 ');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function newDemo(name: string): Promise<string> {
  const dir = join(work, name);
  const result = await openvend(['demo', '--data-dir', dir]);
  expect(result.status, result.stderr).toBe(0);
  return dir;
}

describe('openvend demo', () => {
  const dir = join(work, 'demo-print');
  let result: CliResult;
  beforeAll(async () => {
    result = await openvend(['demo', '--data-dir', dir]);
  }, 60_000);

  it('creates a demo outlet and prints every operator with its role and demo password', () => {
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Demo outlet created in ${dir}`);
    for (const [username, password] of Object.entries(PASSWORDS)) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${username}\\s+\\w+\\s+${password}$`, 'm'));
    }
    expect(result.stdout).toContain(GOOD_METER);
    expect(result.stdout).toContain(`Meter ${BLOCKED_METER} is blocked`);
    expect(existsSync(join(dir, 'outlet.db'))).toBe(true);
    if (process.platform !== 'win32') expect(statSync(join(dir, 'kek.key')).mode & 0o777).toBe(0o600);
  });

  it('never writes a vending key in clear into the ledger', () => {
    const bytes = readFileSync(join(dir, 'outlet.db'));
    for (const hex of ['abababababababab', 'cdcdcdcdcdcdcdcd']) {
      expect(bytes.includes(Buffer.from(hex, 'hex'))).toBe(false);
      expect(bytes.includes(Buffer.from(hex, 'latin1'))).toBe(false);
    }
  });

  it('refuses a data directory that already holds an outlet, and leaves it alone', async () => {
    const before = sha256(join(dir, 'outlet.db'));
    const again = await openvend(['demo', '--data-dir', dir]);
    const error = expectCliError(again, 'CLI_INPUT');
    expect(error.message).toContain('already holds an outlet database');
    expect(sha256(join(dir, 'outlet.db'))).toBe(before);
  });

  it('--json gives the same facts as data', async () => {
    const json = await openvend(['demo', '--data-dir', join(work, 'demo-json'), '--json']);
    expect(json.status, json.stderr).toBe(0);
    const summary = json.json<{
      operators: Array<{ username: string; password: string }>;
      meters: string[];
    }>();
    expect(summary.operators.map((o) => [o.username, o.password])).toEqual(Object.entries(PASSWORDS));
    expect(summary.meters).toHaveLength(24);
  });
});

describe('a cashier’s day on the demo outlet', () => {
  let dir: string;
  let firstToken = '';
  beforeAll(async () => {
    dir = await newDemo('day');
  }, 60_000);

  it('vend without an open shift: SHIFT_NOT_OPEN, exit 2, nothing sold', async () => {
    expectCliError(await as('cashier', ['vend', GOOD_METER, '100.00'], dir), 'SHIFT_NOT_OPEN');
    expect(saleCount(dir)).toBe(0);
  });

  it('shift open', async () => {
    const result = await as('cashier', ['shift', 'open'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ shiftId: 1 });
  });

  it('confirm shows the customer and whether the meter can be vended', async () => {
    const good = await openvend(['confirm', GOOD_METER, '--data-dir', dir]);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^Meter\s+040400000019/m);
    expect(good.stdout).toMatch(/^Customer\s+\S+/m);
    expect(good.stdout).toMatch(/^Can vend\s+yes$/m);
    const blocked = await openvend(['confirm', BLOCKED_METER, '--data-dir', dir]);
    expect(blocked.status, blocked.stderr).toBe(0);
    expect(blocked.stdout).toMatch(/^Can vend\s+NO: Tamper reported/m);
  });

  const failures: Array<[string, string, string[], string | undefined, string]> = [
    ['a negative amount', 'cashier', ['vend', GOOD_METER, '-5'], undefined, 'VEND_INVALID_AMOUNT'],
    ['too many decimals', 'cashier', ['vend', GOOD_METER, '1.234'], undefined, 'VEND_INVALID_AMOUNT'],
    [
      'an amount that is not a number',
      'cashier',
      ['vend', GOOD_METER, 'abc'],
      undefined,
      'VEND_INVALID_AMOUNT',
    ],
    ['an unknown meter', 'cashier', ['vend', '040400009994', '100'], undefined, 'METER_UNKNOWN'],
    ['a bad check digit', 'cashier', ['vend', '040400000010', '100'], undefined, 'STS_BAD_CHECK_DIGIT'],
    ['a blocked meter', 'cashier', ['vend', BLOCKED_METER, '100'], undefined, 'METER_BLOCKED'],
    ['an unknown operator', 'nobody', ['vend', GOOD_METER, '100'], 'demo-cashier-pass', 'AUTH_FAILED'],
    ['a wrong password', 'cashier', ['vend', GOOD_METER, '100'], 'not-the-password', 'AUTH_FAILED'],
  ];
  it.each(failures)(
    'vend with %s: exit 2, JSON error on stderr, no receipt, sale count unchanged',
    async (_, operator, args, password, code) => {
      const before = saleCount(dir);
      const result = await as(operator, args, dir, password ?? PASSWORDS[operator]);
      expectCliError(result, code);
      expect(result.stdout).toBe('');
      expect(saleCount(dir)).toBe(before);
    },
  );

  it('the two login failures give the same message (the operator name is not confirmed)', async () => {
    const unknown = (await as('nobody', ['vend', GOOD_METER, '100'], dir, 'demo-cashier-pass')).error();
    const wrong = (await as('cashier', ['vend', GOOD_METER, '100'], dir, 'not-the-password')).error();
    expect(unknown.message).toBe(wrong.message);
  });

  it('vend prints a CREDIT VEND receipt with the grouped token that was stored', async () => {
    const result = await as('cashier', ['vend', GOOD_METER, '100.00'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('CREDIT VEND');
    const stored = readLedger(dir, (db) =>
      db.prepare('SELECT digits FROM token ORDER BY id').all(),
    ) as Array<{
      digits: string;
    }>;
    expect(stored).toHaveLength(1);
    firstToken = stored[0]!.digits;
    expect(firstToken).toMatch(/^\d{20}$/);
    expect(result.stdout).toContain(grouped(firstToken));
    expect(result.stdout).toMatch(/\d{4} \d{4} \d{4} \d{4} \d{4}/);
    expect(saleCount(dir)).toBe(1);
  });

  it('vend --json returns the tokens', async () => {
    const result = await as('cashier', ['vend', GOOD_METER, '50', '--json'], dir);
    expect(result.status, result.stderr).toBe(0);
    const sale = result.json<{
      receiptNo: number;
      tokens: Array<{ digits: string; display: string; kind: string }>;
    }>();
    expect(sale.receiptNo).toBe(2);
    expect(sale.tokens.length).toBeGreaterThan(0);
    for (const token of sale.tokens) {
      expect(token.digits).toMatch(/^\d{20}$/);
      expect(token.display).toBe(grouped(token.digits));
    }
    expect(sale.tokens.map((t) => t.kind)).toContain('credit');
    expect(saleCount(dir)).toBe(2);
  });

  it('a repeated --request-id returns the original tokens, says so on stderr, and sells nothing new', {
    timeout: 90_000,
  }, async () => {
    const requestId = 'cli-test-request-0001';
    const first = await as('cashier', ['vend', GOOD_METER, '20', '--json', '--request-id', requestId], dir);
    expect(first.status, first.stderr).toBe(0);
    const original = first.json<{ tokens: Array<{ digits: string }>; receiptNo: number }>();
    expect(saleCount(dir)).toBe(3);

    const replayText = await as('cashier', ['vend', GOOD_METER, '20', '--request-id', requestId], dir);
    expect(replayText.status, replayText.stderr).toBe(0);
    expect(replayText.stderr).toMatch(/already completed/);
    for (const t of original.tokens) expect(replayText.stdout).toContain(grouped(t.digits));

    const replayJson = await as(
      'cashier',
      ['vend', GOOD_METER, '20', '--json', '--request-id', requestId],
      dir,
    );
    const again = replayJson.json<{
      tokens: Array<{ digits: string }>;
      receiptNo: number;
      replayed?: boolean;
    }>();
    expect(again.tokens).toEqual(original.tokens);
    expect(again.receiptNo).toBe(original.receiptNo);
    expect(again.replayed).toBe(true);
    expect(saleCount(dir)).toBe(3);

    // The same request id for a different sale is a conflict, not a replay.
    expectCliError(
      await as('cashier', ['vend', GOOD_METER, '30', '--request-id', requestId], dir),
      'VEND_REQUEST_CONFLICT',
    );
    expect(saleCount(dir)).toBe(3);
  });

  it('reprint shows the same receipt marked COPY, without a new sale', async () => {
    const result = await as('cashier', ['reprint', '1'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('COPY');
    expect(result.stdout).toContain('CREDIT VEND');
    expect(result.stdout).toContain(grouped(firstToken));
    expect(saleCount(dir)).toBe(3);
  });

  it('shift x prints the running totals without closing the shift', async () => {
    const result = await as('cashier', ['shift', 'x'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('X REPORT');
    expect(result.stdout).toMatch(/Sales \(3\)/);
    expect(
      readLedger(dir, (db) => db.prepare('SELECT closed_at AS c FROM shift WHERE id = 1').get()),
    ).toEqual({ c: null });
  });

  it('shift close --declared-cash prints the Z report and writes a verified backup', async () => {
    const result = await as('cashier', ['shift', 'close', '--declared-cash', '170.00'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Z REPORT #1');
    expect(result.stdout).toMatch(/Declared cash \(blind\)\s+170\.00/);
    const match = /Backup written: (\S+)/.exec(result.stderr);
    expect(match).not.toBeNull();
    const backup = match![1]!;
    expect(backup.startsWith(join(dir, 'backups'))).toBe(true);
    const db = new Database(backup, { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('quick_check', { simple: true })).toBe('ok');
      expect((db.prepare('SELECT count(*) AS n FROM sale').get() as { n: number }).n).toBe(3);
      expect(db.prepare('SELECT z_number AS z FROM shift WHERE id = 1').get()).toEqual({ z: 1 });
    } finally {
      db.close();
    }
  });

  it('after the close, selling needs a new shift', async () => {
    expectCliError(await as('cashier', ['vend', GOOD_METER, '100'], dir), 'SHIFT_NOT_OPEN');
    expect(saleCount(dir)).toBe(3);
  });

  it('the audit chain of the whole day verifies', async () => {
    const result = await openvend(['audit', 'verify', '--data-dir', dir]);
    expect(result.status, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/Audit chain intact: \d+ entries/);
  });
});

describe('openvend backup / restore', () => {
  let dir: string;
  let backupPath: string;
  beforeAll(async () => {
    dir = await newDemo('backup-restore');
  }, 60_000);

  it('backup writes a verified copy into backups/', async () => {
    const result = await openvend(['backup', '--data-dir', dir]);
    expect(result.status, result.stderr).toBe(0);
    const out = result.json<{ path: string; bytes: number; removed: string[] }>();
    backupPath = out.path;
    expect(backupPath.startsWith(join(dir, 'backups', 'outlet-'))).toBe(true);
    expect(out.bytes).toBe(statSync(backupPath).size);
    expect(out.removed).toEqual([]);
  });

  it('restore puts the backup back (later changes gone), keeps the previous ledger, and the audit chain still verifies', {
    timeout: 90_000,
  }, async () => {
    expect((await as('cashier', ['shift', 'open'], dir)).status).toBe(0);
    expect(readLedger(dir, (db) => db.prepare('SELECT count(*) AS n FROM shift').get())).toEqual({ n: 1 });

    const result = await openvend(['restore', backupPath, '--data-dir', dir]);
    expect(result.status, result.stderr).toBe(0);
    const out = result.json<{ restoredFrom: string; previousKeptAt: string }>();
    expect(out.previousKeptAt).toMatch(/outlet\.db\.before-restore-\d{8}T\d{6}Z$/);
    expect(existsSync(out.previousKeptAt)).toBe(true);
    expect(readLedger(dir, (db) => db.prepare('SELECT count(*) AS n FROM shift').get())).toEqual({ n: 0 });

    const verify = await openvend(['audit', 'verify', '--data-dir', dir]);
    expect(verify.status, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('Audit chain intact');
    // And the restored outlet sells.
    expect((await as('cashier', ['shift', 'open'], dir)).status).toBe(0);
    expect((await as('cashier', ['vend', GOOD_METER, '100', '--json'], dir)).status).toBe(0);
    expect(saleCount(dir)).toBe(1);
  });

  it('restore of a damaged file is refused with LEDGER_RESTORE_FAILED and changes nothing', async () => {
    const damaged = join(work, 'damaged-backup.db');
    const good = readFileSync(backupPath);
    const bytes = Buffer.from(good);
    bytes.fill(0xa5, 4096 * 3, 4096 * 4);
    const fd = openSync(damaged, 'w');
    writeSync(fd, bytes);
    closeSync(fd);
    const before = sha256(join(dir, 'outlet.db'));
    const result = await openvend(['restore', damaged, '--data-dir', dir]);
    expectCliError(result, 'LEDGER_RESTORE_FAILED');
    expect(sha256(join(dir, 'outlet.db'))).toBe(before);
    expect(saleCount(dir)).toBe(1);
  });
});

describe('openvend audit verify', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await newDemo('audit');
  }, 60_000);
  const tamper = (sql: string) => {
    const db = new Database(join(dir, 'outlet.db'));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };

  it('exits 0 on a clean demo outlet', async () => {
    const result = await openvend(['audit', 'verify', '--data-dir', dir, '--json']);
    expect(result.status, result.stdout).toBe(0);
    expect(result.json()).toMatchObject({ ok: true, problems: [] });
  });

  it('exits 1 after an entry is edited, naming it', async () => {
    const before = readLedger(dir, (db) =>
      db.prepare('SELECT action, details_json AS d FROM audit_log WHERE seq = 7').get(),
    );
    expect(before).toEqual({ action: 'operator.add', d: '{"role":"admin"}' });
    tamper('UPDATE audit_log SET details_json = \'{"role":"cashier"}\' WHERE seq = 7');
    const result = await openvend(['audit', 'verify', '--data-dir', dir]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('AUDIT CHAIN BROKEN');
    expect(result.stdout).toMatch(/^\s+entry 7: entry was modified after it was written$/m);
    const json = await openvend(['audit', 'verify', '--data-dir', dir, '--json']);
    expect(json.status).toBe(1);
    expect(json.json<{ problems: Array<{ seq: number }> }>().problems.map((p) => p.seq)).toContain(7);
  });

  it('exits 1 when the last entries are deleted, naming the missing range', async () => {
    const last = readLedger(
      dir,
      (db) => (db.prepare('SELECT max(seq) AS m FROM audit_log').get() as { m: number }).m,
    );
    tamper(`DELETE FROM audit_log WHERE seq >= ${last - 1}`);
    const result = await openvend(['audit', 'verify', '--data-dir', dir]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`entry ${last}: entries ${last - 1}..${last} at the end were deleted`);
  });
});

// Regression (found in review): `audit verify` and `backup` call openLedger, which creates (and migrates) an empty outlet.db in
// a directory that has none. A mistyped --data-dir then reports "Audit chain intact: 0 entries" with exit 0,
// and leaves an empty ledger behind that makes a later `openvend demo` there refuse. Commands that need an
// outlet (vend, shift, …) refuse with CLI_INPUT instead (withEngine). See the report.
describe('commands on a directory without an outlet database', () => {
  it.each([
    ['audit verify', ['audit', 'verify']],
    ['backup', ['backup']],
  ])('%s is refused (exit 2) and creates no ledger', async (_, args) => {
    const empty = join(work, `no-outlet-${args[0]}`);
    const result = await openvend([...args, '--data-dir', empty]);
    expect(result.status, result.stdout).toBe(2);
    expect(existsSync(join(empty, 'outlet.db'))).toBe(false);
  });

  it('vend is refused with CLI_INPUT, creating nothing', async () => {
    const empty = join(work, 'no-outlet-vend');
    const error = expectCliError(await as('cashier', ['vend', GOOD_METER, '100'], empty), 'CLI_INPUT');
    expect(error.message).toContain('no outlet database');
    expect(existsSync(join(empty, 'outlet.db'))).toBe(false);
  });
});
