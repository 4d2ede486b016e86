import type Database from 'better-sqlite3';
import { VENDING_KEY_BYTES } from '../../src-shared/sts/decoder-key.ts';
import {
  type DecoderKeyAlgorithm,
  type EncryptionAlgorithm,
  type KeyType,
  requireDecoderKeyAlgorithm,
  requireEncryptionAlgorithm,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
} from '../../src-shared/sts/identifiers.ts';
import { vendingKeyCheckValue } from '../../src-shared/sts/key-check-value.ts';
import { type MeterPan, parseMeterPan } from '../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../src-shared/sts/secret-key.ts';
import { type BaseDate, requireBaseDate } from '../../src-shared/sts/tid.ts';
import {
  pricingTariffVersion,
  type TariffVersion,
  validateTariff,
} from '../../src-shared/vending/pricing.ts';
import { ROLES, type Role } from '../../src-shared/vending/roles.ts';
import { sealSecret, unsealSecret } from '../security/key-encryption-key.ts';
import type { LoadedVendingKey } from '../security/software-security-module.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { hashPassword } from './operators.ts';

/** Master data writes. Each one is a single transaction with its audit entry. */

/** A customer's phone: digits, spaces, + and -, at most 32 characters, at least one digit (blank allowed). */
export const isValidPhone = (phone: string): boolean =>
  phone === '' || (/^[0-9 +-]{1,32}$/.test(phone) && /\d/.test(phone));

export interface UtilityConfig {
  name: string;
  address: string;
  taxRef: string;
  currencyCode: string;
  currencyMinorUnits: number;
  timeZone: string;
  receiptFooter: string;
}

export interface OutletConfig {
  code: string;
  name: string;
  address: string;
  terminalId: string;
  lowFloatThresholdMinor: number;
  authorityCreditLimitMinor: number;
  authorityValidUntil: string;
}

/** Turns a uniqueness violation into a clear error; anything else passes through. */
function explainDuplicate<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new EngineError('IMPORT_REJECTED', `${what} is already registered.`, (error as Error).message);
    }
    throw error;
  }
}

const sealContext = (sgc: string, krn: number, dkga: string) => `openvend:vending-key:${dkga}:${sgc}:${krn}`;

export function initialiseOutlet(
  sqlite: Database.Database,
  utility: UtilityConfig,
  outlet: OutletConfig,
  at: Date,
): void {
  sqlite.transaction(() => {
    if (sqlite.prepare('SELECT 1 FROM outlet').get()) {
      throw new EngineError('VEND_INVALID_REQUEST', 'This outlet is already set up.', 'outlet row exists');
    }
    try {
      new Intl.DateTimeFormat('en', { timeZone: utility.timeZone });
    } catch {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        `Unknown time zone ${utility.timeZone}.`,
        'use an IANA zone such as Africa/Johannesburg',
      );
    }
    if (
      !/^\d{4}-\d{2}-\d{2}T/.test(outlet.authorityValidUntil) ||
      Number.isNaN(Date.parse(outlet.authorityValidUntil))
    ) {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        'The vending authority end date is not a valid date and time.',
        `authorityValidUntil ${JSON.stringify(outlet.authorityValidUntil)} is not ISO-8601`,
      );
    }
    sqlite
      .prepare(
        'INSERT INTO utility (id, name, address, tax_ref, currency_code, currency_minor_units, time_zone, receipt_footer) VALUES (1, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        utility.name,
        utility.address,
        utility.taxRef,
        utility.currencyCode,
        utility.currencyMinorUnits,
        utility.timeZone,
        utility.receiptFooter,
      );
    sqlite
      .prepare(
        'INSERT INTO outlet (id, code, name, address, terminal_id, float_balance_minor, low_float_threshold_minor, authority_credit_limit_minor, authority_used_minor, authority_valid_until) VALUES (1, ?, ?, ?, ?, 0, ?, ?, 0, ?)',
      )
      .run(
        outlet.code,
        outlet.name,
        outlet.address,
        outlet.terminalId,
        outlet.lowFloatThresholdMinor,
        outlet.authorityCreditLimitMinor,
        outlet.authorityValidUntil,
      );
    sqlite.prepare("INSERT INTO counter (name, value) VALUES ('receipt', 0), ('z_report', 0)").run();
    appendAudit(
      sqlite,
      {
        operatorId: null,
        action: 'outlet.initialise',
        entity: 'outlet',
        entityId: outlet.code,
        details: { utility: utility.name },
      },
      at,
    );
  })();
}

