import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import type { ImportResult } from '../../src-shared/bridge/domain-schemas.ts';
import { isOpenVendError, OpenVendError } from '../../src-shared/errors/openvend-error.ts';
import {
  type DecoderKeyAlgorithm,
  type EncryptionAlgorithm,
  KEY_TYPE_NAMES,
  type KeyType,
  requireDecoderKeyAlgorithm,
  requireEncryptionAlgorithm,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
} from '../../src-shared/sts/identifiers.ts';
import {
  type IinLength,
  type MeterPan,
  meterPanFromMeterNo,
  parseMeterPan,
} from '../../src-shared/sts/meter-pan.ts';
import { type BaseDate, requireBaseDate } from '../../src-shared/sts/tid.ts';
import { appendAudit } from './audit-log.ts';
import { customerInserter, isValidPhone, meterInserter } from './master-data.ts';
import { type OperatorSession, requirePermission } from './operators.ts';

/**
 * CSV import of customers and meters: all or nothing.
 *
 * 1. The whole file is parsed and every row checked field by field (pure, no database).
 * 2. Inside one transaction (IMMEDIATE for a real import, so the write lock is held from the checks to the
 *    writes and nothing can slip in between), every field that passed is checked against the database
 *    (duplicates, tariffs, customers, vending keys), the lookups batched into one query each. Only when no
 *    row was rejected are the rows written, with one prepared statement, together with one audit entry.
 *
 * A rejected import (or a dry run) writes nothing at all, not even an audit entry; the result lists every
 * problem with its line number, column, value and a reason.
 */

export type ImportKind = ImportResult['kind'];
type ImportRejection = ImportResult['rejected'][number];

export interface ImportFile {
  /** The name the operator gave (shown in the report; its base name goes into the audit entry). */
  name: string;
  bytes: Uint8Array;
}

export interface ImportOptions {
  dryRun?: boolean;
  now?: Date;
}

export interface ImportColumn {
  name: string;
  required: boolean;
  description: string;
}

export const CUSTOMER_IMPORT_COLUMNS: readonly ImportColumn[] = [
  { name: 'account_no', required: true, description: 'account number, unique (not already registered)' },
  { name: 'name', required: true, description: 'customer name' },
  { name: 'address', required: false, description: 'street address (may be blank)' },
  { name: 'phone', required: false, description: 'digits, spaces, + and - only (may be blank)' },
  { name: 'location', required: false, description: 'erf, stand or GPS reference (may be blank)' },
  {
    name: 'fbe_eligible',
    required: false,
    description: 'free basic electricity: yes/no, true/false or 1/0 (blank = no)',
  },
];

export const METER_IMPORT_COLUMNS: readonly ImportColumn[] = [
  {
    name: 'pan',
    required: false,
    description: '18-digit meter PAN (IIN + DRN + check digit); give pan OR meter_no',
  },
  {
    name: 'meter_no',
    required: false,
    description:
      'number printed on the meter: 12 digits (IIN 600727) or 14 digits (IIN 0000), check digit last',
  },
  { name: 'iin_length', required: false, description: 'with pan: 6 (default) or 4 digits of IIN' },
  {
    name: 'meter_type',
    required: true,
    description: "electricity, water or gas (must match the tariff's resource)",
  },
  {
    name: 'customer_account_no',
    required: true,
    description: 'account of a customer already in the database (blank = no customer)',
  },
  { name: 'tariff_code', required: true, description: 'code of an existing tariff, e.g. IBT-DOM' },
  { name: 'sgc', required: true, description: 'supply group code, 6 digits' },
  { name: 'ti', required: true, description: 'tariff index 00-99' },
  { name: 'krn', required: true, description: 'key revision number 1-9' },
  { name: 'key_type', required: true, description: 'key type 0-3 (or DITK, DDTK, DUTK, DCTK)' },
  { name: 'ea', required: true, description: 'encryption algorithm EA07, EA09 or EA11' },
  { name: 'dkga', required: true, description: 'decoder key algorithm DKGA02 or DKGA04 (EA11 needs DKGA04)' },
  { name: 'base_date', required: true, description: 'base date 1993, 2014 or 2035' },
  { name: 'ken', required: false, description: 'key expiry number 0-255 (blank = 255)' },
];

const COLUMNS: Record<ImportKind, readonly ImportColumn[]> = {
  customers: CUSTOMER_IMPORT_COLUMNS,
  meters: METER_IMPORT_COLUMNS,
};

