import { scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../src-main/engine/audit-log.ts';
import { addOperator } from '../../../src-main/engine/master-data.ts';
import {
  authenticate,
  hashPassword,
  LOCKOUT_MINUTES,
  MAX_FAILED_LOGINS,
  type OperatorSession,
  requirePermission,
  verifyPassword,
} from '../../../src-main/engine/operators.ts';
import { type Ledger, openLedger } from '../../../src-main/ledger/database.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { PERMISSIONS, type Permission, ROLES, type Role } from '../../../src-shared/vending/roles.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-operators-'));
const ledgers: Ledger[] = [];
afterAll(() => {
  for (const l of ledgers) l.close();
  rmSync(work, { recursive: true, force: true });
});
let dirs = 0;
const NOW = new Date('2026-03-10T08:00:00Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

function thrown(action: () => unknown): OpenVendError {
  try {
    action();
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected an OpenVendError, nothing was thrown');
}

function ledgerWithOperators() {
  const ledger = openLedger(join(work, `d${++dirs}`));
  ledgers.push(ledger);
  addOperator(
    ledger.sqlite,
    { username: 'lerato', displayName: 'Lerato', role: 'cashier', password: 'correct horse' },
    null,
    NOW,
  );
  addOperator(
    ledger.sqlite,
    { username: 'sipho', displayName: 'Sipho', role: 'supervisor', password: 'battery staple' },
    null,
    NOW,
  );
  const row = (username: string) =>
    ledger.sqlite
      .prepare(
        'SELECT failed_attempts AS failed, locked_until AS lockedUntil, active FROM operator WHERE username = ?',
      )
      .get(username) as { failed: number; lockedUntil: string | null; active: number };
  return { sqlite: ledger.sqlite, row };
}

describe('password hashing (scrypt)', () => {
  it('stores scheme, parameters, a 16-byte salt and a 32-byte hash', () => {
    const stored = hashPassword('correct horse');
    const parts = stored.split('$');
    expect(parts).toHaveLength(6);
    const [scheme, n, r, p, salt, hash] = parts;
    expect(scheme).toBe('scrypt');
    expect(Number(n)).toBeGreaterThanOrEqual(16384);
    expect(Math.log2(Number(n)) % 1).toBe(0);
    expect(Number(r)).toBe(8);
    expect(Number(p)).toBeGreaterThanOrEqual(1);
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16);
    expect(Buffer.from(hash!, 'base64')).toHaveLength(32);
    expect(stored).not.toContain('correct horse');
  });

  it('salts: the same password hashes differently each time, and both verify', () => {
    const a = hashPassword('correct horse');
    const b = hashPassword('correct horse');
    expect(a).not.toBe(b);
    expect(verifyPassword('correct horse', a)).toBe(true);
    expect(verifyPassword('correct horse', b)).toBe(true);
  });

  it('verifies only the exact password', () => {
    const stored = hashPassword('correct horse');
    for (const wrong of ['Correct horse', 'correct horse ', 'correct hors', '', 'correct horse\n']) {
      expect(verifyPassword(wrong, stored)).toBe(false);
    }
  });

  it('honours the parameters stored with the hash (so they can be raised later)', () => {
    const stored = hashPassword('correct horse');
    const [, , , , salt] = stored.split('$');
    // A hash made elsewhere with N = 1024 verifies through its own parameters.
    const hash = scryptSync('correct horse', Buffer.from(salt!, 'base64'), 32, { N: 1024, r: 8, p: 1 });
    const weaker = `scrypt$1024$8$1$${salt}$${hash.toString('base64')}`;
    expect(verifyPassword('correct horse', weaker)).toBe(true);
    expect(verifyPassword('battery staple', weaker)).toBe(false);
  });

  it('a stored value of another scheme or a damaged one never verifies', () => {
    for (const stored of ['', 'plain:correct horse', 'bcrypt$x$y', 'scrypt$16384$8$1$$']) {
      expect(verifyPassword('correct horse', stored)).toBe(false);
    }
  });

  it('refuses a password shorter than 8 characters', () => {
    for (const short of ['', 'a', '1234567']) {
      const error = thrown(() => hashPassword(short));
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.userMessage).toMatch(/at least 8/);
    }
    expect(hashPassword('12345678')).toMatch(/^scrypt\$/);
  });
});

describe('authenticate', () => {
  it('returns the session of an operator with the right password', () => {
    const { sqlite } = ledgerWithOperators();
    const session = authenticate(sqlite, 'lerato', 'correct horse', NOW);
    expect(session).toEqual({ id: 1, username: 'lerato', displayName: 'Lerato', role: 'cashier' });
  });

  it('a wrong password and an unknown operator give the same AUTH_FAILED message (which part was wrong is not said)', () => {
    const { sqlite } = ledgerWithOperators();
    const wrongPassword = thrown(() => authenticate(sqlite, 'lerato', 'wrong horse', NOW));
    const unknownUser = thrown(() => authenticate(sqlite, 'nobody', 'correct horse', NOW));
    expect(wrongPassword.code).toBe('AUTH_FAILED');
    expect(unknownUser.code).toBe('AUTH_FAILED');
    expect(wrongPassword.userMessage).toBe(unknownUser.userMessage);
    expect(wrongPassword.userMessage).toMatch(/operator name or password/);
    for (const error of [wrongPassword, unknownUser]) {
      expect(error.userMessage).not.toMatch(/unknown|not found|no such|incorrect password|wrong password/i);
      expect(`${error.detail} ${error.message}`).not.toContain('horse');
    }
  });

  it(`${MAX_FAILED_LOGINS} failures lock the operator for ${LOCKOUT_MINUTES} minutes, even against the right password`, () => {
    expect(MAX_FAILED_LOGINS).toBe(5);
    expect(LOCKOUT_MINUTES).toBe(15);
    const { sqlite, row } = ledgerWithOperators();
    for (let i = 1; i < 5; i++) {
      expect(thrown(() => authenticate(sqlite, 'lerato', `wrong ${i}`, minutes(i / 10))).code).toBe(
        'AUTH_FAILED',
      );
      expect(row('lerato').failed).toBe(i);
    }
    const fifth = thrown(() => authenticate(sqlite, 'lerato', 'wrong 5', minutes(1)));
    expect(fifth.code).toBe('AUTH_LOCKED');
    expect(fifth.userMessage).toMatch(/15 minutes/);
    expect(row('lerato').lockedUntil).toBe(minutes(16).toISOString());

    for (const at of [minutes(1), minutes(8), minutes(15.99)]) {
      const locked = thrown(() => authenticate(sqlite, 'lerato', 'correct horse', at));
      expect(locked.code).toBe('AUTH_LOCKED');
      expect(locked.userMessage).toContain('08:16'); // locked until 08:16 UTC
    }
    // Another operator is not affected.
    expect(authenticate(sqlite, 'sipho', 'battery staple', minutes(2)).username).toBe('sipho');

    // After the lockout the right password works, and the counters are reset.
    expect(authenticate(sqlite, 'lerato', 'correct horse', minutes(16)).username).toBe('lerato');
    expect(row('lerato')).toMatchObject({ failed: 0, lockedUntil: null });
  });

  it('a successful login resets the failure count, so failures must be consecutive to lock', () => {
    const { sqlite, row } = ledgerWithOperators();
    for (let i = 0; i < 4; i++) thrown(() => authenticate(sqlite, 'lerato', 'nope nope', NOW));
    expect(row('lerato').failed).toBe(4);
    authenticate(sqlite, 'lerato', 'correct horse', NOW);
    expect(row('lerato').failed).toBe(0);
    for (let i = 0; i < 4; i++) thrown(() => authenticate(sqlite, 'lerato', 'nope nope', NOW));
    expect(thrown(() => authenticate(sqlite, 'lerato', 'nope nope', NOW)).code).toBe('AUTH_LOCKED');
  });

  it('wrong passwords during a lockout do not extend it', () => {
    const { sqlite, row } = ledgerWithOperators();
    for (let i = 0; i < 5; i++) thrown(() => authenticate(sqlite, 'lerato', 'nope nope', NOW));
    const until = row('lerato').lockedUntil;
    expect(thrown(() => authenticate(sqlite, 'lerato', 'nope nope', minutes(10))).code).toBe('AUTH_LOCKED');
    expect(row('lerato').lockedUntil).toBe(until);
  });

  it('an inactive operator is AUTH_INACTIVE, even with the right password', () => {
    const { sqlite } = ledgerWithOperators();
    sqlite.prepare("UPDATE operator SET active = 0 WHERE username = 'lerato'").run();
    const error = thrown(() => authenticate(sqlite, 'lerato', 'correct horse', NOW));
    expect(error.code).toBe('AUTH_INACTIVE');
    expect(error.userMessage).toMatch(/disabled/);
  });
});

describe('requirePermission: every role × every permission', () => {
  // Written out by hand from the product rules, not derived from PERMISSIONS, so a change there must be deliberate.
  const EXPECTED: Record<Permission, Role[]> = {
    sell: ['cashier', 'supervisor', 'admin'],
    reprint: ['cashier', 'supervisor', 'admin'],
    shift: ['cashier', 'supervisor', 'admin'],
    reverse: ['supervisor', 'admin'],
    freeIssue: ['supervisor', 'admin'],
    engineering: ['engineer', 'admin'],
    keyChange: ['engineer', 'admin'],
    masterData: ['admin'],
    audit: ['supervisor', 'admin'],
    reports: ['supervisor', 'admin'],
  };

  it('knows exactly these roles and permissions', () => {
    expect([...ROLES].sort()).toEqual(['admin', 'cashier', 'engineer', 'supervisor']);
    expect(Object.keys(PERMISSIONS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  const matrix = (Object.keys(EXPECTED) as Permission[]).flatMap((permission) =>
    ROLES.map((role) => [permission, role, EXPECTED[permission].includes(role)] as const),
  );
  it.each(matrix)('%s by %s → allowed: %s', (permission, role, allowed) => {
    const session: OperatorSession = { id: 9, username: role, displayName: `Test ${role}`, role };
    if (allowed) {
      expect(() => requirePermission(session, permission)).not.toThrow();
    } else {
      const error = thrown(() => requirePermission(session, permission));
      expect(error.code).toBe('AUTH_FORBIDDEN');
      expect(error.userMessage).toContain(`Test ${role}`);
      expect(error.detail).toContain(permission);
    }
  });
});

describe('addOperator', () => {
  it('stores a scrypt hash (never the password) and writes an audit entry', () => {
    const { sqlite } = ledgerWithOperators();
    const stored = sqlite
      .prepare("SELECT password_hash AS h FROM operator WHERE username = 'lerato'")
      .get() as {
      h: string;
    };
    expect(stored.h).toMatch(/^scrypt\$/);
    expect(stored.h).not.toContain('correct horse');
    const audit = sqlite
      .prepare("SELECT entity_id AS who, details_json AS d FROM audit_log WHERE action = 'operator.add'")
      .all();
    expect(audit).toEqual([
      { who: 'lerato', d: '{"role":"cashier"}' },
      { who: 'sipho', d: '{"role":"supervisor"}' },
    ]);
    expect(JSON.stringify(sqlite.prepare('SELECT * FROM audit_log').all())).not.toContain('correct horse');
    expect(verifyAuditChain(sqlite).ok).toBe(true);
  });

  const operatorCount = (sqlite: ReturnType<typeof ledgerWithOperators>['sqlite']) =>
    (sqlite.prepare('SELECT count(*) AS n FROM operator').get() as { n: number }).n;

  it.each(['A', 'Lerato', 'with space', 'x'.repeat(33), 'semi;colon', 'émile', ''])(
    'refuses the username %j and writes nothing',
    (username) => {
      const { sqlite } = ledgerWithOperators();
      const error = thrown(() =>
        addOperator(
          sqlite,
          { username, displayName: 'X', role: 'cashier', password: 'long enough' },
          null,
          NOW,
        ),
      );
      expect(error.code).toBe('VEND_INVALID_REQUEST');
      expect(operatorCount(sqlite)).toBe(2);
    },
  );

  it('refuses a short password and an unknown role, writing nothing', () => {
    const { sqlite } = ledgerWithOperators();
    expect(
      thrown(() =>
        addOperator(
          sqlite,
          { username: 'thabo', displayName: 'T', role: 'cashier', password: 'short' },
          null,
          NOW,
        ),
      ).code,
    ).toBe('AUTH_FAILED');
    expect(
      thrown(() =>
        addOperator(
          sqlite,
          { username: 'thabo', displayName: 'T', role: 'root' as Role, password: 'long enough' },
          null,
          NOW,
        ),
      ).code,
    ).toBe('VEND_INVALID_REQUEST');
    expect(operatorCount(sqlite)).toBe(2);
  });

  it('refuses a duplicate username, writing nothing (no second audit entry either)', () => {
    const { sqlite } = ledgerWithOperators();
    const auditBefore = (sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    expect(() =>
      addOperator(
        sqlite,
        { username: 'lerato', displayName: 'Other', role: 'admin', password: 'long enough' },
        null,
        NOW,
      ),
    ).toThrow(/already registered/);
    expect(operatorCount(sqlite)).toBe(2);
    expect((sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n).toBe(
      auditBefore,
    );
  });

  it('accepts the allowed username alphabet', () => {
    const { sqlite } = ledgerWithOperators();
    for (const username of ['ab', 'a.b-c_d9', 'x'.repeat(32)]) {
      addOperator(
        sqlite,
        { username, displayName: username, role: 'engineer', password: 'long enough' },
        null,
        NOW,
      );
    }
    expect(operatorCount(sqlite)).toBe(5);
  });
});
