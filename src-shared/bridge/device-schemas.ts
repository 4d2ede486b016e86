import { z } from 'zod';

/**
 * Device settings and device views for the bridge (contract.ts, the device methods) and the engine's device service.
 * A device is identified by USB vendor/product id and serial number, by network address, or by PC/SC reader name;
 * never by a COM port name alone (it changes when a device is plugged into another socket).
 */

export const DEVICE_ROLES = ['receipt-printer', 'magnetic-encoder', 'ic-encoder', 'card-reader'] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];
export const deviceRoleSchema = z.enum(DEVICE_ROLES);

const usbId = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{4}$/, '4 hex digits, e.g. 0801')
  .transform((id) => id.toLowerCase());
const usbMatch = {
  vendorId: usbId,
  productId: usbId,
  /** Needed when two devices of the same model are attached. */
  serialNumber: z.string().trim().min(1).max(100).optional(),
};

const serialConnection = z.strictObject({
  type: z.literal('serial'),
  ...usbMatch,
  baudRate: z.number().int().min(1200).max(921_600).default(9600),
});
const tcpConnection = z.strictObject({
  type: z.literal('tcp'),
  host: z
    .string()
    .trim()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
  port: z.number().int().min(1).max(65_535).default(9100),
});
const hidConnection = z.strictObject({ type: z.literal('hid'), ...usbMatch });
const pcscConnection = z.strictObject({
  type: z.literal('pcsc'),
  /** Part of the reader name (e.g. "ACR38"); the first reader when absent. */
  readerName: z.string().trim().min(1).max(100).optional(),
});
/**
 * A printer behind the operating system's print queue, printed through the desktop app (write-only: its status
 * cannot be read). `deviceName` is the system's printer name; the system default printer when absent.
 */
const osSpoolerConnection = z.strictObject({
  type: z.literal('os-spooler'),
  deviceName: z.string().trim().min(1).max(200).optional(),
});
/** The built-in simulators (tests, demos, training). */
const simulatorConnection = z.strictObject({ type: z.literal('simulator') });

export const printerSettingsSchema = z.strictObject({
  /** Code page table and its ESC t number on this printer model (default PC858 = 19, Epson numbering). */
  codePage: z
    .strictObject({ table: z.string().trim().min(1).max(40), escT: z.number().int().min(0).max(255) })
    .optional(),
  /** Print a QR code of each token (printers that support GS ( k). */
  qrCode: z.boolean().default(false),
  cut: z.enum(['full', 'partial', 'none']).default('partial'),
  /** 'gs-r': confirm each job with GS r 1 (only printers that answer it). */
  confirm: z.enum(['none', 'gs-r']).default('none'),
});

export const magCardLayoutSchema = z.strictObject({
  id: z.string().trim().min(1).max(40),
  description: z.string().trim().max(200).default(''),
  track: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  fields: z
    .array(z.enum(['meter-no', 'sequence', 'tokens']))
    .min(1)
    .max(3),
  separator: z.string().length(1),
  sequenceDigits: z.number().int().min(1).max(9),
  meterNoDigits: z.strictObject({ min: z.number().int().min(1), max: z.number().int().max(20) }),
  maxTokens: z.number().int().min(1).max(8),
});

const msrModel = z.enum(['msr206', 'msr605x']);

export const magneticSettingsSchema = z.strictObject({
  model: msrModel.default('msr206'),
  coercivity: z.enum(['hi', 'lo']).default('hi'),
  leadingZeros: z
    .strictObject({ tracks13: z.number().int().min(0).max(255), track2: z.number().int().min(0).max(255) })
    .optional(),
  /** The carrier layout for this meter vendor; OpenVend's default (track 3) when absent. */
  layout: magCardLayoutSchema.optional(),
});

export const icSettingsSchema = z.strictObject({
  profile: z.enum(['acs-acr38', 'omnikey']).default('acs-acr38'),
  /** Tries that must be left before a PSC is presented (3 = stop after any earlier wrong attempt). */
  minTriesLeft: z.number().int().min(1).max(3).default(3),
});

export const cardReaderSettingsSchema = z.strictObject({ model: msrModel.default('msr206') });