export interface SupplyGroupInput {
  sgc: string;
  name: string;
  keyType: number;
  krn: number;
  baseDate: number;
  dkga: string;
  ea: string;
  ken: number;
  vendingKeyHex: string;
}

export function addSupplyGroup(
  sqlite: Database.Database,
  kek: Buffer,
  input: SupplyGroupInput,
  operatorId: number | null,
  at: Date,
): number {
  const sgc = requireSgc(input.sgc);
  const krn = requireKrn(input.krn);
  const dkga = requireDecoderKeyAlgorithm(input.dkga);
  const key = SecretKey.fromHex(input.vendingKeyHex, 'vending key', VENDING_KEY_BYTES[dkga]);
  const kcv = vendingKeyCheckValue(key, dkga);
  return explainDuplicate(`Supply group ${sgc} key revision ${krn}`, () =>
    sqlite.transaction(() => {
      const { lastInsertRowid } = sqlite
        .prepare(
          'INSERT INTO supply_group (sgc, name, key_type, krn, base_date, dkga, ea, ken, vending_key_sealed, vending_key_kcv) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          sgc,
          input.name,
          requireKeyType(input.keyType),
          krn,
          requireBaseDate(input.baseDate),
          dkga,
          requireEncryptionAlgorithm(input.ea),
          requireKen(input.ken),
          sealSecret(kek, key.bytes(), sealContext(sgc, krn, dkga)),
          kcv,
        );
      appendAudit(
        sqlite,
        {
          operatorId,
          action: 'supply-group.add',
          entity: 'supply_group',
          entityId: `${sgc}/${krn}`,
          details: { dkga, kcv },
        },
        at,
      );
      return Number(lastInsertRowid);
    })(),
  );
}

/** Unseals every vending key for the security module. */
export function loadVendingKeys(sqlite: Database.Database, kek: Buffer): LoadedVendingKey[] {
  const rows = sqlite
    .prepare('SELECT sgc, krn, dkga, vending_key_sealed AS sealed FROM supply_group')
    .all() as Array<{
    sgc: string;
    krn: number;
    dkga: string;
    sealed: Buffer;
  }>;
  return rows.map((row) => ({
    sgc: row.sgc,
    krn: row.krn,
    dkga: requireDecoderKeyAlgorithm(row.dkga),
    key: SecretKey.fromBytes(unsealSecret(kek, row.sealed, sealContext(row.sgc, row.krn, row.dkga))),
  }));
}

export interface OperatorInput {
  username: string;
  displayName: string;
  role: Role;
  password: string;
}

export function addOperator(
  sqlite: Database.Database,
  input: OperatorInput,
  byOperatorId: number | null,
  at: Date,
): number {
  if (!ROLES.includes(input.role)) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      `Unknown role ${input.role}.`,
      `role must be one of ${ROLES.join(', ')}`,
    );
  }
  if (!/^[a-z0-9._-]{2,32}$/.test(input.username)) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'An operator name uses 2–32 lower-case letters, digits, dots, dashes or underscores.',
      `bad username ${JSON.stringify(input.username)}`,
    );
  }
  const passwordHash = hashPassword(input.password);
  return explainDuplicate(`Operator ${input.username}`, () =>
    sqlite.transaction(() => {
      const { lastInsertRowid } = sqlite
        .prepare('INSERT INTO operator (username, display_name, role, password_hash) VALUES (?, ?, ?, ?)')
        .run(input.username, input.displayName, input.role, passwordHash);
      appendAudit(
        sqlite,
        {
          operatorId: byOperatorId,
          action: 'operator.add',
          entity: 'operator',
          entityId: input.username,
          details: { role: input.role },
        },
        at,
      );
      return Number(lastInsertRowid);
    })(),
  );
}

export interface TariffInput {
  code: string;
  name: string;
  ti: number;
  resource: 'electricity' | 'water' | 'gas';
}

export interface TariffVersionInput {
  effectiveFromLocal: string;
  kind: 'flat' | 'inclining-block';
  blocks: Array<{ upToUnits: number | null; rateMilliMinorPerKwh: number }>;
  vatRateBp: number;
  pricesIncludeVat: boolean;
  fixedCharge: { description: string; amountMinor: number; maxMonths: number } | null;
  levies: Array<{ name: string; kind: 'per-kwh' | 'percent'; value: number }>;
  fbeMonthlyUnits: number;
  minVendMinor: number;
  maxVendMinor: number;
}

