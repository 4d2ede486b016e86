import { z } from 'zod';
import type { PriceBreakdown } from '../vending/pricing.ts';
import type { Receipt } from '../vending/receipt.ts';
import type { ShiftReport, ZShiftReport } from '../vending/shift-report.ts';

/**
 * zod schemas of the engine's domain results as they cross the bridge. The engine's own types are derived
 * from these (or checked against them), so the wire shape and the code cannot drift apart.
 */

const isObject = (value: unknown) => typeof value === 'object' && value !== null;

export const priceBreakdownSchema = z.custom<PriceBreakdown>(isObject);
export const receiptSchema = z.custom<Receipt>(isObject);
export const shiftReportSchema = z.custom<ShiftReport>(isObject);
export const zShiftReportSchema = z.custom<ZShiftReport>(isObject);

const resource = z.enum(['electricity', 'water', 'gas']);
const baseDate = z.union([z.literal(1993), z.literal(2014), z.literal(2035)]);

export const meterConfirmationSchema = z.strictObject({
  meterNo: z.string(),
  pan: z.string(),
  resource,
  customer: z
    .strictObject({
      accountNo: z.string(),
      name: z.string(),
      address: z.string(),
      phone: z.string(),
      location: z.string(),
    })
    .nullable(),
  sgc: z.string(),
  ti: z.number().int(),
  krn: z.number().int(),
  keyType: z.number().int(),
  ea: z.string(),
  tariff: z.strictObject({ code: z.string(), name: z.string(), version: z.number().int(), kind: z.string() }),
  canVend: z.boolean(),
  blockedReason: z.string().nullable(),
  minVendMinor: z.number().int(),
  maxVendMinor: z.number().int(),
  arrearsMinor: z.number().int(),
  fbeDue: z.boolean(),
  daysSinceLastPurchase: z.number().int().nullable(),
  monthToDateUnits: z.number().int(),
  currentBlock: z.number().int(),
  pendingKeyChange: z
    .strictObject({
      sgc: z.string(),
      ti: z.number().int(),
      krn: z.number().int(),
      baseDate: z.number().int(),
    })
    .nullable(),
});
export type MeterConfirmation = z.output<typeof meterConfirmationSchema>;

export const issuedTokenSchema = z.strictObject({
  seq: z.number().int(),
  kind: z.enum(['key-change', 'fbe', 'credit', 'free', 'engineering']),
  label: z.string(),
  digits: z.string().regex(/^\d{20}$/),
  display: z.string(),
  tokenClass: z.number().int(),
  subclass: z.number().int(),
  tid: z.number().int().nullable(),
  /** The base date of the TID (null for tokens without a TID). */
  baseDate: baseDate.nullable(),
  units: z.number().int().nullable(),
});
export type IssuedToken = z.output<typeof issuedTokenSchema>;

export const saleResultSchema = z.strictObject({
  receiptNo: z.number().int(),
  requestId: z.string(),
  kind: z.string(),
  createdAt: z.string(),
  meterNo: z.string().nullable(),
  tokens: z.array(issuedTokenSchema),
  breakdown: priceBreakdownSchema.nullable(),
  floatBalanceMinor: z.number().int(),
  lowFloat: z.boolean(),
  receipt: receiptSchema,
  /** True when this call returned the stored result of an earlier identical request. */
  replayed: z.boolean().optional(),
});
export type SaleResult = z.output<typeof saleResultSchema>;

const importRejectionSchema = z.strictObject({
  line: z.number().int(),
  column: z.string().optional(),
  value: z.string().optional(),
  code: z.string(),
  message: z.string(),
});

export const importResultSchema = z.strictObject({
  kind: z.enum(['customers', 'meters']),
  file: z.string(),
  sha256: z.string(),
  dryRun: z.boolean(),
  rows: z.number().int(),
  imported: z.number().int(),
  rejected: z.array(importRejectionSchema),
});
export type ImportResult = z.output<typeof importResultSchema>;
