import { listCustomers, listMeters, listTariffs, updateCustomer, updateMeter } from '../../engine/admin.ts';
import { importCsv } from '../../engine/csv-import.ts';
import { floatLedger, topUpFloat } from '../../engine/float.ts';
import { addOperatorAccount, listOperators, updateOperator } from '../../engine/operator-admin.ts';
import { outletSettings, updateOutletSettings } from '../../engine/outlet-settings.ts';
import type { HandlerGroup } from '../handler-types.ts';

export const adminHandlers: HandlerGroup<
  | 'meters.list'
  | 'meters.update'
  | 'customers.list'
  | 'customers.update'
  | 'import.csv'
  | 'tariffs.list'
  | 'operators.list'
  | 'operators.add'
  | 'operators.update'
  | 'outlet.get'
  | 'outlet.update'
  | 'float.ledger'
  | 'float.topUp'
> = {
  'meters.list': (args, { sqlite, session }) => listMeters(sqlite, session, args),
  'meters.update': (args, { sqlite, session, now }) => updateMeter(sqlite, session, args, now),
  'customers.list': (args, { sqlite, session }) => listCustomers(sqlite, session, args),
  'customers.update': (args, { sqlite, session, now }) => updateCustomer(sqlite, session, args, now),
  'import.csv': ({ kind, fileName, csv, dryRun }, { sqlite, session, now }) =>
    importCsv(
      sqlite,
      session,
      kind,
      { name: fileName, bytes: new TextEncoder().encode(csv) },
      { dryRun, now },
    ),
  'tariffs.list': (_args, { engine, sqlite, session, now }) =>
    listTariffs(sqlite, session, engine.utility, now),
  'operators.list': (_args, { sqlite, session, now }) => listOperators(sqlite, session, now),
  'operators.add': (args, { sqlite, session, now }) => addOperatorAccount(sqlite, session, args, now),
  'operators.update': (args, { sqlite, session, sessions, now }) => {
    const { operator, endSessions } = updateOperator(sqlite, session, args, now);
    // A deactivated operator or a new role takes effect at once: their open sessions end.
    if (endSessions) sessions.closeOperator(operator.id);
    return operator;
  },
  'outlet.get': (_args, { sqlite }) => outletSettings(sqlite),
  'outlet.update': (args, { sqlite, session, now }) => updateOutletSettings(sqlite, session, args, now),
  'float.ledger': (args, { sqlite }) => floatLedger(sqlite, args),
  'float.topUp': (args, { sqlite, session, now }) => topUpFloat(sqlite, session, args, now),
};