const MAX_VALUE_IN_REPORT = 80;
const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Collects every problem found (one per failed check, so one row may have several). */
class Problems {
  readonly list: ImportRejection[] = [];

  add(line: number, column: string | undefined, value: string | undefined, code: string, message: string) {
    const entry: ImportRejection = { line, code, message };
    if (column !== undefined) entry.column = column;
    if (value !== undefined && value !== '') {
      entry.value = value.length > MAX_VALUE_IN_REPORT ? `${value.slice(0, MAX_VALUE_IN_REPORT)}…` : value;
    }
    this.list.push(entry);
  }

  /** Runs a validator; an OpenVendError becomes a problem on that column and the result is undefined. */
  check<T>(line: number, column: string, value: string, validate: () => T): T | undefined {
    try {
      return validate();
    } catch (error) {
      if (!isOpenVendError(error)) throw error;
      this.add(line, column, value, error.code, error.userMessage);
      return undefined;
    }
  }
}

/** One data row: its first line in the file and a reader of its trimmed cells by column name. */
type RowHandler = (
  line: number,
  get: (column: string) => string,
  columns: ReadonlyMap<string, number>,
) => void;

/**
 * Decodes and parses the file, checks the header, then hands each data row to `onRow` as it is parsed
 * (nothing but the validated rows is kept, so 100,000 rows stay cheap). Rows are only handed over when the
 * header is right. Returns the number of data rows.
 */
function readCsv(kind: ImportKind, bytes: Uint8Array, problems: Problems, onRow: RowHandler): number {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const at = lenient.indexOf('\uFFFD');
    const line = at < 0 ? 1 : lenient.slice(0, at).split(/\r\n|\n|\r/).length;
    problems.add(
      line,
      undefined,
      undefined,
      'IMPORT_NOT_UTF8',
      'The file is not UTF-8 text. Save it as "CSV UTF-8 (comma delimited)" and try again.',
    );
    return 0;
  }

  let header: { line: number; width: number; columns: Map<string, number> | undefined } | undefined;
  let rows = 0;
  // Where the next record starts: after the previous record's last line and any blank lines skipped since.
  const position = { end: 0, empty: 0 };
  const startLine = (emptyLines: number) => position.end + 1 + (emptyLines - position.empty);
  const failure: { syntax?: { line: number; message: string } } = {};
  parse(text, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_records_with_error: true,
    // Records and errors arrive in file order. After a syntax error the parser's idea of the following
    // records is unreliable, so everything after the first one is ignored.
    on_skip: (error) => {
      if (failure.syntax || !error) return;
      const context = error as unknown as { empty_lines?: number };
      failure.syntax = {
        line: startLine(context.empty_lines ?? position.empty),
        message: error.message.replace(/\s*\[.*$/, ''),
      };
    },
    on_record: (record: string[], context) => {
      const line = startLine(context.empty_lines);
      position.end = context.lines;
      position.empty = context.empty_lines;
      if (failure.syntax || record.every((cell) => cell.trim() === '')) return null; // blanks or bare commas
      if (!header) {
        header = { line, width: record.length, columns: checkHeader(kind, line, record, problems) };
        return null;
      }
      rows++;
      if (!header.columns) return null;
      if (record.length !== header.width) {
        problems.add(
          line,
          undefined,
          undefined,
          'IMPORT_FIELD_COUNT',
          `This row has ${record.length} fields but the header has ${header.width}. Check for a missing or extra comma (quote values that contain commas).`,
        );
        return null;
      }
      const columns = header.columns;
      onRow(
        line,
        (name) => {
          const index = columns.get(name);
          return index === undefined ? '' : record[index]!.trim();
        },
        columns,
      );
      return null;
    },
  });
  if (failure.syntax) {
    problems.add(
      failure.syntax.line,
      undefined,
      undefined,
      'CSV_INVALID',
      `The file is not valid CSV from line ${failure.syntax.line}: ${failure.syntax.message}. Rows after it were not checked. Quote fields that contain commas, and double any quote inside a quoted field.`,
    );
  } else if (!header) {
    problems.add(1, undefined, undefined, 'IMPORT_EMPTY_FILE', 'The file is empty.');
  } else if (header.columns && rows === 0) {
    problems.add(header.line, undefined, undefined, 'IMPORT_NO_ROWS', 'The file has a header but no rows.');
  }
  return rows;
}

