import { and, eq, sql } from 'drizzle-orm';
import type { SaleLedgerRow, SalePayload, ShiftClosedPayload } from '../src-shared/sync/events.ts';
import type { CentralFloat } from '../src-shared/sync/protocol.ts';
import { shiftTxTypeOf } from '../src-shared/vending/shift-report.ts';
import { insertJsonRows, queryRows, type ServerDb, type ServerTx } from './db/database.ts';
import {
  device,
  masterChange,
  meterMonth,
  outlet,
  outletFloat,
  saleFact,
  shiftReconciliation,
  type tokenFact,
} from './db/schema.ts';
import { insertChanges, type NewChange } from './master-data.ts';

/**
 * What the server derives from the events it accepts, written in the SAME transaction as the batch (ingest.ts),
 * so every projection holds each event exactly once and is never ahead of or behind `event`:
 * - sale_fact: one row per sale-like event (end of day, shift reconciliation);
 * - meter_month: paid units per meter, month and device (the authoritative month-to-date is their sum);
 * - token_fact: every token with a TID (collision report);
 * - outlet_float: money sold and outlet-recorded top-ups (the central float);
 * - shift_reconciliation: each Z report against the server's own totals of that shift.
 * Projections never refuse an event: the event was already checked by its type's schema.
 */

export interface ProjectionContext {
  utilityId: number;
  outletId: number;
  deviceId: string;
  now: Date;
}

export interface AcceptedEvent {
  id: number;
  type: string;
  payload: unknown;
}

const SALE_FACT_COLUMNS = [
  ['event_id', 'bigint'],
  ['utility_id', 'integer'],
  ['outlet_id', 'integer'],
  ['device_id', 'text'],
  ['receipt_no', 'integer'],
  ['kind', 'text'],
  ['business_date', 'text'],
  ['created_at', 'timestamptz'],
  ['shift_id', 'integer'],
  ['operator', 'text'],
  ['operator_name', 'text'],
  ['pay_type', 'text'],
  ['charges_minor', 'bigint'],
  ['debt_minor', 'bigint'],
  ['levies_minor', 'bigint'],
  ['vat_minor', 'bigint'],
  ['energy_minor', 'bigint'],
  ['units', 'integer'],
  ['fbe_units', 'integer'],
  ['meter_no', 'text'],
  ['month', 'text'],
  ['mtd_before', 'integer'],
] as const;

const TOKEN_FACT_COLUMNS = [
  ['event_id', 'bigint'],
  ['utility_id', 'integer'],
  ['outlet_id', 'integer'],
  ['device_id', 'text'],
  ['meter_no', 'text'],
  ['base_date', 'integer'],
  ['tid', 'integer'],
  ['kind', 'text'],
  ['digits', 'text'],
  ['receipt_no', 'integer'],
  ['created_at', 'timestamptz'],
] as const;

/** Money a sale took (negative for a reversal): its signed lines, as the outlet's ledger adds them. */
export const takenMinor = (
  r: Pick<SaleLedgerRow, 'chargesMinor' | 'debtMinor' | 'leviesMinor' | 'vatMinor' | 'energyMinor'>,
) => r.chargesMinor + r.debtMinor + r.leviesMinor + r.vatMinor + r.energyMinor;

/** Sale kinds whose units count toward the month-to-date of a block tariff (paid credit, and its reversal). */
const MTD_KIND = 'sale';

