import { z } from 'zod';
import { businessDateSchema, endOfDayReportSchema } from '../sync/reports.ts';
import { PERMISSIONS, ROLES } from '../vending/roles.ts';
import {
  cardWriteResultSchema,
  carrierJobSchema,
  deviceCandidatesSchema,
  deviceConfigSchema,
  deviceRoleSchema,
  deviceStatusSchema,
  deviceViewSchema,
  printResultSchema,
  pscHexSchema,
} from './device-schemas.ts';
import {
  importResultSchema,
  meterConfirmationSchema,
  priceBreakdownSchema,
  saleResultSchema,
  shiftReportSchema,
  zShiftReportSchema,
} from './domain-schemas.ts';
import { quarantinedEventSchema } from './supervisor-schemas.ts';

/**
 * The one contract between the UI and the engine. Every method is declared here once: its arguments, its
 * result and who may call it. The Electron preload, the main-process handlers, the browser-mode HTTP host and
 * the renderer client are all generated from this table, and a test fails if any of them drifts from it.
 *
 * `access`: 'public' needs no operator session, 'session' any logged-in operator, otherwise a permission.
 */

export const LANGUAGES = ['en', 'fr', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];

const minor = z.number().int().safe();
const nonNegativeMinor = minor.nonnegative();
const requestId = z.string().trim().min(8).max(100);
const meterNumber = z.string().trim().min(1).max(40);
const limit = z.number().int().min(1).max(500).default(50);
const offset = z.number().int().min(0).default(0);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const roleSchema = z.enum(ROLES);
const permissionSchema = z.enum(Object.keys(PERMISSIONS) as [keyof typeof PERMISSIONS]);
const receiptColumns = z.union([z.literal(32), z.literal(42), z.literal(48)]);
const empty = z.strictObject({});
const ok = z.strictObject({ ok: z.literal(true) });

const credentials = z.strictObject({
  username: z.string().trim().min(1).max(60),
  password: z.string().min(1).max(200),
});

const operatorView = z.strictObject({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  role: roleSchema,
  language: z.enum(LANGUAGES).nullable(),
});

const syncStatus = z.strictObject({
  /** 'not-configured' until the outlet is enrolled with a sync server. */
  state: z.enum(['not-configured', 'online', 'offline']),
  pendingEvents: z.number().int().nonnegative(),
  pendingSales: z.number().int().nonnegative(),
  oldestPendingAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  /** Events the server refused, kept in the outlet's quarantine for the supervisor. */
  quarantinedEvents: z.number().int().nonnegative(),
  /** The float as head office last counted it; null when head office does not manage this outlet's float. */
  centralFloat: z
    .strictObject({
      balanceMinor: z.number().int(),
      creditLimitMinor: z.number().int(),
      overLimit: z.boolean(),
    })
    .nullable(),
});

const pagedQuery = z.strictObject({ query: z.string().trim().max(100).default(''), limit, offset });
const page = <T extends z.ZodType>(row: T) => z.strictObject({ rows: z.array(row), total: z.number().int() });

const saleSummary = z.strictObject({
  receiptNo: z.number().int(),
  receiptNoText: z.string(),
  createdAt: z.string(),
  kind: z.string(),
  meterNo: z.string().nullable(),
  customerName: z.string().nullable(),
  operator: z.string(),
  payType: z.string(),
  /** Money taken (negative for a reversal). */
  amountMinor: minor,
  units: z.number().int(),
  reversedBy: z.number().int().nullable(),
  reverses: z.number().int().nullable(),
});

const engineeringToken = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('clear-tamper') }),
  z.strictObject({
    kind: z.literal('clear-credit'),
    register: z.enum(['electricity', 'water', 'gas', 'all']),
  }),
  z.strictObject({ kind: z.literal('set-power-limit'), watts: z.number().int().min(0).max(0xffff) }),
  z.strictObject({
    kind: z.literal('set-phase-unbalance-limit'),
    watts: z.number().int().min(0).max(0xffff),
  }),
  z.strictObject({
    kind: z.literal('test'),
    control: z.number().int().min(0),
    manufacturerCode: z.number().int().min(0).max(99).optional(),
  }),
]);

