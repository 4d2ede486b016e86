import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { and, asc, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  CUSTOMER_IMPORT_COLUMNS,
  type ImportColumn,
  METER_IMPORT_COLUMNS,
} from '../src-main/engine/csv-import.ts';
import { isValidPhone } from '../src-main/engine/master-data.ts';
import { hashPassword } from '../src-main/engine/operators.ts';
import {
  createKekFile,
  type KekSource,
  kekFromEnvironmentOrFile,
  sealSecret,
  unsealSecret,
} from '../src-main/security/key-encryption-key.ts';
import { sealToDevice } from '../src-main/sync/key-envelope.ts';
import { VENDING_KEY_BYTES } from '../src-shared/sts/decoder-key.ts';
import {
  KEY_TYPE_NAMES,
  requireDecoderKeyAlgorithm,
  requireEncryptionAlgorithm,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
} from '../src-shared/sts/identifiers.ts';
import { vendingKeyCheckValue } from '../src-shared/sts/key-check-value.ts';
import { type MeterPan, meterPanFromMeterNo, parseMeterPan } from '../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../src-shared/sts/secret-key.ts';
import { requireBaseDate } from '../src-shared/sts/tid.ts';
import { canonicalJson } from '../src-shared/sync/canonical-json.ts';
import {
  type MasterChange,
  type MasterChangeKind,
  type MasterKeyChange,
  type MasterMeter,
  type MasterPage,
  type MasterTariff,
  METER_NUMBER,
  masterAuthoritySchema,
  masterChangeSchema,
  masterCustomerSchema,
  masterFloatTopUpSchema,
  masterKeyChangeSchema,
  masterMeterBlockSchema,
  masterMeterSchema,
  masterOperatorSchema,
  masterTariffSchema,
  OPERATOR_USERNAME,
  SUPPLY_GROUP_KEY,
  supplyGroupEnvelopeSubject,
  supplyGroupFields,
  supplyGroupKey,
} from '../src-shared/sync/master-data.ts';
import { pricingTariffVersion, validateTariff } from '../src-shared/vending/pricing.ts';
import { resolveServerDataDir } from './data-dir.ts';
import { queryRows, type ServerDb, type ServerTx } from './db/database.ts';
import { masterChange, outlet, utility } from './db/schema.ts';
import { ServerError } from './errors.ts';

/**
 * Master data on the server: an append-only change log per utility (or per outlet), pulled by server
 * sequence. Every writer of a utility takes the same transaction-level advisory lock, so sequence numbers commit in
 * order and a reader that saw change N has seen every change below N (bigserial alone can commit 11 before 10).
 */
const MASTER_WRITE_LOCK = 0x4f56_4d44; // 'OVMD'

/** A supply group as stored on the server: the wire fields, the vending key sealed under the server KEK. */
const storedSupplyGroupSchema = z.strictObject({
  ...supplyGroupFields,
  vendingKeySealed: z.base64().min(1).max(200),
});
type StoredSupplyGroup = z.infer<typeof storedSupplyGroupSchema>;
const storedSupplyGroupChange = z.strictObject({
  key: z.string().regex(SUPPLY_GROUP_KEY),
  data: storedSupplyGroupSchema,
});

export interface NewChange {
  outletId: number | null;
  kind: MasterChangeKind;
  key: string;
  data: unknown;
}

async function appendChanges(db: ServerDb, utilityId: number, changes: NewChange[], now: Date) {
  // Validate every change against the wire schema before writing: the outlet must never receive one it refuses.
  for (const c of changes) {
    // A supply group is stored with its key sealed under the server KEK; the wire form is made per device.
    const parsed =
      c.kind === 'supply-group'
        ? storedSupplyGroupChange.safeParse({ key: c.key, data: c.data })
        : masterChangeSchema.safeParse({ seq: 1, kind: c.kind, key: c.key, data: c.data });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ServerError(
        'ADMIN_INVALID',
        `Invalid ${c.kind} ${c.key}: ${issue.path.join('.')} ${issue.message}`,
        JSON.stringify(c),
      );
    }
  }
  return db.transaction((tx: ServerTx) => insertChanges(tx, utilityId, changes, now));
}

/**
 * Appends changes inside the caller's transaction (ingest writes the month-to-date this way, with its batch).
 * The lock is held to the commit: take it last, after any row locks the transaction needs.
 */
