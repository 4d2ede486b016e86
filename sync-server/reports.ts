import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { csvLine } from '../src-shared/encoding/csv.ts';
import type {
  EndOfDayFigures,
  EndOfDayOperatorRow,
  EndOfDayOutletRow,
  EndOfDayReport,
  ShiftReconciliation,
} from '../src-shared/sync/reports.ts';
import { type PriceRequest, priceVend } from '../src-shared/vending/pricing.ts';
import { queryRows, type ServerDb } from './db/database.ts';
import { device, event, outlet, saleFact, shiftReconciliation, tokenFact, utility } from './db/schema.ts';
import { ServerError } from './errors.ts';

/**
 * Head-office reports, read from the projections ingest keeps (projections.ts): the end of day per outlet and
 * operator with each shift's reconciliation, sales priced on a stale month-to-date, and TID collisions.
 */

const TAKEN = sql`${saleFact.chargesMinor} + ${saleFact.debtMinor} + ${saleFact.leviesMinor} + ${saleFact.vatMinor} + ${saleFact.energyMinor}`;
const sum = (expression: ReturnType<typeof sql>) => sql<number>`coalesce(sum(${expression}), 0)::bigint`;
const countWhere = (condition: ReturnType<typeof sql>) =>
  sql<number>`count(*) FILTER (WHERE ${condition})::int`;

const emptyFigures = (): EndOfDayFigures => ({
  salesCount: 0,
  salesMinor: 0,
  salesUnits: 0,
  taxMinor: 0,
  chargesMinor: 0,
  leviesMinor: 0,
  debtRecoveredMinor: 0,
  fbeCount: 0,
  fbeUnits: 0,
  reversalsCount: 0,
  reversalsMinor: 0,
  netMinor: 0,
  cashMinor: 0,
  shiftsClosed: 0,
  cashCountedMinor: 0,
  cashExpectedMinor: 0,
  varianceMinor: 0,
  mismatchedShifts: 0,
});

const FIGURE_KEYS = Object.keys(emptyFigures()) as Array<keyof EndOfDayFigures>;

function addFigures(into: EndOfDayFigures, from: EndOfDayFigures): void {
  for (const k of FIGURE_KEYS) into[k] += from[k];
}

/** An outlet of the utility by its code, or null. */
export async function outletOfUtility(db: ServerDb, utilityId: number, code: string): Promise<number | null> {
  const [one] = await db
    .select({ id: outlet.id })
    .from(outlet)
    .where(and(eq(outlet.code, code), eq(outlet.utilityId, utilityId)));
  return one?.id ?? null;
}

export interface EndOfDayScope {
  utilityId: number;
  date: string;
  /** One outlet only (a device asks for its own; head office may pick one). */
  outletId?: number;
}

