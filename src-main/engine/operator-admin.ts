import type Database from 'better-sqlite3';
import { LANGUAGES, type Language, type OperatorRowView } from '../../src-shared/bridge/contract.ts';
import { ROLES, type Role } from '../../src-shared/vending/roles.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { addOperator, type OperatorInput } from './master-data.ts';
import { hashPassword, type OperatorSession, requirePermission } from './operators.ts';

/** Operator accounts as administrators manage them: list, add, change role or password, deactivate, unlock. */

interface StoredOperator {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  language: string | null;
  active: number;
  lockedUntil: string | null;
}

const OPERATOR_VIEW =
  'SELECT id, username, display_name AS displayName, role, language, active, locked_until AS lockedUntil FROM operator';

/** A lock that has run out no longer matters, so it is not shown. */
const operatorView = (row: StoredOperator, now: Date): OperatorRowView => ({
  id: row.id,
  username: row.username,
  displayName: row.displayName,
  role: row.role,
  language: LANGUAGES.includes(row.language as Language) ? (row.language as Language) : null,
  active: row.active === 1,
  lockedUntil: row.lockedUntil && Date.parse(row.lockedUntil) > now.getTime() ? row.lockedUntil : null,
});

function operatorNamed(sqlite: Database.Database, username: string): StoredOperator {
  const row = sqlite.prepare(`${OPERATOR_VIEW} WHERE username = ?`).get(username) as
    | StoredOperator
    | undefined;
  if (!row) {
    throw new EngineError(
      'OPERATOR_UNKNOWN',
      `There is no operator ${username}.`,
      `operator ${JSON.stringify(username)} not found`,
    );
  }
  return row;
}

export function listOperators(
  sqlite: Database.Database,
  session: OperatorSession,
  now: Date,
): OperatorRowView[] {
  requirePermission(session, 'masterData');
  return (sqlite.prepare(`${OPERATOR_VIEW} ORDER BY username`).all() as StoredOperator[]).map((row) =>
    operatorView(row, now),
  );
}

export function addOperatorAccount(
  sqlite: Database.Database,
  session: OperatorSession,
  input: OperatorInput,
  now: Date,
): OperatorRowView {
  requirePermission(session, 'masterData');
  return sqlite
    .transaction((): OperatorRowView => {
      if (sqlite.prepare('SELECT 1 FROM operator WHERE username = ?').get(input.username)) {
        throw new EngineError(
          'OPERATOR_EXISTS',
          `There is already an operator ${input.username}. Choose another name.`,
          `username ${JSON.stringify(input.username)} taken`,
        );
      }
      const id = addOperator(sqlite, input, session.id, now);
      return operatorView(sqlite.prepare(`${OPERATOR_VIEW} WHERE id = ?`).get(id) as StoredOperator, now);
    })
    .immediate();
}

export interface OperatorUpdate {
  username: string;
  displayName?: string | undefined;
  role?: Role | undefined;
  active?: boolean | undefined;
  unlock?: boolean | undefined;
  password?: string | undefined;
}

/**
 * Changes an operator. `endSessions` is true when the operator lost access (deactivated) or changed role:
 * the caller then ends their open sessions, so the new rights apply at once.
 */
export function updateOperator(
  sqlite: Database.Database,
  session: OperatorSession,
  update: OperatorUpdate,
  now: Date,
): { operator: OperatorRowView; endSessions: boolean } {
  requirePermission(session, 'masterData');
  if (update.role !== undefined && !ROLES.includes(update.role)) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      `Unknown role ${update.role}.`,
      `role must be one of ${ROLES.join(', ')}`,
    );
  }
  if (update.displayName !== undefined && !update.displayName.trim()) {
    throw new EngineError('VEND_INVALID_REQUEST', 'An operator needs a display name.', 'empty display name');
  }
  // Hashed before the transaction: scrypt is slow and needs no lock.
  const passwordHash = update.password === undefined ? undefined : hashPassword(update.password);
  return sqlite
    .transaction(() => {
      const before = operatorNamed(sqlite, update.username);
      const roleChanges = update.role !== undefined && update.role !== before.role;
      const deactivates = update.active === false && before.active === 1;
      if (before.id === session.id && (roleChanges || deactivates)) {
        throw new EngineError(
          'OPERATOR_SELF_CHANGE',
          roleChanges
            ? 'You cannot change your own role. Ask another administrator.'
            : 'You cannot deactivate your own account. Ask another administrator.',
          `operator ${before.username} tried to ${roleChanges ? `change own role to ${update.role}` : 'deactivate self'}`,
        );
      }
      const set: Record<string, string | number | null> = {};
      const details: Record<string, unknown> = {};
      const displayName = update.displayName?.trim();
      if (displayName !== undefined && displayName !== before.displayName) {
        set.display_name = displayName;
        details.displayName = { from: before.displayName, to: displayName };
      }
      if (roleChanges) {
        set.role = update.role!;
        details.role = { from: before.role, to: update.role };
      }
      if (update.active !== undefined && update.active !== (before.active === 1)) {
        set.active = update.active ? 1 : 0;
        details.active = update.active;
      }
      if (update.unlock) {
        set.failed_attempts = 0;
        set.locked_until = null;
        details.unlocked = true;
      }
      if (passwordHash !== undefined) {
        set.password_hash = passwordHash;
        details.passwordChanged = true;
      }
      const columns = Object.keys(set);
      if (columns.length > 0) {
        sqlite
          .prepare(`UPDATE operator SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
          .run(...Object.values(set), before.id);
        appendAudit(
          sqlite,
          {
            operatorId: session.id,
            action: 'operator.update',
            entity: 'operator',
            entityId: before.username,
            details,
          },
          now,
        );
      }
      const after = sqlite.prepare(`${OPERATOR_VIEW} WHERE id = ?`).get(before.id) as StoredOperator;
      return { operator: operatorView(after, now), endSessions: roleChanges || deactivates };
    })
    .immediate();
}
