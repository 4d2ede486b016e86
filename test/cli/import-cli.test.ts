import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The real `openvend` executable in a child process. runOpenvend (test/support/run-cli.ts) passes no
// environment of its own, so the operator password is given here per call.
const bin = new URL('../../src-main/bin/openvend.mjs', import.meta.url).pathname;
const fixture = (name: string) => new URL(`../fixtures/import/${name}`, import.meta.url).pathname;

function openvend(args: string[], password?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['OPENVEND_PASSWORD', 'OPENVEND_OPERATOR', 'OPENVEND_DATA_DIR', 'OPENVEND_KEK'])
    delete env[name];
  if (password !== undefined) env.OPENVEND_PASSWORD = password;
  const result = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    json: <T = Record<string, unknown>>() => JSON.parse(result.stdout) as T,
    error: () => JSON.parse(result.stderr).error as { code: string; message: string },
  };
}

const ADMIN = 'demo-admin-pass';
const work = mkdtempSync(join(tmpdir(), 'openvend-import-cli-'));
const dataDir = join(work, 'outlet');
const common = ['--data-dir', dataDir];
const asAdmin = [...common, '--operator', 'admin'];
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Row counts, read straight from the outlet database (read-only) rather than through more child processes. */
function counts() {
  const db = new Database(join(dataDir, 'outlet.db'), { readonly: true });
  try {
    const count = (table: string) => db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
    return { customers: count('customer'), meters: count('meter'), audit: count('audit_log') };
  } finally {
    db.close();
  }
}
beforeAll(() => {
  const demo = openvend(['demo', ...common, '--json']);
  expect(demo.status, demo.stderr).toBe(0);
}, 60_000);

