import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { addOperator } from '../../../src-main/engine/master-data.ts';
import { authenticate } from '../../../src-main/engine/operators.ts';
import { LEDGER_FILE } from '../../../src-main/ledger/data-dir.ts';
import { openLedger } from '../../../src-main/ledger/database.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'openvend-open-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a failed upgrade is not reported as damage', () => {
  it('a migration that cannot apply gives LEDGER_MIGRATION_FAILED, records nothing and leaves the data', () => {
    const dir = tempDir();
    // A file from outside OpenVend's history: a table the first migration wants to create already exists.
    const foreign = new Database(join(dir, LEDGER_FILE));
    foreign.exec("CREATE TABLE audit_log (note TEXT); INSERT INTO audit_log VALUES ('kept')");
    foreign.close();
    let code: string | undefined;
    let message = '';
    try {
      openLedger(dir);
    } catch (error) {
      code = (error as { code?: string }).code;
      message = (error as { userMessage?: string }).userMessage ?? '';
    }
    expect(code).toBe('LEDGER_MIGRATION_FAILED');
    expect(message).toContain('could not upgrade');
    expect(message).not.toContain('Restore');
    const check = new Database(join(dir, LEDGER_FILE), { readonly: true });
    expect(check.prepare('SELECT note FROM audit_log').all()).toEqual([{ note: 'kept' }]);
    expect(check.prepare('SELECT COUNT(*) AS n FROM _migrations').get()).toEqual({ n: 0 });
    check.close();
  });
});

describe('failed logins are counted by the database', () => {
  it('wrong passwords through two connections add up to the lockout', () => {
    const dir = tempDir();
    const first = openLedger(dir);
    const second = openLedger(dir);
    const now = new Date('2026-03-10T08:00:00Z');
    addOperator(
      first.sqlite,
      { username: 'till', displayName: 'Till', role: 'cashier', password: 'right-password' },
      null,
      now,
    );
    const codes: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const connection = attempt % 2 === 0 ? first : second;
      try {
        authenticate(connection.sqlite, 'till', 'wrong-password', now);
      } catch (error) {
        codes.push((error as { code: string }).code);
      }
    }
    expect(codes).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'AUTH_LOCKED']);
    expect(() => authenticate(first.sqlite, 'till', 'right-password', now)).toThrow(/locked/);
    first.close();
    second.close();
  });
});
