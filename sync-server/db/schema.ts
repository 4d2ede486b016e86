import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The central server's PostgreSQL schema (PGlite in the embedded mode). One table per concern; the outlet
 * ledger is a different (SQLite) schema: only the wire format in src-shared/sync is shared.
 * Sequence columns are bigint in number mode: JavaScript numbers are exact up to 2^53.
 */

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });
const seq = (name: string) => bigint(name, { mode: 'number' });

export const utility = pgTable('utility', {
  id: serial('id').primaryKey(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const outlet = pgTable(
  'outlet',
  {
    id: serial('id').primaryKey(),
    utilityId: integer('utility_id')
      .notNull()
      .references(() => utility.id),
    code: text('code').notNull().unique(),
    name: text('name').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [index('outlet_utility').on(t.utilityId)],
);

/** One-time enrollment codes: only their sha256 is stored; used once, then they point at the device. */
export const enrollmentCode = pgTable('enrollment_code', {
  id: serial('id').primaryKey(),
  outletId: integer('outlet_id')
    .notNull()
    .references(() => outlet.id),
  codeHash: text('code_hash').notNull().unique(),
  createdAt: at('created_at').notNull().defaultNow(),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
  deviceId: text('device_id'),
});

/**
 * An enrolled outlet computer. `last_seq`/`last_hash` are the head of its batch chain, advanced in the same
 * transaction that stores the batch; the row is locked (FOR UPDATE) while a batch of this device is applied.
 */
export const device = pgTable(
  'device',
  {
    id: text('id').primaryKey(),
    outletId: integer('outlet_id')
      .notNull()
      .references(() => outlet.id),
    publicKey: text('public_key').notNull().unique(),
    /** 'active' | 'quarantined' | 'revoked' */
    status: text('status').notNull().default('active'),
    statusReason: text('status_reason'),
    statusChangedAt: at('status_changed_at'),
    appVersion: text('app_version').notNull(),
    enrolledAt: at('enrolled_at').notNull().defaultNow(),
    lastSeenAt: at('last_seen_at'),
    lastSeq: seq('last_seq').notNull().default(0),
    lastHash: text('last_hash').notNull(),
    lastEventSeq: seq('last_event_seq').notNull().default(0),
  },
  (t) => [index('device_outlet').on(t.outletId)],
);

/** Nonces of signed requests, kept past the timestamp window so a replay inside it is refused. */
export const requestNonce = pgTable(
  'request_nonce',
  {
    deviceId: text('device_id').notNull(),
    nonce: text('nonce').notNull(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.nonce] }), index('request_nonce_expiry').on(t.expiresAt)],
);

/** Every accepted batch (the chain as the server holds it). */
export const batch = pgTable(
  'batch',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: text('device_id')
      .notNull()
      .references(() => device.id),
    seq: seq('seq').notNull(),
    hash: text('hash').notNull(),
    prevHash: text('prev_hash').notNull(),
    signature: text('signature').notNull(),
    eventCount: integer('event_count').notNull(),
    firstEventSeq: seq('first_event_seq').notNull(),
    lastEventSeq: seq('last_event_seq').notNull(),
    protocolVersion: integer('protocol_version').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    appVersion: text('app_version').notNull(),
    sealedAt: at('sealed_at').notNull(),
    receivedAt: at('received_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('batch_device_seq').on(t.deviceId, t.seq), uniqueIndex('batch_hash').on(t.hash)],
);

/**
 * Accepted events, one row per outbox event of every device. `id` is the server's ingest order: the cursor
 * later projections (reconciliation, month-to-date) read from. (device, event seq) is unique: exactly once.
 */
export const event = pgTable(
  'event',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: text('device_id')
      .notNull()
      .references(() => device.id),
    outletId: integer('outlet_id')
      .notNull()
      .references(() => outlet.id),
    eventSeq: seq('event_seq').notNull(),
    batchSeq: seq('batch_seq').notNull(),
    type: text('type').notNull(),
    createdAt: at('created_at').notNull(),
    payload: jsonb('payload').notNull(),
    receivedAt: at('received_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('event_device_seq').on(t.deviceId, t.eventSeq),
    index('event_outlet_type').on(t.outletId, t.type),
  ],
);

/** Events of applied batches that the server could not use: kept apart with the reason, never dropped. */
export const rejectedEvent = pgTable(
  'rejected_event',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: text('device_id')
      .notNull()
      .references(() => device.id),
    eventSeq: seq('event_seq').notNull(),
    batchSeq: seq('batch_seq').notNull(),
    type: text('type').notNull(),
    createdAt: at('created_at').notNull(),
    payload: jsonb('payload').notNull(),
    reasonCode: text('reason_code').notNull(),
    reasonMessage: text('reason_message').notNull(),
    receivedAt: at('received_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('rejected_event_device_seq').on(t.deviceId, t.eventSeq)],
);

/** Why a device was quarantined or revoked: the evidence for head office (the refused batch's header). */
export const deviceIncident = pgTable(
  'device_incident',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: text('device_id')
      .notNull()
      .references(() => device.id),
    kind: text('kind').notNull(),
    detail: text('detail').notNull(),
    batchSeq: seq('batch_seq'),
    evidence: jsonb('evidence').notNull().default(sql`'{}'::jsonb`),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [index('device_incident_device').on(t.deviceId)],
);

/**
 * Master data for the outlets, as an append-only change log: `id` is the server sequence the outlets pull by
 * (cursor, never timestamps). `outlet_id` null = every outlet of the utility. `data` null = a tombstone.
 * Writers hold a transaction-level advisory lock (master-data.ts), so ids become visible in order and a
 * reader's cursor never skips a change committed late.
 */
export const masterChange = pgTable(
  'master_change',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    utilityId: integer('utility_id')
      .notNull()
      .references(() => utility.id),
    outletId: integer('outlet_id').references(() => outlet.id),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    data: jsonb('data'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('master_change_utility').on(t.utilityId, t.id),
    // The central float reads an outlet's top-ups and latest authority on every acknowledgement.
    index('master_change_outlet_kind').on(t.outletId, t.kind, t.id),
  ],
);

// ---------------------------------------------------------------------------------------------------------------
// Projections, written in the same transaction as the batch that carries their events (ingest.ts): exactly once,
// and consistent with `event` at every commit.

const money = (name: string) => bigint(name, { mode: 'number' });

/** One row per sale-like event (sale, fbe, free issue, engineering, key change, reversal): the end of day reads these. */
export const saleFact = pgTable(
  'sale_fact',
  {
    eventId: bigint('event_id', { mode: 'number' })
      .primaryKey()
      .references(() => event.id),
    utilityId: integer('utility_id')
      .notNull()
      .references(() => utility.id),
    outletId: integer('outlet_id')
      .notNull()
      .references(() => outlet.id),
    deviceId: text('device_id').notNull(),
    receiptNo: integer('receipt_no').notNull(),
    kind: text('kind').notNull(),
    businessDate: text('business_date').notNull(),
    createdAt: at('created_at').notNull(),
    shiftId: integer('shift_id'),
    operator: text('operator').notNull(),
    operatorName: text('operator_name').notNull(),
    payType: text('pay_type').notNull(),
    chargesMinor: money('charges_minor').notNull(),
    debtMinor: money('debt_minor').notNull(),
    leviesMinor: money('levies_minor').notNull(),
    vatMinor: money('vat_minor').notNull(),
    energyMinor: money('energy_minor').notNull(),
    units: integer('units').notNull(),
    fbeUnits: integer('fbe_units').notNull(),
    meterNo: text('meter_no'),
    month: text('month'),
    /** The month-to-date the outlet priced with (credit vends only). */
    mtdBefore: integer('mtd_before'),
  },
  (t) => [
    index('sale_fact_day').on(t.utilityId, t.businessDate),
    index('sale_fact_shift').on(t.outletId, t.shiftId),
    index('sale_fact_meter_month').on(t.utilityId, t.meterNo, t.month),
  ],
);

/** Paid units per meter, month and selling device: the authoritative month-to-date is their sum. */
export const meterMonth = pgTable(
  'meter_month',
  {
    utilityId: integer('utility_id')
      .notNull()
      .references(() => utility.id),
    meterNo: text('meter_no').notNull(),
    month: text('month').notNull(),
    deviceId: text('device_id').notNull(),
    units: integer('units').notNull(),
  },
  (t) => [primaryKey({ columns: [t.utilityId, t.meterNo, t.month, t.deviceId] })],
);

/** Every token with a TID issued anywhere: one meter given the same TID at two outlets is a collision. */
export const tokenFact = pgTable(
  'token_fact',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => event.id),
    utilityId: integer('utility_id')
      .notNull()
      .references(() => utility.id),
    outletId: integer('outlet_id').notNull(),
    deviceId: text('device_id').notNull(),
    meterNo: text('meter_no').notNull(),
    baseDate: integer('base_date').notNull(),
    tid: integer('tid').notNull(),
    kind: text('kind').notNull(),
    digits: text('digits').notNull(),
    receiptNo: integer('receipt_no').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [index('token_fact_meter_tid').on(t.utilityId, t.meterNo, t.baseDate, t.tid)],
);

/** Money sold per outlet as the server counted it; with the top-ups of the master-data log it is the central float. */
export const outletFloat = pgTable('outlet_float', {
  outletId: integer('outlet_id')
    .primaryKey()
    .references(() => outlet.id),
  soldMinor: money('sold_minor').notNull().default(0),
  /** Top-ups the outlet recorded itself (its admin screen); head office's own come from master_change. */
  localTopUpsMinor: money('local_top_ups_minor').notNull().default(0),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

/** Each uploaded Z report against the server's own totals of the same shift. */
export const shiftReconciliation = pgTable(
  'shift_reconciliation',
  {
    eventId: bigint('event_id', { mode: 'number' })
      .primaryKey()
      .references(() => event.id),
    utilityId: integer('utility_id')
      .notNull()
      .references(() => utility.id),
    outletId: integer('outlet_id')
      .notNull()
      .references(() => outlet.id),
    shiftId: integer('shift_id').notNull(),
    reportNo: integer('report_no').notNull(),
    operator: text('operator').notNull(),
    businessDate: text('business_date').notNull(),
    closedAt: text('closed_at').notNull(),
    cashDeclaredMinor: money('cash_declared_minor').notNull(),
    cashExpectedMinor: money('cash_expected_minor').notNull(),
    varianceMinor: money('variance_minor').notNull(),
    /** 'match' | 'mismatch' */
    status: text('status').notNull(),
    differences: jsonb('differences').notNull(),
  },
  (t) => [
    index('shift_reconciliation_day').on(t.utilityId, t.businessDate),
    uniqueIndex('shift_reconciliation_shift').on(t.outletId, t.shiftId),
  ],
);

/** Head-office API clients (finance, BI, a supervisor portal): bearer keys, of which only the sha256 is stored. */
export const apiClient = pgTable('api_client', {
  id: serial('id').primaryKey(),
  utilityId: integer('utility_id')
    .notNull()
    .references(() => utility.id),
  name: text('name').notNull(),
  keyHash: text('key_hash').notNull().unique(),
  createdAt: at('created_at').notNull().defaultNow(),
  revokedAt: at('revoked_at'),
});
