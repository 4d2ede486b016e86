import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { and, asc, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { CUSTOMER_IMPORT_COLUMNS } from '../src-main/engine/csv-import.ts';
import { isValidPhone } from '../src-main/engine/master-data.ts';
import { hashPassword } from '../src-main/engine/operators.ts';
import {
  type MasterChange,
  type MasterChangeKind,
  type MasterPage,
  masterAuthoritySchema,
  masterChangeSchema,
  masterCustomerSchema,
  masterFloatTopUpSchema,
  masterMeterBlockSchema,
  masterOperatorSchema,
  OPERATOR_USERNAME,
} from '../src-shared/sync/master-data.ts';
import type { ServerDb, ServerTx } from './db/database.ts';
import { masterChange, outlet, utility } from './db/schema.ts';
import { ServerError } from './errors.ts';

/**
 * Master data on the server: an append-only change log per utility (or per outlet), pulled by server
 * sequence. Every writer takes the same transaction-level advisory lock first, so sequence numbers commit in
 * order and a reader that saw change N has seen every change below N (bigserial alone can commit 11 before 10).
 */
const MASTER_WRITE_LOCK = 0x4f56_4d44; // 'OVMD'

interface NewChange {
  outletId: number | null;
  kind: MasterChangeKind;
  key: string;
  data: unknown;
}

async function appendChanges(db: ServerDb, utilityId: number, changes: NewChange[], now: Date) {
  // Validate every change against the wire schema before writing: the outlet must never receive one it refuses.
  for (const c of changes) {
    const parsed = masterChangeSchema.safeParse({ seq: 1, kind: c.kind, key: c.key, data: c.data });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ServerError(
        'ADMIN_INVALID',
        `Invalid ${c.kind} ${c.key}: ${issue.path.join('.')} ${issue.message}`,
        JSON.stringify(c),
      );
    }
  }
  return db.transaction(async (tx: ServerTx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${MASTER_WRITE_LOCK})`);
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
  });
}

async function utilityByCode(db: ServerDb, code: string) {
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
  const problems: CsvProblem[] = [];
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(new TextDecoder('utf-8', { fatal: true }).decode(input.csv), {
      bom: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      info: true,
    }) as unknown as typeof records;
  } catch (error) {
    return {
      imported: 0,
      problems: [{ line: 1, message: `Not a valid UTF-8 CSV file: ${(error as Error).message}` }],
    };
  }
  const [first, ...rows] = records;
  if (!first || rows.length === 0)
    return { imported: 0, problems: [{ line: 1, message: 'The file has no rows.' }] };
  const header = first.record;
  const columns = new Map(header.map((name, i) => [name.trim().toLowerCase(), i]));
  const known = new Set(CUSTOMER_IMPORT_COLUMNS.map((c) => c.name));
  for (const name of columns.keys())
    if (!known.has(name)) problems.push({ line: 1, message: `Unknown column ${name}.` });
  for (const c of CUSTOMER_IMPORT_COLUMNS) {
    if (c.required && !columns.has(c.name)) problems.push({ line: 1, message: `Missing column ${c.name}.` });
  }
  if (problems.length > 0) return { imported: 0, problems };
  const changes: NewChange[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of rows) {
    // The line the record ends on (blank lines are skipped, so counting records would be wrong).
    const line = info.lines;
    const get = (name: string) => (record[columns.get(name) ?? -1] ?? '').trim();
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

/** One page of the changes an outlet sees (its utility's, and its own), after `after`, in sequence order. */
export async function masterPage(
  db: ServerDb,
  who: { outletId: number },
  query: { after: number; limit: number },
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
  const changes = page.map((r) => ({ seq: r.id, kind: r.kind, key: r.key, data: r.data }) as MasterChange);
  return { changes, cursor: page.at(-1)?.id ?? query.after, more: rows.length > query.limit };
}
