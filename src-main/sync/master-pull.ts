import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import { bytesToHex } from '../../src-shared/encoding/hex.ts';
import { vendingKeyCheckValue } from '../../src-shared/sts/key-check-value.ts';
import { parseMeterPan } from '../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../src-shared/sts/secret-key.ts';
import { canonicalJson } from '../../src-shared/sync/canonical-json.ts';
import { SyncError } from '../../src-shared/sync/errors.ts';
import {
  type MasterChange,
  MasterDataError,
  type MasterKeyChange,
  type MasterMeter,
  type MasterMonthToDate,
  type MasterPage,
  type MasterTariff,
  type MasterTariffVersion,
  parseSupplyGroupKey,
  supplyGroupEnvelopeSubject,
} from '../../src-shared/sync/master-data.ts';
import { pricingTariffVersion, validateTariff } from '../../src-shared/vending/pricing.ts';
import { appendAudit } from '../engine/audit-log.ts';
import { FLOAT_TOP_UP_KIND, moveFloat } from '../engine/float.ts';
import { addSupplyGroup, insertTariffVersion, meterInserter } from '../engine/master-data.ts';
import type { SyncApi } from './api.ts';
import { openFromDevice } from './key-envelope.ts';

/**
 * The outlet side of the master-data download: pages of changes after the stored cursor (the server sequence,
 * never a time), each page applied in ONE SQLite transaction together with the new cursor and one audit entry.
 * Every change is idempotent (upsert by key (customers, operators, meters, supply groups), top-ups by their
 * server reference, tariff versions by number, tombstones as "unblocked" / "retired"), so a page applied again
 * after a crash between the commit and the next request changes nothing.
 *
 * A change this outlet cannot apply safely (a key envelope that does not open, a key failing its check value,
 * a meter whose tariff or supply group is unknown here, a tariff version that differs from the one held) throws
 * MasterDataError: the whole page rolls back and the cursor stays, so nothing is skipped or half-stored; the
 * next pull tries again once head office has fixed the data.
 */

/** Where the cursor lives: a row of the ledger's `counter` table (no new table needed). */
export const MASTER_CURSOR_COUNTER = 'sync.master_cursor';
/** Top-ups from head office are stored with this request-id prefix: the unique index credits each once. */
export const SERVER_TOP_UP_PREFIX = 'server:';

export function readMasterCursor(sqlite: Database.Database): number {
  const row = sqlite.prepare('SELECT value FROM counter WHERE name = ?').get(MASTER_CURSOR_COUNTER) as
    | { value: number }
    | undefined;
  return row?.value ?? 0;
}

export interface PageOutcome {
  applied: number;
  /** Blocks, retirements or key changes for meters this outlet does not hold (counted in the audit entry). */
  unknownMeters: number;
}

/** What opening vending keys needs: the device that the envelopes are sealed to, and the outlet's KEK. */
export interface MasterDevice {
  deviceId: string;
  /** The device's Ed25519 private key (sync_identity, unsealed). */
  key: KeyObject;
  /** The outlet's key-encryption key, to seal arriving vending keys; without it a supply group is refused. */
  kek?: Buffer | undefined;
}

/** The reason a meter retired by head office is blocked with (and unblocked again if it is registered anew). */
export const RETIRED_REASON = 'retired by head office';

function referenceUnknown(detail: string): never {
  throw new MasterDataError('MASTER_REFERENCE_UNKNOWN', detail);
}

/**
 * A supply group: its key opened from the envelope, checked against the KCV, sealed under the outlet's KEK.
 * A group already held keeps its key (a different key under the same SGC/KRN/DKGA is refused).
 */
