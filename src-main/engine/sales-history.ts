import type { SaleSummary } from '../../src-shared/bridge/contract.ts';
import { EngineError } from './errors.ts';
import { localDayBounds, parseLocalDate } from './local-time.ts';
import { findMeter } from './meters.ts';
import { type OperatorSession, requirePermission } from './operators.ts';
import { formatReceiptNo } from './sale-receipt.ts';
import { TAKEN } from './shifts.ts';
import type { VendEngine } from './vend-engine.ts';

/**
 * Sales history for the reprint and reversal screens: every receipt (sales, reversals, free issues,
 * engineering and key change tokens), newest first, filtered by meter, receipt number and local dates.
 */

export interface SalesQuery {
  /** Meter number or PAN as typed (spaces and dashes allowed); blank = any meter. */
  meterNumber?: string | undefined;
  receiptNo?: number | undefined;
  /** Local dates (the utility's time zone), both inclusive. */
  fromDate?: string | undefined;
  toDate?: string | undefined;
  limit: number;
  offset: number;
}

/** The WHERE clause of a search and its parameters (meter, receipt number, local date range). */
export function salesFilter(engine: VendEngine, query: Omit<SalesQuery, 'limit' | 'offset'>) {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (query.meterNumber?.trim()) {
    where.push('s.meter_id = ?');
    params.push(findMeter(engine.sqlite, query.meterNumber).id);
  }
  if (query.receiptNo !== undefined) {
    where.push('s.receipt_no = ?');
    params.push(query.receiptNo);
  }
  const zone = engine.utility.timeZone;
  const from = query.fromDate === undefined ? undefined : parseLocalDate(query.fromDate, 'from date');
  const to = query.toDate === undefined ? undefined : parseLocalDate(query.toDate, 'to date');
  if (from && to && query.fromDate! > query.toDate!) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'The from date is after the to date.',
      `fromDate ${query.fromDate} > toDate ${query.toDate}`,
    );
  }
  // created_at is ISO-8601 UTC, so text comparison orders it; the local day becomes a UTC range.
  if (from) {
    where.push('s.created_at >= ?');
    params.push(localDayBounds(from, zone).start.toISOString());
  }
  if (to) {
    where.push('s.created_at < ?');
    params.push(localDayBounds(to, zone).end.toISOString());
  }
  return { filter: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
}

/**
 * One page, newest first. The page is chosen on an index alone (sale_meter, sale_created or the receipt
 * number) before anything is joined, so a deep page does not join the rows it skips; CROSS JOIN keeps the
 * page as the outer loop (SQLite otherwise may walk every sale and probe the page).
 */
export const salesPageSql = (filter: string) =>
  `WITH page AS (SELECT s.id FROM sale s ${filter} ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?)
   SELECT s.receipt_no AS receiptNo, s.created_at AS createdAt, s.kind, m.meter_no AS meterNo, c.name AS customerName,
     o.display_name AS operator, s.pay_type AS payType, ${TAKEN} AS amountMinor, s.units + s.fbe_units AS units,
     r.receipt_no AS reversedBy, v.receipt_no AS reverses
   FROM page p CROSS JOIN sale s ON s.id = p.id
   JOIN operator o ON o.id = s.operator_id
   LEFT JOIN meter m ON m.id = s.meter_id
   LEFT JOIN customer c ON c.id = m.customer_id
   LEFT JOIN sale r ON r.reverses_sale_id = s.id
   LEFT JOIN sale v ON v.id = s.reverses_sale_id
   ORDER BY s.created_at DESC, s.id DESC`;

export function searchSales(
  engine: VendEngine,
  session: OperatorSession,
  query: SalesQuery,
): { rows: SaleSummary[]; total: number } {
  requirePermission(session, 'reprint');
  const { filter, params } = salesFilter(engine, query);
  const sqlite = engine.sqlite;
  const { total } = sqlite.prepare(`SELECT COUNT(*) AS total FROM sale s ${filter}`).get(...params) as {
    total: number;
  };
  if (total === 0 || query.offset >= total) return { rows: [], total };
  const rows = sqlite.prepare(salesPageSql(filter)).all(...params, query.limit, query.offset) as Array<
    Omit<SaleSummary, 'receiptNoText'>
  >;
  const terminalId = engine.outlet().terminalId;
  return {
    rows: rows.map((row) => ({ ...row, receiptNoText: formatReceiptNo(terminalId, row.receiptNo) })),
    total,
  };
}
