import { MAX_TRANSFER_UNITS } from '../sts/amount.ts';
import { VendError } from './errors.ts';

/**
 * The pure pricing engine: money in, units out (vending-domain.md §6). No I/O, no clock, no currency: the vend
 * engine loads the tariff version, the meter's month state and the debt from its database, passes the current
 * month in the utility's zone, and stores/prints what comes back. The same call serves a quote (confirm step) and a
 * vend; nothing here has side effects.
 *
 * Quantities
 * - Money: integer minor units (safe integers). Sub-minor amounts: integer milli-minor (1/1000 minor unit).
 * - Units: integer 0.1 kWh (or 0.1 m³ for water and gas).
 * - Rates: `rateMilliMinorPerKwh`, the price of 1 kWh (1 m³) in milli-minor units; per-kWh levies the same.
 * - VAT and percentages: basis points (1500 = 15 %).
 * Internally every product is bigint, and exact prices are kept in pico-minor units (10^-12 minor), a scale on which
 * the price of one 0.1 unit including percent levies, per-kWh levies and VAT is always an integer.
 *
 * Order of operations (the "typical order" of §6; confirm it against each utility's tariff schedule):
 *  1. Validate the tender: a positive integer within [minVendMinor, maxVendMinor].
 *  2. Fixed monthly charge for every month not yet charged, up to and including the current month (capped).
 *  3. Debt recovery by the debt's rule, capped by the outstanding balance. Debt carries no VAT.
 *  4. Charges are taken first, then debt. If nothing is left, or what is left does not buy one 0.1 unit, the vend is
 *     refused with VEND_AMOUNT_TOO_LOW: a 0-unit token is never issued and nothing is deducted.
 *  5.–7. The rest (the energy money, gross) buys whole 0.1 units by walking the blocks from the meter's month-to-date
 *     position at the full price of a unit (block rate + percent levies + per-kWh levies, + VAT when prices exclude
 *     VAT). What the units cost, rounded up to the whole minor unit, is split into VAT, levies and energy; the
 *     whole minor units left over are change. See "Policies" below for every rounding.
 *  8. Free Basic Electricity, a separate free token, if due this month.
 *
 * Policies
 * - **Units are floored**: the customer gets every whole 0.1 unit the energy money pays for at the exact price, and
 *   never pays for a unit they do not get. The money that does not buy a further 0.1 unit (less than the price of
 *   one unit at the block where the walk stopped) is the rounding remainder.
 * - **Change and rounding**: the whole minor units of the remainder are returned as `changeMinor`. The sub-minor
 *   part stays with the sale: the customer pays ⌈exact price of the units⌉ in whole minor units, and the fraction
 *   ⌈X⌉ − X (< 1 minor unit) is reported on the `roundingMilliMinor` line (XMLVend `lessRound`), kept inside the
 *   energy line. Exactly: (levies + VAT + energy) × 1000 = unitsCostMilliMinor + roundingMilliMinor, where
 *   unitsCostMilliMinor is the exact price of the units rounded up to a whole milli-minor.
 * - **VAT only on what is sold**: VAT is computed on the price of the units actually issued, never on change. The
 *   tender is always what the customer pays in total (gross). With `pricesIncludeVat` the rates and levies are
 *   VAT-inclusive; otherwise VAT is added on top of them when pricing each unit. Either way the sold amount S is
 *   split as VAT = S − ⌊S × 10000 / (10000 + vatBp)⌋ (the exact tax fraction rounded **up** to a whole minor unit, so
 *   VAT is never under-declared), then net = S − VAT.
 * - **Levies** are shown net of VAT: per-kWh levies on the units sold, percent levies (basis points) on the energy
 *   value of those units at the block rates; each line is the exact value truncated to a whole minor unit.
 * - **Energy line** = net − levies: it absorbs the sub-minor rounding of the other lines. Therefore energy + levies +
 *   VAT = S exactly, the energy line is never below the exact (net of VAT) value of the units at the block rates
 *   rounded down, and charges (VAT included) + debt + levies + VAT + energy + change = tender exactly.
 *   (`vat` is the VAT on energy and levies; each fixed-charge line carries its own VAT inside its amount;
 *   `totalVatMinor` is both, for the tax invoice.)
 * - **Fixed charges** follow the tariff's VAT basis: VAT-inclusive amounts are split like S above; VAT-exclusive
 *   amounts get VAT = ⌈net × vatBp / 10000⌉ added on top.
 * - **Month-to-date**: the caller resets `monthToDateUnits` to 0 when the month changes (this engine never looks at
 *   a clock). Only paid units move the block position; FBE units do not count toward the month-to-date.
 * - **Limits**: a vend whose units exceed what one STS token carries (18 201 624 units) is refused with
 *   VEND_AMOUNT_TOO_HIGH; `maxVendMinor` may not exceed MAX_VEND_LIMIT_MINOR so milli-minor figures stay safe
 *   integers.
 */

