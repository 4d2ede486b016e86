import type Database from 'better-sqlite3';
import { wallClockInZone } from '../../src-shared/sts/tid.ts';
import type { ReceiptResource } from '../../src-shared/vending/receipt.ts';
import {
  type ShiftReport,
  type ShiftTotal,
  type ShiftTxType,
  shiftTxTypeOf,
  type ZShiftReport,
} from '../../src-shared/vending/shift-report.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { type OperatorSession, requirePermission } from './operators.ts';
import { formatReceiptNo } from './sale-receipt.ts';
import type { VendEngine } from './vend-engine.ts';

/**
 * Shifts: one open shift per operator. X = running totals (nothing changes); Z = closes the shift with a
 * blind cash count, gets the next Z number and is stored immutably (reprints come from the stored copy).
 */

/** Money taken by a sale (negative for a reversal): its signed lines, which equal tender − change for a sale. */
export const TAKEN = 's.charges_minor + s.debt_minor + s.levies_minor + s.vat_minor + s.energy_minor';

interface SaleAggregateRow {
  kind: string;
  operator: string;
  payType: string;
  resource: ReceiptResource | null;
  count: number;
  amountMinor: number;
  units: number;
  vatMinor: number;
  cashMinor: number;
  firstReceipt: number;
  lastReceipt: number;
}

const add = (into: ShiftTotal, row: SaleAggregateRow) => {
  into.count += row.count;
  into.amountMinor += row.amountMinor;
  into.units += row.units;
};