const tokenFinding = z.strictObject({
  code: z.string(),
  severity: z.enum(['ok', 'info', 'warning', 'reject']),
  message: z.string(),
});

const tokenExplanation = z.strictObject({
  meterNo: z.string(),
  token: z.string(),
  /** What the meter would do with it, as far as the ledger can tell. */
  verdict: z.enum(['accept', 'reject', 'unknown']),
  decodedWith: z
    .strictObject({ sgc: z.string(), krn: z.number().int(), ti: z.number().int(), current: z.boolean() })
    .nullable(),
  tokenClass: z.number().int().nullable(),
  subclass: z.number().int().nullable(),
  description: z.string().nullable(),
  tid: z.number().int().nullable(),
  issuedAt: z.string().nullable(),
  issuedOnReceipt: z.number().int().nullable(),
  findings: z.array(tokenFinding),
});

const meterRow = z.strictObject({
  meterNo: z.string(),
  resource: z.enum(['electricity', 'water', 'gas']),
  customerAccountNo: z.string().nullable(),
  customerName: z.string().nullable(),
  address: z.string().nullable(),
  tariffCode: z.string(),
  sgc: z.string(),
  krn: z.number().int(),
  ti: z.number().int(),
  blocked: z.boolean(),
  blockedReason: z.string().nullable(),
  pendingKeyChange: z.boolean(),
  lastPurchaseAt: z.string().nullable(),
});

const customerRow = z.strictObject({
  accountNo: z.string(),
  name: z.string(),
  address: z.string(),
  phone: z.string(),
  location: z.string(),
  arrearsMinor: nonNegativeMinor,
  meterNos: z.array(z.string()),
});

const tariffRow = z.strictObject({
  code: z.string(),
  name: z.string(),
  resource: z.enum(['electricity', 'water', 'gas']),
  versions: z.array(
    z.strictObject({
      version: z.number().int(),
      effectiveFrom: z.string(),
      kind: z.string(),
      /** Price per 0.1 unit or per block, VAT and charges in one line a supervisor can read. */
      summary: z.string(),
      inForce: z.boolean(),
    }),
  ),
});

const operatorRow = operatorView.extend({
  active: z.boolean(),
  lockedUntil: z.string().nullable(),
});

const outletSettings = z.strictObject({
  code: z.string(),
  name: z.string(),
  address: z.string(),
  terminalId: z.string(),
  receiptColumns,
  lowFloatThresholdMinor: nonNegativeMinor,
  authority: z.strictObject({
    creditLimitMinor: nonNegativeMinor,
    usedMinor: nonNegativeMinor,
    validUntil: z.string(),
  }),
});

const floatMovementRow = z.strictObject({
  id: z.number().int(),
  createdAt: z.string(),
  kind: z.string(),
  amountMinor: minor,
  balanceAfterMinor: minor,
  receiptNo: z.number().int().nullable(),
  reference: z.string(),
});

const job = z.strictObject({
  jobId: z.string(),
  kind: z.enum(['backup']),
  state: z.enum(['running', 'done', 'failed']),
  done: z.number().nonnegative(),
  total: z.number().nonnegative(),
  message: z.string(),
  result: z.strictObject({ path: z.string(), bytes: z.number().int() }).nullable(),
  error: z.strictObject({ code: z.string(), userMessage: z.string() }).nullable(),
});

const zReportListRow = z.strictObject({
  reportNo: z.number().int(),
  operator: z.string(),
  openedAt: z.string(),
  closedAt: z.string(),
  declaredMinor: minor,
  expectedMinor: minor,
  varianceMinor: minor,
});

const shiftView = z.strictObject({ shiftId: z.number().int(), openedAt: z.string() });