// Each test starts several child processes (about a second each through tsx): generous timeouts.
describe('openvend meters import / customers import', { timeout: 120_000 }, () => {
  it('--help lists every column, the options and the exit codes', () => {
    const meters = openvend(['meters', 'import', '--help']);
    expect(meters.status).toBe(0);
    for (const column of [
      'pan',
      'meter_no',
      'iin_length',
      'meter_type',
      'customer_account_no',
      'tariff_code',
      'sgc',
      'ti',
      'krn',
      'key_type',
      'ea',
      'dkga',
      'base_date',
      'ken',
    ]) {
      expect(meters.stdout).toMatch(new RegExp(`^  ${column} +\\((required|optional)\\)`, 'm'));
    }
    for (const option of ['--data-dir', '--operator', '--json', '--dry-run', 'Exit codes']) {
      expect(meters.stdout).toContain(option);
    }
    const customers = openvend(['customers', 'import', '--help']);
    expect(customers.status).toBe(0);
    for (const column of ['account_no', 'name', 'address', 'phone', 'location', 'fbe_eligible']) {
      expect(customers.stdout).toMatch(new RegExp(`^  ${column} +\\((required|optional)\\)`, 'm'));
    }
  });

  it('a cashier is refused (AUTH_FORBIDDEN, exit 2) and nothing is written', () => {
    const before = counts();
    const result = openvend(
      ['customers', 'import', fixture('customers.csv'), ...common, '--operator', 'cashier', '--json'],
      'demo-cashier-pass',
    );
    expect(result.status).toBe(2);
    expect(result.error().code).toBe('AUTH_FORBIDDEN');
    expect(counts()).toEqual(before);
  });

  it('--dry-run checks a good file, exits 0 and writes nothing', () => {
    const before = counts();
    const result = openvend(
      ['customers', 'import', fixture('customers.csv'), ...asAdmin, '--dry-run'],
      ADMIN,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Dry run: all 6 customers');
    expect(result.stdout).toContain('Nothing was written');
    expect(counts()).toEqual(before);
    const json = openvend(
      ['customers', 'import', fixture('customers.csv'), ...asAdmin, '--dry-run', '--json'],
      ADMIN,
    );
    expect(json.status).toBe(0);
    expect(json.json()).toMatchObject({ dryRun: true, rows: 6, imported: 0, rejected: [] });
    expect(counts()).toEqual(before);
  });

  it('a file with a bad row: exit 1, the report names line, column and reason, nothing is written', () => {
    const bad = join(work, 'meters-bad.csv');
    const good = readFileSync(fixture('meters.csv'), 'utf8');
    // Line 4 gets a wrong check digit (…033 → …034).
    writeFileSync(bad, good.replace('600727050500000033', '600727050500000034'));
    const before = counts();

    const json = openvend(['meters', 'import', bad, ...asAdmin, '--json'], ADMIN);
    expect(json.status).toBe(1);
    expect(json.json()).toMatchObject({
      file: bad,
      rows: 6,
      imported: 0,
      rejected: [{ line: 4, column: 'pan', value: '600727050500000034', code: 'STS_BAD_CHECK_DIGIT' }],
    });

    const text = openvend(['meters', 'import', bad, ...asAdmin], ADMIN);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain('NOTHING WAS IMPORTED');
    expect(text.stdout).toMatch(
      /line 4, pan "600727050500000034": .*last digit should be 3.*\[STS_BAD_CHECK_DIGIT\]/,
    );

    expect(counts()).toEqual(before);
  });

  it('imports customers then meters (exit 0); the meters can then be looked up', () => {
    const before = counts();
    const customers = openvend(
      ['customers', 'import', fixture('customers.csv'), ...asAdmin, '--json'],
      ADMIN,
    );
    expect(customers.status, customers.stderr).toBe(0);
    expect(customers.json()).toMatchObject({ kind: 'customers', rows: 6, imported: 6, rejected: [] });

    const meters = openvend(['meters', 'import', fixture('meters.csv'), ...asAdmin], ADMIN);
    expect(meters.status, meters.stderr).toBe(0);
    expect(meters.stdout).toContain('Imported 6 meters');
    expect(counts()).toEqual({
      customers: before.customers + 6,
      meters: before.meters + 6,
      audit: before.audit + 2,
    });

    const confirm = openvend(['confirm', '050500000017', ...common, '--json']);
    expect(confirm.status, confirm.stderr).toBe(0);
    expect(confirm.json()).toMatchObject({ meterNo: '050500000017', canVend: true });

    // The same file again: every row is already registered.
    const again = openvend(['meters', 'import', fixture('meters.csv'), ...asAdmin, '--json'], ADMIN);
    expect(again.status).toBe(1);
    const rejected = again.json<{ rejected: Array<{ code: string }> }>().rejected;
    expect(rejected).toHaveLength(6);
    expect(new Set(rejected.map((r) => r.code))).toEqual(new Set(['IMPORT_ALREADY_EXISTS']));
  });

  it('usage errors exit 2: missing file, no outlet database, no operator, wrong password', () => {
    const missing = openvend(['meters', 'import', join(work, 'nope.csv'), ...asAdmin], ADMIN);
    expect(missing.status).toBe(2);
    expect(missing.error().code).toBe('CLI_INPUT');

    const noOutlet = openvend(
      ['meters', 'import', fixture('meters.csv'), '--data-dir', join(work, 'empty'), '--operator', 'admin'],
      ADMIN,
    );
    expect(noOutlet.status).toBe(2);
    expect(noOutlet.error().message).toContain('no outlet database');

    const noOperator = openvend(['meters', 'import', fixture('meters.csv'), ...common], ADMIN);
    expect(noOperator.status).toBe(2);
    expect(noOperator.error().message).toContain('--operator');

    const wrongPassword = openvend(
      ['meters', 'import', fixture('meters.csv'), ...asAdmin],
      'not-the-password',
    );
    expect(wrongPassword.status).toBe(2);
    expect(wrongPassword.error().code).toBe('AUTH_FAILED');

    const noFile = openvend(['customers', 'import', ...asAdmin], ADMIN);
    expect(noFile.status).toBe(2);
  });
});
