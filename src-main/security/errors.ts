import { OpenVendError } from '../../src-shared/errors/openvend-error.ts';

export type SecurityErrorCode =
  | 'SECURITY_KEK_MISSING'
  | 'SECURITY_KEK_INVALID'
  | 'SECURITY_KEK_FILE_OPEN_PERMISSIONS'
  | 'SECURITY_KEY_UNSEAL_FAILED'
  | 'SECURITY_NO_VENDING_KEY'
  | 'SECURITY_AUTHORITY_EXPIRED'
  | 'SECURITY_AUTHORITY_LIMIT';

export class SecurityError extends OpenVendError {
  declare readonly code: SecurityErrorCode;

  constructor(code: SecurityErrorCode, userMessage: string, detail: string = userMessage) {
    super(code, userMessage, detail);
  }
}
