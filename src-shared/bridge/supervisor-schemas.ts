import { z } from 'zod';

/**
 * What the supervisor screen reads over the bridge: the sync quarantine (events the server refused, kept at the
 * outlet) and the codes of the end-of-day view's own failures, so the screen can show an offline or
 * not-enrolled state instead of a generic error.
 */

const int = z.number().int().safe();

export const quarantinedEventSchema = z.strictObject({
  /** The event's place in the outbox (its sequence on this outlet). */
  outboxSeq: int,
  batchId: int,
  eventType: z.string(),
  /** When the event happened at the outlet, and when the refusal was recorded (ISO). */
  createdAt: z.string(),
  quarantinedAt: z.string(),
  reasonCode: z.string(),
  reasonMessage: z.string(),
  /** The receipt number of a sale event, null for other events. */
  receiptNo: int.positive().nullable(),
  /** The original payload exactly as it was kept, for the supervisor and head office to read. */
  payloadJson: z.string(),
});
export type QuarantinedEventView = z.output<typeof quarantinedEventSchema>;

export const END_OF_DAY_ERRORS = {
  /** No sync identity on this outlet: there is no server to ask. */
  notEnrolled: 'REPORT_NOT_ENROLLED',
  /** The server did not answer (network, timeout, server failure). */
  offline: 'REPORT_SERVER_UNREACHABLE',
} as const;