export async function projectEvents(
  tx: ServerTx,
  ctx: ProjectionContext,
  events: AcceptedEvent[],
): Promise<void> {
  const facts: Array<typeof saleFact.$inferInsert> = [];
  const tokens: Array<typeof tokenFact.$inferInsert> = [];
  const mtd = new Map<string, { meterNo: string; month: string; units: number }>();
  let soldMinor = 0;
  let localTopUpsMinor = 0;
  const closes: Array<{ eventId: number; payload: ShiftClosedPayload }> = [];

  for (const e of events) {
    if (e.type.startsWith('sale.')) {
      const payload = e.payload as SalePayload;
      const row = payload.ledger;
      const breakdown = payload.result.breakdown;
      let month = breakdown?.month ?? null;
      let countsToMtd = row.kind === MTD_KIND && row.meterNo !== null && month !== null;
      if (row.kind === 'reversal' && row.meterNo !== null && row.reversesReceiptNo !== null) {
        // A reversal gives back the units of the sale it reverses, in that sale's month.
        const original = await reversedSale(tx, ctx.outletId, row.reversesReceiptNo, facts);
        if (original?.kind === MTD_KIND && original.month) {
          month = original.month;
          countsToMtd = true;
        }
      }
      facts.push({
        eventId: e.id,
        utilityId: ctx.utilityId,
        outletId: ctx.outletId,
        deviceId: ctx.deviceId,
        receiptNo: payload.receiptNo,
        kind: row.kind,
        businessDate: row.businessDate,
        createdAt: payload.result.createdAt,
        shiftId: row.shiftId,
        operator: row.operator,
        operatorName: row.operatorName,
        payType: row.payType,
        chargesMinor: row.chargesMinor,
        debtMinor: row.debtMinor,
        leviesMinor: row.leviesMinor,
        vatMinor: row.vatMinor,
        energyMinor: row.energyMinor,
        units: row.units,
        fbeUnits: row.fbeUnits,
        meterNo: row.meterNo,
        month,
        mtdBefore: row.kind === MTD_KIND ? (breakdown?.monthToDateUnitsBefore ?? null) : null,
      });
      soldMinor += takenMinor(row);
      if (countsToMtd && row.units !== 0) {
        const k = `${row.meterNo}\u0000${month}`;
        const entry = mtd.get(k) ?? { meterNo: row.meterNo!, month: month!, units: 0 };
        entry.units += row.units;
        mtd.set(k, entry);
      }
      for (const t of payload.result.tokens) {
        const baseDate = (t as { baseDate?: unknown }).baseDate;
        if (t.tid === null || typeof baseDate !== 'number' || row.meterNo === null) continue;
        tokens.push({
          eventId: e.id,
          utilityId: ctx.utilityId,
          outletId: ctx.outletId,
          deviceId: ctx.deviceId,
          meterNo: row.meterNo,
          baseDate,
          tid: t.tid,
          kind: t.kind,
          digits: t.digits,
          receiptNo: payload.receiptNo,
          createdAt: payload.result.createdAt,
        });
      }
    } else if (e.type === 'float.top-up') {
      const p = e.payload as { requestId: string; amountMinor: number };
      // Head office's own top-ups come back as master-data applications, not as events; count outlet ones.
      localTopUpsMinor += p.amountMinor;
    } else if (e.type === 'shift.closed') {
      closes.push({ eventId: e.id, payload: e.payload as ShiftClosedPayload });
    }
  }

  await insertJsonRows(tx, 'sale_fact', SALE_FACT_COLUMNS, facts);
  await insertJsonRows(tx, 'token_fact', TOKEN_FACT_COLUMNS, tokens);
  // One statement, rows in key order: two devices selling the same meters lock them in one order, never deadlock.
  const months = [...mtd.values()].sort((x, y) =>
    x.meterNo === y.meterNo ? x.month.localeCompare(y.month) : x.meterNo.localeCompare(y.meterNo),
  );
  if (months.length > 0) {
    await tx
      .insert(meterMonth)
      .values(
        months.map((m) => ({
          utilityId: ctx.utilityId,
          meterNo: m.meterNo,
          month: m.month,
          deviceId: ctx.deviceId,
          units: m.units,
        })),
      )
      .onConflictDoUpdate({
        target: [meterMonth.utilityId, meterMonth.meterNo, meterMonth.month, meterMonth.deviceId],
        set: { units: sql`${meterMonth.units} + excluded.units` },
      });
  }
  if (soldMinor !== 0 || localTopUpsMinor !== 0) {
    await tx
      .insert(outletFloat)
      .values({ outletId: ctx.outletId, soldMinor, localTopUpsMinor })
      .onConflictDoUpdate({
        target: outletFloat.outletId,
        set: {
          soldMinor: sql`${outletFloat.soldMinor} + ${soldMinor}`,
          localTopUpsMinor: sql`${outletFloat.localTopUpsMinor} + ${localTopUpsMinor}`,
          updatedAt: sql`now()`,
        },
      });
  }
  for (const close of closes) await reconcileShift(tx, ctx, close.eventId, close.payload);
  // Last: it takes the master-data lock, held to the commit.
  if (mtd.size > 0) await publishMonthToDate(tx, ctx, [...mtd.values()]);
}

