import { z } from 'zod';
import type { SyncEvent } from './protocol.ts';

/**
 * The event types the outlet writes to its outbox (same transaction as the fact) and the least each payload
 * must carry for the server to use it. Loose objects: later fields are additive. An event that fails here is
 * kept apart by the server as rejected (and quarantined at the outlet), never dropped.
 */
const minor = z.number().int().safe();
const requestId = z.string().min(1).max(64);

const salePayload = z.looseObject({
  receiptNo: z.number().int().positive(),
  requestId,
  saleId: z.number().int().positive(),
  result: z.looseObject({ kind: z.string(), receiptNo: z.number().int().positive() }),
});

export const SYNC_EVENT_PAYLOADS = {
  'sale.sale': salePayload,
  'sale.fbe': salePayload,
  'sale.free-issue': salePayload,
  'sale.engineering': salePayload,
  'sale.key-change': salePayload,
  'sale.reversal': salePayload,
  'shift.closed': z.looseObject({
    shiftId: z.number().int().positive(),
    report: z.looseObject({ kind: z.literal('Z'), reportNo: z.number().int().positive() }),
  }),
  'float.top-up': z.looseObject({ requestId, amountMinor: minor.positive(), reference: z.string() }),
} as const;

export type SyncEventType = keyof typeof SYNC_EVENT_PAYLOADS;

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