function applySupplyGroup(
  sqlite: Database.Database,
  change: Extract<MasterChange, { kind: 'supply-group' }>,
  device: MasterDevice | undefined,
  now: Date,
) {
  const { sgc, krn, dkga } = parseSupplyGroupKey(change.key);
  const g = change.data;
  const held = sqlite
    .prepare('SELECT id, vending_key_kcv AS kcv FROM supply_group WHERE sgc = ? AND krn = ? AND dkga = ?')
    .get(sgc, krn, dkga) as { id: number; kcv: string } | undefined;
  if (held && held.kcv !== g.kcv) {
    throw new MasterDataError(
      'MASTER_KEY_CONFLICT',
      `supply group ${change.key}: held kcv ${held.kcv}, head office sent ${g.kcv}`,
    );
  }
  if (held) {
    sqlite
      .prepare('UPDATE supply_group SET name = ?, key_type = ?, base_date = ?, ea = ?, ken = ? WHERE id = ?')
      .run(g.name, g.keyType, g.baseDate, g.ea, g.ken, held.id);
    return;
  }
  if (!device) {
    throw new MasterDataError(
      'MASTER_KEY_ENVELOPE_INVALID',
      `supply group ${change.key}: no device key given`,
    );
  }
  if (!device.kek)
    throw new MasterDataError('MASTER_KEK_REQUIRED', `supply group ${change.key}: no KEK given`);
  const bytes = openFromDevice(
    device.key,
    { deviceId: device.deviceId, subject: supplyGroupEnvelopeSubject(change.key) },
    g.vendingKey,
  );
  try {
    const kcv = vendingKeyCheckValue(SecretKey.fromBytes(bytes), dkga);
    if (kcv !== g.kcv) {
      throw new MasterDataError(
        'MASTER_KEY_CHECK_FAILED',
        `supply group ${change.key}: key check value ${kcv} ≠ ${g.kcv} sent`,
      );
    }
    addSupplyGroup(
      sqlite,
      device.kek,
      {
        sgc,
        name: g.name,
        keyType: g.keyType,
        krn,
        baseDate: g.baseDate,
        dkga,
        ea: g.ea,
        ken: g.ken,
        vendingKeyHex: bytesToHex(bytes),
      },
      null,
      now,
    );
  } finally {
    bytes.fill(0);
  }
}

/** The columns of a stored tariff version, in the wire shape, to compare with what head office sends. */
function storedVersion(
  sqlite: Database.Database,
  tariffId: number,
  version: number,
): MasterTariffVersion | null {
  const row = sqlite
    .prepare(
      `SELECT version, effective_from_local AS effectiveFromLocal, kind, blocks_json AS blocks, vat_rate_bp AS vatRateBp,
              prices_include_vat AS pricesIncludeVat, fixed_charge_description AS fixedDescription,
              fixed_charge_minor AS fixedMinor, fixed_charge_max_months AS fixedMonths, levies_json AS levies,
              fbe_monthly_units AS fbeMonthlyUnits, min_vend_minor AS minVendMinor, max_vend_minor AS maxVendMinor
         FROM tariff_version WHERE tariff_id = ? AND version = ?`,
    )
    .get(tariffId, version) as
    | (Omit<MasterTariffVersion, 'blocks' | 'levies' | 'pricesIncludeVat' | 'fixedCharge'> & {
        blocks: string;
        levies: string;
        pricesIncludeVat: number;
        fixedDescription: string | null;
        fixedMinor: number;
        fixedMonths: number;
      })
    | undefined;
  if (!row) return null;
  const { fixedDescription, fixedMinor, fixedMonths, ...rest } = row;
  return {
    ...rest,
    blocks: JSON.parse(row.blocks),
    levies: JSON.parse(row.levies),
    pricesIncludeVat: row.pricesIncludeVat === 1,
    fixedCharge:
      fixedMinor > 0 || fixedDescription !== null
        ? { description: fixedDescription ?? 'Fixed charge', amountMinor: fixedMinor, maxMonths: fixedMonths }
        : null,
  };
}

