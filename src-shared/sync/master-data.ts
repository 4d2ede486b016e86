import { z } from 'zod';
import { OpenVendError } from '../errors/openvend-error.ts';
import { BASE_DATES } from '../sts/tid.ts';
import { ROLES } from '../vending/roles.ts';

/**
 * Master data pulled by the outlet: an ordered log of changes, each with the server sequence it was written
 * under. The outlet keeps the last sequence it applied (its cursor) and asks for what follows; a change
 * replaces the whole record under its key, and `data: null` is a tombstone. Every change is idempotent, so
 * a page applied twice (a crash before the cursor moved) changes nothing the second time.
 *
 * Kinds in this version: customers, blocked meters (tombstone = unblocked), operators (password hashes only,
 * never passwords; `active: false` retires one), float top-ups (by the server's reference, credited once),
 * the vending authority (credit limit, valid-until), supply groups (the vending key only as an envelope
 * encrypted to the device), tariffs with all their versions, meters (tombstone = retired) and centrally
 * scheduled key changes (`cancelled: true` withdraws one).
 */

export const MASTER_PAGE_DEFAULT = 500;
export const MASTER_PAGE_MAX = 2_000;

const text = (max: number) => z.string().max(max);
const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const masterCustomerSchema = z.strictObject({
  name: text(200).min(1),
  address: text(200),
  phone: text(32),
  location: text(200),
  fbeEligible: z.boolean(),
});
export const masterMeterBlockSchema = z.strictObject({ reason: text(200).min(1) });
export const OPERATOR_USERNAME = /^[a-z0-9._-]{2,32}$/;
export const masterOperatorSchema = z.strictObject({
  displayName: text(200).min(1),
  role: z.enum(ROLES),
  /** The outlet's scrypt format: scrypt$N$r$p$salt$hash (base64). */
  passwordHash: z
    .string()
    .regex(/^scrypt\$\d{1,7}\$\d{1,3}\$\d{1,3}\$[A-Za-z0-9+/=]{4,64}\$[A-Za-z0-9+/=]{4,128}$/),
  active: z.boolean(),
});
export const masterFloatTopUpSchema = z.strictObject({
  amountMinor: minor.positive(),
  reference: text(200).min(1),
});
export const masterAuthoritySchema = z.strictObject({
  creditLimitMinor: minor,
  validUntil: z.iso.datetime(),
});

const sgc = z.string().regex(/^\d{6}$/);
const ti = z.number().int().min(0).max(99);
const krn = z.number().int().min(1).max(9);
const baseDate = z.union(BASE_DATES.map((year) => z.literal(year)));
const keyType = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]);
const ea = z.enum(['EA07', 'EA09', 'EA11']);
const dkga = z.enum(['DKGA02', 'DKGA04']);
const ken = z.number().int().min(0).max(255);
const base64url = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/);

/**
 * A secret encrypted to one enrolled device (src-main/sync/key-envelope.ts): X25519 derived from the device's
 * Ed25519 key, an ephemeral sender key, HKDF-SHA256 and AES-256-GCM (ciphertext ‖ tag).
 */
export const KEY_ENVELOPE_ALG = 'X25519-HKDF-SHA256-A256GCM';
export const keyEnvelopeSchema = z.strictObject({
  alg: z.literal(KEY_ENVELOPE_ALG),
  /** The sender's ephemeral X25519 public key (32 bytes). */
  epk: base64url(43, 43),
  iv: base64url(16, 16),
  ciphertext: base64url(22, 128),
});
export type KeyEnvelope = z.infer<typeof keyEnvelopeSchema>;

/** The supply-group fields both the server's stored record and the wire change carry. */
export const supplyGroupFields = {
  name: text(200).min(1),
  keyType,
  baseDate,
  ea,
  ken,
  /** The vending key's check value (src-shared/sts/key-check-value.ts): the outlet refuses a key that fails it. */
  kcv: z.string().regex(/^[0-9A-F]{6}$/),
};
export const masterSupplyGroupSchema = z.strictObject({
  ...supplyGroupFields,
  vendingKey: keyEnvelopeSchema,
});
/** A supply group's key: `SGC:KRN:DKGA` (the outlet's unique index), e.g. `123456:1:DKGA02`. */
export const SUPPLY_GROUP_KEY = /^(\d{6}):([1-9]):(DKGA0[24])$/;
export const supplyGroupKey = (g: { sgc: string; krn: number; dkga: string }): string =>
  `${g.sgc}:${g.krn}:${g.dkga}`;
