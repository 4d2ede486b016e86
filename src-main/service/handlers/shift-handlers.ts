import { closeShift, openShift, reprintZReport, xReport } from '../../engine/shifts.ts';
import type { HandlerGroup } from '../handler-types.ts';

export const shiftHandlers: HandlerGroup<
  'shift.open' | 'shift.xReport' | 'shift.close' | 'shift.zReports' | 'shift.reprintZ'
> = {
  'shift.open': (_args, { engine, session, now }) => openShift(engine, session, now),
  'shift.xReport': (_args, { engine, session, now }) => xReport(engine, session, now),
  'shift.close': ({ declaredCashMinor }, { engine, session, now }) =>
    closeShift(engine, session, declaredCashMinor, now),
  'shift.zReports': ({ limit }, { sqlite }) =>
    sqlite
      .prepare(
        `SELECT s.z_number AS reportNo, o.display_name AS operator, s.opened_at AS openedAt, s.closed_at AS closedAt,
                s.declared_cash_minor AS declaredMinor, s.expected_cash_minor AS expectedMinor,
                s.declared_cash_minor - s.expected_cash_minor AS varianceMinor
           FROM shift s JOIN operator o ON o.id = s.operator_id
          WHERE s.z_number IS NOT NULL ORDER BY s.z_number DESC LIMIT ?`,
      )
      .all(limit) as Array<{
      reportNo: number;
      operator: string;
      openedAt: string;
      closedAt: string;
      declaredMinor: number;
      expectedMinor: number;
      varianceMinor: number;
    }>,
  'shift.reprintZ': ({ reportNo }, { engine, session }) => reprintZReport(engine, session, reportNo),
};