export type Resource = 'electricity' | 'water' | 'gas';

/** `upToUnits`: month-to-date threshold in 0.1 units, exclusive upper bound; null = no upper bound (last block). */
export interface TariffBlock {
  upToUnits: number | null;
  rateMilliMinorPerKwh: number;
}

/** per-kwh: milli-minor per kWh (m³); percent: basis points of the energy amount. In the tariff's VAT basis. */
export interface Levy {
  name: string;
  kind: 'per-kwh' | 'percent';
  value: number;
}

export interface TariffVersion {
  tariffId: string;
  version: number;
  name: string;
  ti: number;
  resource: Resource;
  /** flat = exactly one block with upToUnits null. */
  kind: 'flat' | 'inclining-block';
  /** Ascending by upToUnits; the last one has upToUnits null. */
  blocks: TariffBlock[];
  vatRateBp: number;
  pricesIncludeVat: boolean;
  fixedMonthlyCharge: { description: string; amountMinor: number; maxMonths: number } | null;
  levies: Levy[];
  /** Free units per month for registered customers, in 0.1 units; 0 = none. */
  fbeMonthlyUnits: number;
  minVendMinor: number;
  maxVendMinor: number;
}

export type DebtRule =
  | { kind: 'percent-of-tender'; bp: number }
  | { kind: 'fixed-per-vend'; amountMinor: number }
  | { kind: 'fixed-per-month'; amountMinor: number };

export interface DebtState {
  accountNo: string;
  description: string;
  balanceMinor: number;
  rule: DebtRule;
  /** Recovered so far this month (the caller resets it when the month changes). */
  recoveredThisMonthMinor: number;
}

export interface MeterMonthState {
  /** Paid units bought this month, in 0.1 units; the caller passes 0 in a new month. */
  monthToDateUnits: number;
  /** 'YYYY-MM' in the utility's zone; null if the meter never bought. */
  lastPurchaseMonth: string | null;
  fbeIssuedThisMonth: boolean;
  fbeEligible: boolean;
}

export interface PriceRequest {
  tenderMinor: number;
  tariff: TariffVersion;
  meter: MeterMonthState;
  debt: DebtState | null;
  /** Current 'YYYY-MM' in the utility's zone. */
  month: string;
}

export interface FixedChargeLine {
  description: string;
  /** Months charged, including the current one; ≤ maxMonths. */
  months: number;
  monthlyAmountMinor: number;
  /** What the customer pays for the charge, VAT included: netMinor + vatMinor. */
  amountMinor: number;
  netMinor: number;
  /** The VAT inside amountMinor (not repeated on the `vat` line). */
  vatMinor: number;
}

export interface DebtLine {
  accountNo: string;
  description: string;
  rule: DebtRule;
  amountMinor: number;
  balanceBeforeMinor: number;
  balanceAfterMinor: number;
  /** recoveredThisMonthMinor after this vend, for the caller to store. */
  recoveredThisMonthAfterMinor: number;
}

export interface LevyLine {
  name: string;
  kind: Levy['kind'];
  value: number;
  /** Net of VAT. */
  amountMinor: number;
}

export interface VatLine {
  rateBp: number;
  /** VAT on the energy and levies sold (the fixed charge's VAT is on its own line). */
  amountMinor: number;
}

export interface BlockLine {
  blockIndex: number;
  /** Month-to-date position where this part started and ended, in 0.1 units. */
  fromUnits: number;
  toUnits: number;
  units: number;
  rateMilliMinorPerKwh: number;
  /** units × rate at the block rate (the tariff's VAT basis, without levies), rounded up to a whole milli-minor. */
  amountMilliMinor: number;
}