export const appInfoSchema = z.strictObject({
  version: z.string(),
  outlet: z.strictObject({ code: z.string(), name: z.string(), address: z.string(), terminalId: z.string() }),
  utility: z.strictObject({
    name: z.string(),
    currencyCode: z.string(),
    currencyMinorUnits: z.number().int(),
    timeZone: z.string(),
  }),
  receiptColumns,
  languages: z.array(z.enum(LANGUAGES)),
  /** Quick amounts offered on the vend screen, in minor units. */
  quickAmountsMinor: z.array(nonNegativeMinor),
  demo: z.boolean(),
  /** How the UI is hosted: inside the desktop app or in a browser against the local host. */
  host: z.enum(['electron', 'browser']),
});

export const statusSchema = z.strictObject({
  operator: operatorView,
  shift: shiftView.nullable(),
  floatBalanceMinor: minor,
  lowFloatThresholdMinor: nonNegativeMinor,
  lowFloat: z.boolean(),
  sync: syncStatus,
});

type Access = 'public' | 'session' | keyof typeof PERMISSIONS;

interface MethodSpec {
  args: z.ZodType;
  result: z.ZodType;
  access: Access;
  /** One line for the developer docs and the logs. */
  summary: string;
}

const method = <A extends z.ZodType, R extends z.ZodType>(
  access: Access,
  args: A,
  result: R,
  summary: string,
) => ({ access, args, result, summary }) satisfies MethodSpec;