export async function endOfDayReport(db: ServerDb, scope: EndOfDayScope, now: Date): Promise<EndOfDayReport> {
  const [owner] = await db.select().from(utility).where(eq(utility.id, scope.utilityId));
  if (!owner) throw new ServerError('ADMIN_NOT_FOUND', `There is no utility ${scope.utilityId}.`);
  const outletFilter = scope.outletId === undefined ? undefined : eq(outlet.id, scope.outletId);
  const outlets = await db
    .select({
      id: outlet.id,
      code: outlet.code,
      name: outlet.name,
      lastUploadAt: sql<string | null>`max(${device.lastSeenAt})`,
    })
    .from(outlet)
    .leftJoin(device, eq(device.outletId, outlet.id))
    .where(and(eq(outlet.utilityId, scope.utilityId), outletFilter))
    .groupBy(outlet.id)
    .orderBy(asc(outlet.code));
  const outletIds = outlets.map((o) => o.id);

  const sales =
    outletIds.length === 0
      ? []
      : await db
          .select({
            outletId: saleFact.outletId,
            operator: saleFact.operator,
            operatorName: sql<string>`max(${saleFact.operatorName})`,
            salesCount: countWhere(sql`${saleFact.kind} = 'sale'`),
            salesMinor: sum(sql`CASE WHEN ${saleFact.kind} = 'sale' THEN ${TAKEN} ELSE 0 END`),
            salesUnits: sum(sql`CASE WHEN ${saleFact.kind} = 'sale' THEN ${saleFact.units} ELSE 0 END`),
            taxMinor: sum(sql`${saleFact.vatMinor}`),
            chargesMinor: sum(sql`${saleFact.chargesMinor}`),
            leviesMinor: sum(sql`${saleFact.leviesMinor}`),
            debtRecoveredMinor: sum(sql`${saleFact.debtMinor}`),
            fbeCount: countWhere(sql`${saleFact.fbeUnits} > 0`),
            fbeUnits: sum(sql`CASE WHEN ${saleFact.fbeUnits} > 0 THEN ${saleFact.fbeUnits} ELSE 0 END`),
            reversalsCount: countWhere(sql`${saleFact.kind} = 'reversal'`),
            reversalsMinor: sum(sql`CASE WHEN ${saleFact.kind} = 'reversal' THEN ${TAKEN} ELSE 0 END`),
            netMinor: sum(TAKEN),
            cashMinor: sum(sql`CASE WHEN ${saleFact.payType} = 'cash' THEN ${TAKEN} ELSE 0 END`),
          })
          .from(saleFact)
          .where(
            and(
              eq(saleFact.utilityId, scope.utilityId),
              eq(saleFact.businessDate, scope.date),
              inArray(saleFact.outletId, outletIds),
            ),
          )
          .groupBy(saleFact.outletId, saleFact.operator);
  const shifts =
    outletIds.length === 0
      ? []
      : await db
          .select()
          .from(shiftReconciliation)
          .where(
            and(
              eq(shiftReconciliation.utilityId, scope.utilityId),
              eq(shiftReconciliation.businessDate, scope.date),
              inArray(shiftReconciliation.outletId, outletIds),
            ),
          )
          .orderBy(asc(shiftReconciliation.closedAt), asc(shiftReconciliation.eventId));

  const byOutletId = new Map(outlets.map((o) => [o.id, o]));
  const rows = new Map<string, EndOfDayOperatorRow>();
  const rowFor = (outletId: number, operator: string, operatorName: string) => {
    const key = `${outletId}\u0000${operator}`;
    let row = rows.get(key);
    if (!row) {
      const o = byOutletId.get(outletId)!;
      row = { outletCode: o.code, outletName: o.name, operator, operatorName, ...emptyFigures() };
      rows.set(key, row);
    }
    return row;
  };
  for (const s of sales) {
    const row = rowFor(s.outletId, s.operator, s.operatorName);
    for (const k of FIGURE_KEYS) {
      if (k in s) row[k] += Number((s as unknown as Record<string, unknown>)[k]);
    }
  }
  const reconciliations: ShiftReconciliation[] = [];
  for (const z of shifts) {
    const row = rowFor(z.outletId, z.operator, z.operator);
    row.shiftsClosed += 1;
    row.cashCountedMinor += z.cashDeclaredMinor;
    row.cashExpectedMinor += z.cashExpectedMinor;
    row.varianceMinor += z.varianceMinor;
    if (z.status === 'mismatch') row.mismatchedShifts += 1;
    reconciliations.push({
      outletCode: byOutletId.get(z.outletId)!.code,
      operator: z.operator,
      shiftId: z.shiftId,
      reportNo: z.reportNo,
      closedAt: z.closedAt,
      status: z.status === 'mismatch' ? 'mismatch' : 'match',
      differences: z.differences as ShiftReconciliation['differences'],
    });
  }
  const byOperator = [...rows.values()].sort(
    (a, b) => a.outletCode.localeCompare(b.outletCode) || a.operator.localeCompare(b.operator),
  );
  const total = emptyFigures();
  const byOutlet: EndOfDayOutletRow[] = outlets.map((o) => {
    const figures = emptyFigures();
    for (const r of byOperator) if (r.outletCode === o.code) addFigures(figures, r);
    addFigures(total, figures);
    return {
      outletCode: o.code,
      outletName: o.name,
      lastUploadAt: o.lastUploadAt === null ? null : new Date(o.lastUploadAt).toISOString(),
      ...figures,
    };
  });
  return {
    utility: { code: owner.code, name: owner.name },
    date: scope.date,
    generatedAt: now.toISOString(),
    byOperator,
    byOutlet,
    total,
    shifts: reconciliations,
  };
}