export interface FbeLine {
  units: number;
}

export interface PriceBreakdown {
  tariffId: string;
  tariffVersion: number;
  resource: Resource;
  month: string;
  tenderMinor: number;
  /** The fixed monthly charge: one line when months are owed, none when already charged this month or none. */
  fixedCharges: FixedChargeLine[];
  debt: DebtLine | null;
  /** Gross money left for energy after charges and debt: levies + VAT + energy + change. */
  energyMoneyMinor: number;
  levies: LevyLine[];
  vat: VatLine;
  /** The energy line ("energy charged"), net of VAT and levies; it includes the sub-minor rounding. */
  energyMinor: number;
  /** Paid units in 0.1 units (> 0). */
  units: number;
  blocks: BlockLine[];
  /** The exact price of the units (with levies and VAT) rounded up to a whole milli-minor. */
  unitsCostMilliMinor: number;
  /** Sub-minor money paid but not converted into units: (levies + VAT + energy) × 1000 − unitsCostMilliMinor. */
  roundingMilliMinor: number;
  changeMinor: number;
  /** All VAT of the sale, for the tax invoice: vat.amountMinor + the fixed charges' VAT. */
  totalVatMinor: number;
  fbe: FbeLine | null;
  monthToDateUnitsBefore: number;
  /** The new paid month-to-date (FBE not included). */
  monthToDateUnitsAfter: number;
}

/** Largest maxVendMinor accepted: keeps tender × 1000 (milli-minor) a safe integer. */
export const MAX_VEND_LIMIT_MINOR = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

const BP = 10_000n;
const PICO = 10n ** 12n;
const PICO_PER_MILLI = 10n ** 9n;
/** A rate in milli-minor per kWh times 0.1 kWh is in 10^-4 minor; ×10^8 brings it to pico-minor. */
const TENTH_MILLI_TO_PICO = 10n ** 8n;

// ---------------------------------------------------------------------------------------------
// Months ('YYYY-MM', pure string arithmetic)

const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

function monthIndex(month: string, what: string): number {
  const match = typeof month === 'string' ? MONTH_PATTERN.exec(month) : null;
  if (!match) {
    throw new VendError(
      'VEND_INVALID_REQUEST',
      'The vend month is not valid.',
      `${what} must be 'YYYY-MM', got ${JSON.stringify(month)}`,
    );
  }
  return Number(match[1]) * 12 + Number(match[2]) - 1;
}

/**
 * The 'YYYY-MM' of a wall-clock date/time **already in the utility's zone** ('2025-02-14', '2025-02-14T23:59:00',
 * '2025-02-14 23:59'). Pure string work: the caller converts instants to the utility's zone (Intl) first.
 */
export function monthOf(wallClock: string): string {
  const match = typeof wallClock === 'string' ? /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(wallClock) : null;
  const month = match ? Number(match[2]) : 0;
  const day = match ? Number(match[3]) : 0;
  if (!match || month < 1 || month > 12 || day < 1 || day > 31) {
    throw new VendError(
      'VEND_INVALID_REQUEST',
      'The date is not valid.',
      `expected a local date 'YYYY-MM-DD[THH:MM…]', got ${JSON.stringify(wallClock)}`,
    );
  }
  return `${match[1]}-${match[2]}`;
}

/** Whole months from `from` to `to` ('YYYY-MM'): 2024-11 → 2025-02 = 3; negative when `to` is earlier. */
export function monthsBetween(from: string, to: string): number {
  return monthIndex(to, 'to month') - monthIndex(from, 'from month');
}

/**
 * Months of fixed charge owed at a purchase in `month`: every month after the last purchase up to and including
 * this one, capped by `maxMonths`. Never bought → 1 (this month). Already bought this month → 0. A last purchase
 * month later than `month` (a terminal clock behind the ledger) → 0: a month is never charged twice.
 */
export function fixedChargeMonthsDue(
  lastPurchaseMonth: string | null,
  month: string,
  maxMonths: number,
): number {
  monthIndex(month, 'month');
  if (lastPurchaseMonth === null) return Math.min(1, maxMonths);
  const months = monthsBetween(lastPurchaseMonth, month);
  return months <= 0 ? 0 : Math.min(months, maxMonths);
}

