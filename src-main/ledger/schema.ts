import { sql } from 'drizzle-orm';
import { blob, check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The outlet ledger (one SQLite file per outlet). Money columns are integer minor units (`*_minor`);
 * unit columns are integer 0.1 kWh / 0.1 m³ (`*_units`). Times are ISO-8601 UTC strings unless named
 * `*_local` (the utility's wall clock) or `*_month` ('YYYY-MM' in the utility's time zone).
 */

const id = () => integer('id').primaryKey({ autoIncrement: true });
const createdAt = () => text('created_at').notNull();

/** Singleton: the utility this outlet sells for. */
export const utility = sqliteTable('utility', {
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  address: text('address').notNull(),
  taxRef: text('tax_ref').notNull(),
  currencyCode: text('currency_code').notNull(),
  currencyMinorUnits: integer('currency_minor_units').notNull(),
  timeZone: text('time_zone').notNull(),
  receiptFooter: text('receipt_footer').notNull().default(''),
});

/** Singleton: this outlet, its vendor float and its vending authority. */
export const outlet = sqliteTable('outlet', {
  id: integer('id').primaryKey(),
  code: text('code').notNull(),
  name: text('name').notNull(),
  address: text('address').notNull(),
  terminalId: text('terminal_id').notNull(),
  floatBalanceMinor: integer('float_balance_minor').notNull().default(0),
  lowFloatThresholdMinor: integer('low_float_threshold_minor').notNull().default(0),
  authorityCreditLimitMinor: integer('authority_credit_limit_minor').notNull().default(0),
  authorityUsedMinor: integer('authority_used_minor').notNull().default(0),
  authorityValidUntil: text('authority_valid_until').notNull(),
  /** Receipt printer width in characters: 32 (58 mm), 42 or 48 (80 mm). */
  receiptColumns: integer('receipt_columns').notNull().default(42),
});

export const supplyGroup = sqliteTable(
  'supply_group',
  {
    id: id(),
    sgc: text('sgc').notNull(),
    name: text('name').notNull(),
    keyType: integer('key_type').notNull(),
    krn: integer('krn').notNull(),
    baseDate: integer('base_date').notNull(),
    dkga: text('dkga').notNull(),
    ea: text('ea').notNull(),
    ken: integer('ken').notNull().default(255),
    /** AES-256-GCM under the key-encryption key: iv ‖ tag ‖ ciphertext. Never stored in clear. */
    vendingKeySealed: blob('vending_key_sealed', { mode: 'buffer' }).notNull(),
    vendingKeyKcv: text('vending_key_kcv').notNull(),
  },
  (t) => [uniqueIndex('supply_group_key').on(t.sgc, t.krn, t.dkga)],
);

export const tariff = sqliteTable('tariff', {
  id: id(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  ti: integer('ti').notNull(),
  resource: text('resource').notNull(),
});

/** Tariff versions by effective date; a version is never edited once a sale used it. */
export const tariffVersion = sqliteTable(
  'tariff_version',
  {
    id: id(),
    tariffId: integer('tariff_id')
      .notNull()
      .references(() => tariff.id),
    version: integer('version').notNull(),
    effectiveFromLocal: text('effective_from_local').notNull(),
    kind: text('kind').notNull(),
    blocksJson: text('blocks_json').notNull(),
    vatRateBp: integer('vat_rate_bp').notNull(),
    pricesIncludeVat: integer('prices_include_vat', { mode: 'boolean' }).notNull(),
    fixedChargeDescription: text('fixed_charge_description'),
    fixedChargeMinor: integer('fixed_charge_minor').notNull().default(0),
    fixedChargeMaxMonths: integer('fixed_charge_max_months').notNull().default(0),
    leviesJson: text('levies_json').notNull().default('[]'),
    fbeMonthlyUnits: integer('fbe_monthly_units').notNull().default(0),
    minVendMinor: integer('min_vend_minor').notNull(),
    maxVendMinor: integer('max_vend_minor').notNull(),
  },
  (t) => [uniqueIndex('tariff_version_number').on(t.tariffId, t.version)],
);

export const customer = sqliteTable('customer', {
  id: id(),
  accountNo: text('account_no').notNull().unique(),
  name: text('name').notNull(),
  address: text('address').notNull().default(''),
  phone: text('phone').notNull().default(''),
  location: text('location').notNull().default(''),
  fbeEligible: integer('fbe_eligible', { mode: 'boolean' }).notNull().default(false),
});

export const meter = sqliteTable(
  'meter',
  {
    id: id(),
    pan: text('pan').notNull().unique(),
    /** The number printed on the meter: DRN and check digit (the PAN without its IIN). */
    meterNo: text('meter_no').notNull().unique(),
    iinLength: integer('iin_length').notNull().default(6),
    meterType: text('meter_type').notNull(),
    customerId: integer('customer_id').references(() => customer.id),
    tariffId: integer('tariff_id')
      .notNull()
      .references(() => tariff.id),
    sgc: text('sgc').notNull(),
    ti: integer('ti').notNull(),
    krn: integer('krn').notNull(),
    keyType: integer('key_type').notNull(),
    ea: text('ea').notNull(),
    dkga: text('dkga').notNull(),
    baseDate: integer('base_date').notNull(),
    ken: integer('ken').notNull().default(255),
    blocked: integer('blocked', { mode: 'boolean' }).notNull().default(false),
    blockedReason: text('blocked_reason'),
    pendingSgc: text('pending_sgc'),
    pendingTi: integer('pending_ti'),
    pendingKrn: integer('pending_krn'),
    pendingBaseDate: integer('pending_base_date'),
    lastTid: integer('last_tid'),
    mtdMonth: text('mtd_month'),
    /** This outlet's own paid units this month (mtd_month). */
    mtdUnits: integer('mtd_units').notNull().default(0),
    /** Other outlets' paid units in mtd_remote_month, as head office last told (sync master data). */
    mtdRemoteMonth: text('mtd_remote_month'),
    mtdRemoteUnits: integer('mtd_remote_units').notNull().default(0),
    lastPurchaseAt: text('last_purchase_at'),
    lastPurchaseMonth: text('last_purchase_month'),
    fbeLastMonth: text('fbe_last_month'),
  },
  (t) => [index('meter_customer').on(t.customerId)],
);

export const debt = sqliteTable('debt', {
  id: id(),
  customerId: integer('customer_id')
    .notNull()
    .references(() => customer.id),
  accountNo: text('account_no').notNull(),
  description: text('description').notNull(),
  balanceMinor: integer('balance_minor').notNull(),
  ruleKind: text('rule_kind').notNull(),
  ruleValue: integer('rule_value').notNull(),
  recoveredMonth: text('recovered_month'),
  recoveredThisMonthMinor: integer('recovered_this_month_minor').notNull().default(0),
});

export const operator = sqliteTable('operator', {
  id: id(),
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  role: text('role').notNull(),
  passwordHash: text('password_hash').notNull(),
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: text('locked_until'),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  /** The operator's UI language (en, fr, pt); null = the outlet's default. */
  language: text('language'),
});

export const shift = sqliteTable(
  'shift',
  {
    id: id(),
    operatorId: integer('operator_id')
      .notNull()
      .references(() => operator.id),
    openedAt: text('opened_at').notNull(),
    closedAt: text('closed_at'),
    zNumber: integer('z_number').unique(),
    declaredCashMinor: integer('declared_cash_minor'),
    expectedCashMinor: integer('expected_cash_minor'),
    zReportJson: text('z_report_json'),
  },
  (t) => [index('shift_operator_open').on(t.operatorId, t.closedAt)],
);

/** One row per vend, free issue, engineering issue, key change or reversal; never updated once written. */
export const sale = sqliteTable(
  'sale',
  {
    id: id(),
    requestId: text('request_id').notNull().unique(),
    receiptNo: integer('receipt_no').notNull().unique(),
    kind: text('kind').notNull(),
    meterId: integer('meter_id').references(() => meter.id),
    operatorId: integer('operator_id')
      .notNull()
      .references(() => operator.id),
    shiftId: integer('shift_id').references(() => shift.id),
    createdAt: createdAt(),
    payType: text('pay_type').notNull().default('cash'),
    tenderMinor: integer('tender_minor').notNull().default(0),
    chargesMinor: integer('charges_minor').notNull().default(0),
    debtMinor: integer('debt_minor').notNull().default(0),
    leviesMinor: integer('levies_minor').notNull().default(0),
    vatMinor: integer('vat_minor').notNull().default(0),
    energyMinor: integer('energy_minor').notNull().default(0),
    changeMinor: integer('change_minor').notNull().default(0),
    units: integer('units').notNull().default(0),
    fbeUnits: integer('fbe_units').notNull().default(0),
    reversesSaleId: integer('reverses_sale_id'),
    reasonCode: text('reason_code'),
  },
  (t) => [
    index('sale_meter').on(t.meterId, t.createdAt),
    // Covers the X/Z aggregates, so a report reads only this index, never the sale rows.
    index('sale_shift_totals').on(
      t.shiftId,
      t.kind,
      t.operatorId,
      t.payType,
      t.meterId,
      t.chargesMinor,
      t.debtMinor,
      t.leviesMinor,
      t.vatMinor,
      t.energyMinor,
      t.units,
      t.fbeUnits,
      t.receiptNo,
    ),
    index('sale_created').on(t.createdAt),
    uniqueIndex('sale_reverses').on(t.reversesSaleId),
    check('sale_money_non_negative', sql`${t.tenderMinor} >= 0 AND ${t.changeMinor} >= 0`),
  ],
);

/** The stored result of a sale (receipt, tokens, breakdown) for replays and reprints, kept apart from the narrow sale rows. */
export const saleDocument = sqliteTable('sale_document', {
  saleId: integer('sale_id')
    .primaryKey()
    .references(() => sale.id),
  resultJson: text('result_json').notNull(),
});

/** The money lines of a sale (charges, debt, levies, VAT, energy, change); reversals carry negated lines. */
export const saleLine = sqliteTable(
  'sale_line',
  {
    id: id(),
    saleId: integer('sale_id')
      .notNull()
      .references(() => sale.id),
    kind: text('kind').notNull(),
    description: text('description').notNull(),
    amountMinor: integer('amount_minor').notNull(),
    vatMinor: integer('vat_minor').notNull().default(0),
    units: integer('units').notNull().default(0),
  },
  (t) => [index('sale_line_sale').on(t.saleId)],
);

export const token = sqliteTable(
  'token',
  {
    id: id(),
    saleId: integer('sale_id')
      .notNull()
      .references(() => sale.id),
    seq: integer('seq').notNull(),
    meterId: integer('meter_id').references(() => meter.id),
    kind: text('kind').notNull(),
    digits: text('digits').notNull(),
    tokenClass: integer('token_class').notNull(),
    subclass: integer('subclass').notNull(),
    tid: integer('tid'),
    /** The base date the TID counts from; after a roll-over (RO = 1) the same TID is valid again. */
    baseDate: integer('base_date'),
    units: integer('units'),
  },
  // Belt and braces: the database itself refuses a second token with the same TID for one meter and base date.
  (t) => [
    uniqueIndex('token_meter_tid').on(t.meterId, t.baseDate, t.tid),
    uniqueIndex('token_sale_seq').on(t.saleId, t.seq),
    // The token explainer finds who a typed token was issued to (not unique: class 1 test tokens repeat).
    index('token_digits').on(t.digits),
  ],
);

export const floatMovement = sqliteTable(
  'float_movement',
  {
    id: id(),
    createdAt: createdAt(),
    kind: text('kind').notNull(),
    amountMinor: integer('amount_minor').notNull(),
    balanceAfterMinor: integer('balance_after_minor').notNull(),
    saleId: integer('sale_id').references(() => sale.id),
    reference: text('reference').notNull().default(''),
    /** The request id of a top-up entered at the outlet (exactly once per id); null for other movements. */
    requestId: text('request_id'),
  },
  (t) => [uniqueIndex('float_movement_request').on(t.requestId)],
);

/** Append-only, hash-chained: each entry's hash covers the previous entry's hash. */
export const auditLog = sqliteTable('audit_log', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  at: text('at').notNull(),
  operatorId: integer('operator_id'),
  action: text('action').notNull(),
  entity: text('entity').notNull(),
  entityId: text('entity_id').notNull(),
  detailsJson: text('details_json').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/** Events waiting for the sync server (sync issue), written in the same transaction as the fact they describe. */
export const outbox = sqliteTable(
  'outbox',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    createdAt: createdAt(),
    eventType: text('event_type').notNull(),
    payloadJson: text('payload_json').notNull(),
    /** When the server acknowledged the event's batch; null while it waits. */
    sentAt: text('sent_at'),
    /** The sealed sync batch (sync_batch.id) this event belongs to; null until sealed. Never edited once sealed. */
    batchId: integer('batch_id'),
  },
  // The sealer and the status bar read only the unsent rows.
  (t) => [index('outbox_pending').on(t.sentAt, t.batchId)],
);

/** Singleton: this outlet's enrollment with the sync server. The device's Ed25519 private key is sealed under the KEK. */
export const syncIdentity = sqliteTable('sync_identity', {
  id: integer('id').primaryKey(),
  serverUrl: text('server_url').notNull(),
  deviceId: text('device_id').notNull(),
  outletCode: text('outlet_code').notNull(),
  /** The server's TLS certificate (PEM) pinned at enrollment and its SHA-256 fingerprint; null over plain HTTP. */
  serverCertificatePem: text('server_certificate_pem'),
  serverFingerprint: text('server_fingerprint'),
  /** Raw Ed25519 public key, base64url. */
  publicKey: text('public_key').notNull(),
  /** PKCS#8 private key, AES-256-GCM under the KEK (iv ‖ tag ‖ ciphertext). Never stored in clear. */
  privateKeySealed: blob('private_key_sealed', { mode: 'buffer' }).notNull(),
  enrolledAt: text('enrolled_at').notNull(),
});

/** Singleton: what the sync client last saw (shown in the status bar and by `openvend sync status`). */
export const syncState = sqliteTable('sync_state', {
  id: integer('id').primaryKey(),
  lastAttemptAt: text('last_attempt_at'),
  lastSuccessAt: text('last_success_at'),
  lastErrorCode: text('last_error_code'),
  lastErrorMessage: text('last_error_message'),
  /** Consecutive failed attempts (drives the backoff); 0 after a success. */
  failures: integer('failures').notNull().default(0),
  /** A refusal that retrying cannot fix (revoked, quarantined, version): uploads stop until it is cleared. */
  haltedCode: text('halted_code'),
});

/**
 * Sealed upload batches, numbered 1, 2, 3… per device and hash-chained. The events themselves stay in the
 * outbox (batch_id); the batch body is rebuilt from them, so an edit after sealing changes the hash.
 */
export const syncBatch = sqliteTable(
  'sync_batch',
  {
    id: id(),
    deviceId: text('device_id').notNull(),
    seq: integer('seq').notNull(),
    firstEventSeq: integer('first_event_seq').notNull(),
    lastEventSeq: integer('last_event_seq').notNull(),
    eventCount: integer('event_count').notNull(),
    protocolVersion: integer('protocol_version').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    appVersion: text('app_version').notNull(),
    sealedAt: text('sealed_at').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull().unique(),
    signature: text('signature').notNull(),
    /** 'applied' | 'duplicate' | 'rejected' | 'abandoned' (device replaced before it was sent); null until answered. */
    ackStatus: text('ack_status'),
    ackedAt: text('acked_at'),
  },
  (t) => [uniqueIndex('sync_batch_device_seq').on(t.deviceId, t.seq)],
);

/** Events the server refused: kept here for the supervisor, never dropped (the outbox row stays too). */
export const syncQuarantine = sqliteTable('sync_quarantine', {
  id: id(),
  outboxSeq: integer('outbox_seq')
    .notNull()
    .unique()
    .references(() => outbox.seq),
  batchId: integer('batch_id')
    .notNull()
    .references(() => syncBatch.id),
  eventType: text('event_type').notNull(),
  reasonCode: text('reason_code').notNull(),
  reasonMessage: text('reason_message').notNull(),
  quarantinedAt: text('quarantined_at').notNull(),
  resolvedAt: text('resolved_at'),
});

/** Gapless per-outlet counters (receipt numbers, Z numbers), advanced inside the transaction that uses them. */
export const counter = sqliteTable('counter', {
  name: text('name').primaryKey(),
  value: integer('value').notNull(),
});

/** Device settings of this outlet, one row per role (receipt printer, card encoders, card reader). */
export const deviceConfig = sqliteTable('device_config', {
  role: text('role').primaryKey(),
  /** Connection and driver settings (src-shared/bridge/device-schemas.ts); never holds a secret. */
  configJson: text('config_json').notNull(),
  /** The IC-card PSC, AES-256-GCM under the key-encryption key (never stored in clear). */
  secretSealed: blob('secret_sealed', { mode: 'buffer' }),
  updatedAt: text('updated_at').notNull(),
  updatedBy: integer('updated_by').references(() => operator.id),
});

/**
 * Every print and card write of a committed sale, and test prints: queued → sent → confirmed / verified, or failed.
 * Rows are the honest record of what a device did; a reprint or a rewrite is a new row, never a retry of an old one.
 */
export const carrierJob = sqliteTable(
  'carrier_job',
  {
    id: id(),
    jobId: text('job_id').notNull().unique(),
    /** null for a test print. */
    receiptNo: integer('receipt_no'),
    /** 'receipt' | 'magnetic-card' | 'ic-card' | 'test-print'. */
    carrier: text('carrier').notNull(),
    copy: integer('copy', { mode: 'boolean' }).notNull().default(false),
    state: text('state').notNull(),
    device: text('device').notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    operatorId: integer('operator_id')
      .notNull()
      .references(() => operator.id),
    createdAt: createdAt(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('carrier_job_receipt').on(t.receiptNo, t.carrier)],
);