/** The end of day as CSV (RFC 4180): a row per outlet and operator, a row per outlet, one total row. */
export function endOfDayCsv(report: EndOfDayReport): string {
  let csv = csvLine(['date', 'scope', 'outlet', 'outlet_name', 'operator', 'operator_name', ...FIGURE_KEYS]);
  const figures = (f: EndOfDayFigures) => FIGURE_KEYS.map((k) => String(f[k]));
  for (const r of report.byOperator) {
    csv += csvLine([
      report.date,
      'operator',
      r.outletCode,
      r.outletName,
      r.operator,
      r.operatorName,
      ...figures(r),
    ]);
  }
  for (const r of report.byOutlet) {
    csv += csvLine([report.date, 'outlet', r.outletCode, r.outletName, '', '', ...figures(r)]);
  }
  csv += csvLine([report.date, 'total', '', '', '', '', ...figures(report.total)]);
  return csv;
}

// ---------------------------------------------------------------------------------------------------------------
// Month-to-date: sales an outlet priced with a month-to-date that missed other outlets' sales of the same meter.

export interface StaleMonthToDateSale {
  outletCode: string;
  receiptNo: number;
  meterNo: string;
  createdAt: string;
  /** Month-to-date units the outlet priced with, and the one head office holds for that moment. */
  pricedWithUnits: number;
  authoritativeUnits: number;
  units: number;
  /** Units the same money buys at the authoritative month-to-date (null: the sale cannot be re-priced). */
  unitsAtAuthoritative: number | null;
  /**
   * What the issued units cost at the authoritative month-to-date, less what the customer paid, in minor units:
   * positive = under-charged (the utility's loss), negative = over-charged. Null: not re-priceable.
   */
  differenceMinor: number | null;
}

export async function staleMonthToDateReport(
  db: ServerDb,
  utilityId: number,
  month: string,
): Promise<StaleMonthToDateSale[]> {
  // Authoritative month-to-date before each sale: every earlier paid sale (and reversal) of that meter and month,
  // at any outlet, in the order they happened (ties by ingest order).
  const stale = await queryRows<{
    event_id: number;
    outlet_code: string;
    receipt_no: number;
    meter_no: string;
    created_at: string;
    units: number;
    mtd_before: number | null;
    authoritative: number;
    kind: string;
  }>(
    db,
    sql`
    SELECT * FROM (
      SELECT f.event_id::bigint AS event_id, o.code AS outlet_code, f.receipt_no, f.meter_no, f.created_at, f.units, f.mtd_before, f.kind,
        coalesce(sum(f.units) OVER (PARTITION BY f.meter_no ORDER BY f.created_at, f.event_id
          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::int AS authoritative
      FROM ${saleFact} f JOIN ${outlet} o ON o.id = f.outlet_id
      WHERE f.utility_id = ${utilityId} AND f.month = ${month} AND f.meter_no IS NOT NULL AND f.kind IN ('sale', 'reversal')
    ) w
    WHERE w.kind = 'sale' AND w.mtd_before IS DISTINCT FROM w.authoritative
    ORDER BY w.created_at, w.event_id`,
  );
  if (stale.length === 0) return [];
  const pricing = new Map(
    (
      await db
        .select({ id: event.id, pricing: sql<unknown>`${event.payload}->'pricing'` })
        .from(event)
        .where(
          inArray(
            event.id,
            stale.map((r) => Number(r.event_id)),
          ),
        )
    ).map((r) => [r.id, r.pricing as PriceRequest | null]),
  );
  return stale.map((r) => {
    const repriced = repriceAt(pricing.get(Number(r.event_id)) ?? null, r.authoritative, r.units);
    return {
      outletCode: r.outlet_code,
      receiptNo: r.receipt_no,
      meterNo: r.meter_no,
      createdAt: new Date(r.created_at).toISOString(),
      pricedWithUnits: r.mtd_before ?? 0,
      authoritativeUnits: r.authoritative,
      units: r.units,
      ...repriced,
    };
  });
}

/**
 * Re-prices a sale at another month-to-date with the pricing the outlet used (tariff version, charges, debt):
 * the units the same tender buys, and the least money that buys the units actually issued (binary search over the
 * tender; pricing is monotonic in it) less what was paid.
 */
