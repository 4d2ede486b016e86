import type Database from 'better-sqlite3';
import type { OutletSettings } from '../../src-shared/bridge/contract.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { type OperatorSession, requirePermission } from './operators.ts';

/** The outlet's own settings (name, address, receipt width, low-float warning) and its vending authority. */

export const RECEIPT_COLUMNS = [32, 42, 48] as const;

interface StoredOutlet {
  code: string;
  name: string;
  address: string;
  terminalId: string;
  receiptColumns: OutletSettings['receiptColumns'];
  lowFloatThresholdMinor: number;
  creditLimitMinor: number;
  usedMinor: number;
  validUntil: string;
}

export function outletSettings(sqlite: Database.Database): OutletSettings {
  const { creditLimitMinor, usedMinor, validUntil, ...outlet } = sqlite
    .prepare(
      `SELECT code, name, address, terminal_id AS terminalId, receipt_columns AS receiptColumns,
        low_float_threshold_minor AS lowFloatThresholdMinor, authority_credit_limit_minor AS creditLimitMinor,
        authority_used_minor AS usedMinor, authority_valid_until AS validUntil
       FROM outlet WHERE id = 1`,
    )
    .get() as StoredOutlet;
  return { ...outlet, authority: { creditLimitMinor, usedMinor, validUntil } };
}

export interface OutletUpdate {
  name?: string | undefined;
  address?: string | undefined;
  receiptColumns?: OutletSettings['receiptColumns'] | undefined;
  lowFloatThresholdMinor?: number | undefined;
}

const COLUMNS = {
  name: 'name',
  address: 'address',
  receiptColumns: 'receipt_columns',
  lowFloatThresholdMinor: 'low_float_threshold_minor',
} as const;

export function updateOutletSettings(
  sqlite: Database.Database,
  session: OperatorSession,
  update: OutletUpdate,
  now: Date,
): OutletSettings {
  requirePermission(session, 'masterData');
  const name = update.name?.trim();
  if (name !== undefined && !name) {
    throw new EngineError('VEND_INVALID_REQUEST', 'The outlet needs a name.', 'empty outlet name');
  }
  if (update.receiptColumns !== undefined && !RECEIPT_COLUMNS.includes(update.receiptColumns)) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      `The receipt width must be ${RECEIPT_COLUMNS.join(', ')} characters.`,
      `receiptColumns ${update.receiptColumns}`,
    );
  }
  const threshold = update.lowFloatThresholdMinor;
  if (threshold !== undefined && (!Number.isSafeInteger(threshold) || threshold < 0)) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'The low-float warning level must be zero or more.',
      `lowFloatThresholdMinor ${threshold}`,
    );
  }
  const wanted = {
    name,
    address: update.address?.trim(),
    receiptColumns: update.receiptColumns,
    lowFloatThresholdMinor: threshold,
  };
  return sqlite
    .transaction((): OutletSettings => {
      const before = outletSettings(sqlite);
      const details: Record<string, { from: unknown; to: unknown }> = {};
      for (const field of Object.keys(COLUMNS) as Array<keyof typeof COLUMNS>) {
        const to = wanted[field];
        if (to !== undefined && to !== before[field]) details[field] = { from: before[field], to };
      }
      const fields = Object.keys(details) as Array<keyof typeof COLUMNS>;
      if (fields.length === 0) return before;
      sqlite
        .prepare(`UPDATE outlet SET ${fields.map((f) => `${COLUMNS[f]} = ?`).join(', ')} WHERE id = 1`)
        .run(...fields.map((f) => details[f]!.to as string | number));
      appendAudit(
        sqlite,
        { operatorId: session.id, action: 'outlet.update', entity: 'outlet', entityId: before.code, details },
        now,
      );
      return outletSettings(sqlite);
    })
    .immediate();
}