function localText(engine: VendEngine, iso: string): string {
  const w = wallClockInZone(new Date(iso), engine.utility.timeZone);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}`;
}

function openShiftRow(sqlite: Database.Database, operatorId: number) {
  return sqlite
    .prepare('SELECT id, opened_at AS openedAt FROM shift WHERE operator_id = ? AND closed_at IS NULL')
    .get(operatorId) as { id: number; openedAt: string } | undefined;
}

export function openShift(
  engine: VendEngine,
  session: OperatorSession,
  now: Date,
): { shiftId: number; openedAt: string } {
  requirePermission(session, 'shift');
  const sqlite = engine.sqlite;
  return sqlite
    .transaction(() => {
      if (openShiftRow(sqlite, session.id)) {
        throw new EngineError(
          'SHIFT_ALREADY_OPEN',
          'You already have an open shift.',
          `operator ${session.username} has an open shift`,
        );
      }
      const shiftId = Number(
        sqlite
          .prepare('INSERT INTO shift (operator_id, opened_at) VALUES (?, ?)')
          .run(session.id, now.toISOString()).lastInsertRowid,
      );
      appendAudit(
        sqlite,
        {
          operatorId: session.id,
          action: 'shift.open',
          entity: 'shift',
          entityId: String(shiftId),
          details: {},
        },
        now,
      );
      return { shiftId, openedAt: now.toISOString() };
    })
    .immediate();
}

function totals(engine: VendEngine, shiftId: number, openedAt: string, now: Date, operators: string[]) {
  const rows = engine.sqlite
    .prepare(
      `SELECT g.kind, o.display_name AS operator, g.payType, m.meter_type AS resource, SUM(g.count) AS count,
        SUM(g.amountMinor) AS amountMinor, SUM(g.units) AS units, SUM(g.vatMinor) AS vatMinor, SUM(g.cashMinor) AS cashMinor,
        MIN(g.firstReceipt) AS firstReceipt, MAX(g.lastReceipt) AS lastReceipt
       FROM (
         -- Aggregated on the covering index sale_shift_totals first; the joins then touch one row per group.
         SELECT s.kind, s.operator_id, s.pay_type AS payType, s.meter_id, COUNT(*) AS count, SUM(${TAKEN}) AS amountMinor,
           SUM(s.units + s.fbe_units) AS units, SUM(s.vat_minor) AS vatMinor,
           SUM(CASE WHEN s.pay_type = 'cash' THEN ${TAKEN} ELSE 0 END) AS cashMinor,
           MIN(s.receipt_no) AS firstReceipt, MAX(s.receipt_no) AS lastReceipt
         FROM sale s WHERE s.shift_id = ? GROUP BY s.kind, s.operator_id, s.pay_type, s.meter_id
       ) g
       JOIN operator o ON o.id = g.operator_id LEFT JOIN meter m ON m.id = g.meter_id
       GROUP BY g.kind, o.display_name, g.payType, m.meter_type`,
    )
    .all(shiftId) as SaleAggregateRow[];
  const byType = new Map<ShiftTxType, ShiftTotal & { type: ShiftTxType }>();
  const byOperator = new Map<string, ShiftTotal & { operator: string }>();
  const byPayType = new Map<string, ShiftTotal & { payType: string }>();
  const byResource = new Map<ReceiptResource, ShiftTotal & { resource: ReceiptResource }>();
  const total: ShiftTotal = { count: 0, amountMinor: 0, units: 0 };
  let taxTotalMinor = 0;
  let cashMinor = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (const row of rows) {
    const type = shiftTxTypeOf(row.kind);
    add(byType.get(type) ?? byType.set(type, { type, count: 0, amountMinor: 0, units: 0 }).get(type)!, row);
    add(
      byOperator.get(row.operator) ??
        byOperator
          .set(row.operator, { operator: row.operator, count: 0, amountMinor: 0, units: 0 })
          .get(row.operator)!,
      row,
    );
    add(
      byPayType.get(row.payType) ??
        byPayType
          .set(row.payType, { payType: row.payType, count: 0, amountMinor: 0, units: 0 })
          .get(row.payType)!,
      row,
    );
    if (row.resource) {
      const r = row.resource;
      add(
        byResource.get(r) ?? byResource.set(r, { resource: r, count: 0, amountMinor: 0, units: 0 }).get(r)!,
        row,
      );
    }
    add(total, row);
    taxTotalMinor += row.vatMinor;
    cashMinor += row.cashMinor;
    first = first === undefined ? row.firstReceipt : Math.min(first, row.firstReceipt);
    last = last === undefined ? row.lastReceipt : Math.max(last, row.lastReceipt);
  }
  const outlet = engine.outlet();
  const report = {
    copy: false,
    outlet: { name: outlet.name, addressLines: outlet.address.split(/,\s*/) },
    terminalId: outlet.terminalId,
    operators,
    openedAt: localText(engine, openedAt),
    printedAt: localText(engine, now.toISOString()),
    ...(first !== undefined ? { firstReceiptNo: formatReceiptNo(outlet.terminalId, first) } : {}),
    ...(last !== undefined ? { lastReceiptNo: formatReceiptNo(outlet.terminalId, last) } : {}),
    byType: [...byType.values()],
    byOperator: [...byOperator.values()],
    byPayType: [...byPayType.values()],
    byResource: [...byResource.values()],
    total,
    taxTotalMinor,
    floatBalanceMinor: outlet.floatBalanceMinor,
  };
  return { report, cashMinor };
}

/** Running totals of the operator's open shift; changes nothing. */
export function xReport(engine: VendEngine, session: OperatorSession, now: Date): ShiftReport {
  requirePermission(session, 'shift');
  const shift = openShiftRow(engine.sqlite, session.id);
  if (!shift)
    throw new EngineError(
      'SHIFT_NOT_OPEN',
      'You have no open shift.',
      `operator ${session.username} has no open shift`,
    );
  return { kind: 'X', ...totals(engine, shift.id, shift.openedAt, now, [session.displayName]).report };
}

/** Closes the shift: the cashier declares the cash first (blind), then sees the variance on the Z report. */
export function closeShift(
  engine: VendEngine,
  session: OperatorSession,
  declaredCashMinor: number,
  now: Date,
): ZShiftReport {
  requirePermission(session, 'shift');
  if (!Number.isSafeInteger(declaredCashMinor) || declaredCashMinor < 0) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'The counted cash must be zero or more.',
      `declared ${declaredCashMinor}`,
    );
  }
  const sqlite = engine.sqlite;
  return sqlite
    .transaction((): ZShiftReport => {
      const shift = openShiftRow(sqlite, session.id);
      if (!shift)
        throw new EngineError(
          'SHIFT_NOT_OPEN',
          'You have no open shift.',
          `operator ${session.username} has no open shift`,
        );
      const { report, cashMinor } = totals(engine, shift.id, shift.openedAt, now, [session.displayName]);
      const reportNo = (
        sqlite
          .prepare("UPDATE counter SET value = value + 1 WHERE name = 'z_report' RETURNING value")
          .get() as { value: number }
      ).value;
      const z: ZShiftReport = {
        kind: 'Z',
        ...report,
        reportNo,
        closedAt: localText(engine, now.toISOString()),
        cash: {
          declaredMinor: declaredCashMinor,
          expectedMinor: cashMinor,
          varianceMinor: declaredCashMinor - cashMinor,
        },
      };
      sqlite
        .prepare(
          'UPDATE shift SET closed_at = ?, z_number = ?, declared_cash_minor = ?, expected_cash_minor = ?, z_report_json = ? WHERE id = ?',
        )
        .run(now.toISOString(), reportNo, declaredCashMinor, cashMinor, JSON.stringify(z), shift.id);
      appendAudit(
        sqlite,
        {
          operatorId: session.id,
          action: 'shift.close',
          entity: 'shift',
          entityId: String(shift.id),
          details: { reportNo, variance: z.cash.varianceMinor },
        },
        now,
      );
      sqlite.prepare('INSERT INTO outbox (created_at, event_type, payload_json) VALUES (?, ?, ?)').run(
        now.toISOString(),
        'shift.closed',
        JSON.stringify({
          shiftId: shift.id,
          operator: session.username,
          businessDate: localText(engine, now.toISOString()).slice(0, 10),
          report: z,
        }),
      );
      return z;
    })
    .immediate();
}

/** A closed Z report, exactly as stored, marked COPY. */
export function reprintZReport(engine: VendEngine, session: OperatorSession, reportNo: number): ZShiftReport {
  requirePermission(session, 'shift');
  const row = engine.sqlite
    .prepare('SELECT z_report_json AS json FROM shift WHERE z_number = ?')
    .get(reportNo) as { json: string } | undefined;
  if (!row)
    throw new EngineError(
      'VEND_NOT_FOUND',
      `There is no Z report number ${reportNo}.`,
      `z ${reportNo} not found`,
    );
  return { ...(JSON.parse(row.json) as ZShiftReport), copy: true };
}