// ---------------------------------------------------------------------------------------------
// Validation

function unitLabel(resource: Resource): string {
  return resource === 'electricity' ? 'kWh' : 'm³';
}

function isNonNegativeSafe(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function badTariff(tariff: TariffVersion, problem: string): never {
  throw new VendError(
    'VEND_INVALID_TARIFF',
    'The tariff is not configured correctly; vending on it is not possible until it is fixed.',
    `tariff ${JSON.stringify(tariff.tariffId)} version ${String(tariff.version)}: ${problem}`,
  );
}

function badRequest(problem: string): never {
  throw new VendError('VEND_INVALID_REQUEST', 'The vend request is not valid.', problem);
}

/**
 * A tariff version as the pricing rules take it, from the stored/published shape (tariff header + version with its
 * fixed charge): used to validate a version wherever one is set up, locally or by head office.
 */
export function pricingTariffVersion(
  code: string,
  tariff: { name: string; ti: number; resource: Resource },
  v: Omit<TariffVersion, 'tariffId' | 'version' | 'name' | 'ti' | 'resource' | 'fixedMonthlyCharge'> & {
    version?: number;
    fixedCharge: TariffVersion['fixedMonthlyCharge'];
  },
): TariffVersion {
  return {
    tariffId: code,
    version: v.version ?? 0,
    name: tariff.name,
    ti: tariff.ti,
    resource: tariff.resource,
    kind: v.kind,
    blocks: v.blocks,
    vatRateBp: v.vatRateBp,
    pricesIncludeVat: v.pricesIncludeVat,
    fixedMonthlyCharge: v.fixedCharge,
    levies: v.levies,
    fbeMonthlyUnits: v.fbeMonthlyUnits,
    minVendMinor: v.minVendMinor,
    maxVendMinor: v.maxVendMinor,
  };
}

/** Throws VEND_INVALID_TARIFF when a tariff version cannot be priced; the vend engine may call it on load. */
export function validateTariff(tariff: TariffVersion): void {
  if (!['electricity', 'water', 'gas'].includes(tariff.resource)) {
    badTariff(tariff, `unknown resource ${JSON.stringify(tariff.resource)}`);
  }
  const { blocks } = tariff;
  if (!Array.isArray(blocks) || blocks.length === 0) badTariff(tariff, 'has no blocks');
  if (tariff.kind === 'flat') {
    if (blocks.length !== 1 || blocks[0]!.upToUnits !== null) {
      badTariff(tariff, 'a flat tariff needs exactly one block with upToUnits null');
    }
  } else if (tariff.kind !== 'inclining-block') {
    badTariff(tariff, `unknown kind ${JSON.stringify(tariff.kind)}`);
  }
  let previous = 0;
  blocks.forEach((block, index) => {
    const last = index === blocks.length - 1;
    if (!Number.isSafeInteger(block.rateMilliMinorPerKwh) || block.rateMilliMinorPerKwh <= 0) {
      badTariff(
        tariff,
        `block ${index} rate ${String(block.rateMilliMinorPerKwh)} is not a positive integer`,
      );
    }
    if (last) {
      if (block.upToUnits !== null) badTariff(tariff, 'the last block must have upToUnits null');
    } else if (
      block.upToUnits === null ||
      !Number.isSafeInteger(block.upToUnits) ||
      block.upToUnits <= previous
    ) {
      badTariff(
        tariff,
        `block ${index} upToUnits ${String(block.upToUnits)} must be an integer above ${previous} (ascending)`,
      );
    } else {
      previous = block.upToUnits;
    }
  });
  if (!Number.isInteger(tariff.vatRateBp) || tariff.vatRateBp < 0 || tariff.vatRateBp > 10_000) {
    badTariff(tariff, `vatRateBp ${String(tariff.vatRateBp)} must be an integer 0..10000`);
  }
  const charge = tariff.fixedMonthlyCharge;
  if (charge !== null) {
    if (!isNonNegativeSafe(charge.amountMinor)) {
      badTariff(tariff, `fixed charge amount ${String(charge.amountMinor)} is not a non-negative integer`);
    }
    if (!Number.isSafeInteger(charge.maxMonths) || charge.maxMonths < 1) {
      badTariff(tariff, `fixed charge maxMonths ${String(charge.maxMonths)} must be an integer ≥ 1`);
    }
  }
  for (const levy of tariff.levies) {
    if (levy.kind !== 'per-kwh' && levy.kind !== 'percent') {
      badTariff(tariff, `levy ${JSON.stringify(levy.name)} has unknown kind ${JSON.stringify(levy.kind)}`);
    }
    if (!isNonNegativeSafe(levy.value) || (levy.kind === 'percent' && levy.value > 10_000)) {
      badTariff(tariff, `levy ${JSON.stringify(levy.name)} value ${String(levy.value)} is out of range`);
    }
  }
  if (!isNonNegativeSafe(tariff.fbeMonthlyUnits) || tariff.fbeMonthlyUnits > MAX_TRANSFER_UNITS) {
    badTariff(tariff, `fbeMonthlyUnits ${String(tariff.fbeMonthlyUnits)} is out of range`);
  }
  if (
    !isNonNegativeSafe(tariff.minVendMinor) ||
    !isNonNegativeSafe(tariff.maxVendMinor) ||
    tariff.maxVendMinor < Math.max(1, tariff.minVendMinor) ||
    tariff.maxVendMinor > MAX_VEND_LIMIT_MINOR
  ) {
    badTariff(
      tariff,
      `vend limits min ${String(tariff.minVendMinor)} max ${String(tariff.maxVendMinor)} must be integers with ` +
        `0 ≤ min ≤ max, 1 ≤ max ≤ ${MAX_VEND_LIMIT_MINOR}`,
    );
  }
}

function validateMeter(meter: MeterMonthState): void {
  if (!isNonNegativeSafe(meter.monthToDateUnits)) {
    badRequest(`monthToDateUnits ${String(meter.monthToDateUnits)} is not a non-negative integer`);
  }
  if (meter.lastPurchaseMonth !== null) monthIndex(meter.lastPurchaseMonth, 'lastPurchaseMonth');
}

function validateDebt(debt: DebtState): void {
  if (!isNonNegativeSafe(debt.balanceMinor)) {
    badRequest(`debt ${debt.accountNo} balance ${String(debt.balanceMinor)} is not a non-negative integer`);
  }
  if (!isNonNegativeSafe(debt.recoveredThisMonthMinor)) {
    badRequest(
      `debt ${debt.accountNo} recoveredThisMonthMinor ${String(debt.recoveredThisMonthMinor)} is invalid`,
    );
  }
  const { rule } = debt;
  const ok =
    rule.kind === 'percent-of-tender'
      ? Number.isInteger(rule.bp) && rule.bp >= 0 && rule.bp <= 10_000
      : (rule.kind === 'fixed-per-vend' || rule.kind === 'fixed-per-month') &&
        isNonNegativeSafe(rule.amountMinor);
  if (!ok) badRequest(`debt ${debt.accountNo} has an invalid rule ${JSON.stringify(rule)}`);
}

// ---------------------------------------------------------------------------------------------
// Integer helpers (non-negative bigint)

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** VAT contained in a gross amount, rounded up: gross − ⌊gross × 10000 / (10000 + bp)⌋. */
export function vatOfGross(grossMinor: number, vatRateBp: number): number {
  const gross = BigInt(grossMinor);
  return Number(gross - (gross * BP) / (BP + BigInt(vatRateBp)));
}

/** VAT added on top of a net amount, rounded up: ⌈net × bp / 10000⌉. */
export function vatOnNet(netMinor: number, vatRateBp: number): number {
  return Number(ceilDiv(BigInt(netMinor) * BigInt(vatRateBp), BP));
}

// ---------------------------------------------------------------------------------------------
// Fixed charges, debt, FBE

function priceFixedCharge(
  tariff: TariffVersion,
  meter: MeterMonthState,
  month: string,
): FixedChargeLine | null {
  const charge = tariff.fixedMonthlyCharge;
  if (charge === null) return null;
  const months = fixedChargeMonthsDue(meter.lastPurchaseMonth, month, charge.maxMonths);
  if (months === 0) return null;
  const amount = months * charge.amountMinor;
  if (!Number.isSafeInteger(amount))
    badTariff(tariff, `fixed charge ${months} × ${charge.amountMinor} overflows`);
  let netMinor: number;
  let vatMinor: number;
  if (tariff.pricesIncludeVat) {
    vatMinor = vatOfGross(amount, tariff.vatRateBp);
    netMinor = amount - vatMinor;
  } else {
    netMinor = amount;
    vatMinor = vatOnNet(amount, tariff.vatRateBp);
  }
  return {
    description: charge.description,
    months,
    monthlyAmountMinor: charge.amountMinor,
    amountMinor: netMinor + vatMinor,
    netMinor,
    vatMinor,
  };
}

/** What the debt rule asks for this vend, capped by the balance (before the charges-first cap). */
export function debtRecoveryDue(debt: DebtState, tenderMinor: number): number {
  const { rule } = debt;
  let due: bigint;
  switch (rule.kind) {
    case 'percent-of-tender':
      due = (BigInt(tenderMinor) * BigInt(rule.bp)) / BP;
      break;
    case 'fixed-per-vend':
      due = BigInt(rule.amountMinor);
      break;
    case 'fixed-per-month': {
      const left = BigInt(rule.amountMinor) - BigInt(debt.recoveredThisMonthMinor);
      due = left > 0n ? left : 0n;
      break;
    }
  }
  return Number(minBig(due, BigInt(debt.balanceMinor)));
}

export type FbeDecision =
  | { due: true; units: number }
  | { due: false; reason: 'not-eligible' | 'already-issued' | 'none-on-tariff' };

/** Whether Free Basic units are due now: registered, not yet issued this month, and the tariff has some. */
export function fbeDue(tariff: TariffVersion, meter: MeterMonthState): FbeDecision {
  if (!meter.fbeEligible) return { due: false, reason: 'not-eligible' };
  if (!(tariff.fbeMonthlyUnits > 0)) return { due: false, reason: 'none-on-tariff' };
  if (meter.fbeIssuedThisMonth) return { due: false, reason: 'already-issued' };
  return { due: true, units: tariff.fbeMonthlyUnits };
}

/**
 * FBE on its own (XMLVend FBEReq): the free units due, or VEND_FBE_NOT_ELIGIBLE (FBEEx) /
 * VEND_NO_FREE_UNITS_DUE (NO_FREE_UNITS_DUE). An FBE token has money amount 0 and does not move month-to-date.
 */
export function priceFbeOnly(tariff: TariffVersion, meter: MeterMonthState): FbeLine {
  validateTariff(tariff);
  const decision = fbeDue(tariff, meter);
  if (decision.due) return { units: decision.units };
  if (decision.reason === 'not-eligible') {
    throw new VendError(
      'VEND_FBE_NOT_ELIGIBLE',
      'This customer is not registered for free basic units.',
      `meter is not FBE-eligible (tariff ${tariff.tariffId} v${tariff.version})`,
    );
  }
  throw new VendError(
    'VEND_NO_FREE_UNITS_DUE',
    decision.reason === 'already-issued'
      ? 'The free basic units for this month were already issued.'
      : 'This tariff has no free basic units.',
    `no FBE due: ${decision.reason} (tariff ${tariff.tariffId} v${tariff.version}, fbeMonthlyUnits ${tariff.fbeMonthlyUnits})`,
  );
}

// ---------------------------------------------------------------------------------------------
// The vend

function tooLow(userMessage: string, detail: string, amounts: Record<string, number>): never {
  throw new VendError('VEND_AMOUNT_TOO_LOW', userMessage, detail, amounts);
}

/** Prices a vend (or a quote: it is the same pure computation). Throws VendError; see the module comment. */
export function priceVend(request: PriceRequest): PriceBreakdown {
  const { tenderMinor, tariff, meter, debt, month } = request;
  validateTariff(tariff);
  monthIndex(month, 'month');
  validateMeter(meter);
  if (debt !== null) validateDebt(debt);
  const label = unitLabel(tariff.resource);

  // 1. Tender.
  if (!Number.isSafeInteger(tenderMinor) || tenderMinor <= 0) {
    throw new VendError(
      'VEND_INVALID_AMOUNT',
      'The amount must be more than zero.',
      `tenderMinor must be a positive safe integer of minor units, got ${String(tenderMinor)}`,
    );
  }
  if (tenderMinor < tariff.minVendMinor) {
    tooLow(
      'The amount is below the minimum vend for this tariff.',
      `tender ${tenderMinor} minor units is below the minimum ${tariff.minVendMinor} (maximum ${tariff.maxVendMinor})`,
      { tenderMinor, minVendMinor: tariff.minVendMinor, maxVendMinor: tariff.maxVendMinor },
    );
  }
  if (tenderMinor > tariff.maxVendMinor) {
    throw new VendError(
      'VEND_AMOUNT_TOO_HIGH',
      'The amount is above the maximum vend for this tariff.',
      `tender ${tenderMinor} minor units is above the maximum ${tariff.maxVendMinor} (minimum ${tariff.minVendMinor})`,
      { tenderMinor, minVendMinor: tariff.minVendMinor, maxVendMinor: tariff.maxVendMinor },
    );
  }

  // 2. Fixed monthly charge (months not yet charged, including this one).
  const fixedCharge = priceFixedCharge(tariff, meter, month);
  const chargesGross = fixedCharge?.amountMinor ?? 0;

  // 3. Debt recovery, capped by the balance.
  const debtDueMinor = debt === null ? 0 : debtRecoveryDue(debt, tenderMinor);

  // 4. Charges first, then debt; a tender that leaves nothing for energy is refused (no 0-unit token).
  const owed = { tenderMinor, chargesMinor: chargesGross, debtMinor: debtDueMinor };
  if (tenderMinor - chargesGross - debtDueMinor <= 0) {
    tooLow(
      'The amount only covers the service charges and arrears; enter a larger amount to buy units.',
      `tender ${tenderMinor} minor units; charges ${chargesGross} then debt ${debtDueMinor} leave nothing for energy`,
      owed,
    );
  }
  const energyMoney = tenderMinor - chargesGross - debtDueMinor;

  // 5–7. Walk the blocks with the full price of one 0.1 unit (rate + levies, + VAT when prices exclude it).
  const vat = BigInt(tariff.vatRateBp);
  const perKwhLevies = tariff.levies.reduce(
    (sum, l) => (l.kind === 'per-kwh' ? sum + BigInt(l.value) : sum),
    0n,
  );
  const percentLevies = tariff.levies.reduce(
    (sum, l) => (l.kind === 'percent' ? sum + BigInt(l.value) : sum),
    0n,
  );
  const vatFactor = tariff.pricesIncludeVat ? BP : BP + vat;
  const unitPricePico = (rate: number): bigint =>
    (BigInt(rate) * (BP + percentLevies) + perKwhLevies * BP) * vatFactor;

  const budgetPico = BigInt(energyMoney) * PICO;
  let remainingPico = budgetPico;
  let position = meter.monthToDateUnits;
  let energyTenthMilli = 0n; // Σ units × rate: the energy value at the block rates, in 10^-4 minor
  let stopPricePico = 0n; // price of the next 0.1 unit where the walk stopped
  let tooManyUnits = false;
  const blocks: BlockLine[] = [];
  for (let index = 0; index < tariff.blocks.length; index++) {
    const block = tariff.blocks[index]!;
    if (block.upToUnits !== null && block.upToUnits <= position) continue;
    const price = unitPricePico(block.rateMilliMinorPerKwh);
    const affordable = remainingPico / price;
    const room = block.upToUnits === null ? null : BigInt(block.upToUnits - position);
    const bought = room === null ? affordable : minBig(affordable, room);
    if (bought > 0n) {
      if (BigInt(position - meter.monthToDateUnits) + bought > BigInt(MAX_TRANSFER_UNITS)) {
        tooManyUnits = true; // refused below, before any unsafe Number conversion
        break;
      }
      const units = Number(bought);
      const valueTenthMilli = bought * BigInt(block.rateMilliMinorPerKwh);
      blocks.push({
        blockIndex: index,
        fromUnits: position,
        toUnits: position + units,
        units,
        rateMilliMinorPerKwh: block.rateMilliMinorPerKwh,
        amountMilliMinor: Number(ceilDiv(valueTenthMilli, 10n)),
      });
      remainingPico -= bought * price;
      energyTenthMilli += valueTenthMilli;
      position += units;
    }
    stopPricePico = price;
    if (room === null || bought < room) break; // the money ran out inside this block
  }
  const units = position - meter.monthToDateUnits;
  if (tooManyUnits) {
    throw new VendError(
      'VEND_AMOUNT_TOO_HIGH',
      `The amount buys more than one token can carry (${MAX_TRANSFER_UNITS / 10} ${label}); split it into smaller vends.`,
      `tender ${tenderMinor} buys more than ${MAX_TRANSFER_UNITS} units`,
      { tenderMinor, maxUnits: MAX_TRANSFER_UNITS },
    );
  }
  if (units === 0) {
    const priceMilli = Number(ceilDiv(stopPricePico, PICO_PER_MILLI));
    tooLow(
      chargesGross + debtDueMinor > 0
        ? `After service charges and arrears the amount is too small to buy 0.1 ${label}; enter a larger amount.`
        : `The amount is too small to buy 0.1 ${label}; enter a larger amount.`,
      `tender ${tenderMinor}; charges ${chargesGross}, debt ${debtDueMinor}, energy money ${energyMoney} minor units ` +
        `is below the price of 0.1 ${label} (${priceMilli} milli-minor with levies and VAT)`,
      { ...owed, energyMoneyMinor: energyMoney, unitPriceMilliMinor: priceMilli },
    );
  }

  // The sold amount: the exact price of the units rounded up to a whole minor unit; the rest is change.
  const costPico = budgetPico - remainingPico;
  const soldMinor = ceilDiv(costPico, PICO);
  const changeMinor = energyMoney - Number(soldMinor);
  const unitsCostMilli = ceilDiv(costPico, PICO_PER_MILLI);
  const roundingMilli = soldMinor * 1000n - unitsCostMilli;

  // Split the sold amount: VAT (rounded up), levies net of VAT (truncated), energy = the rest.
  const vatMinor = soldMinor - (soldMinor * BP) / (BP + vat);
  const netMinor = soldMinor - vatMinor;
  const toNetMinor = (tariffBasisPico: bigint): bigint =>
    tariff.pricesIncludeVat ? (tariffBasisPico * BP) / ((BP + vat) * PICO) : tariffBasisPico / PICO;
  const unitsBig = BigInt(units);
  const levies: LevyLine[] = tariff.levies.map((levy) => {
    const basisPico =
      levy.kind === 'per-kwh'
        ? unitsBig * BigInt(levy.value) * TENTH_MILLI_TO_PICO
        : (energyTenthMilli * BigInt(levy.value) * TENTH_MILLI_TO_PICO) / BP;
    return {
      name: levy.name,
      kind: levy.kind,
      value: levy.value,
      amountMinor: Number(toNetMinor(basisPico)),
    };
  });
  const leviesMinor = levies.reduce((sum, l) => sum + l.amountMinor, 0);
  const energyMinor = Number(netMinor) - leviesMinor;

  const debtLine: DebtLine | null =
    debt === null
      ? null
      : {
          accountNo: debt.accountNo,
          description: debt.description,
          rule: debt.rule,
          amountMinor: debtDueMinor,
          balanceBeforeMinor: debt.balanceMinor,
          balanceAfterMinor: debt.balanceMinor - debtDueMinor,
          recoveredThisMonthAfterMinor: debt.recoveredThisMonthMinor + debtDueMinor,
        };

  // 8. FBE: a separate free token; its units do not count toward the paid month-to-date.
  const fbeDecision = fbeDue(tariff, meter);
  const totalVatMinor = Number(vatMinor) + (fixedCharge?.vatMinor ?? 0);

  return {
    tariffId: tariff.tariffId,
    tariffVersion: tariff.version,
    resource: tariff.resource,
    month,
    tenderMinor,
    fixedCharges: fixedCharge === null ? [] : [fixedCharge],
    debt: debtLine,
    energyMoneyMinor: energyMoney,
    levies,
    vat: { rateBp: tariff.vatRateBp, amountMinor: Number(vatMinor) },
    energyMinor,
    units,
    blocks,
    unitsCostMilliMinor: Number(unitsCostMilli),
    roundingMilliMinor: Number(roundingMilli),
    changeMinor,
    totalVatMinor,
    fbe: fbeDecision.due ? { units: fbeDecision.units } : null,
    monthToDateUnitsBefore: meter.monthToDateUnits,
    monthToDateUnitsAfter: position,
  };
}