export const bridgeContract = {
  'app.info': method(
    'public',
    empty,
    appInfoSchema,
    'Outlet, currency and host facts the UI needs before login',
  ),
  'auth.login': method(
    'public',
    credentials,
    z.strictObject({ session: z.string(), operator: operatorView, permissions: z.array(permissionSchema) }),
    'Checks an operator password (lockout after repeated failures) and opens a session',
  ),
  'auth.logout': method('session', empty, ok, 'Ends the session'),
  'auth.setLanguage': method(
    'session',
    z.strictObject({ language: z.enum(LANGUAGES) }),
    ok,
    "Stores the operator's UI language",
  ),
  'status.get': method('session', empty, statusSchema, 'Status bar: operator, shift, float and sync queue'),

  'shift.open': method('shift', empty, shiftView, "Opens the operator's shift"),
  'shift.xReport': method('shift', empty, shiftReportSchema, 'Running totals of the open shift (X report)'),
  'shift.close': method(
    'shift',
    z.strictObject({ declaredCashMinor: nonNegativeMinor }),
    zShiftReportSchema,
    'Blind cash count, closes the shift and returns the numbered Z report',
  ),
  'shift.zReports': method(
    'shift',
    z.strictObject({ limit }),
    z.array(zReportListRow),
    'Closed Z reports, newest first',
  ),
  'shift.reprintZ': method(
    'shift',
    z.strictObject({ reportNo: z.number().int().positive() }),
    zShiftReportSchema,
    'A stored Z report, marked COPY',
  ),

  'meter.confirm': method(
    'sell',
    z.strictObject({ meterNumber }),
    meterConfirmationSchema,
    'Finds a meter and shows its customer before any money is taken',
  ),
  'vend.quote': method(
    'sell',
    z.strictObject({ meterNumber, tenderMinor: nonNegativeMinor }),
    z.strictObject({ confirmation: meterConfirmationSchema, breakdown: priceBreakdownSchema }),
    'Trial vend: the full breakdown, nothing issued',
  ),
  'vend.sell': method(
    'sell',
    z.strictObject({
      requestId,
      meterNumber,
      tenderMinor: nonNegativeMinor,
      payType: z.enum(['cash', 'card', 'mobile', 'other']).default('cash'),
    }),
    saleResultSchema,
    'Sells exactly once per request id and returns the tokens and receipt',
  ),

  'sales.search': method(
    'reprint',
    z.strictObject({
      meterNumber: z.string().trim().max(40).optional(),
      receiptNo: z.number().int().positive().optional(),
      fromDate: isoDate.optional(),
      toDate: isoDate.optional(),
      limit,
      offset,
    }),
    page(saleSummary),
    'Sales history by meter, receipt number and local date range, newest first',
  ),
  'sales.reprint': method(
    'reprint',
    z.strictObject({ receiptNo: z.number().int().positive() }),
    saleResultSchema,
    'The stored receipt of a sale, marked COPY (audited)',
  ),
  'sales.reverse': method(
    'sell',
    z.strictObject({
      requestId,
      receiptNo: z.number().int().positive(),
      reason: z.enum([
        'wrong-meter',
        'wrong-amount',
        'customer-cancelled',
        'duplicate-sale',
        'token-not-accepted',
        'other',
      ]),
      note: z.string().trim().max(500).default(''),
      supervisor: credentials,
    }),
    saleResultSchema,
    'Reverses a sale with a supervisor approving on the spot',
  ),

  'engineering.issue': method(
    'engineering',
    z.strictObject({ requestId, meterNumber, token: engineeringToken }),
    saleResultSchema,
    'Management and test tokens (clear tamper, clear credit, power limit, test)',
  ),
  'engineering.keyChange': method(
    'keyChange',
    z.strictObject({
      requestId,
      meterNumber,
      to: z
        .strictObject({
          sgc: z.string().optional(),
          ti: z.number().int().min(0).max(99).optional(),
          krn: z.number().int().min(1).max(9).optional(),
          baseDate: z.union([z.literal(1993), z.literal(2014), z.literal(2035)]).optional(),
        })
        .optional(),
    }),
    saleResultSchema,
    "Key change token set to the meter's pending or given key",
  ),
  'tokens.explain': method(
    'engineering',
    z.strictObject({ meterNumber, token: z.string().trim().min(1).max(40) }),
    tokenExplanation,
    'Decodes a token for a meter and explains why the meter would accept or reject it',
  ),

  'meters.list': method(
    'masterData',
    pagedQuery,
    page(meterRow),
    'Meters with their customer, tariff and keys',
  ),
  'meters.update': method(
    'masterData',
    z.strictObject({
      meterNo: meterNumber,
      tariffCode: z.string().trim().min(1).optional(),
      customerAccountNo: z.string().trim().min(1).nullable().optional(),
      blocked: z.boolean().optional(),
      blockedReason: z.string().trim().max(200).optional(),
    }),
    meterRow,
    'Edits a meter (tariff, customer, blocked); audited',
  ),
  'customers.list': method('masterData', pagedQuery, page(customerRow), 'Customers with arrears and meters'),
  'customers.update': method(
    'masterData',
    z.strictObject({
      accountNo: z.string().trim().min(1),
      name: z.string().trim().min(1).max(120).optional(),
      address: z.string().trim().max(200).optional(),
      phone: z.string().trim().max(40).optional(),
      location: z.string().trim().max(120).optional(),
    }),
    customerRow,
    'Edits a customer; audited',
  ),
  'import.csv': method(
    'masterData',
    z.strictObject({
      kind: z.enum(['customers', 'meters']),
      fileName: z.string().trim().min(1).max(200),
      csv: z.string().max(64 * 1024 * 1024),
      dryRun: z.boolean(),
    }),
    importResultSchema,
    'CSV import of customers or meters: all or nothing, with a row-by-row report',
  ),
  'tariffs.list': method('masterData', empty, z.array(tariffRow), 'Tariffs and their versions'),
  'operators.list': method('masterData', empty, z.array(operatorRow), 'Operators, roles and lock state'),
  'operators.add': method(
    'masterData',
    z.strictObject({
      username: z
        .string()
        .trim()
        .regex(/^[a-z0-9._-]{2,32}$/, '2–32 characters: lower-case letters, digits, dot, dash or underscore'),
      displayName: z.string().trim().min(1).max(120),
      role: roleSchema,
      password: z.string().min(8).max(200),
    }),
    operatorRow,
    'Adds an operator',
  ),
  'operators.update': method(
    'masterData',
    z.strictObject({
      username: z.string().trim().min(1),
      displayName: z.string().trim().min(1).max(120).optional(),
      role: roleSchema.optional(),
      active: z.boolean().optional(),
      unlock: z.boolean().optional(),
      password: z.string().min(8).max(200).optional(),
    }),
    operatorRow,
    'Changes role, active flag or password, or unlocks an operator; audited',
  ),
  'outlet.get': method('session', empty, outletSettings, 'Outlet settings and vending authority'),
  'outlet.update': method(
    'masterData',
    z.strictObject({
      name: z.string().trim().min(1).max(120).optional(),
      address: z.string().trim().max(200).optional(),
      receiptColumns: receiptColumns.optional(),
      lowFloatThresholdMinor: nonNegativeMinor.optional(),
    }),
    outletSettings,
    'Edits outlet settings; audited',
  ),
  'float.ledger': method(
    'session',
    z.strictObject({ limit, offset }),
    z.strictObject({
      balanceMinor: minor,
      lowFloatThresholdMinor: nonNegativeMinor,
      lowFloat: z.boolean(),
      rows: z.array(floatMovementRow),
      total: z.number().int(),
    }),
    'Vendor float balance and its movements, newest first',
  ),
  'float.topUp': method(
    'masterData',
    z.strictObject({
      requestId,
      amountMinor: minor.positive(),
      reference: z.string().trim().min(1).max(100),
    }),
    z.strictObject({ balanceMinor: minor }),
    'Records a float top-up paid to the utility (exactly once per request id); audited',
  ),
  'backup.start': method('audit', empty, job, 'Starts an online backup of the ledger'),
  'jobs.get': method('session', z.strictObject({ jobId: z.string() }), job, 'Progress of a long operation'),
  'audit.verify': method(
    'audit',
    empty,
    z.strictObject({ ok: z.boolean(), entries: z.number().int(), problems: z.array(z.string()) }),
    'Checks the hash chain of the audit trail',
  ),

  // Supervisor screen: head-office end of day (read from the sync server, so only online) and the local quarantine.
  'sync.endOfDay': method(
    'reports',
    z.strictObject({ date: businessDateSchema }),
    endOfDayReportSchema,
    "This outlet's end of day from the sync server: per operator, the outlet total and the Z reports checked",
  ),
  'sync.endOfDayCsv': method(
    'reports',
    z.strictObject({ date: businessDateSchema }),
    z.strictObject({ fileName: z.string(), csv: z.string() }),
    'The end of day as the CSV the sync server exports, with a file name to save it under',
  ),
  'sync.quarantine': method(
    'reports',
    empty,
    z.array(quarantinedEventSchema),
    'Events the sync server refused, kept on this outlet with the reason and the original payload',
  ),

  // Devices (receipt printer, magnetic and IC card encoders, card reader). Printing and card writing are separate,
  // repeatable steps on a committed sale; nothing is re-sent by itself. See src-main/devices/README.md.
  'devices.list': method(
    'session',
    empty,
    z.strictObject({
      devices: z.array(deviceViewSchema),
      candidates: deviceCandidatesSchema,
      simulated: z.boolean(),
    }),
    'Configured devices per role with their connection state, and the devices found on this computer',
  ),
  'devices.configure': method(
    'masterData',
    z.strictObject({ config: deviceConfigSchema, psc: pscHexSchema.optional() }),
    deviceViewSchema,
    'Sets the device of a role (identified by VID/PID/serial, address or reader name); audited',
  ),
  'devices.remove': method(
    'masterData',
    z.strictObject({ role: deviceRoleSchema }),
    ok,
    'Removes the device of a role; audited',
  ),
  'devices.status': method(
    'session',
    z.strictObject({ role: deviceRoleSchema.optional() }),
    z.strictObject({ statuses: z.array(deviceStatusSchema) }),
    'Live status: connected, paper, cover, and the card operation in progress',
  ),
  'devices.testPrint': method('session', empty, printResultSchema, 'Prints a test page'),
  'devices.jobs': method(
    'session',
    z.strictObject({ receiptNo: z.number().int().positive() }),
    z.strictObject({ jobs: z.array(carrierJobSchema) }),
    'Prints and card writes of a sale, oldest first, with their outcome',
  ),
  'receipt.print': method(
    'session',
    z.strictObject({ receiptNo: z.number().int().positive(), copy: z.boolean().default(false) }),
    printResultSchema,
    'Prints the receipt of a committed sale; a reprint is an explicit copy, marked COPY (audited)',
  ),
  'card.write': method(
    'session',
    z.strictObject({
      receiptNo: z.number().int().positive(),
      carrier: z.enum(['magnetic', 'ic']).optional(),
    }),
    cardWriteResultSchema,
    "Writes a sale's tokens to the customer's card and reads them back before it counts",
  ),
  'card.read': method(
    'session',
    empty,
    z.strictObject({ meterNo: z.string() }),
    'Identifies a meter from its card (waits for a swipe; card.cancel stops the wait)',
  ),
  'card.cancel': method(
    'session',
    empty,
    z.strictObject({ cancelled: z.boolean() }),
    'Cancels the card read or write that is waiting for a swipe or a card',
  ),
} as const;

