import { OpenVendError } from '../../src-shared/errors/openvend-error.ts';

export type EngineErrorCode =
  | 'AUTH_FAILED'
  | 'AUTH_LOCKED'
  | 'AUTH_FORBIDDEN'
  | 'AUTH_INACTIVE'
  | 'AUTH_SESSION_EXPIRED'
  | 'METER_UNKNOWN'
  | 'METER_BLOCKED'
  | 'METER_NEEDS_KEY_CHANGE'
  | 'VEND_FLOAT_INSUFFICIENT'
  | 'VEND_REQUEST_CONFLICT'
  | 'VEND_NO_TARIFF'
  | 'VEND_NOT_FOUND'
  | 'VEND_ALREADY_REVERSED'
  | 'VEND_INVALID_REQUEST'
  | 'SHIFT_NOT_OPEN'
  | 'SHIFT_ALREADY_OPEN'
  | 'AUDIT_CHAIN_BROKEN'
  | 'IMPORT_REJECTED'
  | 'CUSTOMER_UNKNOWN'
  | 'OPERATOR_UNKNOWN'
  | 'OPERATOR_EXISTS'
  | 'OPERATOR_SELF_CHANGE'
  | 'ENGINE_START_FAILED';

export class EngineError extends OpenVendError {
  declare readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, userMessage: string, detail: string = userMessage) {
    super(code, userMessage, detail);
  }
}
