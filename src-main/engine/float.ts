import type Database from 'better-sqlite3';
import type { FloatMovementView } from '../../src-shared/bridge/contract.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { type OperatorSession, requirePermission } from './operators.ts';

/**
 * The vendor float: the money the outlet may still sell for. Sales take from it (in the vend engine);
 * top-ups paid to the utility add to it, entered here exactly once per request id.
 */

export const FLOAT_TOP_UP_KIND = 'top-up';

/**
 * The one way the float moves: the outlet balance and its movement row, in the caller's transaction.
 * Returns the balance after the move.
 */
export function moveFloat(
  sqlite: Database.Database,
  move: {
    now: Date;
    kind: string;
    amountMinor: number;
    reference: string;
    saleId?: number | null;
    requestId?: string | null;
  },
): number {
  const { balance } = sqlite
    .prepare(
      'UPDATE outlet SET float_balance_minor = float_balance_minor + ? WHERE id = 1 RETURNING float_balance_minor AS balance',
    )
    .get(move.amountMinor) as { balance: number };
  sqlite
    .prepare(
      'INSERT INTO float_movement (created_at, kind, amount_minor, balance_after_minor, sale_id, reference, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      move.now.toISOString(),
      move.kind,
      move.amountMinor,
      balance,
      move.saleId ?? null,
      move.reference,
      move.requestId ?? null,
    );
  return balance;
}

export interface FloatLedger {
  balanceMinor: number;
  lowFloatThresholdMinor: number;
  lowFloat: boolean;
  rows: FloatMovementView[];
  total: number;
}

/** The balance and its movements, newest first (any logged-in operator may look). */
export function floatLedger(sqlite: Database.Database, page: { limit: number; offset: number }): FloatLedger {
  const outlet = sqlite
    .prepare(
      'SELECT float_balance_minor AS balanceMinor, low_float_threshold_minor AS lowFloatThresholdMinor FROM outlet WHERE id = 1',
    )
    .get() as { balanceMinor: number; lowFloatThresholdMinor: number };
  const { total } = sqlite.prepare('SELECT COUNT(*) AS total FROM float_movement').get() as { total: number };
  const rows = sqlite
    .prepare(
      `SELECT f.id, f.created_at AS createdAt, f.kind, f.amount_minor AS amountMinor, f.balance_after_minor AS balanceAfterMinor,
         s.receipt_no AS receiptNo, f.reference
       FROM (SELECT * FROM float_movement ORDER BY id DESC LIMIT ? OFFSET ?) f
       LEFT JOIN sale s ON s.id = f.sale_id
       ORDER BY f.id DESC`,
    )
    .all(page.limit, page.offset) as FloatMovementView[];
  return {
    ...outlet,
    lowFloat: outlet.balanceMinor < outlet.lowFloatThresholdMinor,
    rows,
    total,
  };
}

export interface TopUpRequest {
  requestId: string;
  amountMinor: number;
  /** The payment reference (deposit slip, transfer number). */
  reference: string;
}

/**
 * Records a top-up paid to the utility, exactly once per request id: a repeat with the same amount and
 * reference returns the balance the first one left, without a second movement; different content is refused.
 */
export function topUpFloat(
  sqlite: Database.Database,
  session: OperatorSession,
  request: TopUpRequest,
  now: Date,
): { balanceMinor: number } {
  requirePermission(session, 'masterData');
  const reference = request.reference.trim();
  if (!Number.isSafeInteger(request.amountMinor) || request.amountMinor <= 0) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'The top-up amount must be more than zero.',
      `amount ${request.amountMinor}`,
    );
  }
  if (!reference) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'Give the payment reference of the top-up.',
      'empty top-up reference',
    );
  }
  return sqlite
    .transaction(() => {
      const earlier = sqlite
        .prepare(
          'SELECT amount_minor AS amountMinor, reference, balance_after_minor AS balanceMinor FROM float_movement WHERE request_id = ?',
        )
        .get(request.requestId) as
        | { amountMinor: number; reference: string; balanceMinor: number }
        | undefined;
      if (earlier) {
        if (earlier.amountMinor !== request.amountMinor || earlier.reference !== reference) {
          throw new EngineError(
            'VEND_REQUEST_CONFLICT',
            'This request number was already used for a different top-up. Start a new top-up.',
            `top-up request ${request.requestId}: stored ${earlier.amountMinor}/${JSON.stringify(earlier.reference)}, got ${request.amountMinor}/${JSON.stringify(reference)}`,
          );
        }
        return { balanceMinor: earlier.balanceMinor };
      }
      const { before } = sqlite
        .prepare('SELECT float_balance_minor AS before FROM outlet WHERE id = 1')
        .get() as { before: number };
      const balanceMinor = before + request.amountMinor;
      if (!Number.isSafeInteger(balanceMinor)) {
        throw new EngineError(
          'VEND_INVALID_REQUEST',
          'The top-up amount is too large.',
          `float ${before} + ${request.amountMinor} is not a safe integer`,
        );
      }
      moveFloat(sqlite, {
        now,
        kind: FLOAT_TOP_UP_KIND,
        amountMinor: request.amountMinor,
        reference,
        requestId: request.requestId,
      });
      sqlite
        .prepare('INSERT INTO outbox (created_at, event_type, payload_json) VALUES (?, ?, ?)')
        .run(
          now.toISOString(),
          'float.top-up',
          JSON.stringify({ requestId: request.requestId, amountMinor: request.amountMinor, reference }),
        );
      appendAudit(
        sqlite,
        {
          operatorId: session.id,
          action: 'float.top-up',
          entity: 'outlet',
          entityId: request.requestId,
          details: { amountMinor: request.amountMinor, reference, balanceMinor },
        },
        now,
      );
      return { balanceMinor };
    })
    .immediate();
}