/** A tariff and its versions: new versions are added by their number, a version held must be identical. */
function applyTariff(sqlite: Database.Database, code: string, t: MasterTariff) {
  let tariff = sqlite.prepare('SELECT id, ti, resource FROM tariff WHERE code = ?').get(code) as
    | { id: number; ti: number; resource: string }
    | undefined;
  if (tariff && (tariff.ti !== t.ti || tariff.resource !== t.resource)) {
    throw new MasterDataError(
      'MASTER_TARIFF_CONFLICT',
      `tariff ${code}: held TI ${tariff.ti} ${tariff.resource}, head office sent TI ${t.ti} ${t.resource}`,
    );
  }
  if (tariff) {
    sqlite.prepare('UPDATE tariff SET name = ? WHERE id = ?').run(t.name, tariff.id);
  } else {
    const { lastInsertRowid } = sqlite
      .prepare('INSERT INTO tariff (code, name, ti, resource) VALUES (?, ?, ?, ?)')
      .run(code, t.name, t.ti, t.resource);
    tariff = { id: Number(lastInsertRowid), ti: t.ti, resource: t.resource };
  }
  for (const v of t.versions) {
    const held = storedVersion(sqlite, tariff.id, v.version);
    if (held) {
      if (canonicalJson(held) !== canonicalJson(v)) {
        throw new MasterDataError(
          'MASTER_TARIFF_CONFLICT',
          `tariff ${code} version ${v.version} differs from the one this outlet holds`,
        );
      }
      continue;
    }
    try {
      validateTariff(pricingTariffVersion(code, t, v));
    } catch (error) {
      throw new MasterDataError(
        'MASTER_INVALID',
        `tariff ${code} v${v.version}: ${(error as Error).message}`,
      );
    }
    insertTariffVersion(sqlite, tariff.id, v.version, v);
  }
}

/**
 * A meter: inserted with its key data, or, if held, its customer, tariff and type updated. Its key, TID
 * history, month-to-date and pending key change are the outlet's own (a key moves only by key change tokens).
 * Tombstone = retired: blocked (its sales keep referring to it).
 */
function applyMeter(sqlite: Database.Database, meterNo: string, m: MasterMeter | null, outcome: PageOutcome) {
  if (m === null) {
    const result = sqlite
      .prepare('UPDATE meter SET blocked = 1, blocked_reason = ? WHERE meter_no = ?')
      .run(RETIRED_REASON, meterNo);
    if (result.changes === 0) outcome.unknownMeters++;
    return;
  }
  const tariff = sqlite.prepare('SELECT id, resource FROM tariff WHERE code = ?').get(m.tariffCode) as
    | { id: number; resource: string }
    | undefined;
  if (!tariff) referenceUnknown(`meter ${meterNo}: tariff ${m.tariffCode} unknown here`);
  if (tariff.resource !== m.meterType) {
    throw new MasterDataError(
      'MASTER_INVALID',
      `meter ${meterNo}: tariff ${m.tariffCode} is for ${tariff.resource}`,
    );
  }
  let customerId: number | null = null;
  if (m.customerAccountNo !== '') {
    const customer = sqlite
      .prepare('SELECT id FROM customer WHERE account_no = ?')
      .get(m.customerAccountNo) as { id: number } | undefined;
    if (!customer) referenceUnknown(`meter ${meterNo}: customer ${m.customerAccountNo} unknown here`);
    customerId = customer.id;
  }
  const held = sqlite.prepare('SELECT id FROM meter WHERE meter_no = ?').get(meterNo) as
    | { id: number }
    | undefined;
  if (held) {
    sqlite
      .prepare(
        `UPDATE meter SET meter_type = ?, customer_id = ?, tariff_id = ?,
           blocked = CASE WHEN blocked_reason = ? THEN 0 ELSE blocked END,
           blocked_reason = CASE WHEN blocked_reason = ? THEN NULL ELSE blocked_reason END
         WHERE id = ?`,
      )
      .run(m.meterType, customerId, tariff.id, RETIRED_REASON, RETIRED_REASON, held.id);
    return;
  }
  if (
    !sqlite
      .prepare('SELECT 1 FROM supply_group WHERE sgc = ? AND krn = ? AND dkga = ?')
      .get(m.sgc, m.krn, m.dkga)
  ) {
    referenceUnknown(
      `meter ${meterNo}: no vending key for supply group ${m.sgc} KRN ${m.krn} ${m.dkga} here`,
    );
  }
  const pan = parseMeterPan(m.pan, m.iinLength);
  if (pan.drn + pan.checkDigit !== meterNo) {
    throw new MasterDataError('MASTER_INVALID', `meter ${meterNo}: PAN ${m.pan} has another meter number`);
  }
  meterInserter(sqlite)({ ...m, pan, tariffId: tariff.id, customerId });
}