/** Header names are trimmed and case-insensitive; returns column → index, or undefined when unusable. */
function checkHeader(
  kind: ImportKind,
  line: number,
  cells: string[],
  problems: Problems,
): Map<string, number> | undefined {
  const known = COLUMNS[kind];
  const knownNames = known.map((c) => c.name);
  const columns = new Map<string, number>();
  let ok = true;
  cells.forEach((raw, index) => {
    const name = raw.trim().toLowerCase();
    if (name === '') {
      ok = false;
      problems.add(
        line,
        undefined,
        undefined,
        'IMPORT_UNKNOWN_COLUMN',
        `Column ${index + 1} of the header has no name (a stray comma at the end of the header?).`,
      );
    } else if (!knownNames.includes(name)) {
      ok = false;
      const hint = /[;\t]/.test(raw)
        ? ' The columns must be separated by commas, not semicolons or tabs.'
        : ` The ${kind} columns are: ${knownNames.join(', ')}.`;
      problems.add(
        line,
        raw.trim(),
        undefined,
        'IMPORT_UNKNOWN_COLUMN',
        `Unknown column "${raw.trim()}".${hint}`,
      );
    } else if (columns.has(name)) {
      ok = false;
      problems.add(
        line,
        name,
        undefined,
        'IMPORT_DUPLICATE_COLUMN',
        `Column ${name} appears more than once in the header.`,
      );
    } else columns.set(name, index);
  });
  const missing = known.filter((c) => c.required && !columns.has(c.name)).map((c) => c.name);
  if (kind === 'meters') {
    if (columns.has('pan') && columns.has('meter_no')) {
      ok = false;
      problems.add(
        line,
        'meter_no',
        undefined,
        'IMPORT_DUPLICATE_COLUMN',
        'Give the meter either as pan or as meter_no, not both.',
      );
    } else if (!columns.has('pan') && !columns.has('meter_no')) missing.unshift('pan');
  }
  for (const name of missing) {
    ok = false;
    problems.add(
      line,
      name,
      undefined,
      'IMPORT_MISSING_COLUMN',
      name === 'pan'
        ? 'Required column pan (or meter_no) is missing from the header.'
        : `Required column ${name} is missing from the header.`,
    );
  }
  return ok ? columns : undefined;
}

function plainText(
  problems: Problems,
  line: number,
  column: string,
  value: string,
  options: { required: boolean; max: number },
): string | undefined {
  if (value === '') {
    if (options.required)
      problems.add(line, column, value, 'IMPORT_REQUIRED', `A value for ${column} is required.`);
    return options.required ? undefined : '';
  }
  if (value.length > options.max) {
    problems.add(
      line,
      column,
      value,
      'IMPORT_TOO_LONG',
      `${column} is longer than ${options.max} characters.`,
    );
    return undefined;
  }
  if (CONTROL_CHARACTERS.test(value)) {
    problems.add(
      line,
      column,
      value,
      'IMPORT_INVALID_VALUE',
      `${column} contains a line break or another control character.`,
    );
    return undefined;
  }
  return value;
}

/** A failed import-only rule (its code is reported in the result, never thrown out of the import). */
class ImportRuleError extends OpenVendError {}
const invalid = (message: string) => new ImportRuleError('IMPORT_INVALID_VALUE', message);

const integerOrText = (value: string): number | string => (/^\d{1,9}$/.test(value) ? Number(value) : value);

function resultBase(kind: ImportKind, file: ImportFile, dryRun: boolean) {
  return {
    kind,
    file: file.name,
    sha256: createHash('sha256').update(file.bytes).digest('hex'),
    dryRun,
  };
}

const byLine = (a: ImportRejection, b: ImportRejection) => a.line - b.line;

/**
 * Looks many keys up in one query (the keys travel as one JSON array, joined through the table's unique
 * index): about four times faster than one prepared-statement call per row at 100,000 rows.
 * `sql` selects `key` and `found` from `json_each(?) AS j` joined to the table.
 */
function lookupAll<T>(sqlite: Database.Database, sql: string, keys: Iterable<string>): Map<string, T> {
  const rows = sqlite
    .prepare(sql)
    .raw()
    .all(JSON.stringify([...new Set(keys)])) as Array<[string, T]>;
  return new Map(rows);
}

