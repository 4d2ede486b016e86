import { OpenVendError } from '../../src-shared/errors/openvend-error.ts';

export type LedgerErrorCode =
  | 'LEDGER_NEWER_THAN_APP'
  | 'LEDGER_MIGRATION_CHANGED'
  | 'LEDGER_MIGRATION_FAILED'
  | 'LEDGER_CORRUPT'
  | 'LEDGER_NOT_INITIALISED'
  | 'LEDGER_ALREADY_INITIALISED'
  | 'LEDGER_BACKUP_FAILED'
  | 'LEDGER_RESTORE_FAILED';

export class LedgerError extends OpenVendError {
  declare readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, userMessage: string, detail: string = userMessage) {
    super(code, userMessage, detail);
  }
}