const KEY_CHANGE_FIELDS = [
  ['sgc', 'sgc', 'pending_sgc'],
  ['ti', 'ti', 'pending_ti'],
  ['krn', 'krn', 'pending_krn'],
  ['baseDate', 'base_date', 'pending_base_date'],
] as const;

/**
 * A key change from head office sets the meter's pending fields (the next vend issues the key change tokens
 * first and then clears them); a field the meter already has needs nothing. A cancel clears a pending field
 * only where it still holds the scheduled value, so a local change is kept.
 */
function applyKeyChange(
  sqlite: Database.Database,
  meterNo: string,
  k: MasterKeyChange,
  outcome: PageOutcome,
) {
  const meter = sqlite
    .prepare(
      `SELECT id, sgc, ti, krn, base_date, dkga, pending_sgc, pending_ti, pending_krn, pending_base_date
         FROM meter WHERE meter_no = ?`,
    )
    .get(meterNo) as (Record<string, string | number | null> & { id: number; dkga: string }) | undefined;
  if (!meter) {
    outcome.unknownMeters++;
    return;
  }
  const next: Record<string, string | number | null> = {};
  for (const [field, column, pending] of KEY_CHANGE_FIELDS) {
    const scheduled = k[field];
    if (scheduled === null) next[pending] = meter[pending] ?? null;
    else if (k.cancelled) next[pending] = meter[pending] === scheduled ? null : (meter[pending] ?? null);
    else next[pending] = scheduled === meter[column] ? (meter[pending] ?? null) : scheduled;
  }
  if (!k.cancelled) {
    const sgc = next.pending_sgc ?? meter.sgc;
    const krn = next.pending_krn ?? meter.krn;
    if (
      !sqlite
        .prepare('SELECT 1 FROM supply_group WHERE sgc = ? AND krn = ? AND dkga = ?')
        .get(sgc, krn, meter.dkga)
    ) {
      referenceUnknown(
        `key change for meter ${meterNo}: no vending key for ${sgc} KRN ${krn} ${meter.dkga} here`,
      );
    }
  }
  sqlite
    .prepare(
      'UPDATE meter SET pending_sgc = ?, pending_ti = ?, pending_krn = ?, pending_base_date = ? WHERE id = ?',
    )
    .run(next.pending_sgc, next.pending_ti, next.pending_krn, next.pending_base_date, meter.id);
}

function applyChange(
  sqlite: Database.Database,
  change: MasterChange,
  now: Date,
  outcome: PageOutcome,
  device: MasterDevice | undefined,
) {
  switch (change.kind) {
    case 'customer': {
      const c = change.data;
      sqlite
        .prepare(
          `INSERT INTO customer (account_no, name, address, phone, location, fbe_eligible) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (account_no) DO UPDATE SET name = excluded.name, address = excluded.address,
             phone = excluded.phone, location = excluded.location, fbe_eligible = excluded.fbe_eligible`,
        )
        .run(change.key, c.name, c.address, c.phone, c.location, c.fbeEligible ? 1 : 0);
      break;
    }
    case 'meter.block': {
      const result = sqlite
        .prepare('UPDATE meter SET blocked = ?, blocked_reason = ? WHERE meter_no = ?')
        .run(change.data ? 1 : 0, change.data?.reason ?? null, change.key);
      if (result.changes === 0) outcome.unknownMeters++;
      break;
    }
    case 'operator': {
      const o = change.data;
      sqlite
        .prepare(
          `INSERT INTO operator (username, display_name, role, password_hash, active) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
             password_hash = excluded.password_hash, active = excluded.active`,
        )
        .run(change.key, o.displayName, o.role, o.passwordHash, o.active ? 1 : 0);
      break;
    }
    case 'float.top-up': {
      const requestId = `${SERVER_TOP_UP_PREFIX}${change.key}`;
      const seen = sqlite.prepare('SELECT 1 FROM float_movement WHERE request_id = ?').get(requestId);
      if (!seen) {
        moveFloat(sqlite, {
          now,
          kind: FLOAT_TOP_UP_KIND,
          amountMinor: change.data.amountMinor,
          reference: change.data.reference,
          requestId,
        });
      }
      break;
    }
    case 'authority':
      sqlite
        .prepare('UPDATE outlet SET authority_credit_limit_minor = ?, authority_valid_until = ? WHERE id = 1')
        .run(change.data.creditLimitMinor, change.data.validUntil);
      break;
    case 'supply-group':
      applySupplyGroup(sqlite, change, device, now);
      break;
    case 'tariff':
      applyTariff(sqlite, change.key, change.data);
      break;
    case 'meter':
      applyMeter(sqlite, change.key, change.data, outcome);
      break;
    case 'meter.key-change':
      applyKeyChange(sqlite, change.key, change.data, outcome);
      break;
    case 'meter.month-to-date':
      applyMonthToDate(sqlite, change.key, change.data, outcome);
      break;
  }
  outcome.applied++;
}

