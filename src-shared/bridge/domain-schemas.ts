import { z } from 'zod';
import type { PriceBreakdown } from '../vending/pricing.ts';
import type { Receipt } from '../vending/receipt.ts';
import type { ShiftReport, ZShiftReport } from '../vending/shift-report.ts';

/**
 * zod schemas of the engine's domain results as they cross the bridge. The engine's own types are derived
 * from these (or checked against them), so the wire shape and the code cannot drift apart.
 *
 * Optional fields use `exactOptional()`: the interfaces are compiled with exactOptionalPropertyTypes, so a field is
 * either absent or present with its type, never `undefined`.
 */

const resource = z.enum(['electricity', 'water', 'gas']);
const baseDate = z.union([z.literal(1993), z.literal(2014), z.literal(2035)]);
const int = z.number().int();

// ---------------------------------------------------------------------------------------------------------------
// PriceBreakdown (src-shared/vending/pricing.ts)

const debtRuleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('percent-of-tender'), bp: int }),
  z.strictObject({ kind: z.literal('fixed-per-vend'), amountMinor: int }),
  z.strictObject({ kind: z.literal('fixed-per-month'), amountMinor: int }),
]);

export const priceBreakdownSchema = z.strictObject({
  tariffId: z.string(),
  tariffVersion: int,
  resource,
  month: z.string(),
  tenderMinor: int,
  fixedCharges: z.array(
    z.strictObject({
      description: z.string(),
      months: int,
      monthlyAmountMinor: int,
      amountMinor: int,
      netMinor: int,
      vatMinor: int,
    }),
  ),
  debt: z
    .strictObject({
      accountNo: z.string(),
      description: z.string(),
      rule: debtRuleSchema,
      amountMinor: int,
      balanceBeforeMinor: int,
      balanceAfterMinor: int,
      recoveredThisMonthAfterMinor: int,
    })
    .nullable(),
  energyMoneyMinor: int,
  levies: z.array(
    z.strictObject({ name: z.string(), kind: z.enum(['per-kwh', 'percent']), value: int, amountMinor: int }),
  ),
  vat: z.strictObject({ rateBp: int, amountMinor: int }),
  energyMinor: int,
  units: int,
  blocks: z.array(
    z.strictObject({
      blockIndex: int,
      fromUnits: int,
      toUnits: int,
      units: int,
      rateMilliMinorPerKwh: int,
      amountMilliMinor: int,
    }),
  ),
  unitsCostMilliMinor: int,
  roundingMilliMinor: int,
  changeMinor: int,
  totalVatMinor: int,
  fbe: z.strictObject({ units: int }).nullable(),
  monthToDateUnitsBefore: int,
  monthToDateUnitsAfter: int,
});

// ---------------------------------------------------------------------------------------------------------------
// Receipt (src-shared/vending/receipt.ts)

const receiptTokenKind = z.enum(['key-change', 'fbe', 'credit', 'free', 'engineering']);
const receiptParty = z.strictObject({ name: z.string(), addressLines: z.array(z.string()) });
const receiptKeyData = z.strictObject({ sgc: z.string(), krn: int, ti: int });