function runImport(
  sqlite: Database.Database,
  dryRun: boolean,
  body: () => { rejected: ImportRejection[]; write: () => number },
): { rejected: ImportRejection[]; imported: number } {
  const transaction = sqlite.transaction(() => {
    const { rejected, write } = body();
    return { rejected, imported: rejected.length > 0 || dryRun ? 0 : write() };
  });
  // A dry run only reads (one consistent snapshot); a real import takes the write lock before checking.
  return dryRun ? transaction.deferred() : transaction.immediate();
}

// --- customers ------------------------------------------------------------------------------------

interface CustomerRow {
  line: number;
  accountNo: string;
  name: string;
  address: string;
  phone: string;
  location: string;
  fbeEligible: boolean;
}

const BOOLEAN_WORDS = new Map<string, boolean>([
  ['yes', true],
  ['no', false],
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['', false],
]);

export function importCustomersCsv(
  sqlite: Database.Database,
  session: OperatorSession,
  file: ImportFile,
  options: ImportOptions = {},
): ImportResult {
  requirePermission(session, 'masterData');
  const dryRun = options.dryRun ?? false;
  const base = resultBase('customers', file, dryRun);
  const problems = new Problems();
  const valid: CustomerRow[] = [];
  /** Every account number that passed its own checks, for the database check (even if the row has other problems). */
  const accounts: Array<{ line: number; accountNo: string }> = [];
  const firstLine = new Map<string, number>();
  const rows = readCsv('customers', file.bytes, problems, (line, get) => {
    const before = problems.list.length;
    const accountNo = plainText(problems, line, 'account_no', get('account_no'), {
      required: true,
      max: 64,
    });
    if (accountNo !== undefined) {
      accounts.push({ line, accountNo });
      const first = firstLine.get(accountNo);
      if (first !== undefined) {
        problems.add(
          line,
          'account_no',
          accountNo,
          'IMPORT_DUPLICATE_IN_FILE',
          `Account ${accountNo} appears twice in the file (first on line ${first}).`,
        );
      } else firstLine.set(accountNo, line);
    }
    const name = plainText(problems, line, 'name', get('name'), { required: true, max: 200 });
    const address = plainText(problems, line, 'address', get('address'), { required: false, max: 200 });
    const location = plainText(problems, line, 'location', get('location'), { required: false, max: 200 });
    const rawPhone = get('phone');
    const phone = problems.check(line, 'phone', rawPhone, () => {
      if (!isValidPhone(rawPhone)) {
        throw invalid('A phone number may contain digits, spaces, + and - only (at most 32 characters).');
      }
      return rawPhone;
    });
    const rawFbe = get('fbe_eligible');
    const fbeEligible = problems.check(line, 'fbe_eligible', rawFbe, () => {
      const flag = BOOLEAN_WORDS.get(rawFbe.toLowerCase());
      if (flag === undefined) {
        throw invalid('fbe_eligible must be yes, no, true, false, 1 or 0.');
      }
      return flag;
    });
    if (problems.list.length === before) {
      valid.push({
        line,
        accountNo: accountNo!,
        name: name!,
        address: address!,
        phone: phone!,
        location: location!,
        fbeEligible: fbeEligible!,
      });
    }
  });

  const outcome = runImport(sqlite, dryRun, () => {
    const existing = lookupAll<number>(
      sqlite,
      'SELECT j.value, c.id FROM json_each(?) AS j JOIN customer AS c ON c.account_no = j.value',
      accounts.map((c) => c.accountNo),
    );
    for (const c of accounts) {
      if (existing.has(c.accountNo)) {
        problems.add(
          c.line,
          'account_no',
          c.accountNo,
          'IMPORT_ALREADY_EXISTS',
          `Account ${c.accountNo} is already registered.`,
        );
      }
    }
    return {
      rejected: problems.list.sort(byLine),
      write: () => {
        const insert = customerInserter(sqlite);
        for (const c of valid) insert(c);
        auditImport(sqlite, session, 'customer', file.name, base.sha256, rows, valid.length, options.now);
        return valid.length;
      },
    };
  });
  return { ...base, rows, ...outcome };
}

/** One audit entry per import: who, which file (and its hash), how many rows. */
function auditImport(
  sqlite: Database.Database,
  session: OperatorSession,
  entity: 'customer' | 'meter',
  fileName: string,
  sha256: string,
  rows: number,
  imported: number,
  now = new Date(),
): void {
  const file = basename(fileName);
  appendAudit(
    sqlite,
    {
      operatorId: session.id,
      action: `${entity}.import`,
      entity,
      entityId: file,
      details: { file, sha256, rows, imported },
    },
    now,
  );
}