export const deviceConfigSchema = z.discriminatedUnion('role', [
  z.strictObject({
    role: z.literal('receipt-printer'),
    connection: z.discriminatedUnion('type', [
      serialConnection,
      tcpConnection,
      osSpoolerConnection,
      simulatorConnection,
    ]),
    settings: printerSettingsSchema.default({ qrCode: false, cut: 'partial', confirm: 'none' }),
  }),
  z.strictObject({
    role: z.literal('magnetic-encoder'),
    connection: z.discriminatedUnion('type', [serialConnection, hidConnection, simulatorConnection]),
    settings: magneticSettingsSchema.default({ model: 'msr206', coercivity: 'hi' }),
  }),
  z.strictObject({
    role: z.literal('ic-encoder'),
    connection: z.discriminatedUnion('type', [pcscConnection, simulatorConnection]),
    settings: icSettingsSchema.default({ profile: 'acs-acr38', minTriesLeft: 3 }),
  }),
  z.strictObject({
    role: z.literal('card-reader'),
    connection: z.discriminatedUnion('type', [serialConnection, hidConnection, simulatorConnection]),
    settings: cardReaderSettingsSchema.default({ model: 'msr206' }),
  }),
]);
export type DeviceConfig = z.output<typeof deviceConfigSchema>;
export type DeviceConfigInput = z.input<typeof deviceConfigSchema>;
export type DeviceConnection = DeviceConfig['connection'];

/** The IC-card PSC as 6 hex digits: write-only (stored sealed, never returned). */
export const pscHexSchema = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{6}$/, '6 hex digits');

export const deviceStateSchema = z.enum(['not-configured', 'connected', 'disconnected', 'unavailable']);

export const deviceViewSchema = z.strictObject({
  role: deviceRoleSchema,
  config: deviceConfigSchema.nullable(),
  /** ic-encoder: whether a PSC is stored (the PSC itself is never returned). */
  pscSet: z.boolean(),
  state: deviceStateSchema,
  /** Where it was found, or why not (for the settings screen). */
  detail: z.string(),
  updatedAt: z.string().nullable(),
});
export type DeviceView = z.output<typeof deviceViewSchema>;

const candidateSchema = z.strictObject({
  path: z.string(),
  vendorId: z.string().nullable(),
  productId: z.string().nullable(),
  serialNumber: z.string().nullable(),
  description: z.string(),
});

export const deviceCandidatesSchema = z.strictObject({
  serial: z.array(candidateSchema),
  hid: z.array(candidateSchema),
  pcscReaders: z.array(z.string()),
  /** Discovery that could not run here (e.g. a driver not installed), in plain words. */
  problems: z.array(z.string()),
});
export type DeviceCandidates = z.output<typeof deviceCandidatesSchema>;

export const cardOperationSchema = z.strictObject({
  kind: z.enum(['write', 'read']),
  carrier: z.enum(['magnetic', 'ic']),
  /** What the person must do now. */
  phase: z.enum([
    'starting',
    'swipe-to-read',
    'swipe-to-write',
    'swipe-to-verify',
    'swipe-to-erase',
    'insert-card',
    'writing',
    'verifying',
  ]),
});
export type CardOperationView = z.output<typeof cardOperationSchema>;

export const deviceStatusSchema = z.strictObject({
  role: deviceRoleSchema,
  state: z.enum(['not-configured', 'ready', 'not-ready', 'disconnected', 'unavailable']),
  /** The error code behind a state other than ready (e.g. PRINTER_PAPER_END), else null. */
  code: z.string().nullable(),
  /** What the cashier sees: what is wrong and what to do. */
  message: z.string(),
  printer: z
    .strictObject({
      online: z.boolean(),
      paperEnd: z.boolean(),
      paperNearEnd: z.boolean(),
      coverOpen: z.boolean(),
      error: z.boolean(),
    })
    .nullable(),
  operation: cardOperationSchema.nullable(),
});
export type DeviceStatusView = z.output<typeof deviceStatusSchema>;

export const printResultSchema = z.strictObject({
  jobId: z.string(),
  /** null for a test print. */
  receiptNo: z.number().int().nullable(),
  copy: z.boolean(),
  /** 'sent': every byte left this computer; 'confirmed': the printer reported it processed the job. */
  state: z.enum(['sent', 'confirmed']),
  /** E.g. paper nearly out, or a job that could not be confirmed: shown, not an error. */
  warning: z.string().nullable(),
  /** With the simulated printer: the page as printed (plain text), else null. */
  preview: z.string().nullable(),
  /** With the simulated printer: the page as an image (a data:image/svg+xml URL), else null. */
  previewImage: z.string().nullable(),
});
export type PrintResult = z.output<typeof printResultSchema>;

export const cardWriteResultSchema = z.strictObject({
  jobId: z.string(),
  receiptNo: z.number().int(),
  carrier: z.enum(['magnetic', 'ic']),
  meterNo: z.string(),
  tokenCount: z.number().int(),
  /** Always 'verified': a write counts only after the read-back matched. */
  state: z.literal('verified'),
});

export const carrierJobSchema = z.strictObject({
  jobId: z.string(),
  receiptNo: z.number().int().nullable(),
  carrier: z.enum(['receipt', 'magnetic-card', 'ic-card', 'test-print']),
  copy: z.boolean(),
  state: z.enum(['queued', 'sent', 'confirmed', 'verified', 'failed']),
  device: z.string(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  operator: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CarrierJobView = z.output<typeof carrierJobSchema>;
