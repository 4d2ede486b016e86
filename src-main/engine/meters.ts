import type Database from 'better-sqlite3';
import { StsError } from '../../src-shared/sts/errors.ts';
import type { DecoderKeyAlgorithm, EncryptionAlgorithm, KeyType } from '../../src-shared/sts/identifiers.ts';
import {
  type MeterPan,
  meterPanFromMeterNo,
  meterPanFromParts,
  parseMeterPan,
} from '../../src-shared/sts/meter-pan.ts';
import type { BaseDate } from '../../src-shared/sts/tid.ts';
import type { MeterKeyData } from '../security/security-module.ts';
import { EngineError } from './errors.ts';

export interface MeterRow {
  id: number;
  pan: string;
  meterNo: string;
  iinLength: 4 | 6;
  meterType: 'electricity' | 'water' | 'gas';
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
  blocked: number;
  blockedReason: string | null;
  pendingSgc: string | null;
  pendingTi: number | null;
  pendingKrn: number | null;
  pendingBaseDate: BaseDate | null;
  lastTid: number | null;
  mtdMonth: string | null;
  /** This outlet's own paid units in mtdMonth. */
  mtdUnits: number;
  /** Other outlets' paid units in mtdRemoteMonth, as head office last told. */
  mtdRemoteMonth: string | null;
  mtdRemoteUnits: number;
  lastPurchaseAt: string | null;
  lastPurchaseMonth: string | null;
  fbeLastMonth: string | null;
}

const METER_COLUMNS = `id, pan, meter_no AS meterNo, iin_length AS iinLength, meter_type AS meterType, customer_id AS customerId,
  tariff_id AS tariffId, sgc, ti, krn, key_type AS keyType, ea, dkga, base_date AS baseDate, ken, blocked,
  blocked_reason AS blockedReason, pending_sgc AS pendingSgc, pending_ti AS pendingTi, pending_krn AS pendingKrn,
  pending_base_date AS pendingBaseDate, last_tid AS lastTid, mtd_month AS mtdMonth, mtd_units AS mtdUnits,
  mtd_remote_month AS mtdRemoteMonth, mtd_remote_units AS mtdRemoteUnits,
  last_purchase_at AS lastPurchaseAt, last_purchase_month AS lastPurchaseMonth, fbe_last_month AS fbeLastMonth`;

/**
 * Finds a meter by what a cashier types or scans: the 18-digit PAN, or the meter number (DRN + check
 * digit, 12 or 14 digits). The check digit is verified before the lookup, so a typo says "check the
 * number" rather than "unknown meter".
 */
export function findMeter(sqlite: Database.Database, input: string): MeterRow {
  const digits = input.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) {
    throw new StsError(
      'STS_INVALID_DIGITS',
      'The meter number may contain digits only.',
      `meter number ${JSON.stringify(input)} has non-digits`,
    );
  }
  let row: MeterRow | undefined;
  if (digits.length === 18) {
    const pan = parseMeterPan(digits);
    row = sqlite.prepare(`SELECT ${METER_COLUMNS} FROM meter WHERE pan = ?`).get(pan.pan) as
      | MeterRow
      | undefined;
  } else {
    const pan = meterPanFromMeterNo(digits);
    row = sqlite
      .prepare(`SELECT ${METER_COLUMNS} FROM meter WHERE meter_no = ?`)
      .get(pan.drn + pan.checkDigit) as MeterRow | undefined;
  }
  if (!row) {
    throw new EngineError(
      'METER_UNKNOWN',
      `Meter ${digits} is not registered at this outlet. Check the number.`,
      `no meter ${digits}`,
    );
  }
  return row;
}

export const meterPanOf = (row: MeterRow): MeterPan =>
  meterPanFromParts(row.pan.slice(0, row.iinLength), row.pan.slice(row.iinLength, 17));

export function meterKeyData(row: MeterRow): MeterKeyData {
  return {
    pan: meterPanOf(row),
    sgc: row.sgc,
    ti: row.ti,
    krn: row.krn,
    keyType: row.keyType,
    ea: row.ea,
    dkga: row.dkga,
    baseDate: row.baseDate,
    ken: row.ken,
  };
}

/** The key the meter will have after its pending key change, if one is scheduled. */
export function pendingKeyData(row: MeterRow): MeterKeyData | null {
  if (
    row.pendingSgc === null &&
    row.pendingTi === null &&
    row.pendingKrn === null &&
    row.pendingBaseDate === null
  )
    return null;
  return {
    ...meterKeyData(row),
    sgc: row.pendingSgc ?? row.sgc,
    ti: row.pendingTi ?? row.ti,
    krn: row.pendingKrn ?? row.krn,
    baseDate: row.pendingBaseDate ?? row.baseDate,
  };
}