// --- meters ---------------------------------------------------------------------------------------

type MeterType = 'electricity' | 'water' | 'gas';
const METER_TYPES: readonly MeterType[] = ['electricity', 'water', 'gas'];

interface MeterRow {
  line: number;
  panColumn: 'pan' | 'meter_no';
  pan: MeterPan;
  iinLength: IinLength;
  meterNo: string;
  meterType: MeterType;
  customerAccountNo: string;
  tariffCode: string;
  sgc: string;
  ti: number;
  krn: number;
  keyType: KeyType;
  ea: EncryptionAlgorithm;
  dkga: DecoderKeyAlgorithm;
  baseDate: BaseDate;
  ken: number;
}

/**
 * A row after the field checks. Fields that failed are undefined (and already reported); the database
 * checks still run on the fields that passed, so one pass reports everything wrong with a row.
 */
type MeterCandidate = { [K in keyof MeterRow]: MeterRow[K] | undefined } & {
  line: number;
  panColumn: 'pan' | 'meter_no';
  customerAccountNo: string;
  tariffCode: string;
  /** Every field passed its checks. */
  complete: boolean;
};

/** The 12/14-digit number printed on the meter → its PAN (standard IIN by length), check digit verified. */
function panFromMeterNo(value: string): { pan: MeterPan; iinLength: IinLength } {
  const pan = meterPanFromMeterNo(value);
  return { pan, iinLength: pan.iin.length as IinLength };
}

function required(problems: Problems, line: number, column: string, value: string): boolean {
  if (value !== '') return true;
  problems.add(line, column, value, 'IMPORT_REQUIRED', `A value for ${column} is required.`);
  return false;
}

