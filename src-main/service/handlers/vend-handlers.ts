import { authenticate } from '../../engine/operators.ts';
import type { HandlerGroup } from '../handler-types.ts';

export const vendHandlers: HandlerGroup<
  'meter.confirm' | 'vend.quote' | 'vend.sell' | 'sales.reprint' | 'sales.reverse'
> = {
  'meter.confirm': ({ meterNumber }, { engine }) => engine.confirmMeter(meterNumber),
  'vend.quote': ({ meterNumber, tenderMinor }, { engine, session }) =>
    engine.quote(session, meterNumber, tenderMinor),
  'vend.sell': ({ requestId, meterNumber, tenderMinor, payType }, { engine, session }) =>
    engine.vend(session, { requestId, meterNumber, tenderMinor, payType }),
  'sales.reprint': ({ receiptNo }, { engine, session }) => engine.reprint(session, receiptNo),
  /**
   * A cashier asks, a supervisor approves on the spot: the supervisor's own credentials are checked (and count
   * towards their lockout); the credit note goes on the cashier's shift, the approval on the supervisor's name.
   */
  'sales.reverse': ({ requestId, receiptNo, reason, note, supervisor }, { engine, sqlite, session, now }) => {
    const approver = authenticate(sqlite, supervisor.username, supervisor.password, now);
    return engine.reverse(session, {
      requestId,
      receiptNo,
      reason,
      approvedBy: approver,
      ...(note ? { note } : {}),
    });
  },
};