export function repriceAt(
  pricing: PriceRequest | null,
  monthToDateUnits: number,
  issuedUnits: number,
): { unitsAtAuthoritative: number | null; differenceMinor: number | null } {
  if (!pricing) return { unitsAtAuthoritative: null, differenceMinor: null };
  const at = (tenderMinor: number) => {
    try {
      return priceVend({ ...pricing, tenderMinor, meter: { ...pricing.meter, monthToDateUnits } });
    } catch {
      return null; // below the minimum, or nothing left for energy: buys no units
    }
  };
  let paid: number;
  try {
    const original = priceVend(pricing);
    paid = original.tenderMinor - original.changeMinor;
  } catch {
    return { unitsAtAuthoritative: null, differenceMinor: null };
  }
  const sameMoney = at(pricing.tenderMinor);
  let low = 1;
  let high = pricing.tariff.maxVendMinor;
  if ((at(high)?.units ?? 0) < issuedUnits) {
    return { unitsAtAuthoritative: sameMoney?.units ?? 0, differenceMinor: null };
  }
  while (low < high) {
    const mid = low + Math.floor((high - low) / 2);
    if ((at(mid)?.units ?? 0) >= issuedUnits) high = mid;
    else low = mid + 1;
  }
  const needed = at(low)!;
  return {
    unitsAtAuthoritative: sameMoney?.units ?? 0,
    differenceMinor: needed.tenderMinor - needed.changeMinor - paid,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// TID collisions: one meter given the same token identifier (the same minute) by two devices. The meter accepts
// the first token keyed in and refuses the other as used.

export interface TidCollision {
  meterNo: string;
  baseDate: number;
  tid: number;
  /** The minute the TID stands for, on the utility's wall clock (YYYY-MM-DDTHH:mm, no zone). */
  minute: string;
  tokens: Array<{
    outletCode: string;
    deviceId: string;
    receiptNo: number;
    kind: string;
    digits: string;
    createdAt: string;
  }>;
}

/** A TID counts minutes from 1 January of the base year, 00:00 on the utility's wall clock (IEC 62055-41). */
export const tidMinute = (baseDate: number, tid: number): string =>
  new Date(Date.UTC(baseDate, 0, 1) + tid * 60_000).toISOString().slice(0, 16);

export async function tidCollisionReport(db: ServerDb, utilityId: number): Promise<TidCollision[]> {
  const rows = await db
    .select({
      meterNo: tokenFact.meterNo,
      baseDate: tokenFact.baseDate,
      tid: tokenFact.tid,
      outletCode: outlet.code,
      deviceId: tokenFact.deviceId,
      receiptNo: tokenFact.receiptNo,
      kind: tokenFact.kind,
      digits: tokenFact.digits,
      createdAt: tokenFact.createdAt,
    })
    .from(tokenFact)
    .innerJoin(outlet, eq(outlet.id, tokenFact.outletId))
    .where(
      and(
        eq(tokenFact.utilityId, utilityId),
        sql`(${tokenFact.meterNo}, ${tokenFact.baseDate}, ${tokenFact.tid}) IN (
          SELECT meter_no, base_date, tid FROM ${tokenFact} WHERE utility_id = ${utilityId}
          GROUP BY meter_no, base_date, tid HAVING count(DISTINCT device_id) > 1)`,
      ),
    )
    .orderBy(asc(tokenFact.meterNo), asc(tokenFact.baseDate), asc(tokenFact.tid), asc(tokenFact.id));
  const collisions = new Map<string, TidCollision>();
  for (const r of rows) {
    const key = `${r.meterNo}\u0000${r.baseDate}\u0000${r.tid}`;
    let c = collisions.get(key);
    if (!c) {
      c = {
        meterNo: r.meterNo,
        baseDate: r.baseDate,
        tid: r.tid,
        minute: tidMinute(r.baseDate, r.tid),
        tokens: [],
      };
      collisions.set(key, c);
    }
    c.tokens.push({
      outletCode: r.outletCode,
      deviceId: r.deviceId,
      receiptNo: r.receiptNo,
      kind: r.kind,
      digits: r.digits,
      createdAt: new Date(r.createdAt).toISOString(),
    });
  }
  return [...collisions.values()];
}
