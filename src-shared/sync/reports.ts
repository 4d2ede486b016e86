import { z } from 'zod';

/**
 * Head-office reports the server builds from the events it ingested (sync-server/reports.ts) and the outlet's
 * supervisor screen reads when online. Money in integer minor units, units in 0.1 kWh (m³), dates are the
 * utility's business dates (YYYY-MM-DD, local to the utility, as the outlet stamped them on each event).
 */

const int = z.number().int().safe();
const count = z.number().int().min(0).safe();
export const businessDateSchema = z.iso.date();

export const endOfDayQuerySchema = z.strictObject({
  date: businessDateSchema,
  /** Only one outlet (head office); a device always gets its own outlet only. */
  outlet: z.string().min(1).max(64).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
export type EndOfDayQuery = z.infer<typeof endOfDayQuerySchema>;

const figures = {
  /** Vends with a credit token (kind sale): count, money taken (tender − change), units. */
  salesCount: count,
  salesMinor: int,
  salesUnits: int,
  /** VAT in the money taken (reversals negative). */
  taxMinor: int,
  /** Fixed charges and levies collected. */
  chargesMinor: int,
  leviesMinor: int,
  debtRecoveredMinor: int,
  /** Free basic electricity tokens: count and units. */
  fbeCount: count,
  fbeUnits: int,
  reversalsCount: count,
  /** Money given back by reversals (a negative number or 0). */
  reversalsMinor: int,
  /** All money taken, every kind, reversals netted. */
  netMinor: int,
  cashMinor: int,
  /** From the Z reports closed that day: declared, expected, declared − expected. */
  shiftsClosed: count,
  cashCountedMinor: int,
  cashExpectedMinor: int,
  varianceMinor: int,
  /** Z reports whose uploaded totals differ from the totals the server recomputed from the events. */
  mismatchedShifts: count,
};
export const endOfDayFiguresSchema = z.strictObject(figures);
export type EndOfDayFigures = z.infer<typeof endOfDayFiguresSchema>;

export const endOfDayOperatorRowSchema = z.strictObject({
  outletCode: z.string(),
  outletName: z.string(),
  /** Username; the display name beside it as the outlet knew it. */
  operator: z.string(),
  operatorName: z.string(),
  ...figures,
});
export type EndOfDayOperatorRow = z.infer<typeof endOfDayOperatorRowSchema>;

export const endOfDayOutletRowSchema = z.strictObject({
  outletCode: z.string(),
  outletName: z.string(),
  /** When the server last heard from the outlet, and the newest event it holds from it (ISO). */
  lastUploadAt: z.string().nullable(),
  ...figures,
});
export type EndOfDayOutletRow = z.infer<typeof endOfDayOutletRowSchema>;

export const shiftDifferenceSchema = z.strictObject({
  field: z.string(),
  reported: int,
  recomputed: int,
});

export const shiftReconciliationSchema = z.strictObject({
  outletCode: z.string(),
  operator: z.string(),
  shiftId: int,
  reportNo: int,
  closedAt: z.string(),
  status: z.enum(['match', 'mismatch']),
  differences: z.array(shiftDifferenceSchema),
});
export type ShiftReconciliation = z.infer<typeof shiftReconciliationSchema>;

export const endOfDayReportSchema = z.strictObject({
  utility: z.strictObject({ code: z.string(), name: z.string() }),
  date: businessDateSchema,
  generatedAt: z.string(),
  byOperator: z.array(endOfDayOperatorRowSchema),
  byOutlet: z.array(endOfDayOutletRowSchema),
  total: endOfDayFiguresSchema,
  shifts: z.array(shiftReconciliationSchema),
});
export type EndOfDayReport = z.infer<typeof endOfDayReportSchema>;

export const endOfDayPath = (date: string, format: 'json' | 'csv' = 'json'): string =>
  `/v1/reports/end-of-day?date=${encodeURIComponent(date)}${format === 'csv' ? '&format=csv' : ''}`;
