import { OpenVendError } from '../errors/openvend-error.ts';

/** Stable codes for every STS failure; tests and front ends match on these, never on text. */
export type StsErrorCode =
  | 'STS_INVALID_DIGITS'
  | 'STS_BAD_CHECK_DIGIT'
  | 'STS_INVALID_PAN'
  | 'STS_INVALID_SGC'
  | 'STS_INVALID_TI'
  | 'STS_INVALID_KRN'
  | 'STS_INVALID_KEY_TYPE'
  | 'STS_INVALID_KEN'
  | 'STS_INVALID_BASE_DATE'
  | 'STS_INVALID_ALGORITHM'
  | 'STS_INVALID_KEY'
  | 'STS_INVALID_AMOUNT'
  | 'STS_AMOUNT_OUT_OF_RANGE'
  | 'STS_INVALID_FIELD'
  | 'STS_INVALID_TOKEN'
  | 'STS_TOKEN_OUT_OF_RANGE'
  | 'STS_BAD_CRC'
  | 'STS_UNSUPPORTED_TOKEN'
  | 'STS_INVALID_TIME'
  | 'STS_TID_BEFORE_BASE_DATE'
  | 'STS_TID_ROLLOVER'
  | 'STS_TID_NOT_NEWER'
  | 'STS_KEY_EXPIRED'
  | 'STS_INVALID_REQUEST';

export class StsError extends OpenVendError {
  declare readonly code: StsErrorCode;

  constructor(code: StsErrorCode, userMessage: string, detail: string = userMessage) {
    super(code, userMessage, detail);
  }
}
