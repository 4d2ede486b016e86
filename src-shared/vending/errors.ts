import { OpenVendError } from '../errors/openvend-error.ts';

/** Stable codes for pricing and vending failures; tests and front ends match on these, never on text. */
export type VendErrorCode =
  /** Money text or a money number that is not a valid amount (empty, not a number, negative, too precise, too big). */
  | 'VEND_INVALID_AMOUNT'
  /** Below the tariff's minimum vend, or the tender only covers charges and arrears (no units left). */
  | 'VEND_AMOUNT_TOO_LOW'
  /** Above the tariff's maximum vend, or more units than one token can carry. */
  | 'VEND_AMOUNT_TOO_HIGH'
  /** The tariff version itself is malformed (blocks, rates, VAT, limits). A configuration fault, not a cashier one. */
  | 'VEND_INVALID_TARIFF'
  /** The request is malformed (month strings, meter or debt state). A programming or data fault. */
  | 'VEND_INVALID_REQUEST'
  /** Free Basic Electricity asked for a customer who is not registered for it (XMLVend FBEEx). */
  | 'VEND_FBE_NOT_ELIGIBLE'
  /** Free Basic Electricity already issued this month, or none on the tariff (NO_FREE_UNITS_DUE). */
  | 'VEND_NO_FREE_UNITS_DUE';

/**
 * A pricing/vending failure. `amounts` carries the figures behind the message in minor units (or 0.1 units where
 * the key says so) so a caller that knows the currency can show them formatted; pricing itself never knows the
 * currency, so `userMessage` states the problem in words and `detail` carries the raw numbers.
 */
export class VendError extends OpenVendError {
  declare readonly code: VendErrorCode;
  readonly amounts: Readonly<Record<string, number>>;

  constructor(
    code: VendErrorCode,
    userMessage: string,
    detail: string = userMessage,
    amounts: Readonly<Record<string, number>> = {},
  ) {
    super(code, userMessage, detail);
    this.amounts = amounts;
  }
}

export function isVendError(value: unknown): value is VendError {
  return value instanceof VendError;
}
