import type Database from 'better-sqlite3';
import type { CustomerRowView, MeterRowView, TariffRowView } from '../../src-shared/bridge/contract.ts';
import { wallClockInZone } from '../../src-shared/sts/tid.ts';
import { type Currency, formatMoney } from '../../src-shared/vending/money.ts';
import type { TariffVersion } from '../../src-shared/vending/pricing.ts';
import { RESOURCE_UNIT_SYMBOLS } from '../../src-shared/vending/receipt.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { isValidPhone } from './master-data.ts';
import { findMeter } from './meters.ts';
import { type OperatorSession, requirePermission } from './operators.ts';
import { TARIFF_VERSION_COLUMNS, type TariffVersionRow, tariffVersionFromRow } from './tariffs.ts';
import type { UtilityInfo } from './vend-engine.ts';

/**
 * Master data as the admin screens see it: meters, customers and tariffs listed page by page, and the
 * edits an administrator may make at the outlet. Every edit is one transaction with its audit entry.
 */

export interface PageQuery {
  /** Meter number, account number, name, phone or address fragment; blank = everything. */
  query: string;
  limit: number;
  offset: number;
}

export interface Page<T> {
  rows: T[];
  total: number;
}

/** Fragment match for LIKE, with the wildcards in what was typed taken literally. */
const contains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
/** Digits as typed on a meter number (spaces and dashes allowed), or null when the text is not one. */
const digitsOf = (text: string): string | null => {
  const digits = text.replace(/[\s-]/g, '');
  return /^\d+$/.test(digits) ? digits : null;
};
/** [digits, digits + ':') covers every text that starts with the digits (':' sorts right after '9'), on an index. */
const prefixRange = (digits: string): [string, string] => [digits, `${digits}:`];

// --- meters ---------------------------------------------------------------------------------------

const METER_VIEW = `SELECT m.id, m.meter_no AS meterNo, m.meter_type AS resource, c.account_no AS customerAccountNo,
    c.name AS customerName, c.address, t.code AS tariffCode, m.sgc, m.krn, m.ti, m.blocked, m.blocked_reason AS blockedReason,
    (m.pending_sgc IS NOT NULL OR m.pending_ti IS NOT NULL OR m.pending_krn IS NOT NULL OR m.pending_base_date IS NOT NULL) AS pendingKeyChange,
    m.last_purchase_at AS lastPurchaseAt
  FROM meter m JOIN tariff t ON t.id = m.tariff_id LEFT JOIN customer c ON c.id = m.customer_id`;

type StoredMeterView = Omit<MeterRowView, 'blocked' | 'pendingKeyChange'> & {
  id: number;
  blocked: number;
  pendingKeyChange: number;
};

const meterView = ({ id: _id, ...row }: StoredMeterView): MeterRowView => ({
  ...row,
  blocked: row.blocked === 1,
  pendingKeyChange: row.pendingKeyChange === 1,
});

function meterFilter(query: string): { where: string; params: string[] } {
  const text = query.trim();
  if (!text) return { where: '', params: [] };
  const digits = digitsOf(text);
  if (digits) {
    // Meter number or PAN prefix, or the exact account number: each on its own index.
    return {
      where:
        'WHERE (m.meter_no >= ? AND m.meter_no < ?) OR (m.pan >= ? AND m.pan < ?) OR m.customer_id IN (SELECT id FROM customer WHERE account_no = ?)',
      params: [...prefixRange(digits), ...prefixRange(digits), text],
    };
  }
  const like = contains(text);
  return {
    where:
      "WHERE c.account_no LIKE ? ESCAPE '\\' OR c.name LIKE ? ESCAPE '\\' OR c.address LIKE ? ESCAPE '\\'",
    params: [like, like, like],
  };
}

export function listMeters(
  sqlite: Database.Database,
  session: OperatorSession,
  page: PageQuery,
): Page<MeterRowView> {
  requirePermission(session, 'masterData');
  const { where, params } = meterFilter(page.query);
  const { total } = sqlite
    .prepare(`SELECT COUNT(*) AS total FROM meter m LEFT JOIN customer c ON c.id = m.customer_id ${where}`)
    .get(...params) as { total: number };
  const rows = sqlite
    .prepare(`${METER_VIEW} ${where} ORDER BY m.meter_no LIMIT ? OFFSET ?`)
    .all(...params, page.limit, page.offset) as StoredMeterView[];
  return { rows: rows.map(meterView), total };
}

function meterRow(sqlite: Database.Database, meterId: number): MeterRowView {
  return meterView(sqlite.prepare(`${METER_VIEW} WHERE m.id = ?`).get(meterId) as StoredMeterView);
}