/** What a supply group's envelope is bound to (with the device id), on the server and the outlet alike. */
export const supplyGroupEnvelopeSubject = (key: string): string => `supply-group:${key}`;
export function parseSupplyGroupKey(text: string): { sgc: string; krn: number; dkga: 'DKGA02' | 'DKGA04' } {
  const match = SUPPLY_GROUP_KEY.exec(text);
  if (!match) throw new MasterDataError('MASTER_INVALID', `supply group key ${JSON.stringify(text)}`);
  return { sgc: match[1]!, krn: Number(match[2]), dkga: match[3] as 'DKGA02' | 'DKGA04' };
}

const safeMinor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** One published tariff version: the columns of the outlet's tariff_version (never changed once published). */
export const masterTariffVersionSchema = z.strictObject({
  version: z.number().int().min(1).max(1_000_000),
  effectiveFromLocal: z.iso.date(),
  kind: z.enum(['flat', 'inclining-block']),
  blocks: z
    .array(
      z.strictObject({
        upToUnits: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable(),
        rateMilliMinorPerKwh: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
      }),
    )
    .min(1)
    .max(50),
  vatRateBp: z.number().int().min(0).max(10_000),
  pricesIncludeVat: z.boolean(),
  fixedCharge: z
    .strictObject({
      description: text(200).min(1),
      amountMinor: safeMinor,
      maxMonths: z.number().int().min(1).max(1200),
    })
    .nullable(),
  levies: z
    .array(z.strictObject({ name: text(100).min(1), kind: z.enum(['per-kwh', 'percent']), value: safeMinor }))
    .max(20),
  fbeMonthlyUnits: safeMinor,
  minVendMinor: safeMinor,
  maxVendMinor: safeMinor,
});
export type MasterTariffVersion = z.infer<typeof masterTariffVersionSchema>;
/** A tariff and every version published so far, in version order (the whole record travels each time). */
export const masterTariffSchema = z.strictObject({
  name: text(200).min(1),
  ti,
  resource: z.enum(['electricity', 'water', 'gas']),
  versions: z.array(masterTariffVersionSchema).min(1).max(500),
});
export type MasterTariff = z.infer<typeof masterTariffSchema>;

/** The meter number (DRN + check digit) as the outlet stores it in meter.meter_no. */
export const METER_NUMBER = /^\d{11,18}$/;
export const masterMeterSchema = z.strictObject({
  pan: z.string().regex(/^\d{18}$/),
  iinLength: z.union([z.literal(4), z.literal(6)]),
  meterType: z.enum(['electricity', 'water', 'gas']),
  /** '' = no customer. */
  customerAccountNo: text(64),
  tariffCode: text(64).min(1),
  sgc,
  ti,
  krn,
  keyType,
  ea,
  dkga,
  baseDate,
  ken,
});
export type MasterMeter = z.infer<typeof masterMeterSchema>;

/**
 * A key change scheduled by head office: the new supply group, tariff index, key revision and/or base date
 * (null = unchanged). `cancelled: true` withdraws it: the outlet clears each pending field only where it still
 * holds the value scheduled here, so a change an engineer made locally survives.
 */
export const masterKeyChangeSchema = z
  .strictObject({
    sgc: sgc.nullable(),
    ti: ti.nullable(),
    krn: krn.nullable(),
    baseDate: baseDate.nullable(),
    cancelled: z.boolean(),
  })
  .refine((c) => c.sgc !== null || c.ti !== null || c.krn !== null || c.baseDate !== null, {
    message: 'a key change needs a new sgc, ti, krn or base date',
  });
export type MasterKeyChange = z.infer<typeof masterKeyChangeSchema>;

/**
 * The authoritative month-to-date of a meter (paid units, 0.1 kWh) as head office holds it, per selling outlet:
 * an outlet prices with its own sales (exact, local) plus everyone else's (total − its own share here).
 */