export function addTariff(
  sqlite: Database.Database,
  input: TariffInput,
  first: TariffVersionInput,
  operatorId: number | null,
  at: Date,
): number {
  const ti = requireTi(input.ti);
  return explainDuplicate(`Tariff ${input.code}`, () =>
    sqlite.transaction(() => {
      const { lastInsertRowid } = sqlite
        .prepare('INSERT INTO tariff (code, name, ti, resource) VALUES (?, ?, ?, ?)')
        .run(input.code, input.name, ti, input.resource);
      const tariffId = Number(lastInsertRowid);
      addTariffVersion(sqlite, tariffId, first, operatorId, at);
      return tariffId;
    })(),
  );
}

export function addTariffVersion(
  sqlite: Database.Database,
  tariffId: number,
  v: TariffVersionInput,
  operatorId: number | null,
  at: Date,
): number {
  const tariffRow = sqlite
    .prepare('SELECT code, name, ti, resource FROM tariff WHERE id = ?')
    .get(tariffId) as
    | { code: string; name: string; ti: number; resource: TariffVersion['resource'] }
    | undefined;
  if (!tariffRow)
    throw new EngineError('VEND_NO_TARIFF', 'Unknown tariff.', `tariff id ${tariffId} not found`);
  const [year, month, day] = v.effectiveFromLocal.split('-').map(Number);
  const date = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 0));
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(v.effectiveFromLocal) ||
    date.getUTCDate() !== day ||
    date.getUTCMonth() + 1 !== month
  ) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'The effective date must be a real date written YYYY-MM-DD.',
      `effectiveFromLocal ${JSON.stringify(v.effectiveFromLocal)}`,
    );
  }
  // The same rules the pricing engine applies at sale time, so a version that cannot be sold is never stored.
  validateTariff(pricingTariffVersion(tariffRow.code, tariffRow, v));
  if (
    v.blocks.length === 0 ||
    v.blocks.at(-1)!.upToUnits !== null ||
    (v.kind === 'flat' && v.blocks.length !== 1)
  ) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'A tariff needs ascending blocks ending with an open block (a flat tariff has exactly one).',
      JSON.stringify(v.blocks),
    );
  }
  return sqlite.transaction(() => {
    const next = (
      sqlite
        .prepare('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM tariff_version WHERE tariff_id = ?')
        .get(tariffId) as { next: number }
    ).next;
    const id = insertTariffVersion(sqlite, tariffId, next, v);
    appendAudit(
      sqlite,
      {
        operatorId,
        action: 'tariff.version.add',
        entity: 'tariff',
        entityId: String(tariffId),
        details: { version: next, effectiveFrom: v.effectiveFromLocal },
      },
      at,
    );
    return id;
  })();
}

