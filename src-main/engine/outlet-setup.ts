import type Database from 'better-sqlite3';
import { z } from 'zod';
import { EngineError } from './errors.ts';
import { addOperator, addSupplyGroup, addTariff, initialiseOutlet } from './master-data.ts';

/**
 * The outlet set-up file read by `openvend init`: the utility, this outlet, its first administrator, and
 * optionally the supply groups (with vending keys: the file is secret, delete it after use) and tariffs.
 * Meters and customers come by CSV import; later, master data arrives from the sync server.
 */
const block = z.strictObject({
  upToUnits: z.number().int().positive().nullable(),
  rateMilliMinorPerKwh: z.number().int().positive(),
});
const tariffVersion = z.strictObject({
  effectiveFromLocal: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  kind: z.enum(['flat', 'inclining-block']),
  blocks: z.array(block).min(1),
  vatRateBp: z.number().int().min(0).max(10_000),
  pricesIncludeVat: z.boolean(),
  fixedCharge: z
    .strictObject({
      description: z.string().min(1),
      amountMinor: z.number().int().positive(),
      maxMonths: z.number().int().positive(),
    })
    .nullable(),
  levies: z.array(
    z.strictObject({
      name: z.string().min(1),
      kind: z.enum(['per-kwh', 'percent']),
      value: z.number().int().nonnegative(),
    }),
  ),
  fbeMonthlyUnits: z.number().int().nonnegative(),
  minVendMinor: z.number().int().positive(),
  maxVendMinor: z.number().int().positive(),
});

export const outletSetupSchema = z.strictObject({
  utility: z.strictObject({
    name: z.string().min(1),
    address: z.string(),
    taxRef: z.string(),
    currencyCode: z.string().regex(/^[A-Z]{3}$/),
    currencyMinorUnits: z.number().int().min(0).max(4),
    timeZone: z.string().min(1),
    receiptFooter: z.string().default(''),
  }),
  outlet: z.strictObject({
    code: z.string().min(1),
    name: z.string().min(1),
    address: z.string(),
    terminalId: z.string().regex(/^[A-Z0-9]{1,8}$/),
    lowFloatThresholdMinor: z.number().int().nonnegative(),
    authorityCreditLimitMinor: z.number().int().nonnegative(),
    authorityValidUntil: z.iso.datetime(),
  }),
  admin: z.strictObject({ username: z.string(), displayName: z.string().min(1) }),
  supplyGroups: z
    .array(
      z.strictObject({
        sgc: z.string(),
        name: z.string(),
        keyType: z.number().int(),
        krn: z.number().int(),
        baseDate: z.number().int(),
        dkga: z.string(),
        ea: z.string(),
        ken: z.number().int().default(255),
        vendingKeyHex: z.string(),
      }),
    )
    .default([]),
  tariffs: z
    .array(
      z.strictObject({
        code: z.string().min(1),
        name: z.string().min(1),
        ti: z.number().int(),
        resource: z.enum(['electricity', 'water', 'gas']),
        version: tariffVersion,
      }),
    )
    .default([]),
});
export type OutletSetup = z.input<typeof outletSetupSchema>;

export function setUpOutlet(
  sqlite: Database.Database,
  kek: Buffer,
  input: unknown,
  adminPassword: string,
  at: Date,
): { adminId: number } {
  const parsed = outletSetupSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      `The set-up file is not valid: ${issues[0]}.`,
      issues.join('; '),
    );
  }
  const setup = parsed.data;
  return sqlite.transaction(() => {
    initialiseOutlet(sqlite, setup.utility, setup.outlet, at);
    const adminId = addOperator(sqlite, { ...setup.admin, role: 'admin', password: adminPassword }, null, at);
    for (const group of setup.supplyGroups) addSupplyGroup(sqlite, kek, group, adminId, at);
    for (const t of setup.tariffs)
      addTariff(
        sqlite,
        { code: t.code, name: t.name, ti: t.ti, resource: t.resource },
        t.version,
        adminId,
        at,
      );
    return { adminId };
  })();
}