export const masterMonthToDateSchema = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
  units: z.number().int().safe(),
  byOutlet: z.array(z.strictObject({ outlet: text(64).min(1), units: z.number().int().safe() })).max(1_000),
});
export type MasterMonthToDate = z.infer<typeof masterMonthToDateSchema>;

const seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const key = text(64).min(1);
const meterKey = z.string().regex(METER_NUMBER);

export const masterChangeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ seq, kind: z.literal('customer'), key, data: masterCustomerSchema }),
  z.strictObject({ seq, kind: z.literal('meter.block'), key, data: masterMeterBlockSchema.nullable() }),
  z.strictObject({
    seq,
    kind: z.literal('operator'),
    key: z.string().regex(OPERATOR_USERNAME),
    data: masterOperatorSchema,
  }),
  z.strictObject({ seq, kind: z.literal('float.top-up'), key, data: masterFloatTopUpSchema }),
  z.strictObject({
    seq,
    kind: z.literal('authority'),
    key: z.literal('outlet'),
    data: masterAuthoritySchema,
  }),
  z.strictObject({
    seq,
    kind: z.literal('supply-group'),
    key: z.string().regex(SUPPLY_GROUP_KEY),
    data: masterSupplyGroupSchema,
  }),
  z.strictObject({ seq, kind: z.literal('tariff'), key, data: masterTariffSchema }),
  z.strictObject({ seq, kind: z.literal('meter'), key: meterKey, data: masterMeterSchema.nullable() }),
  z.strictObject({ seq, kind: z.literal('meter.key-change'), key: meterKey, data: masterKeyChangeSchema }),
  z.strictObject({
    seq,
    kind: z.literal('meter.month-to-date'),
    key: meterKey,
    data: masterMonthToDateSchema,
  }),
]);
export type MasterChange = z.infer<typeof masterChangeSchema>;
export type MasterChangeKind = MasterChange['kind'];

export const masterPageSchema = z.strictObject({
  changes: z.array(masterChangeSchema).max(MASTER_PAGE_MAX),
  /** The sequence to ask after next time (the last change's, or the one asked after when empty). */
  cursor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** More changes wait after this page. */
  more: z.boolean(),
});
export type MasterPage = z.infer<typeof masterPageSchema>;

export const masterQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(MASTER_PAGE_MAX).default(MASTER_PAGE_DEFAULT),
});

export const masterPath = (after: number, limit: number): string =>
  `/v1/master?after=${after}&limit=${limit}`;

/** Refusals while applying master data on the outlet: the page is not applied and the cursor stays. */
export type MasterDataErrorCode =
  | 'MASTER_INVALID'
  | 'MASTER_KEY_ENVELOPE_INVALID'
  | 'MASTER_KEY_CHECK_FAILED'
  | 'MASTER_KEY_CONFLICT'
  | 'MASTER_KEK_REQUIRED'
  | 'MASTER_REFERENCE_UNKNOWN'
  | 'MASTER_TARIFF_CONFLICT';

const MASTER_DATA_MESSAGES: Record<MasterDataErrorCode, string> = {
  MASTER_INVALID: 'Head office sent master data this outlet cannot read. Contact head office.',
  MASTER_KEY_ENVELOPE_INVALID:
    'A vending key from head office could not be opened by this outlet. Nothing was stored. Contact head office.',
  MASTER_KEY_CHECK_FAILED:
    'A vending key from head office failed its check value. Nothing was stored. Contact head office.',
  MASTER_KEY_CONFLICT:
    'Head office sent a different vending key for a supply group this outlet already holds. Nothing was stored. Contact head office.',
  MASTER_KEK_REQUIRED: 'This outlet cannot store vending keys: its key-encryption key is not available.',
  MASTER_REFERENCE_UNKNOWN:
    'Head office sent a meter or key change that refers to a tariff, supply group or customer this outlet does not have. Contact head office.',
  MASTER_TARIFF_CONFLICT:
    'Head office sent a tariff version that differs from the one this outlet already holds. Contact head office.',
};

export class MasterDataError extends OpenVendError {
  declare readonly code: MasterDataErrorCode;

  constructor(code: MasterDataErrorCode, detail: string) {
    super(code, MASTER_DATA_MESSAGES[code], detail);
  }
}
