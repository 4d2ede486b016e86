import type { MethodResult } from '../../../src-shared/bridge/contract.ts';
import type { MeterConfirmation, SaleResult } from '../../../src-shared/bridge/domain-schemas.ts';

export type Quote = MethodResult<'vend.quote'>;

/** The steps of a sale; each carries what the cashier has confirmed so far. */
export type VendStep =
  | { kind: 'meter' }
  | { kind: 'customer'; confirmation: MeterConfirmation }
  | { kind: 'amount'; confirmation: MeterConfirmation }
  | { kind: 'confirm'; confirmation: MeterConfirmation; quote: Quote; requestId: string }
  | { kind: 'result'; confirmation: MeterConfirmation; sale: SaleResult };

export type { MeterConfirmation, SaleResult };
