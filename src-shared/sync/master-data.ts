import { z } from 'zod';
import { ROLES } from '../vending/roles.ts';

/**
 * Master data pulled by the outlet: an ordered log of changes, each with the server sequence it was written
 * under. The outlet keeps the last sequence it applied (its cursor) and asks for what follows; a change
 * replaces the whole record under its key, and `data: null` is a tombstone. Every change is idempotent, so
 * a page applied twice (a crash before the cursor moved) changes nothing the second time.
 *
 * Kinds in this version: customers, blocked meters (tombstone = unblocked), operators (password hashes only,
 * never passwords; `active: false` retires one), float top-ups (by the server's reference, credited once) and
 * the vending authority (credit limit, valid-until).
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

const seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const key = text(64).min(1);

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