/**
 * Sends the new authoritative month-to-date of every meter this batch touched down to all outlets of the utility
 * (master data, per-outlet shares), in this transaction. The master-data lock is taken after the row locks above
 * and held to the commit, so change sequence numbers become visible in order.
 */
async function publishMonthToDate(
  tx: ServerTx,
  ctx: ProjectionContext,
  touched: Array<{ meterNo: string; month: string }>,
): Promise<void> {
  const shares = await queryRows<{ meter_no: string; month: string; outlet: string; units: number }>(
    tx,
    sql`SELECT mm.meter_no, mm.month, o.code AS outlet, sum(mm.units)::int AS units
      FROM ${meterMonth} mm JOIN ${device} d ON d.id = mm.device_id JOIN ${outlet} o ON o.id = d.outlet_id
      WHERE mm.utility_id = ${ctx.utilityId}
        AND (mm.meter_no, mm.month) IN (${sql.join(
          touched.map((m) => sql`(${m.meterNo}, ${m.month})`),
          sql`, `,
        )})
      GROUP BY mm.meter_no, mm.month, o.code ORDER BY mm.meter_no, mm.month, o.code`,
  );
  const changes: NewChange[] = touched.map((m) => {
    const byOutlet = shares
      .filter((r) => r.meter_no === m.meterNo && r.month === m.month)
      .map((r) => ({ outlet: r.outlet, units: Number(r.units) }));
    return {
      outletId: null,
      kind: 'meter.month-to-date',
      key: m.meterNo,
      data: { month: m.month, units: byOutlet.reduce((sum, r) => sum + r.units, 0), byOutlet },
    };
  });
  await insertChanges(tx, ctx.utilityId, changes, ctx.now);
}

async function reversedSale(
  tx: ServerTx,
  outletId: number,
  receiptNo: number,
  pending: Array<typeof saleFact.$inferInsert>,
): Promise<{ kind: string; month: string | null } | undefined> {
  const inBatch = pending.find((f) => f.receiptNo === receiptNo);
  if (inBatch) return { kind: inBatch.kind, month: inBatch.month ?? null };
  const [row] = await tx
    .select({ kind: saleFact.kind, month: saleFact.month })
    .from(saleFact)
    .where(and(eq(saleFact.outletId, outletId), eq(saleFact.receiptNo, receiptNo)));
  return row;
}

interface Totals {
  count: number;
  amountMinor: number;
  units: number;
}

export interface ShiftDifference {
  field: string;
  reported: number;
  recomputed: number;
}