export function importMetersCsv(
  sqlite: Database.Database,
  session: OperatorSession,
  file: ImportFile,
  options: ImportOptions = {},
): ImportResult {
  requirePermission(session, 'masterData');
  const dryRun = options.dryRun ?? false;
  const base = resultBase('meters', file, dryRun);
  const problems = new Problems();
  const candidates: MeterCandidate[] = [];
  const firstPan = new Map<string, number>();
  const firstMeterNo = new Map<string, number>();
  const rows = readCsv('meters', file.bytes, problems, (line, get, columns) => {
    const panColumn = columns.has('pan') ? 'pan' : 'meter_no';
    const before = problems.list.length;

    const rawIin = get('iin_length');
    const iinLength = problems.check(line, 'iin_length', rawIin, (): IinLength | undefined => {
      if (rawIin === '') return undefined;
      if (rawIin !== '4' && rawIin !== '6') throw invalid('iin_length must be 4 or 6.');
      return Number(rawIin) as IinLength;
    });
    const rawPan = get(panColumn);
    let identity: { pan: MeterPan; iinLength: IinLength } | undefined;
    if (required(problems, line, panColumn, rawPan)) {
      identity = problems.check(line, panColumn, rawPan, () => {
        if (panColumn === 'pan') {
          const length = iinLength ?? 6;
          return { pan: parseMeterPan(rawPan, length), iinLength: length };
        }
        const fromNumber = panFromMeterNo(rawPan);
        if (iinLength !== undefined && iinLength !== fromNumber.iinLength) {
          throw invalid(
            `A ${fromNumber.iinLength === 6 ? 12 : 14}-digit meter number implies a ${fromNumber.iinLength}-digit IIN, but iin_length says ${iinLength}.`,
          );
        }
        return fromNumber;
      });
    }
    const meterNo = identity ? identity.pan.drn + identity.pan.checkDigit : undefined;
    if (identity && meterNo) {
      const samePan = firstPan.get(identity.pan.pan);
      const sameNo = firstMeterNo.get(meterNo);
      if (samePan !== undefined || sameNo !== undefined) {
        problems.add(
          line,
          panColumn,
          rawPan,
          'IMPORT_DUPLICATE_IN_FILE',
          samePan !== undefined
            ? `Meter ${identity.pan.pan} appears twice in the file (first on line ${samePan}).`
            : `Meter number ${meterNo} appears twice in the file (first on line ${sameNo}), with different IINs.`,
        );
      } else {
        firstPan.set(identity.pan.pan, line);
        firstMeterNo.set(meterNo, line);
      }
    }

    const rawType = get('meter_type');
    const meterType = required(problems, line, 'meter_type', rawType)
      ? problems.check(line, 'meter_type', rawType, () => {
          const type = rawType.toLowerCase() as MeterType;
          if (!METER_TYPES.includes(type)) throw invalid('meter_type must be electricity, water or gas.');
          return type;
        })
      : undefined;
    const customerAccountNo = get('customer_account_no');
    const tariffCode = get('tariff_code');
    required(problems, line, 'tariff_code', tariffCode);

    const rawSgc = get('sgc');
    const sgc = required(problems, line, 'sgc', rawSgc)
      ? problems.check(line, 'sgc', rawSgc, () => requireSgc(rawSgc))
      : undefined;
    const rawTi = get('ti');
    const ti = required(problems, line, 'ti', rawTi)
      ? problems.check(line, 'ti', rawTi, () => requireTi(rawTi))
      : undefined;
    const rawKrn = get('krn');
    const krn = required(problems, line, 'krn', rawKrn)
      ? problems.check(line, 'krn', rawKrn, () => requireKrn(integerOrText(rawKrn)))
      : undefined;
    const rawKeyType = get('key_type');
    const keyType = required(problems, line, 'key_type', rawKeyType)
      ? problems.check(line, 'key_type', rawKeyType, () => {
          const byName = KEY_TYPE_NAMES.indexOf(rawKeyType.toUpperCase() as (typeof KEY_TYPE_NAMES)[number]);
          return requireKeyType(byName >= 0 ? byName : integerOrText(rawKeyType));
        })
      : undefined;
    const rawEa = get('ea');
    const ea = required(problems, line, 'ea', rawEa)
      ? problems.check(line, 'ea', rawEa, () =>
          requireEncryptionAlgorithm(/^\d{1,2}$/.test(rawEa) ? Number(rawEa) : rawEa.toUpperCase()),
        )
      : undefined;
    const rawDkga = get('dkga');
    const dkga = required(problems, line, 'dkga', rawDkga)
      ? problems.check(line, 'dkga', rawDkga, () => requireDecoderKeyAlgorithm(rawDkga.toUpperCase()))
      : undefined;
    if (ea === 'EA11' && dkga !== undefined && dkga !== 'DKGA04') {
      problems.add(
        line,
        'dkga',
        rawDkga,
        'STS_INVALID_ALGORITHM',
        'EA11 meters use DKGA04 keys (DKGA02 gives a 64-bit key; EA11 needs 128 bits).',
      );
    }
    const rawBaseDate = get('base_date');
    const baseDate = required(problems, line, 'base_date', rawBaseDate)
      ? problems.check(line, 'base_date', rawBaseDate, () => requireBaseDate(integerOrText(rawBaseDate)))
      : undefined;
    const rawKen = get('ken');
    const ken = problems.check(line, 'ken', rawKen, () =>
      rawKen === '' ? 255 : requireKen(integerOrText(rawKen)),
    );

    candidates.push({
      line,
      complete: problems.list.length === before,
      panColumn,
      pan: identity?.pan,
      iinLength: identity?.iinLength,
      meterNo,
      meterType,
      customerAccountNo,
      tariffCode,
      sgc,
      ti,
      krn,
      keyType,
      ea,
      dkga,
      baseDate,
      ken,
    });
  });

  const outcome = runImport(sqlite, dryRun, () => {
    const tariffs = new Map(
      (
        sqlite.prepare('SELECT id, code, resource FROM tariff').all() as Array<{
          id: number;
          code: string;
          resource: string;
        }>
      ).map((t) => [t.code, t]),
    );
    const keys = new Map<string, string[]>();
    for (const g of sqlite
      .prepare('SELECT sgc, krn, dkga FROM supply_group ORDER BY krn, dkga')
      .all() as Array<{
      sgc: string;
      krn: number;
      dkga: string;
    }>) {
      keys.set(g.sgc, [...(keys.get(g.sgc) ?? []), `KRN ${g.krn} ${g.dkga}`]);
    }
    const defined = <T>(values: Array<T | undefined>) => values.filter((v): v is T => v !== undefined);
    const existingPans = lookupAll<number>(
      sqlite,
      'SELECT j.value, m.id FROM json_each(?) AS j JOIN meter AS m ON m.pan = j.value',
      defined(candidates.map((m) => m.pan?.pan)),
    );
    const meterNoOwners = lookupAll<string>(
      sqlite,
      'SELECT j.value, m.pan FROM json_each(?) AS j JOIN meter AS m ON m.meter_no = j.value',
      defined(candidates.map((m) => m.meterNo)),
    );
    const customers = lookupAll<number>(
      sqlite,
      'SELECT j.value, c.id FROM json_each(?) AS j JOIN customer AS c ON c.account_no = j.value',
      candidates.map((m) => m.customerAccountNo).filter((account) => account !== ''),
    );
    const knownTariffs = [...tariffs.keys()];
    const resolved: Array<{ meter: MeterRow; tariffId: number; customerId: number | null }> = [];

    for (const m of candidates) {
      const before = problems.list.length;
      if (m.pan && existingPans.has(m.pan.pan)) {
        problems.add(
          m.line,
          m.panColumn,
          m.pan.pan,
          'IMPORT_ALREADY_EXISTS',
          `Meter ${m.pan.pan} is already registered.`,
        );
      } else if (m.pan && m.meterNo && meterNoOwners.has(m.meterNo)) {
        problems.add(
          m.line,
          m.panColumn,
          m.pan.pan,
          'IMPORT_ALREADY_EXISTS',
          `Meter number ${m.meterNo} is already registered (as PAN ${meterNoOwners.get(m.meterNo)}, with another IIN).`,
        );
      }
      const tariff = tariffs.get(m.tariffCode);
      if (!tariff) {
        if (m.tariffCode !== '') {
          problems.add(
            m.line,
            'tariff_code',
            m.tariffCode,
            'IMPORT_UNKNOWN_TARIFF',
            `Unknown tariff ${m.tariffCode}.${knownTariffs.length > 0 && knownTariffs.length <= 12 ? ` Known tariffs: ${knownTariffs.join(', ')}.` : ''}`,
          );
        }
      } else if (m.meterType && tariff.resource !== m.meterType) {
        problems.add(
          m.line,
          'meter_type',
          m.meterType,
          'IMPORT_TARIFF_MISMATCH',
          `Tariff ${m.tariffCode} is for ${tariff.resource}, but this is a ${m.meterType} meter.`,
        );
      }
      const customerId = m.customerAccountNo === '' ? null : customers.get(m.customerAccountNo);
      if (customerId === undefined) {
        problems.add(
          m.line,
          'customer_account_no',
          m.customerAccountNo,
          'IMPORT_UNKNOWN_CUSTOMER',
          `Unknown customer account ${m.customerAccountNo}: import the customers first.`,
        );
      }
      if (m.sgc !== undefined && m.krn !== undefined && m.dkga !== undefined) {
        const loaded = keys.get(m.sgc) ?? [];
        if (!loaded.includes(`KRN ${m.krn} ${m.dkga}`)) {
          problems.add(
            m.line,
            'sgc',
            m.sgc,
            'IMPORT_NO_VENDING_KEY',
            `No vending key is loaded for supply group ${m.sgc} KRN ${m.krn} ${m.dkga}, so this meter could never be sold to.${
              loaded.length > 0
                ? ` Keys loaded for ${m.sgc}: ${loaded.join(', ')}.`
                : ' Load the supply group key first.'
            }`,
          );
        }
      }
      if (m.complete && problems.list.length === before && tariff && customerId !== undefined) {
        resolved.push({ meter: m as MeterRow, tariffId: tariff.id, customerId });
      }
    }
    return {
      rejected: problems.list.sort(byLine),
      write: () => {
        const insert = meterInserter(sqlite);
        for (const { meter: m, tariffId, customerId } of resolved) insert({ ...m, tariffId, customerId });
        auditImport(sqlite, session, 'meter', file.name, base.sha256, rows, resolved.length, options.now);
        return resolved.length;
      },
    };
  });
  return { ...base, rows, ...outcome };
}

/** Imports by kind (the CLI's entry point). */
export function importCsv(
  sqlite: Database.Database,
  session: OperatorSession,
  kind: ImportKind,
  file: ImportFile,
  options: ImportOptions = {},
): ImportResult {
  return kind === 'customers'
    ? importCustomersCsv(sqlite, session, file, options)
    : importMetersCsv(sqlite, session, file, options);
}
