import type { Permission } from '../../src-shared/vending/roles.ts';

export type ScreenId = 'vend' | 'history' | 'shift' | 'supervisor' | 'engineering' | 'admin';

export interface ScreenDef {
  id: ScreenId;
  /** The F-key that opens it from anywhere. */
  key: string;
  /** Any of these permissions shows the screen. */
  permissions: readonly Permission[];
}

/** The top navigation, in order; each screen shows only for an operator holding one of its permissions. */
export const SCREENS: readonly ScreenDef[] = [
  { id: 'vend', key: 'F2', permissions: ['sell'] },
  { id: 'history', key: 'F3', permissions: ['reprint'] },
  { id: 'shift', key: 'F4', permissions: ['shift'] },
  { id: 'supervisor', key: 'F5', permissions: ['reports'] },
  { id: 'engineering', key: 'F6', permissions: ['engineering', 'keyChange'] },
  { id: 'admin', key: 'F7', permissions: ['masterData', 'audit'] },
];

export const screensFor = (permissions: readonly Permission[]): ScreenDef[] =>
  SCREENS.filter((screen) => screen.permissions.some((p) => permissions.includes(p)));
