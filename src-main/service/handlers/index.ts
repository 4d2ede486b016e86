import type { Handlers } from '../handler-types.ts';
import { adminHandlers } from './admin-handlers.ts';
import { appHandlers } from './app-handlers.ts';
import { deviceHandlers } from './device-handlers.ts';
import { engineeringHandlers } from './engineering-handlers.ts';
import { historyHandlers } from './history-handlers.ts';
import { maintenanceHandlers } from './maintenance-handlers.ts';
import { shiftHandlers } from './shift-handlers.ts';
import { supervisorHandlers } from './supervisor-handlers.ts';
import { vendHandlers } from './vend-handlers.ts';

const groups = [
  appHandlers,
  shiftHandlers,
  vendHandlers,
  historyHandlers,
  engineeringHandlers,
  adminHandlers,
  maintenanceHandlers,
  deviceHandlers,
  supervisorHandlers,
];

/** Merges the domain handler groups; a method handled twice is a programming error caught at start. */
function mergeHandlers(list: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const group of list) {
    for (const [name, handler] of Object.entries(group)) {
      if (Object.hasOwn(merged, name)) throw new Error(`bridge method ${name} has two handlers`);
      merged[name] = handler;
    }
  }
  return merged;
}

/** Every contract method, exactly once: the type makes a missing one a compile error. */
export const handlers: Handlers = mergeHandlers(groups) as Handlers;

// Compile-time completeness: the union of the groups must cover the whole contract.
type Covered = typeof appHandlers &
  typeof shiftHandlers &
  typeof vendHandlers &
  typeof historyHandlers &
  typeof engineeringHandlers &
  typeof adminHandlers &
  typeof maintenanceHandlers &
  typeof deviceHandlers &
  typeof supervisorHandlers;
export const handlersCoverContract: Covered extends Handlers ? true : never = true;