export interface MeterUpdate {
  meterNo: string;
  tariffCode?: string | undefined;
  /** null detaches the meter from its customer. */
  customerAccountNo?: string | null | undefined;
  blocked?: boolean | undefined;
  blockedReason?: string | undefined;
}

function customerIdOf(sqlite: Database.Database, accountNo: string): number {
  const row = sqlite.prepare('SELECT id FROM customer WHERE account_no = ?').get(accountNo) as
    | { id: number }
    | undefined;
  if (!row) {
    throw new EngineError(
      'CUSTOMER_UNKNOWN',
      `There is no customer with account number ${accountNo}.`,
      `account ${accountNo} not found`,
    );
  }
  return row.id;
}

/**
 * Edits a meter's tariff, customer or blocked state. A tariff with another tariff index (TI) changes the
 * meter's decoder key, so the TI change is scheduled as a pending key change that the next sale issues.
 */
export function updateMeter(
  sqlite: Database.Database,
  session: OperatorSession,
  update: MeterUpdate,
  now: Date,
): MeterRowView {
  requirePermission(session, 'masterData');
  return sqlite
    .transaction((): MeterRowView => {
      const meter = findMeter(sqlite, update.meterNo);
      const changes: Record<string, unknown> = {};
      const set: Record<string, string | number | null> = {};
      if (update.tariffCode !== undefined) {
        const tariff = sqlite
          .prepare('SELECT id, code, ti, resource FROM tariff WHERE code = ?')
          .get(update.tariffCode) as { id: number; code: string; ti: number; resource: string } | undefined;
        if (!tariff) {
          throw new EngineError(
            'VEND_NO_TARIFF',
            `There is no tariff ${update.tariffCode}.`,
            `tariff code ${update.tariffCode} not found`,
          );
        }
        if (tariff.resource !== meter.meterType) {
          throw new EngineError(
            'VEND_INVALID_REQUEST',
            `Tariff ${tariff.code} is for ${tariff.resource}; meter ${meter.meterNo} measures ${meter.meterType}.`,
            `tariff ${tariff.code} resource ${tariff.resource} ≠ meter type ${meter.meterType}`,
          );
        }
        if (tariff.id !== meter.tariffId) {
          set.tariff_id = tariff.id;
          changes.tariff = tariff.code;
        }
        const pendingTi = tariff.ti === meter.ti ? null : tariff.ti;
        if (pendingTi !== meter.pendingTi) {
          set.pending_ti = pendingTi;
          changes.pendingTi = pendingTi;
        }
      }
      if (update.customerAccountNo !== undefined) {
        const customerId =
          update.customerAccountNo === null ? null : customerIdOf(sqlite, update.customerAccountNo);
        if (customerId !== meter.customerId) {
          set.customer_id = customerId;
          changes.customer = update.customerAccountNo;
        }
      }
      const reason = update.blockedReason?.trim() || undefined;
      if (update.blocked !== undefined || reason !== undefined) {
        const blocked = update.blocked ?? meter.blocked === 1;
        if (!blocked && reason !== undefined) {
          throw new EngineError(
            'VEND_INVALID_REQUEST',
            'A blocking reason is only kept for a blocked meter.',
            `blockedReason given for unblocked meter ${meter.pan}`,
          );
        }
        const nextReason = blocked ? (reason ?? meter.blockedReason) : null;
        if (blocked && !nextReason) {
          throw new EngineError(
            'VEND_INVALID_REQUEST',
            'Give the reason for blocking the meter.',
            `meter ${meter.pan} blocked without a reason`,
          );
        }
        if (blocked !== (meter.blocked === 1) || nextReason !== meter.blockedReason) {
          set.blocked = blocked ? 1 : 0;
          set.blocked_reason = nextReason;
          changes.blocked = blocked;
          if (nextReason) changes.blockedReason = nextReason;
        }
      }
      const columns = Object.keys(set);
      if (columns.length > 0) {
        sqlite
          .prepare(`UPDATE meter SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
          .run(...Object.values(set), meter.id);
        appendAudit(
          sqlite,
          {
            operatorId: session.id,
            action: 'meter.update',
            entity: 'meter',
            entityId: meter.pan,
            details: changes,
          },
          now,
        );
      }
      return meterRow(sqlite, meter.id);
    })
    .immediate();
}

// --- customers ------------------------------------------------------------------------------------

const CUSTOMER_VIEW =
  'SELECT c.id, c.account_no AS accountNo, c.name, c.address, c.phone, c.location FROM customer c';

type StoredCustomer = Omit<CustomerRowView, 'arrearsMinor' | 'meterNos'> & { id: number };

/** Adds arrears (every debt still owed) and meter numbers to a page of customers, one query each. */
function withArrearsAndMeters(sqlite: Database.Database, customers: StoredCustomer[]): CustomerRowView[] {
  if (customers.length === 0) return [];
  const ids = customers.map((c) => c.id);
  const marks = ids.map(() => '?').join(', ');
  const arrears = new Map(
    (
      sqlite
        .prepare(
          `SELECT customer_id AS id, SUM(balance_minor) AS minor FROM debt WHERE balance_minor > 0 AND customer_id IN (${marks}) GROUP BY customer_id`,
        )
        .all(...ids) as Array<{ id: number; minor: number }>
    ).map((r) => [r.id, r.minor]),
  );
  const meters = new Map<number, string[]>();
  for (const m of sqlite
    .prepare(
      `SELECT customer_id AS id, meter_no AS meterNo FROM meter WHERE customer_id IN (${marks}) ORDER BY meter_no`,
    )
    .all(...ids) as Array<{ id: number; meterNo: string }>) {
    meters.set(m.id, [...(meters.get(m.id) ?? []), m.meterNo]);
  }
  return customers.map(({ id, ...c }) => ({
    ...c,
    arrearsMinor: arrears.get(id) ?? 0,
    meterNos: meters.get(id) ?? [],
  }));
}

function customerFilter(query: string): { where: string; params: string[] } {
  const text = query.trim();
  if (!text) return { where: '', params: [] };
  const like = contains(text);
  const digits = digitsOf(text);
  const byMeter = digits
    ? ' OR c.id IN (SELECT customer_id FROM meter WHERE meter_no >= ? AND meter_no < ?)'
    : '';
  return {
    where: `WHERE (c.account_no LIKE ? ESCAPE '\\' OR c.name LIKE ? ESCAPE '\\' OR c.phone LIKE ? ESCAPE '\\' OR c.address LIKE ? ESCAPE '\\'${byMeter})`,
    params: [like, like, like, like, ...(digits ? prefixRange(digits) : [])],
  };
}

export function listCustomers(
  sqlite: Database.Database,
  session: OperatorSession,
  page: PageQuery,
): Page<CustomerRowView> {
  requirePermission(session, 'masterData');
  const { where, params } = customerFilter(page.query);
  const { total } = sqlite.prepare(`SELECT COUNT(*) AS total FROM customer c ${where}`).get(...params) as {
    total: number;
  };
  const rows = sqlite
    .prepare(`${CUSTOMER_VIEW} ${where} ORDER BY c.account_no LIMIT ? OFFSET ?`)
    .all(...params, page.limit, page.offset) as StoredCustomer[];
  return { rows: withArrearsAndMeters(sqlite, rows), total };
}

export interface CustomerUpdate {
  accountNo: string;
  name?: string | undefined;
  address?: string | undefined;
  phone?: string | undefined;
  location?: string | undefined;
}

const CUSTOMER_COLUMNS = { name: 'name', address: 'address', phone: 'phone', location: 'location' } as const;

export function updateCustomer(
  sqlite: Database.Database,
  session: OperatorSession,
  update: CustomerUpdate,
  now: Date,
): CustomerRowView {
  requirePermission(session, 'masterData');
  if (update.phone !== undefined && !isValidPhone(update.phone)) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'A phone number may contain digits, spaces, + and - only (at most 32 characters).',
      `phone ${JSON.stringify(update.phone)}`,
    );
  }
  if (update.name !== undefined && !update.name.trim()) {
    throw new EngineError('VEND_INVALID_REQUEST', 'A customer needs a name.', 'empty customer name');
  }
  return sqlite
    .transaction((): CustomerRowView => {
      const id = customerIdOf(sqlite, update.accountNo);
      const before = sqlite.prepare(`${CUSTOMER_VIEW} WHERE c.id = ?`).get(id) as StoredCustomer;
      const changes: Record<string, string> = {};
      for (const field of Object.keys(CUSTOMER_COLUMNS) as Array<keyof typeof CUSTOMER_COLUMNS>) {
        const value = update[field]?.trim();
        if (value !== undefined && value !== before[field]) changes[field] = value;
      }
      const fields = Object.keys(changes) as Array<keyof typeof CUSTOMER_COLUMNS>;
      if (fields.length > 0) {
        sqlite
          .prepare(
            `UPDATE customer SET ${fields.map((f) => `${CUSTOMER_COLUMNS[f]} = ?`).join(', ')} WHERE id = ?`,
          )
          .run(...fields.map((f) => changes[f]!), id);
        appendAudit(
          sqlite,
          {
            operatorId: session.id,
            action: 'customer.update',
            entity: 'customer',
            entityId: update.accountNo,
            details: changes,
          },
          now,
        );
      }
      const after = sqlite.prepare(`${CUSTOMER_VIEW} WHERE c.id = ?`).get(id) as StoredCustomer;
      return withArrearsAndMeters(sqlite, [after])[0]!;
    })
    .immediate();
}

// --- tariffs --------------------------------------------------------------------------------------

/** 0.1 units as text: 500 → "50", 25 → "2.5". */
const tenths = (units: number) => (units % 10 === 0 ? String(units / 10) : (units / 10).toFixed(1));
const percent = (bp: number) => `${bp / 100}%`;

/** A rate in milli-minor units, with the currency's decimals and any finer digits it has. */
function formatRate(milliMinor: number, currency: Currency): string {
  const whole = formatMoney(Math.trunc(milliMinor / 1000), currency);
  const extra = String(Math.abs(milliMinor % 1000))
    .padStart(3, '0')
    .replace(/0+$/, '');
  return extra ? `${whole}${currency.minorUnits === 0 ? '.' : ''}${extra}` : whole;
}

/** One line a supervisor can read: prices per unit or per block, VAT, charges, levies, FBE and vend limits. */
export function tariffSummary(version: TariffVersion, currency: Currency): string {
  const unit = RESOURCE_UNIT_SYMBOLS[version.resource];
  const money = (minor: number) => formatMoney(minor, currency);
  let from = 0;
  const prices = version.blocks.map((b) => {
    const rate = `${formatRate(b.rateMilliMinorPerKwh, currency)}/${unit}`;
    const band =
      b.upToUnits === null
        ? from === 0
          ? rate
          : `above ${tenths(from)} ${unit}: ${rate}`
        : `${tenths(from)}–${tenths(b.upToUnits)} ${unit}: ${rate}`;
    from = b.upToUnits ?? from;
    return band;
  });
  const parts = [
    `${version.kind === 'flat' ? 'Flat' : 'Blocks'} ${prices.join(', ')}`,
    `VAT ${percent(version.vatRateBp)} ${version.pricesIncludeVat ? 'included' : 'added'}`,
  ];
  const fixed = version.fixedMonthlyCharge;
  if (fixed) {
    parts.push(`${fixed.description} ${money(fixed.amountMinor)}/month (up to ${fixed.maxMonths} months)`);
  }
  for (const levy of version.levies) {
    parts.push(
      `${levy.name} ${levy.kind === 'percent' ? percent(levy.value) : `${formatRate(levy.value, currency)}/${unit}`}`,
    );
  }
  if (version.fbeMonthlyUnits > 0) parts.push(`FBE ${tenths(version.fbeMonthlyUnits)} ${unit}/month`);
  parts.push(`vend ${money(version.minVendMinor)}–${money(version.maxVendMinor)}`);
  return parts.join('; ');
}

/** Tariffs with every version, the one in force today (the utility's local date) marked. */
export function listTariffs(
  sqlite: Database.Database,
  session: OperatorSession,
  utility: UtilityInfo,
  now: Date,
): TariffRowView[] {
  requirePermission(session, 'masterData');
  const w = wallClockInZone(now, utility.timeZone);
  const today = `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
  const currency = { code: utility.currencyCode, minorUnits: utility.currencyMinorUnits };
  const rows = sqlite
    .prepare(
      `SELECT t.id AS tariffListId, v.effective_from_local AS effectiveFrom, ${TARIFF_VERSION_COLUMNS}
       FROM tariff t LEFT JOIN tariff_version v ON v.tariff_id = t.id
       ORDER BY t.code, v.effective_from_local, v.version`,
    )
    .all() as Array<
    { tariffListId: number; effectiveFrom: string | null } & Omit<TariffVersionRow, 'version'> & {
        version: number | null;
      }
  >;
  const tariffs = new Map<number, TariffRowView>();
  const inForce = new Map<number, TariffRowView['versions'][number]>();
  for (const row of rows) {
    let tariff = tariffs.get(row.tariffListId);
    if (!tariff) {
      tariff = { code: row.code, name: row.name, resource: row.resource, versions: [] };
      tariffs.set(row.tariffListId, tariff);
    }
    if (row.version === null || row.effectiveFrom === null) continue;
    const version = {
      version: row.version,
      effectiveFrom: row.effectiveFrom,
      kind: row.kind,
      summary: tariffSummary(tariffVersionFromRow({ ...row, version: row.version }), currency),
      inForce: false,
    };
    tariff.versions.push(version);
    // Rows come by effective date then version: the last one not after today is the one in force (as tariffInForce).
    if (row.effectiveFrom <= today) inForce.set(row.tariffListId, version);
  }
  for (const version of inForce.values()) version.inForce = true;
  return [...tariffs.values()];
}