export async function insertChanges(tx: ServerTx, utilityId: number, changes: NewChange[], now: Date) {
  // One lock per utility: an outlet reads only its utility's changes, so only their order matters to it.
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${MASTER_WRITE_LOCK}, ${utilityId})`);
  const at = now.toISOString();
  const rows = await tx
    .insert(masterChange)
    .values(
      changes.map((c) => ({
        utilityId,
        outletId: c.outletId,
        kind: c.kind,
        key: c.key,
        data: c.data,
        createdAt: at,
      })),
    )
    .returning({ id: masterChange.id });
  return rows.map((r) => r.id);
}

export async function utilityByCode(db: ServerDb, code: string) {
  const [row] = await db.select().from(utility).where(eq(utility.code, code));
  if (!row) throw new ServerError('ADMIN_NOT_FOUND', `There is no utility ${code}.`);
  return row;
}

async function outletByCode(db: ServerDb, code: string) {
  const [row] = await db.select().from(outlet).where(eq(outlet.code, code));
  if (!row) throw new ServerError('ADMIN_NOT_FOUND', `There is no outlet ${code}.`);
  return row;
}

const BOOLEAN_WORDS = new Map([
  ['yes', true],
  ['no', false],
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['', false],
]);

export interface CsvProblem {
  line: number;
  message: string;
}

type CsvRow = { record: string[]; info: { lines: number } };

/** A CSV file in one of the outlet's import formats: its rows and column positions, or why it is unusable. */
function readCsv(
  csv: Uint8Array,
  known: readonly ImportColumn[],
): { rows: CsvRow[]; columns: Map<string, number> } | { problems: CsvProblem[] } {
  let records: CsvRow[];
  try {
    records = parse(new TextDecoder('utf-8', { fatal: true }).decode(csv), {
      bom: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      info: true,
    }) as unknown as CsvRow[];
  } catch (error) {
    return { problems: [{ line: 1, message: `Not a valid UTF-8 CSV file: ${(error as Error).message}` }] };
  }
  const [first, ...rows] = records;
  if (!first || rows.length === 0) return { problems: [{ line: 1, message: 'The file has no rows.' }] };
  const columns = new Map(first.record.map((name, i) => [name.trim().toLowerCase(), i]));
  const names = new Set(known.map((c) => c.name));
  const problems: CsvProblem[] = [];
  for (const name of columns.keys())
    if (!names.has(name)) problems.push({ line: 1, message: `Unknown column ${name}.` });
  for (const c of known) {
    if (c.required && !columns.has(c.name)) problems.push({ line: 1, message: `Missing column ${c.name}.` });
  }
  return problems.length > 0 ? { problems } : { rows, columns };
}

const cell = (row: CsvRow, columns: Map<string, number>, name: string): string =>
  (row.record[columns.get(name) ?? -1] ?? '').trim();

/**
 * Customers CSV (the outlet's import format: CUSTOMER_IMPORT_COLUMNS) into the utility's master data, all or
 * nothing: every problem is listed with its line and nothing is written unless the whole file is clean. A
 * customer already known is replaced (the newest change wins on the outlets).
 */
export async function importCustomersToServer(
  db: ServerDb,
  input: { utilityCode: string; csv: Uint8Array; now: Date },
): Promise<{ imported: number; problems: CsvProblem[] }> {
  const target = await utilityByCode(db, input.utilityCode);
  const read = readCsv(input.csv, CUSTOMER_IMPORT_COLUMNS);
  if ('problems' in read) return { imported: 0, problems: read.problems };
  const { rows, columns } = read;
  const problems: CsvProblem[] = [];
  const changes: NewChange[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of rows) {
    // The line the record ends on (blank lines are skipped, so counting records would be wrong).
    const line = info.lines;
    const get = (name: string) => cell({ record, info }, columns, name);
    const accountNo = get('account_no');
    if (accountNo.length === 0 || accountNo.length > 64 || /\p{Cc}/u.test(accountNo)) {
      problems.push({ line, message: `Invalid account_no ${JSON.stringify(accountNo)}.` });
      continue;
    }
    const earlier = seen.get(accountNo);
    if (earlier !== undefined)
      problems.push({ line, message: `Account ${accountNo} repeats line ${earlier}.` });
    seen.set(accountNo, line);
    const fbe = BOOLEAN_WORDS.get(get('fbe_eligible').toLowerCase());
    if (fbe === undefined)
      problems.push({ line, message: 'fbe_eligible must be yes, no, true, false, 1 or 0.' });
    if (!isValidPhone(get('phone'))) problems.push({ line, message: 'Invalid phone number.' });
    const data = {
      name: get('name'),
      address: get('address'),
      phone: get('phone'),
      location: get('location'),
      fbeEligible: fbe ?? false,
    };
    const parsed = masterCustomerSchema.safeParse(data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ line, message: `${issue.path.join('.')}: ${issue.message}` });
    }
    changes.push({ outletId: null, kind: 'customer', key: accountNo, data });
  }
  if (problems.length > 0) return { imported: 0, problems };
  await appendChanges(db, target.id, changes, input.now);
  return { imported: changes.length, problems };
}

export const importCustomersFileToServer = (
  db: ServerDb,
  input: { utilityCode: string; file: string; now: Date },
) =>
  importCustomersToServer(db, {
    utilityCode: input.utilityCode,
    csv: readFileSync(input.file),
    now: input.now,
  });

/** Blocks a meter (by meter number) at every outlet of the utility; `reason: null` unblocks (a tombstone). */
export async function setMeterBlock(
  db: ServerDb,
  input: { utilityCode: string; meterNo: string; reason: string | null; now: Date },
) {
  const target = await utilityByCode(db, input.utilityCode);
  if (!/^\d{11,18}$/.test(input.meterNo)) {
    throw new ServerError('ADMIN_INVALID', 'Give the meter number (11–18 digits).', input.meterNo);
  }
  const data =
    input.reason === null ? null : masterMeterBlockSchema.parse({ reason: input.reason.trim() || 'blocked' });
  const [seq] = await appendChanges(
    db,
    target.id,
    [{ outletId: null, kind: 'meter.block', key: input.meterNo, data }],
    input.now,
  );
  return { seq: seq! };
}

/**
 * Creates or changes an operator at every outlet of the utility. The password is hashed here (the outlet's
 * scrypt format) and only the hash is stored and sent; without a password the current hash is kept.
 */
export async function setOperator(
  db: ServerDb,
  input: {
    utilityCode: string;
    username: string;
    displayName: string;
    role: string;
    password: string | null;
    active: boolean;
    now: Date;
  },
) {
  const target = await utilityByCode(db, input.utilityCode);
  if (!OPERATOR_USERNAME.test(input.username)) {
    throw new ServerError(
      'ADMIN_INVALID',
      'An operator name uses 2–32 lower-case letters, digits, dots, dashes or underscores.',
      input.username,
    );
  }
  let passwordHash: string | undefined;
  if (input.password !== null) {
    if (input.password.length < 8)
      throw new ServerError('ADMIN_INVALID', 'A password needs at least 8 characters.');
    passwordHash = hashPassword(input.password);
  } else {
    const [latest] = await db
      .select({ data: masterChange.data })
      .from(masterChange)
      .where(
        and(
          eq(masterChange.utilityId, target.id),
          eq(masterChange.kind, 'operator'),
          eq(masterChange.key, input.username),
        ),
      )
      .orderBy(desc(masterChange.id))
      .limit(1);
    passwordHash = (latest?.data as { passwordHash?: string } | undefined)?.passwordHash;
    if (!passwordHash)
      throw new ServerError('ADMIN_INVALID', `Operator ${input.username} is new: give a password.`);
  }
  const data = masterOperatorSchema.safeParse({
    displayName: input.displayName.trim(),
    role: input.role,
    passwordHash,
    active: input.active,
  });
  if (!data.success) {
    throw new ServerError(
      'ADMIN_INVALID',
      'An operator needs a display name and a role (cashier, supervisor, engineer, admin).',
    );
  }
  const [seq] = await appendChanges(
    db,
    target.id,
    [{ outletId: null, kind: 'operator', key: input.username, data: data.data }],
    input.now,
  );
  return { seq: seq!, username: input.username };
}

/** A float top-up for one outlet, credited there exactly once (keyed by `reference`). */
export async function addFloatTopUp(
  db: ServerDb,
  input: { outletCode: string; amountMinor: number; reference: string; now: Date },
) {
  const target = await outletByCode(db, input.outletCode);
  const data = masterFloatTopUpSchema.safeParse({
    amountMinor: input.amountMinor,
    reference: input.reference.trim(),
  });
  if (!data.success) {
    throw new ServerError(
      'ADMIN_INVALID',
      'A top-up needs a whole positive amount in minor units and a reference.',
    );
  }
  const [existing] = await db
    .select({ id: masterChange.id })
    .from(masterChange)
    .where(
      and(
        eq(masterChange.kind, 'float.top-up'),
        eq(masterChange.outletId, target.id),
        eq(masterChange.key, data.data.reference),
      ),
    );
  if (existing)
    throw new ServerError(
      'ADMIN_EXISTS',
      `Top-up ${data.data.reference} was already sent to ${target.code}.`,
    );
  const [seq] = await appendChanges(
    db,
    target.utilityId,
    [{ outletId: target.id, kind: 'float.top-up', key: data.data.reference, data: data.data }],
    input.now,
  );
  return { seq: seq! };
}

/** The outlet's vending authority: its credit limit and the last day it may sell. */
export async function setVendingAuthority(
  db: ServerDb,
  input: { outletCode: string; creditLimitMinor: number; validUntil: string; now: Date },
) {
  const target = await outletByCode(db, input.outletCode);
  const data = masterAuthoritySchema.safeParse({
    creditLimitMinor: input.creditLimitMinor,
    validUntil: input.validUntil,
  });
  if (!data.success) {
    throw new ServerError(
      'ADMIN_INVALID',
      'The credit limit must be a whole amount ≥ 0 and valid-until an ISO date-time (e.g. 2027-01-31T22:00:00Z).',
    );
  }
  const [seq] = await appendChanges(
    db,
    target.utilityId,
    [{ outletId: target.id, kind: 'authority', key: 'outlet', data: data.data }],
    input.now,
  );
  return { seq: seq! };
}

// ---------------------------------------------------------------------------------------------
// Supply groups, tariffs, meters and key changes

/**
 * The server's key-encryption key for vending keys at rest: OPENVEND_SERVER_KEK (64 hex digits), else an
 * owner-only `kek.key` in the server data folder (the outlet's rules, src-main/security/key-encryption-key.ts).
 */
export function serverKekSource(dataDir: string, env: NodeJS.ProcessEnv = process.env): KekSource {
  const source = kekFromEnvironmentOrFile(dataDir, { OPENVEND_KEK: env.OPENVEND_SERVER_KEK });
  const description = env.OPENVEND_SERVER_KEK
    ? 'environment variable OPENVEND_SERVER_KEK'
    : source.description;
  return {
    description,
    load() {
      try {
        return source.load();
      } catch (error) {
        throw new ServerError(
          'SERVER_CONFIG',
          'The sync server cannot open its vending keys: set OPENVEND_SERVER_KEK (64 hex digits) or keep the owner-only kek.key file in its data folder.',
          `${description}: ${(error as Error).message}`,
        );
      }
    },
  };
}

/** For the admin command that stores the first key: makes the server's kek.key when there is none. */
export function loadOrCreateServerKek(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (!env.OPENVEND_SERVER_KEK) {
    try {
      createKekFile(dataDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return serverKekSource(dataDir, env).load();
}

/** The KEK the master route uses when the server was not given one: the environment or the default folder. */
export const defaultServerKek = (): Buffer => serverKekSource(resolveServerDataDir()).load();

const serverSealContext = (utilityId: number, key: string) =>
  `openvend-server:vending-key:v1:${utilityId}:${key}`;

const invalid = (message: string, detail?: string): never => {
  throw new ServerError('ADMIN_INVALID', message, detail ?? message);
};
/** Runs an STS field check (which throws StsError) and reports its message as an admin refusal. */
function checked<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    return invalid(`${what}: ${(error as { userMessage?: string }).userMessage ?? (error as Error).message}`);
  }
}

/** The newest record under each key of one utility-wide kind (null = tombstone). */
async function latestRecords<T>(db: ServerDb, utilityId: number, kind: MasterChangeKind) {
  const rows = await queryRows<{ key: string; data: T | null }>(
    db,
    sql`SELECT DISTINCT ON (key) key, data FROM master_change
        WHERE utility_id = ${utilityId} AND outlet_id IS NULL AND kind = ${kind}
        ORDER BY key, id DESC`,
  );
  return new Map(rows.map((r) => [r.key, r.data]));
}

async function latestRecord<T>(db: ServerDb, utilityId: number, kind: MasterChangeKind, key: string) {
  const [row] = await db
    .select({ data: masterChange.data })
    .from(masterChange)
    .where(
      and(
        eq(masterChange.utilityId, utilityId),
        isNull(masterChange.outletId),
        eq(masterChange.kind, kind),
        eq(masterChange.key, key),
      ),
    )
    .orderBy(desc(masterChange.id))
    .limit(1);
  return row ? (row.data as T | null) : undefined;
}

export interface SupplyGroupInput {
  utilityCode: string;
  sgc: string;
  name: string;
  keyType: number | string;
  krn: number;
  baseDate: number;
  dkga: string;
  ea: string;
  ken: number;
  /** The vending key in hex (read from stdin by the CLI, never from the command line). */
  vendingKeyHex: string;
  now: Date;
}

/**
 * Publishes a supply group and its vending key to every outlet of the utility. The key is stored sealed under
 * the server KEK and leaves the server only as an envelope for the requesting device. A key revision keeps its
 * key: another key under the same SGC/KRN/DKGA is refused (a new key takes a new KRN).
 */
export async function publishSupplyGroup(db: ServerDb, kek: Buffer, input: SupplyGroupInput) {
  const target = await utilityByCode(db, input.utilityCode);
  const sgc = checked('sgc', () => requireSgc(input.sgc));
  const krn = checked('krn', () => requireKrn(input.krn));
  const dkga = checked('dkga', () => requireDecoderKeyAlgorithm(String(input.dkga).toUpperCase()));
  const ea = checked('ea', () => requireEncryptionAlgorithm(String(input.ea).toUpperCase()));
  if (ea === 'EA11' && dkga !== 'DKGA04') invalid('EA11 supply groups use DKGA04 keys.');
  const keyTypeByName = KEY_TYPE_NAMES.indexOf(String(input.keyType).toUpperCase() as 'DITK');
  const keyType = checked('key type', () =>
    requireKeyType(keyTypeByName >= 0 ? keyTypeByName : Number(input.keyType)),
  );
  const baseDate = checked('base date', () => requireBaseDate(input.baseDate));
  const ken = checked('ken', () => requireKen(input.ken));
  const key = checked('vending key', () =>
    SecretKey.fromHex(input.vendingKeyHex.trim(), 'vending key', VENDING_KEY_BYTES[dkga]),
  );
  const bytes = key.bytes();
  try {
    const kcv = vendingKeyCheckValue(key, dkga);
    const recordKey = supplyGroupKey({ sgc, krn, dkga });
    const existing = await latestRecord<StoredSupplyGroup>(db, target.id, 'supply-group', recordKey);
    if (existing && existing.kcv !== kcv) {
      throw new ServerError(
        'ADMIN_EXISTS',
        `Supply group ${sgc} KRN ${krn} ${dkga} already has another vending key (check value ${existing.kcv}). A new key needs a new key revision (KRN).`,
        `kcv ${existing.kcv} stored, ${kcv} given`,
      );
    }
    const data: StoredSupplyGroup = {
      name: input.name.trim(),
      keyType,
      baseDate,
      ea,
      ken,
      kcv,
      vendingKeySealed: sealSecret(kek, bytes, serverSealContext(target.id, recordKey)).toString('base64'),
    };
    const [seq] = await appendChanges(
      db,
      target.id,
      [{ outletId: null, kind: 'supply-group', key: recordKey, data }],
      input.now,
    );
    return { seq: seq!, key: recordKey, kcv };
  } finally {
    bytes.fill(0);
  }
}

/**
 * Publishes a tariff (code, name, TI, resource and versions, as in a JSON file) to every outlet. Versions are
 * append-only: a version already published must come again unchanged (or be left out), a new number is added;
 * the tariff's TI and resource never change (they are part of the meters' keys and units). Every version
 * passes the pricing rules the outlet applies at sale time.
 */
export async function publishTariff(
  db: ServerDb,
  input: { utilityCode: string; tariff: unknown; now: Date },
) {
  const target = await utilityByCode(db, input.utilityCode);
  const parsed = masterTariffSchema
    .extend({ code: z.string().min(1).max(64).regex(/^\S+$/) })
    .safeParse(input.tariff);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return invalid(`Invalid tariff: ${issue.path.join('.')} ${issue.message}`);
  }
  const { code, ...given } = parsed.data;
  const existing = await latestRecord<MasterTariff>(db, target.id, 'tariff', code);
  if (existing && (existing.ti !== given.ti || existing.resource !== given.resource)) {
    invalid(
      `Tariff ${code} is TI ${existing.ti} for ${existing.resource}; its TI and resource cannot change (publish a new tariff code).`,
    );
  }
  const versions = new Map((existing?.versions ?? []).map((v) => [v.version, v]));
  let added = 0;
  for (const v of given.versions) {
    const published = versions.get(v.version);
    if (published) {
      if (canonicalJson(published) !== canonicalJson(v)) {
        throw new ServerError(
          'ADMIN_EXISTS',
          `Tariff ${code} version ${v.version} is already published with other content; publish it as a new version.`,
        );
      }
      continue;
    }
    try {
      validateTariff(pricingTariffVersion(code, given, v));
    } catch (error) {
      invalid(`Tariff ${code} version ${v.version}: ${(error as Error).message}`);
    }
    versions.set(v.version, v);
    added++;
  }
  if (added === 0 && existing?.name === given.name) return { seq: null, code, added };
  const record: MasterTariff = {
    name: given.name,
    ti: given.ti,
    resource: given.resource,
    versions: [...versions.values()].sort((a, b) => a.version - b.version),
  };
  const [seq] = await appendChanges(
    db,
    target.id,
    [{ outletId: null, kind: 'tariff', key: code, data: record }],
    input.now,
  );
  return { seq: seq!, code, added };
}

export const publishTariffFile = (db: ServerDb, input: { utilityCode: string; file: string; now: Date }) => {
  let tariff: unknown;
  try {
    tariff = JSON.parse(readFileSync(input.file, 'utf8'));
  } catch (error) {
    return invalid(`${input.file} is not a JSON file: ${(error as Error).message}`);
  }
  return publishTariff(db, { utilityCode: input.utilityCode, tariff, now: input.now });
};

/** The fields of a meter that make its decoder key: changed only by a scheduled key change. */
const METER_KEY_FIELDS = ['pan', 'sgc', 'ti', 'krn', 'keyType', 'ea', 'dkga', 'baseDate', 'ken'] as const;

/**
 * Meters CSV (the outlet's meter import format: METER_IMPORT_COLUMNS) into the utility's master data, all or
 * nothing. Tariffs, supply groups and customers must already be published (the outlet applies in order). A
 * meter already registered may change its customer, tariff or type; its key data may not (that is a key
 * change: `master key-change`).
 */
export async function importMetersToServer(
  db: ServerDb,
  input: { utilityCode: string; csv: Uint8Array; now: Date },
): Promise<{ imported: number; problems: CsvProblem[] }> {
  const target = await utilityByCode(db, input.utilityCode);
  const read = readCsv(input.csv, METER_IMPORT_COLUMNS);
  if ('problems' in read) return { imported: 0, problems: read.problems };
  const { rows, columns } = read;
  const [tariffs, groups, customers, meters] = await Promise.all([
    latestRecords<MasterTariff>(db, target.id, 'tariff'),
    latestRecords<unknown>(db, target.id, 'supply-group'),
    latestRecords<unknown>(db, target.id, 'customer'),
    latestRecords<MasterMeter>(db, target.id, 'meter'),
  ]);
  const problems: CsvProblem[] = [];
  const changes: NewChange[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const line = row.info.lines;
    const get = (name: string) => cell(row, columns, name);
    const before = problems.length;
    const field = <T>(name: string, run: (value: string) => T): T | undefined => {
      const value = get(name);
      try {
        return run(value);
      } catch (error) {
        const message = (error as { userMessage?: string }).userMessage ?? (error as Error).message;
        problems.push({ line, message: `${name}: ${message}` });
        return undefined;
      }
    };
    const number = (value: string) => (/^\d{1,4}$/.test(value) ? Number(value) : value);
    const iinLength = field('iin_length', (v) =>
      v === '' ? undefined : v === '4' ? 4 : v === '6' ? 6 : invalid('must be 4 or 6'),
    );
    const pan = columns.has('pan')
      ? field('pan', (v): MeterPan => parseMeterPan(v, iinLength ?? 6))
      : field('meter_no', (v): MeterPan => meterPanFromMeterNo(v));
    const meterType = field('meter_type', (v) => masterMeterSchema.shape.meterType.parse(v.toLowerCase()));
    const keyTypeText = get('key_type').toUpperCase();
    const data = {
      pan: pan?.pan,
      iinLength: pan?.iin.length,
      meterType,
      customerAccountNo: get('customer_account_no'),
      tariffCode: get('tariff_code'),
      sgc: field('sgc', (v) => requireSgc(v)),
      ti: field('ti', (v) => requireTi(number(v))),
      krn: field('krn', (v) => requireKrn(number(v))),
      keyType: field('key_type', () =>
        requireKeyType(
          KEY_TYPE_NAMES.includes(keyTypeText as 'DITK')
            ? KEY_TYPE_NAMES.indexOf(keyTypeText as 'DITK')
            : number(keyTypeText),
        ),
      ),
      ea: field('ea', (v) => requireEncryptionAlgorithm(/^\d{1,2}$/.test(v) ? Number(v) : v.toUpperCase())),
      dkga: field('dkga', (v) => requireDecoderKeyAlgorithm(v.toUpperCase())),
      baseDate: field('base_date', (v) => requireBaseDate(number(v))),
      ken: field('ken', (v) => (v === '' ? 255 : requireKen(number(v)))),
    };
    if (problems.length > before || !pan) continue;
    const meterNo = pan.drn + pan.checkDigit;
    const earlier = seen.get(meterNo);
    if (earlier !== undefined) problems.push({ line, message: `Meter ${meterNo} repeats line ${earlier}.` });
    seen.set(meterNo, line);
    const parsed = masterMeterSchema.safeParse(data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ line, message: `${issue.path.join('.')}: ${issue.message}` });
      continue;
    }
    const meter = parsed.data;
    const tariff = tariffs.get(meter.tariffCode);
    if (!tariff) problems.push({ line, message: `Tariff ${meter.tariffCode} is not published.` });
    else if (tariff.resource !== meter.meterType)
      problems.push({ line, message: `Tariff ${meter.tariffCode} is for ${tariff.resource}.` });
    if (meter.ea === 'EA11' && meter.dkga !== 'DKGA04')
      problems.push({ line, message: 'EA11 meters use DKGA04 keys.' });
    const group = supplyGroupKey(meter);
    if (!groups.get(group))
      problems.push({ line, message: `Supply group ${group} is not published: publish its key first.` });
    if (meter.customerAccountNo !== '' && !customers.get(meter.customerAccountNo))
      problems.push({ line, message: `Customer ${meter.customerAccountNo} is not published.` });
    const registered = meters.get(meterNo);
    const changedKey = registered ? METER_KEY_FIELDS.filter((f) => registered[f] !== meter[f]) : [];
    if (changedKey.length > 0) {
      problems.push({
        line,
        message: `Meter ${meterNo} is registered with other key data (${changedKey.join(', ')}): schedule a key change instead.`,
      });
    }
    changes.push({ outletId: null, kind: 'meter', key: meterNo, data: meter });
  }
  if (problems.length > 0) return { imported: 0, problems };
  await appendChanges(db, target.id, changes, input.now);
  return { imported: changes.length, problems };
}

export const importMetersFileToServer = (
  db: ServerDb,
  input: { utilityCode: string; file: string; now: Date },
) =>
  importMetersToServer(db, { utilityCode: input.utilityCode, csv: readFileSync(input.file), now: input.now });

async function registeredMeter(db: ServerDb, utilityId: number, meterNo: string): Promise<MasterMeter> {
  if (!METER_NUMBER.test(meterNo)) invalid('Give the meter number (11–18 digits).', meterNo);
  const meter = await latestRecord<MasterMeter>(db, utilityId, 'meter', meterNo);
  if (!meter)
    throw new ServerError('ADMIN_NOT_FOUND', `Meter ${meterNo} is not registered (or was retired).`);
  return meter;
}

/** Retires a meter at every outlet (a tombstone: the outlets block it, keeping its sales history). */
export async function retireMeter(db: ServerDb, input: { utilityCode: string; meterNo: string; now: Date }) {
  const target = await utilityByCode(db, input.utilityCode);
  await registeredMeter(db, target.id, input.meterNo);
  const [seq] = await appendChanges(
    db,
    target.id,
    [{ outletId: null, kind: 'meter', key: input.meterNo, data: null }],
    input.now,
  );
  return { seq: seq! };
}

export interface KeyChangeTarget {
  sgc?: string | undefined;
  ti?: number | undefined;
  krn?: number | undefined;
  baseDate?: number | undefined;
}

/**
 * The key change a meter gets: merged into the one still scheduled for it (a TID roll-over scheduled after a
 * KRN change keeps the KRN change), and checked against the published supply groups.
 */
function mergedKeyChange(
  meterNo: string,
  meter: MasterMeter,
  scheduled: MasterKeyChange | null | undefined,
  to: KeyChangeTarget,
  groups: Map<string, unknown>,
): MasterKeyChange {
  const base = scheduled && !scheduled.cancelled ? scheduled : null;
  const change = {
    sgc: to.sgc !== undefined ? checked('sgc', () => requireSgc(to.sgc)) : (base?.sgc ?? null),
    ti: to.ti !== undefined ? checked('ti', () => requireTi(to.ti)) : (base?.ti ?? null),
    krn: to.krn !== undefined ? checked('krn', () => requireKrn(to.krn)) : (base?.krn ?? null),
    baseDate:
      to.baseDate !== undefined
        ? checked('base date', () => requireBaseDate(to.baseDate))
        : (base?.baseDate ?? null),
    cancelled: false,
  };
  const parsed = masterKeyChangeSchema.safeParse(change);
  if (!parsed.success) return invalid('Give a new --to-sgc, --to-ti, --to-krn or --to-base-date.');
  const group = supplyGroupKey({
    sgc: change.sgc ?? meter.sgc,
    krn: change.krn ?? meter.krn,
    dkga: meter.dkga,
  });
  if (!groups.get(group)) {
    invalid(
      `Meter ${meterNo}: supply group ${group} is not published; publish its key before the key change.`,
    );
  }
  return parsed.data;
}

/** Schedules a key change for one meter: every outlet issues the key change tokens at the meter's next vend. */
export async function scheduleKeyChange(
  db: ServerDb,
  input: { utilityCode: string; meterNo: string; to: KeyChangeTarget; now: Date },
) {
  const target = await utilityByCode(db, input.utilityCode);
  const meter = await registeredMeter(db, target.id, input.meterNo);
  const scheduled = await latestRecord<MasterKeyChange>(db, target.id, 'meter.key-change', input.meterNo);
  const groups = await latestRecords<unknown>(db, target.id, 'supply-group');
  const data = mergedKeyChange(input.meterNo, meter, scheduled, input.to, groups);
  const [seq] = await appendChanges(
    db,
    target.id,
    [{ outletId: null, kind: 'meter.key-change', key: input.meterNo, data }],
    input.now,
  );
  return { seq: seq!, keyChange: data };
}

/** Withdraws a meter's scheduled key change (outlets that already issued it keep the new key). */
export async function cancelKeyChange(
  db: ServerDb,
  input: { utilityCode: string; meterNo: string; now: Date },
) {
  const target = await utilityByCode(db, input.utilityCode);
  const scheduled = await latestRecord<MasterKeyChange>(db, target.id, 'meter.key-change', input.meterNo);
  if (!scheduled || scheduled.cancelled) {
    throw new ServerError('ADMIN_NOT_FOUND', `Meter ${input.meterNo} has no scheduled key change.`);
  }
  const [seq] = await appendChanges(
    db,
    target.id,
    [
      {
        outletId: null,
        kind: 'meter.key-change',
        key: input.meterNo,
        data: { ...scheduled, cancelled: true },
      },
    ],
    input.now,
  );
  return { seq: seq! };
}

/**
 * TID roll-over for a supply group: a base-date move scheduled for every registered meter of the group whose
 * base date (after any key change already scheduled) is earlier. One change per meter, all or nothing.
 */
export async function scheduleRollover(
  db: ServerDb,
  input: { utilityCode: string; sgc: string; toBaseDate: number; now: Date },
) {
  const target = await utilityByCode(db, input.utilityCode);
  const sgc = checked('sgc', () => requireSgc(input.sgc));
  const toBaseDate = checked('base date', () => requireBaseDate(input.toBaseDate));
  const [meters, scheduled, groups] = await Promise.all([
    latestRecords<MasterMeter>(db, target.id, 'meter'),
    latestRecords<MasterKeyChange>(db, target.id, 'meter.key-change'),
    latestRecords<unknown>(db, target.id, 'supply-group'),
  ]);
  const changes: NewChange[] = [];
  for (const [meterNo, meter] of meters) {
    if (!meter) continue;
    const pending = scheduled.get(meterNo);
    const live = pending && !pending.cancelled ? pending : null;
    if ((live?.sgc ?? meter.sgc) !== sgc || (live?.baseDate ?? meter.baseDate) >= toBaseDate) continue;
    const data = mergedKeyChange(meterNo, meter, pending, { baseDate: toBaseDate }, groups);
    changes.push({ outletId: null, kind: 'meter.key-change', key: meterNo, data });
  }
  if (changes.length === 0) return { scheduled: 0, meters: [] as string[] };
  await appendChanges(db, target.id, changes, input.now);
  return { scheduled: changes.length, meters: changes.map((c) => c.key) };
}

/** Who asks for a page: the outlet (which changes it sees) and its device (to whom keys are sealed). */
export interface MasterReader {
  outletId: number;
  deviceId: string;
  /** The device's enrolled Ed25519 public key (raw, base64url). */
  publicKey: string;
}

/** A stored supply group turned into its wire form for one device: the key unsealed and sealed to it. */
function supplyGroupForDevice(
  row: { utilityId: number; key: string; data: unknown },
  reader: MasterReader,
  kek: Buffer,
) {
  const { vendingKeySealed, ...fields } = row.data as StoredSupplyGroup;
  const key = unsealSecret(
    kek,
    Buffer.from(vendingKeySealed, 'base64'),
    serverSealContext(row.utilityId, row.key),
  );
  try {
    return {
      ...fields,
      vendingKey: sealToDevice(
        reader.publicKey,
        { deviceId: reader.deviceId, subject: supplyGroupEnvelopeSubject(row.key) },
        key,
      ),
    };
  } finally {
    key.fill(0);
  }
}

/** One page of the changes an outlet sees (its utility's, and its own), after `after`, in sequence order. */
export async function masterPage(
  db: ServerDb,
  who: MasterReader,
  query: { after: number; limit: number },
  serverKek: () => Buffer = defaultServerKek,
): Promise<MasterPage> {
  const [target] = await db.select().from(outlet).where(eq(outlet.id, who.outletId));
  if (!target) return { changes: [], cursor: query.after, more: false };
  const rows = await db
    .select()
    .from(masterChange)
    .where(
      and(
        eq(masterChange.utilityId, target.utilityId),
        or(isNull(masterChange.outletId), eq(masterChange.outletId, target.id)),
        gt(masterChange.id, query.after),
      ),
    )
    .orderBy(asc(masterChange.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  let kek: Buffer | undefined;
  const changes = page.map((r) => {
    if (r.kind !== 'supply-group')
      return { seq: r.id, kind: r.kind, key: r.key, data: r.data } as MasterChange;
    // Vending keys leave the server only inside an envelope for this device.
    kek ??= serverKek();
    return { seq: r.id, kind: r.kind, key: r.key, data: supplyGroupForDevice(r, who, kek) } as MasterChange;
  });
  return { changes, cursor: page.at(-1)?.id ?? query.after, more: rows.length > query.limit };
}