export type BridgeContract = typeof bridgeContract;
export type MethodName = keyof BridgeContract;
export const METHOD_NAMES = Object.keys(bridgeContract) as MethodName[];
/** What the caller passes (defaults not yet applied). */
export type MethodArgs<M extends MethodName> = z.input<BridgeContract[M]['args']>;
/** What the handler receives (after zod parsing: defaults applied). */
export type ParsedArgs<M extends MethodName> = z.output<BridgeContract[M]['args']>;
export type MethodResult<M extends MethodName> = z.output<BridgeContract[M]['result']>;

export type AppInfo = z.output<typeof appInfoSchema>;
export type StatusView = z.output<typeof statusSchema>;
export type SaleSummary = z.output<typeof saleSummary>;
export type TokenExplanation = z.output<typeof tokenExplanation>;
export type MeterRowView = z.output<typeof meterRow>;
export type CustomerRowView = z.output<typeof customerRow>;
export type TariffRowView = z.output<typeof tariffRow>;
export type OperatorRowView = z.output<typeof operatorRow>;
export type OutletSettings = z.output<typeof outletSettings>;
export type FloatMovementView = z.output<typeof floatMovementRow>;
export type JobView = z.output<typeof job>;
export type ZReportListRow = z.output<typeof zReportListRow>;
export type EngineeringTokenArgs = z.output<typeof engineeringToken>;

/** The wire envelope, the same over Electron IPC and browser-mode HTTP. */
export const bridgeRequestSchema = z.strictObject({
  /** The operator session from auth.login (absent for public methods). */
  session: z.string().max(200).optional(),
  args: z.unknown(),
});
export type BridgeRequest = z.output<typeof bridgeRequestSchema>;

export const bridgeErrorSchema = z.strictObject({
  code: z.string(),
  userMessage: z.string(),
  detail: z.string(),
});
export type BridgeErrorView = z.output<typeof bridgeErrorSchema>;

export type BridgeResponse<R = unknown> = { ok: true; result: R } | { ok: false; error: BridgeErrorView };

/** What the Electron preload exposes as `window.openvend`: one function per method, taking the envelope. */
export type PreloadBridge = { [M in MethodName]: (request: BridgeRequest) => Promise<BridgeResponse> };

/** The Electron IPC channel of a method: one channel per method, all under one prefix. */
export const ipcChannel = (name: MethodName) => `openvend:${name}`;
