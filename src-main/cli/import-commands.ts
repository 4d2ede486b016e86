import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ImportResult } from '../../src-shared/bridge/domain-schemas.ts';
import {
  CUSTOMER_IMPORT_COLUMNS,
  type ImportColumn,
  type ImportKind,
  importCsv,
  METER_IMPORT_COLUMNS,
} from '../engine/csv-import.ts';
import { authenticate } from '../engine/operators.ts';
import { LEDGER_FILE, resolveDataDir } from '../ledger/data-dir.ts';
import { openLedger } from '../ledger/database.ts';
import { CliInputError, EXIT, printJson } from './io.ts';
import { readPassword } from './password.ts';

interface ImportCommandOptions {
  dataDir?: string;
  operator?: string;
  json?: boolean;
  dryRun?: boolean;
}

/** How many problems the text report prints before pointing at --json for the rest. */
const TEXT_REPORT_LIMIT = 200;

const SINGULAR: Record<ImportKind, string> = { customers: 'customer', meters: 'meter' };

function columnList(columns: readonly ImportColumn[]): string {
  const width = Math.max(...columns.map((c) => c.name.length)) + 2;
  return columns
    .map((c) => `  ${c.name.padEnd(width)}${c.required ? '(required) ' : '(optional) '}${c.description}`)
    .join('\n');
}

const COMMON_HELP = `
All or nothing: every row is checked first; if any row is wrong, nothing is written and every problem is listed
with its line number, column, value and reason. Otherwise all rows are written in one transaction with one audit
entry (file name, SHA-256 of the file, counts). --dry-run checks the file and writes nothing.

File format: UTF-8 (a byte-order mark is accepted), comma-separated, a header row first. Header names are
case-insensitive and may be in any order; an unknown or duplicated column is an error (a typo never passes
silently). Values are trimmed; blank lines are skipped; quote values that contain commas.

Needs an operator with the admin role: --operator NAME, the password from OPENVEND_PASSWORD or a prompt.

Exit codes: 0 imported (or, with --dry-run, every row valid); 1 rows rejected, nothing written;
2 usage error (no such file or data directory, wrong password, role not allowed).`;

const HELP: Record<ImportKind, string> = {
  customers: `
Columns:
${columnList(CUSTOMER_IMPORT_COLUMNS)}

Rules: account_no is unique in the file and not already registered; name is required.
${COMMON_HELP}

Example:
  account_no,name,address,phone,location,fbe_eligible
  ACC2001,Naledi Mokoena,"14 Church Street, Seshego",+27 82 555 2001,Erf 301,yes

  openvend customers import customers.csv --operator admin --dry-run
`,
  meters: `
Columns (give the meter as pan OR as meter_no):
${columnList(METER_IMPORT_COLUMNS)}

Rules: the PAN's (or meter number's) check digit must be right; a meter already registered, or twice in the file,
is refused; every STS field is range-checked; EA11 needs DKGA04; the tariff must exist and be for the meter's
resource; the customer account must already exist (import customers first); and a vending key for the
meter's supply group (sgc + krn + dkga) must be loaded, otherwise the meter could never be sold to.
${COMMON_HELP}

Example:
  pan,meter_type,customer_account_no,tariff_code,sgc,ti,krn,key_type,ea,dkga,base_date,ken
  600727050500000017,electricity,ACC2001,IBT-DOM,123456,01,1,2,EA07,DKGA02,2014,255

  openvend meters import meters.csv --operator admin
`,
};

function printReport(result: ImportResult): void {
  const what = result.kind;
  const out: string[] = [];
  if (result.rejected.length === 0) {
    out.push(
      result.dryRun
        ? `Dry run: all ${result.rows} ${what} in ${result.file} are valid. Nothing was written.`
        : `Imported ${result.imported} ${result.imported === 1 ? SINGULAR[what] : what} from ${result.file}.`,
    );
    if (!result.dryRun) out.push(`File SHA-256: ${result.sha256} (recorded in the audit log).`);
  } else {
    const badLines = new Set(result.rejected.map((r) => r.line)).size;
    out.push(
      `${result.file}: ${result.rejected.length} problem(s) on ${badLines} line(s) of ${result.rows} row(s). NOTHING WAS IMPORTED${result.dryRun ? ' (dry run)' : ''}.`,
      'Fix these and run the import again:',
    );
    for (const r of result.rejected.slice(0, TEXT_REPORT_LIMIT)) {
      const where =
        r.column === undefined ? '' : `, ${r.column}${r.value === undefined ? '' : ` "${r.value}"`}`;
      out.push(`  line ${r.line}${where}: ${r.message} [${r.code}]`);
    }
    if (result.rejected.length > TEXT_REPORT_LIMIT) {
      out.push(`  … and ${result.rejected.length - TEXT_REPORT_LIMIT} more; use --json for the full list.`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function runImportCommand(
  kind: ImportKind,
  file: string,
  options: ImportCommandOptions,
  setExitCode: (code: number) => void,
): Promise<void> {
  const dataDir = resolveDataDir(options.dataDir);
  if (!existsSync(join(dataDir, LEDGER_FILE))) {
    throw new CliInputError(
      `There is no outlet database in ${dataDir}. Run "openvend demo" or "openvend init" first.`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CliInputError(`Cannot read the ${kind} file ${file}.`, (error as Error).message);
  }
  const username = options.operator ?? process.env.OPENVEND_OPERATOR;
  if (!username) throw new CliInputError('Say who is importing: --operator NAME (or OPENVEND_OPERATOR).');
  const password = await readPassword(`Password for ${username}: `);
  // The import needs no vending keys, so the ledger is opened without unsealing them (no KEK needed).
  const ledger = openLedger(dataDir);
  try {
    const session = authenticate(ledger.sqlite, username, password, new Date());
    const result = importCsv(
      ledger.sqlite,
      session,
      kind,
      { name: file, bytes },
      { dryRun: options.dryRun ?? false },
    );
    if (options.json) printJson(result);
    else printReport(result);
    setExitCode(result.rejected.length === 0 ? EXIT.ok : EXIT.failed);
  } finally {
    ledger.close();
  }
}

/**
 * `openvend meters import FILE` and `openvend customers import FILE`. If a `meters` or `customers` command
 * already exists (registered by another module), `import` is added under it instead of a second one.
 */
export function registerImportCommands(program: Command, setExitCode: (code: number) => void): void {
  const parents: Record<ImportKind, string> = {
    customers: 'Customer master data',
    meters: 'Meter master data',
  };
  for (const kind of ['meters', 'customers'] as const) {
    const parent =
      program.commands.find((command) => command.name() === kind) ??
      program.command(kind).description(parents[kind]);
    parent
      .command('import')
      .description(
        `Import ${kind} from a CSV file: all rows or none, with a report of every rejected row (admin only)`,
      )
      .argument('<file>', 'CSV file (UTF-8, comma-separated, header row first)')
      .option(
        '--data-dir <dir>',
        'outlet data directory (default: OPENVEND_DATA_DIR or the OS application-data folder)',
      )
      .option(
        '--operator <name>',
        'admin operator name; the password comes from OPENVEND_PASSWORD or a prompt',
      )
      .option('--json', 'print the result as JSON: { file, rows, imported, rejected: [...] }', false)
      .option('--dry-run', 'check the file and report, write nothing', false)
      .addHelpText('after', HELP[kind])
      .action((file: string, options: ImportCommandOptions) =>
        runImportCommand(kind, file, options, setExitCode),
      );
  }
}
