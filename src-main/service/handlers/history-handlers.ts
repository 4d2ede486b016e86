import { searchSales } from '../../engine/sales-history.ts';
import type { HandlerGroup } from '../handler-types.ts';

export const historyHandlers: HandlerGroup<'sales.search'> = {
  'sales.search': (args, { engine, session }) => searchSales(engine, session, args),
};
