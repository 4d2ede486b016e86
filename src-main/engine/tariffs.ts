import type Database from 'better-sqlite3';
import type { TariffVersion } from '../../src-shared/vending/pricing.ts';
import { EngineError } from './errors.ts';

/** A tariff version as stored (tariff_version joined to its tariff); read with TARIFF_VERSION_COLUMNS. */
export interface TariffVersionRow {
  tariffId: number;
  version: number;
  code: string;
  name: string;
  ti: number;
  resource: TariffVersion['resource'];
  kind: TariffVersion['kind'];
  blocksJson: string;
  vatRateBp: number;
  pricesIncludeVat: number;
  fixedChargeDescription: string | null;
  fixedChargeMinor: number;
  fixedChargeMaxMonths: number;
  leviesJson: string;
  fbeMonthlyUnits: number;
  minVendMinor: number;
  maxVendMinor: number;
}

/** The SELECT list of a TariffVersionRow, for `tariff_version v JOIN tariff t`. */
export const TARIFF_VERSION_COLUMNS = `v.tariff_id AS tariffId, v.version, t.code, t.name, t.ti, t.resource, v.kind, v.blocks_json AS blocksJson,
        v.vat_rate_bp AS vatRateBp, v.prices_include_vat AS pricesIncludeVat, v.fixed_charge_description AS fixedChargeDescription,
        v.fixed_charge_minor AS fixedChargeMinor, v.fixed_charge_max_months AS fixedChargeMaxMonths, v.levies_json AS leviesJson,
        v.fbe_monthly_units AS fbeMonthlyUnits, v.min_vend_minor AS minVendMinor, v.max_vend_minor AS maxVendMinor`;

/** A stored version as the pricing rules take it. */
export function tariffVersionFromRow(row: TariffVersionRow): TariffVersion {
  return {
    tariffId: row.code,
    version: row.version,
    name: row.name,
    ti: row.ti,
    resource: row.resource,
    kind: row.kind,
    blocks: JSON.parse(row.blocksJson),
    vatRateBp: row.vatRateBp,
    pricesIncludeVat: row.pricesIncludeVat === 1,
    fixedMonthlyCharge:
      row.fixedChargeMinor > 0
        ? {
            description: row.fixedChargeDescription ?? 'Fixed charge',
            amountMinor: row.fixedChargeMinor,
            maxMonths: row.fixedChargeMaxMonths,
          }
        : null,
    levies: JSON.parse(row.leviesJson),
    fbeMonthlyUnits: row.fbeMonthlyUnits,
    minVendMinor: row.minVendMinor,
    maxVendMinor: row.maxVendMinor,
  };
}

/** The tariff version in force on a local date ('YYYY-MM-DD' in the utility's zone). */
export function tariffInForce(sqlite: Database.Database, tariffId: number, localDate: string): TariffVersion {
  const row = sqlite
    .prepare(
      `SELECT ${TARIFF_VERSION_COLUMNS}
       FROM tariff_version v JOIN tariff t ON t.id = v.tariff_id
       WHERE v.tariff_id = ? AND v.effective_from_local <= ?
       ORDER BY v.effective_from_local DESC, v.version DESC LIMIT 1`,
    )
    .get(tariffId, localDate) as TariffVersionRow | undefined;
  if (!row) {
    throw new EngineError(
      'VEND_NO_TARIFF',
      'No tariff is in force for this meter today. Contact head office.',
      `tariff ${tariffId} has no version effective on ${localDate}`,
    );
  }
  return tariffVersionFromRow(row);
}
