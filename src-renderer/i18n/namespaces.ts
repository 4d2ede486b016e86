/**
 * Translation namespaces, one per area of the UI (files `locales/<language>/<namespace>.json`), so two people can
 * work on two screens without touching the same file. Kept free of Vite-only code so tests can import it.
 */
export const NAMESPACES = [
  'common',
  'errors',
  'vend',
  'history',
  'shift',
  'engineering',
  'admin',
  'supervisor',
] as const;
export type Namespace = (typeof NAMESPACES)[number];