/** Z report totals against the server's totals of the same shift, field by field (only differences listed). */
async function reconcileShift(
  tx: ServerTx,
  ctx: ProjectionContext,
  eventId: number,
  close: ShiftClosedPayload,
) {
  const rows = await tx
    .select({
      kind: saleFact.kind,
      count: sql<number>`count(*)::int`,
      amountMinor: sql<number>`coalesce(sum(${saleFact.chargesMinor} + ${saleFact.debtMinor} + ${saleFact.leviesMinor} + ${saleFact.vatMinor} + ${saleFact.energyMinor}), 0)::bigint`,
      units: sql<number>`coalesce(sum(${saleFact.units} + ${saleFact.fbeUnits}), 0)::bigint`,
      vatMinor: sql<number>`coalesce(sum(${saleFact.vatMinor}), 0)::bigint`,
      cashMinor: sql<number>`coalesce(sum(CASE WHEN ${saleFact.payType} = 'cash' THEN ${saleFact.chargesMinor} + ${saleFact.debtMinor} + ${saleFact.leviesMinor} + ${saleFact.vatMinor} + ${saleFact.energyMinor} ELSE 0 END), 0)::bigint`,
    })
    .from(saleFact)
    .where(and(eq(saleFact.outletId, ctx.outletId), eq(saleFact.shiftId, close.shiftId)))
    .groupBy(saleFact.kind);
  const byType = new Map<string, Totals>();
  const total: Totals = { count: 0, amountMinor: 0, units: 0 };
  let vat = 0;
  let cash = 0;
  for (const r of rows) {
    const type = shiftTxTypeOf(r.kind);
    const t = byType.get(type) ?? { count: 0, amountMinor: 0, units: 0 };
    t.count += Number(r.count);
    t.amountMinor += Number(r.amountMinor);
    t.units += Number(r.units);
    byType.set(type, t);
    total.count += Number(r.count);
    total.amountMinor += Number(r.amountMinor);
    total.units += Number(r.units);
    vat += Number(r.vatMinor);
    cash += Number(r.cashMinor);
  }
  const report = close.report;
  const differences: ShiftDifference[] = [];
  const compare = (field: string, reported: number, recomputed: number) => {
    if (reported !== recomputed) differences.push({ field, reported, recomputed });
  };
  for (const f of ['count', 'amountMinor', 'units'] as const)
    compare(`total.${f}`, report.total[f], total[f]);
  compare('taxTotalMinor', report.taxTotalMinor, vat);
  compare('cash.expectedMinor', report.cash.expectedMinor, cash);
  const types = new Set([...byType.keys(), ...report.byType.map((t) => t.type)]);
  for (const type of [...types].sort()) {
    const reported = report.byType.find((t) => t.type === type) ?? { count: 0, amountMinor: 0, units: 0 };
    const recomputed = byType.get(type) ?? { count: 0, amountMinor: 0, units: 0 };
    for (const f of ['count', 'amountMinor', 'units'] as const) {
      compare(`byType.${type}.${f}`, reported[f], recomputed[f]);
    }
  }
  await tx
    .insert(shiftReconciliation)
    .values({
      eventId,
      utilityId: ctx.utilityId,
      outletId: ctx.outletId,
      shiftId: close.shiftId,
      reportNo: report.reportNo,
      operator: close.operator,
      businessDate: close.businessDate,
      closedAt: report.closedAt,
      cashDeclaredMinor: report.cash.declaredMinor,
      cashExpectedMinor: report.cash.expectedMinor,
      varianceMinor: report.cash.varianceMinor,
      status: differences.length === 0 ? 'match' : 'mismatch',
      differences,
    })
    // A shift closed twice cannot happen in one ledger; a second device of a restored outlet must not stop ingest.
    .onConflictDoNothing({ target: [shiftReconciliation.outletId, shiftReconciliation.shiftId] });
}

/**
 * The outlet's float as head office counts it, against the credit limit of its latest vending authority; null when
 * head office does not manage this outlet's float (it never sent it a top-up or an authority).
 */
export async function centralFloat(tx: ServerDb | ServerTx, outletId: number): Promise<CentralFloat | null> {
  const [row] = await queryRows<{
    sold: string | null;
    local: string | null;
    top_ups: string;
    top_up_count: number;
    credit_limit: string | null;
    has_authority: boolean;
  }>(
    tx,
    sql`SELECT f.sold_minor AS sold, f.local_top_ups_minor AS local, t.top_ups, t.top_up_count,
        a.data->>'creditLimitMinor' AS credit_limit, a.id IS NOT NULL AS has_authority
      FROM (SELECT coalesce(sum((data->>'amountMinor')::bigint), 0)::bigint AS top_ups, count(*)::int AS top_up_count
              FROM ${masterChange} WHERE outlet_id = ${outletId} AND kind = 'float.top-up') t
      LEFT JOIN ${outletFloat} f ON f.outlet_id = ${outletId}
      LEFT JOIN LATERAL (SELECT id, data FROM ${masterChange} WHERE outlet_id = ${outletId} AND kind = 'authority'
                          ORDER BY id DESC LIMIT 1) a ON true`,
  );
  if (!row || (!row.has_authority && Number(row.top_up_count) === 0)) return null;
  const creditLimitMinor = Number(row.credit_limit ?? 0);
  const balanceMinor = Number(row.top_ups) + Number(row.local ?? 0) - Number(row.sold ?? 0);
  return { balanceMinor, creditLimitMinor, overLimit: balanceMinor + creditLimitMinor < 0 };
}
