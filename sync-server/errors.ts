import { OpenVendError } from '../src-shared/errors/openvend-error.ts';

/** Server-side failures outside the wire protocol (start-up, database, administration). */
export type ServerErrorCode =
  | 'SERVER_CONFIG'
  | 'SERVER_DB_NEWER'
  | 'SERVER_MIGRATION_CHANGED'
  | 'SERVER_DB_UNAVAILABLE'
  | 'SERVER_DATA_DIR_LOCKED'
  | 'SERVER_TLS'
  | 'ADMIN_INVALID'
  | 'ADMIN_NOT_FOUND'
  | 'ADMIN_EXISTS';

export class ServerError extends OpenVendError {
  declare readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, userMessage: string, detail: string = userMessage) {
    super(code, userMessage, detail);
  }
}
