/** Operator roles and what each may do. The engine enforces these; the UI uses them to show only what applies. */
export const ROLES = ['cashier', 'supervisor', 'engineer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Engineering tokens and key changes are for engineers; reversals need a supervisor. */
export const PERMISSIONS = {
  sell: ['cashier', 'supervisor', 'admin'],
  reprint: ['cashier', 'supervisor', 'admin'],
  shift: ['cashier', 'supervisor', 'admin'],
  reverse: ['supervisor', 'admin'],
  freeIssue: ['supervisor', 'admin'],
  engineering: ['engineer', 'admin'],
  keyChange: ['engineer', 'admin'],
  masterData: ['admin'],
  audit: ['supervisor', 'admin'],
  /** Head-office reports (end of day) and the sync quarantine: the supervisor screen. */
  reports: ['supervisor', 'admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export const permissionsOf = (role: Role): Permission[] =>
  (Object.keys(PERMISSIONS) as Permission[]).filter((p) =>
    (PERMISSIONS[p] as readonly Role[]).includes(role),
  );
