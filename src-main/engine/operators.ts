import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { PERMISSIONS, type Permission, type Role } from '../../src-shared/vending/roles.ts';
import { EngineError } from './errors.ts';

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MINUTES = 15;
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

/** scrypt with a random salt; the parameters travel with the hash so they can be raised later. */
export function hashPassword(password: string): string {
  if (password.length < 8) {
    throw new EngineError(
      'AUTH_FAILED',
      'A password needs at least 8 characters.',
      'password shorter than 8 characters',
    );
  }
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(actual, expected);
}

export interface OperatorSession {
  id: number;
  username: string;
  displayName: string;
  role: Role;
}

interface OperatorRow {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  passwordHash: string;
  failedAttempts: number;
  lockedUntil: string | null;
  active: number;
}

/**
 * Checks an operator's password. Failures count towards a lockout; the message never says whether the
 * username or the password was wrong.
 */
export function authenticate(
  sqlite: Database.Database,
  username: string,
  password: string,
  now: Date,
): OperatorSession {
  const row = sqlite
    .prepare(
      'SELECT id, username, display_name AS displayName, role, password_hash AS passwordHash, failed_attempts AS failedAttempts, locked_until AS lockedUntil, active FROM operator WHERE username = ?',
    )
    .get(username) as OperatorRow | undefined;
  const refused = new EngineError(
    'AUTH_FAILED',
    'Wrong operator name or password.',
    `login refused for ${JSON.stringify(username)}`,
  );
  if (!row) throw refused;
  if (!row.active)
    throw new EngineError(
      'AUTH_INACTIVE',
      'This operator account is disabled.',
      `operator ${username} inactive`,
    );
  if (row.lockedUntil && Date.parse(row.lockedUntil) > now.getTime()) {
    throw new EngineError(
      'AUTH_LOCKED',
      `Too many wrong passwords: this operator is locked until ${row.lockedUntil.slice(11, 16)} UTC. A supervisor can unlock it.`,
      `operator ${username} locked until ${row.lockedUntil}`,
    );
  }
  if (!verifyPassword(password, row.passwordHash)) {
    // Counted in the database itself, so two wrong logins at the same moment both count.
    const lockAt = new Date(now.getTime() + LOCKOUT_MINUTES * 60_000).toISOString();
    const { failed, lockedUntil } = sqlite
      .prepare(
        `UPDATE operator SET
           locked_until = CASE WHEN failed_attempts + 1 >= ? THEN ? ELSE NULL END,
           failed_attempts = CASE WHEN failed_attempts + 1 >= ? THEN 0 ELSE failed_attempts + 1 END
         WHERE id = ? RETURNING failed_attempts AS failed, locked_until AS lockedUntil`,
      )
      .get(MAX_FAILED_LOGINS, lockAt, MAX_FAILED_LOGINS, row.id) as {
      failed: number;
      lockedUntil: string | null;
    };
    if (lockedUntil) {
      throw new EngineError(
        'AUTH_LOCKED',
        `Too many wrong passwords: this operator is locked for ${LOCKOUT_MINUTES} minutes.`,
        `operator ${username} locked after ${MAX_FAILED_LOGINS} failures (counter reset to ${failed})`,
      );
    }
    throw refused;
  }
  if (row.failedAttempts > 0 || row.lockedUntil) {
    sqlite.prepare('UPDATE operator SET failed_attempts = 0, locked_until = NULL WHERE id = ?').run(row.id);
  }
  return { id: row.id, username: row.username, displayName: row.displayName, role: row.role };
}

export function requirePermission(session: OperatorSession, permission: Permission): void {
  if (!(PERMISSIONS[permission] as readonly Role[]).includes(session.role)) {
    throw new EngineError(
      'AUTH_FORBIDDEN',
      `Operator ${session.displayName} (${session.role}) may not do this: it needs the ${(PERMISSIONS[permission] as readonly Role[]).join(' or ')} role.`,
      `permission ${permission} denied for role ${session.role}`,
    );
  }
}
