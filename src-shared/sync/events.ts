import { z } from 'zod';
import type { SyncEvent } from './protocol.ts';

/**
 * The event types the outlet writes to its outbox (same transaction as the fact) and the least each payload
 * must carry for the server to use it. Loose objects: later fields are additive. An event that fails here is
 * kept apart by the server as rejected (and quarantined at the outlet), never dropped.
 */
const minor = z.number().int().safe();
const requestId = z.string().min(1).max(64);

const int = z.number().int().safe();

/**
 * The outlet's sale row, named: what head office reconciles shifts and builds the end of day from. Amounts are
 * signed as in the ledger (a reversal's are negative); money taken = charges + debt + levies + VAT + energy.
 */
export const saleLedgerRowSchema = z.looseObject({
  kind: z.string().min(1),
  shiftId: z.number().int().positive().nullable(),
  operator: z.string().min(1),
  operatorName: z.string(),
  payType: z.string().min(1),
  tenderMinor: minor,
  chargesMinor: minor,
  debtMinor: minor,
  leviesMinor: minor,
  vatMinor: minor,
  energyMinor: minor,
  changeMinor: minor,
  units: int,
  fbeUnits: int,
  meterNo: z.string().nullable(),
  resource: z.string().nullable(),
  reversesReceiptNo: z.number().int().positive().nullable(),
  reasonCode: z.string().nullable(),
  /** The utility's local date of the sale (YYYY-MM-DD). */
  businessDate: z.iso.date(),
});
export type SaleLedgerRow = z.infer<typeof saleLedgerRowSchema>;

const issuedToken = z.looseObject({ kind: z.string(), digits: z.string(), tid: int.nullable() });

const salePayload = z.looseObject({
  receiptNo: z.number().int().positive(),
  requestId,
  saleId: z.number().int().positive(),
  ledger: saleLedgerRowSchema,
  /** The pricing request of a credit vend (tariff version, meter month state, debt); checked where used. */
  pricing: z.looseObject({ tenderMinor: minor, month: z.string() }).optional(),
  result: z.looseObject({
    kind: z.string(),
    receiptNo: z.number().int().positive(),
    createdAt: z.iso.datetime(),
    meterNo: z.string().nullable(),
    tokens: z.array(issuedToken),
    breakdown: z
      .looseObject({
        month: z.string(),
        units: int,
        monthToDateUnitsBefore: int,
        monthToDateUnitsAfter: int,
      })
      .nullable(),
  }),
});
export type SalePayload = z.infer<typeof salePayload>;

export const SYNC_EVENT_PAYLOADS = {
  'sale.sale': salePayload,
  'sale.fbe': salePayload,
  'sale.free-issue': salePayload,
  'sale.engineering': salePayload,
  'sale.key-change': salePayload,
  'sale.reversal': salePayload,
  'shift.closed': z.looseObject({
    shiftId: z.number().int().positive(),
    operator: z.string().min(1),
    businessDate: z.iso.date(),
    report: z.looseObject({
      kind: z.literal('Z'),
      reportNo: z.number().int().positive(),
      closedAt: z.string(),
      byType: z.array(z.looseObject({ type: z.string(), count: int, amountMinor: minor, units: int })),
      total: z.looseObject({ count: int, amountMinor: minor, units: int }),
      taxTotalMinor: minor,
      cash: z.looseObject({ declaredMinor: minor, expectedMinor: minor, varianceMinor: minor }),
    }),
  }),
  'float.top-up': z.looseObject({ requestId, amountMinor: minor.positive(), reference: z.string() }),
} as const;

export type SyncEventType = keyof typeof SYNC_EVENT_PAYLOADS;
export type ShiftClosedPayload = z.infer<(typeof SYNC_EVENT_PAYLOADS)['shift.closed']>;

/** Why an event cannot be used, or null when it can. */
export function eventProblem(event: SyncEvent): { code: string; message: string } | null {
  if (!Object.hasOwn(SYNC_EVENT_PAYLOADS, event.type)) {
    return { code: 'SYNC_EVENT_UNKNOWN_TYPE', message: `unknown event type ${event.type}` };
  }
  const parsed = SYNC_EVENT_PAYLOADS[event.type as SyncEventType].safeParse(event.payload);
  if (parsed.success) return null;
  return {
    code: 'SYNC_EVENT_INVALID',
    message: parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; '),
  };
}