/**
 * Other outlets' paid units for the month: head office's total less this outlet's own share there (its own sales
 * are counted locally, uploaded or not). A change for an older month than the one held is ignored (late uploads).
 */
function applyMonthToDate(
  sqlite: Database.Database,
  meterNo: string,
  data: MasterMonthToDate,
  outcome: PageOutcome,
): void {
  const identity = sqlite.prepare('SELECT outlet_code AS outletCode FROM sync_identity').get() as
    | { outletCode: string }
    | undefined;
  const own = data.byOutlet.find((o) => o.outlet === identity?.outletCode)?.units ?? 0;
  const meter = sqlite
    .prepare('SELECT mtd_remote_month AS month FROM meter WHERE meter_no = ?')
    .get(meterNo) as { month: string | null } | undefined;
  if (!meter) {
    outcome.unknownMeters++;
    return;
  }
  if (meter.month !== null && meter.month > data.month) return;
  sqlite
    .prepare('UPDATE meter SET mtd_remote_month = ?, mtd_remote_units = ? WHERE meter_no = ?')
    .run(data.month, Math.max(0, data.units - own), meterNo);
}

/** Applies one page in one transaction: the changes past the cursor, the new cursor and an audit entry. */
export function applyMasterPage(
  sqlite: Database.Database,
  page: MasterPage,
  now: Date,
  device?: MasterDevice,
): PageOutcome {
  return sqlite
    .transaction((): PageOutcome => {
      if (!sqlite.prepare('SELECT 1 FROM outlet WHERE id = 1').get()) {
        throw new SyncError('SYNC_NOT_ENROLLED', 'master data: no outlet row', {
          userMessage: 'Set up this outlet before it receives master data.',
        });
      }
      const from = readMasterCursor(sqlite);
      const outcome: PageOutcome = { applied: 0, unknownMeters: 0 };
      const kinds: Record<string, number> = {};
      let cursor = from;
      for (const change of page.changes) {
        if (change.seq <= cursor) continue; // already applied (a page fetched twice)
        applyChange(sqlite, change, now, outcome, device);
        kinds[change.kind] = (kinds[change.kind] ?? 0) + 1;
        cursor = change.seq;
      }
      cursor = Math.max(cursor, page.cursor);
      if (cursor === from) return outcome;
      sqlite
        .prepare(
          'INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
        )
        .run(MASTER_CURSOR_COUNTER, cursor);
      appendAudit(
        sqlite,
        {
          operatorId: null,
          action: 'sync.master-data',
          entity: 'master_data',
          entityId: String(cursor),
          details: { from, to: cursor, kinds, unknownMeters: outcome.unknownMeters },
        },
        now,
      );
      return outcome;
    })
    .immediate();
}

/** Pulls and applies pages until the server has nothing more; returns the number of changes applied. */
export async function pullMasterData(
  sqlite: Database.Database,
  api: SyncApi,
  device: MasterDevice,
  clock: () => Date,
  pageSize = 500,
): Promise<{ applied: number; pages: number; cursor: number }> {
  let applied = 0;
  let pages = 0;
  // An outlet not set up yet has nowhere to put master data; it pulls once it is.
  if (!sqlite.prepare('SELECT 1 FROM outlet WHERE id = 1').get()) return { applied, pages, cursor: 0 };
  for (;;) {
    const page = await api.masterPage(device, readMasterCursor(sqlite), pageSize);
    pages++;
    applied += applyMasterPage(sqlite, page, clock(), device).applied;
    if (!page.more) return { applied, pages, cursor: readMasterCursor(sqlite) };
  }
}