export const receiptSchema = z.strictObject({
  header: z.strictObject({
    title: z.string(),
    copy: z.boolean(),
    utility: receiptParty.extend({ taxRef: z.string().exactOptional() }),
    outlet: receiptParty,
    receiptNo: z.string(),
    issuedAt: z.string(),
    terminalId: z.string(),
    operator: z.string(),
    vatInvoiceNo: z.string().exactOptional(),
  }),
  customer: z
    .strictObject({
      name: z.string(),
      addressLines: z.array(z.string()),
      accountNo: z.string().exactOptional(),
    })
    .exactOptional(),
  meter: z.strictObject({
    meterNo: z.string(),
    sgc: z.string(),
    krn: int,
    ti: int,
    ea: z.string(),
    tt: z.string(),
    tariffName: z.string(),
    tariffIndex: z.string().exactOptional(),
    keyChange: z.strictObject({ from: receiptKeyData, to: receiptKeyData }).exactOptional(),
  }),
  tokens: z.array(
    z.strictObject({
      kind: receiptTokenKind,
      label: z.string(),
      digits: z.string(),
      units: int.exactOptional(),
      resource: resource.exactOptional(),
      amountMinor: int.exactOptional(),
      description: z.string().exactOptional(),
    }),
  ),
  lines: z
    .strictObject({
      fixedCharges: z
        .array(
          z.strictObject({
            description: z.string(),
            months: int.exactOptional(),
            amountMinor: int,
            vatMinor: int.exactOptional(),
          }),
        )
        .exactOptional(),
      debtRecovery: z
        .array(
          z.strictObject({
            description: z.string(),
            accountNo: z.string().exactOptional(),
            amountMinor: int,
            vatMinor: int.exactOptional(),
            balanceAfterMinor: int.exactOptional(),
          }),
        )
        .exactOptional(),
      levies: z.array(z.strictObject({ description: z.string(), amountMinor: int })).exactOptional(),
      energyMinor: int.exactOptional(),
      vat: z.array(z.strictObject({ rateBasisPoints: int, amountMinor: int })).exactOptional(),
      unitsTotal: int.exactOptional(),
      resource: resource.exactOptional(),
      blocks: z
        .array(z.strictObject({ units: int, rateMilliMinor: int, amountMinor: int.exactOptional() }))
        .exactOptional(),
      totalMinor: int.exactOptional(),
      payType: z.string().exactOptional(),
      tenderMinor: int.exactOptional(),
      roundingMinor: int.exactOptional(),
      changeMinor: int.exactOptional(),
    })
    .exactOptional(),
  messages: z
    .strictObject({
      lines: z.array(z.string()).exactOptional(),
      slip: z.array(z.string()).exactOptional(),
      footer: z.string().exactOptional(),
    })
    .exactOptional(),
});

// ---------------------------------------------------------------------------------------------------------------
// X and Z shift reports (src-shared/vending/shift-report.ts)

const shiftTotal = { count: int, amountMinor: int, units: int };

const shiftReportBase = {
  copy: z.boolean(),
  outlet: receiptParty,
  terminalId: z.string(),
  operators: z.array(z.string()),
  openedAt: z.string(),
  printedAt: z.string(),
  firstReceiptNo: z.string().exactOptional(),
  lastReceiptNo: z.string().exactOptional(),
  byType: z.array(
    z.strictObject({
      ...shiftTotal,
      type: z.enum(['sale', 'fbe', 'free-issue', 'engineering', 'key-change', 'reversal']),
    }),
  ),
  byOperator: z.array(z.strictObject({ ...shiftTotal, operator: z.string() })),
  byPayType: z.array(z.strictObject({ ...shiftTotal, payType: z.string() })),
  byResource: z.array(z.strictObject({ ...shiftTotal, resource })),
  total: z.strictObject(shiftTotal),
  taxTotalMinor: int,
  floatBalanceMinor: int,
};

export const zShiftReportSchema = z.strictObject({
  kind: z.literal('Z'),
  ...shiftReportBase,
  reportNo: int,
  closedAt: z.string(),
  cash: z.strictObject({ declaredMinor: int, expectedMinor: int, varianceMinor: int }),
});

export const shiftReportSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('X'), ...shiftReportBase }),
  zShiftReportSchema,
]);

// ---------------------------------------------------------------------------------------------------------------
// Compile-time proof that each schema's output is exactly its interface: a field added to, removed from or
// retyped in only one of the two fails `tsc`. Mutual assignability alone would let an extra optional field
// through, and the identity check alone does not tell `a?: T` from `a?: T | undefined`, so both are required.

type Identical<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? Identical<A, B> : false) : false;
type Assert<T extends true> = T;
/** Exported only so the check is not an unused type; it has no other use. */
export type DomainSchemasMatchInterfaces = Assert<
  | Same<z.output<typeof priceBreakdownSchema>, PriceBreakdown>
  | Same<z.output<typeof receiptSchema>, Receipt>
  | Same<z.output<typeof shiftReportSchema>, ShiftReport>
  | Same<z.output<typeof zShiftReportSchema>, ZShiftReport>
>;

// ---------------------------------------------------------------------------------------------------------------
// Other results

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