/** One tariff version row (local set-up and head office's published versions alike); returns its id. */
export function insertTariffVersion(
  sqlite: Database.Database,
  tariffId: number,
  version: number,
  v: TariffVersionInput,
): number {
  const { lastInsertRowid } = sqlite
    .prepare(
      `INSERT INTO tariff_version (tariff_id, version, effective_from_local, kind, blocks_json, vat_rate_bp, prices_include_vat,
        fixed_charge_description, fixed_charge_minor, fixed_charge_max_months, levies_json, fbe_monthly_units, min_vend_minor, max_vend_minor)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      tariffId,
      version,
      v.effectiveFromLocal,
      v.kind,
      JSON.stringify(v.blocks),
      v.vatRateBp,
      v.pricesIncludeVat ? 1 : 0,
      v.fixedCharge?.description ?? null,
      v.fixedCharge?.amountMinor ?? 0,
      v.fixedCharge?.maxMonths ?? 0,
      JSON.stringify(v.levies),
      v.fbeMonthlyUnits,
      v.minVendMinor,
      v.maxVendMinor,
    );
  return Number(lastInsertRowid);
}

export interface CustomerInput {
  accountNo: string;
  name: string;
  address: string;
  phone: string;
  location: string;
  fbeEligible: boolean;
}

/** The one INSERT for customers, prepared once; single adds and CSV imports both use it. */
export function customerInserter(sqlite: Database.Database): (c: CustomerInput) => number {
  const insert = sqlite.prepare(
    'INSERT INTO customer (account_no, name, address, phone, location, fbe_eligible) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return (c) =>
    Number(
      insert.run(c.accountNo, c.name, c.address, c.phone, c.location, c.fbeEligible ? 1 : 0).lastInsertRowid,
    );
}

export function addCustomer(
  sqlite: Database.Database,
  c: CustomerInput,
  operatorId: number | null = null,
  at = new Date(),
): number {
  return sqlite.transaction(() => {
    const id = explainDuplicate(`Customer account ${c.accountNo}`, () => customerInserter(sqlite)(c));
    appendAudit(
      sqlite,
      {
        operatorId,
        action: 'customer.add',
        entity: 'customer',
        entityId: c.accountNo,
        details: { fbeEligible: c.fbeEligible },
      },
      at,
    );
    return id;
  })();
}

export interface MeterInput {
  pan: string;
  iinLength?: 4 | 6;
  meterType: 'electricity' | 'water' | 'gas';
  customerAccountNo: string | null;
  tariffCode: string;
  sgc: string;
  ti: number;
  krn: number;
  keyType: number;
  ea: string;
  dkga: string;
  baseDate: number;
  ken: number;
}

/** A meter whose fields are validated and whose customer and tariff are resolved to row ids. */
export interface ResolvedMeter {
  pan: MeterPan;
  iinLength: 4 | 6;
  meterType: MeterInput['meterType'];
  customerId: number | null;
  tariffId: number;
  sgc: string;
  ti: number;
  krn: number;
  keyType: KeyType;
  ea: EncryptionAlgorithm;
  dkga: DecoderKeyAlgorithm;
  baseDate: BaseDate;
  ken: number;
}

/** The one INSERT for meters, prepared once; single adds and CSV imports both use it. */
export function meterInserter(sqlite: Database.Database): (m: ResolvedMeter) => number {
  const insert = sqlite.prepare(
    'INSERT INTO meter (pan, meter_no, iin_length, meter_type, customer_id, tariff_id, sgc, ti, krn, key_type, ea, dkga, base_date, ken) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  return (m) =>
    Number(
      insert.run(
        m.pan.pan,
        m.pan.drn + m.pan.checkDigit,
        m.iinLength,
        m.meterType,
        m.customerId,
        m.tariffId,
        m.sgc,
        m.ti,
        m.krn,
        m.keyType,
        m.ea,
        m.dkga,
        m.baseDate,
        m.ken,
      ).lastInsertRowid,
    );
}

export function addMeter(
  sqlite: Database.Database,
  m: MeterInput,
  operatorId: number | null = null,
  at = new Date(),
): number {
  const pan = parseMeterPan(m.pan, m.iinLength ?? 6);
  const tariffRow = sqlite.prepare('SELECT id FROM tariff WHERE code = ?').get(m.tariffCode) as
    | { id: number }
    | undefined;
  if (!tariffRow)
    throw new EngineError(
      'VEND_NO_TARIFF',
      `Unknown tariff ${m.tariffCode}.`,
      `tariff code ${m.tariffCode} not found`,
    );
  let customerId: number | null = null;
  if (m.customerAccountNo) {
    const row = sqlite.prepare('SELECT id FROM customer WHERE account_no = ?').get(m.customerAccountNo) as
      | { id: number }
      | undefined;
    if (!row)
      throw new EngineError(
        'IMPORT_REJECTED',
        `Unknown customer account ${m.customerAccountNo}.`,
        `account ${m.customerAccountNo} not found`,
      );
    customerId = row.id;
  }
  return sqlite.transaction(() => {
    const id = explainDuplicate(`Meter ${pan.pan}`, () =>
      meterInserter(sqlite)({
        pan,
        iinLength: m.iinLength ?? 6,
        meterType: m.meterType,
        customerId,
        tariffId: tariffRow.id,
        sgc: requireSgc(m.sgc),
        ti: requireTi(m.ti),
        krn: requireKrn(m.krn),
        keyType: requireKeyType(m.keyType),
        ea: requireEncryptionAlgorithm(m.ea),
        dkga: requireDecoderKeyAlgorithm(m.dkga),
        baseDate: requireBaseDate(m.baseDate),
        ken: requireKen(m.ken),
      }),
    );
    appendAudit(
      sqlite,
      {
        operatorId,
        action: 'meter.add',
        entity: 'meter',
        entityId: pan.pan,
        details: { sgc: m.sgc, krn: m.krn, tariff: m.tariffCode },
      },
      at,
    );
    return id;
  })();
}
