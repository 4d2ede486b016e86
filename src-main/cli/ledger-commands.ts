import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { SaleResult } from '../../src-shared/bridge/domain-schemas.ts';
import { transferUnitsFromDecimal } from '../../src-shared/sts/amount.ts';
import { type Currency, formatMoney, parseMoney } from '../../src-shared/vending/money.ts';
import { renderReceiptText } from '../../src-shared/vending/receipt.ts';
import { renderShiftReportText } from '../../src-shared/vending/shift-report.ts';
import { verifyAuditChain } from '../engine/audit-log.ts';
import { createDemoOutlet, DEMO_OPERATORS } from '../engine/demo.ts';
import { type OpenEngine, openEngine } from '../engine/open-engine.ts';
import { authenticate, type OperatorSession } from '../engine/operators.ts';
import { setUpOutlet } from '../engine/outlet-setup.ts';
import { closeShift, openShift, reprintZReport, xReport } from '../engine/shifts.ts';
import {
  type EngineeringTokenRequest,
  REVERSAL_REASONS,
  type ReversalReason,
} from '../engine/vend-engine.ts';
import { backupLedger, restoreLedger } from '../ledger/backup.ts';
import { LEDGER_FILE, resolveDataDir } from '../ledger/data-dir.ts';
import { openLedger } from '../ledger/database.ts';
import { createKekFile, kekFromEnvironmentOrFile } from '../security/key-encryption-key.ts';
import { CliInputError, EXIT, printJson, readJsonInput } from './io.ts';
import { readPassword } from './password.ts';

interface CommonOptions {
  dataDir?: string;
  json?: boolean;
  columns?: string;
}

interface OperatorOptions extends CommonOptions {
  operator?: string;
}

const dataDirOf = (options: CommonOptions) => resolveDataDir(options.dataDir);

/** The data directory of an outlet that exists; a mistyped --data-dir must never create an empty ledger. */
function existingDataDir(options: CommonOptions): string {
  const dataDir = dataDirOf(options);
  if (!existsSync(join(dataDir, LEDGER_FILE))) {
    throw new CliInputError(
      `There is no outlet database in ${dataDir}. Run "openvend demo" or "openvend init" first.`,
    );
  }
  return dataDir;
}

function withEngine<T>(
  options: CommonOptions,
  body: (open: OpenEngine, currency: Currency) => T | Promise<T>,
): Promise<T> {
  const open = openEngine(existingDataDir(options));
  const currency = {
    code: open.engine.utility.currencyCode,
    minorUnits: open.engine.utility.currencyMinorUnits,
  };
  return Promise.resolve()
    .then(() => body(open, currency))
    .finally(() => open.close());
}

async function login(open: OpenEngine, options: OperatorOptions): Promise<OperatorSession> {
  const username = options.operator ?? process.env.OPENVEND_OPERATOR;
  if (!username) throw new CliInputError('Say who is selling: --operator NAME (or OPENVEND_OPERATOR).');
  const password = await readPassword(`Password for ${username}: `);
  return authenticate(open.engine.sqlite, username, password, new Date());
}

const columnsOf = (options: CommonOptions): 32 | 42 | 48 => {
  const columns = Number(options.columns ?? 42);
  if (columns !== 32 && columns !== 42 && columns !== 48)
    throw new CliInputError('--columns must be 32, 42 or 48.');
  return columns;
};

function printSale(result: SaleResult, currency: Currency, options: CommonOptions): void {
  if (options.json) {
    printJson(result);
    return;
  }
  process.stdout.write(
    renderReceiptText(result.receipt, {
      columns: columnsOf(options),
      formatMoney: (minor) => formatMoney(minor, currency),
    }),
  );
  if (result.replayed)
    process.stderr.write('Note: this request was already completed; the original receipt is shown.\n');
  if (result.lowFloat)
    process.stderr.write(
      `Warning: the outlet float is low (${formatMoney(result.floatBalanceMinor, currency)}).\n`,
    );
}

/** "42" or "T0001-00000042" → 42. */
function receiptNumber(text: string): number {
  const number = Number(text.replace(/^.*-/, ''));
  if (!Number.isSafeInteger(number) || number <= 0)
    throw new CliInputError('Give the receipt number, e.g. 42 or T0001-00000042.');
  return number;
}

function wholeNumber(text: string | undefined, what: string): number {
  const value = text !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new CliInputError(`${what} must be a whole number.`);
  return value;
}

function engineeringRequest(
  kind: string,
  options: { register: string; watts?: string; control: string },
): EngineeringTokenRequest {
  switch (kind) {
    case 'clear-tamper':
      return { kind };
    case 'clear-credit':
      if (!['electricity', 'water', 'gas', 'all'].includes(options.register))
        throw new CliInputError('--register must be electricity, water, gas or all.');
      return { kind, register: options.register as 'all' };
    case 'power-limit':
      return { kind: 'set-power-limit', watts: wholeNumber(options.watts, '--watts') };
    case 'phase-unbalance-limit':
      return { kind: 'set-phase-unbalance-limit', watts: wholeNumber(options.watts, '--watts') };
    case 'test':
      return { kind, control: wholeNumber(options.control, '--control') };
    default:
      throw new CliInputError(
        'The kind must be clear-tamper, clear-credit, power-limit, phase-unbalance-limit or test.',
      );
  }
}

const common = (command: Command) =>
  command
    .option(
      '--data-dir <dir>',
      'outlet data directory (default: OPENVEND_DATA_DIR or the OS application-data folder)',
    )
    .option('--json', 'print the result as JSON', false);
const withOperator = (command: Command) =>
  common(command).option(
    '--operator <name>',
    'operator name; the password comes from OPENVEND_PASSWORD or a prompt',
  );
const withColumns = (command: Command) =>
  command.option('--columns <n>', 'receipt width: 32, 42 or 48 columns', '42');

export function registerLedgerCommands(program: Command, setExitCode: (code: number) => void): void {
  common(program.command('init'))
    .description(
      'Set up a new outlet from a set-up file (utility, outlet, first admin, optional supply groups and tariffs)',
    )
    .requiredOption(
      '--config <file>',
      'set-up JSON; it may hold vending keys: keep it private and delete it afterwards',
    )
    .action(async (options: CommonOptions & { config: string }) => {
      const dataDir = dataDirOf(options);
      if (existsSync(join(dataDir, LEDGER_FILE)))
        throw new CliInputError(`${dataDir} already holds an outlet database.`);
      const setup = await readJsonInput(options.config, 'set-up');
      const password = await readPassword('Password for the new administrator: ');
      const ledger = openLedger(dataDir);
      let kekFile: string | null = null;
      try {
        kekFile = process.env.OPENVEND_KEK ? null : createKekFile(dataDir);
        const { adminId } = setUpOutlet(
          ledger.sqlite,
          kekFromEnvironmentOrFile(dataDir).load(),
          setup,
          password,
          new Date(),
        );
        const summary = { dataDir, adminId, kek: kekFile ?? 'OPENVEND_KEK' };
        if (options.json) printJson(summary);
        else
          process.stdout.write(
            `Outlet set up in ${dataDir}. Key-encryption key: ${summary.kek} (back it up separately).\n`,
          );
      } catch (error) {
        ledger.close();
        // A half-made outlet must not stay behind: the next init starts clean.
        rmSync(join(dataDir, LEDGER_FILE), { force: true });
        for (const suffix of ['-wal', '-shm'])
          rmSync(join(dataDir, `${LEDGER_FILE}${suffix}`), { force: true });
        if (kekFile) rmSync(kekFile, { force: true });
        throw error;
      }
      ledger.close();
    });

  common(program.command('demo'))
    .description(
      'Create a demo outlet (utility, supply groups, tariffs, 24 meters, one operator per role) and print its credentials',
    )
    .action((options: CommonOptions) => {
      const dataDir = dataDirOf(options);
      if (existsSync(join(dataDir, LEDGER_FILE))) {
        throw new CliInputError(
          `${dataDir} already holds an outlet database; choose another --data-dir for the demo.`,
        );
      }
      {
        const { meters } = createDemoOutlet(dataDir, new Date());
        const summary = {
          dataDir,
          operators: DEMO_OPERATORS.map(({ username, role, password }) => ({ username, role, password })),
          meters: meters.map((pan) => pan.slice(6)),
          notes: [
            'Demo data only: the passwords and vending keys are public test values.',
            `Meter ${meters[6]!.slice(6)} is blocked; meter ${meters[2]!.slice(6)} needs its TID roll-over key change (printed first).`,
            'Start with: openvend shift open --operator cashier, then openvend vend METER AMOUNT --operator cashier',
          ],
        };
        if (options.json) printJson(summary);
        else {
          process.stdout.write(`Demo outlet created in ${dataDir}\n\nOperators (demo passwords):\n`);
          for (const o of summary.operators)
            process.stdout.write(`  ${o.username.padEnd(10)} ${o.role.padEnd(11)} ${o.password}\n`);
          process.stdout.write(`\nMeters: ${summary.meters.join(', ')}\n\n${summary.notes.join('\n')}\n`);
        }
      }
    });

  common(program.command('confirm'))
    .description('Show the customer and meter details a cashier checks before taking money')
    .argument('<meter>', 'meter number (12 or 14 digits as printed, or the 18-digit PAN)')
    .action((meter: string, options: CommonOptions) =>
      withEngine(options, ({ engine }, currency) => {
        const c = engine.confirmMeter(meter);
        if (options.json) return printJson(c);
        const money = (minor: number) => formatMoney(minor, currency);
        const lines = [
          `Meter        ${c.meterNo}   (${c.resource})`,
          `Customer     ${c.customer ? `${c.customer.name}, ${c.customer.address} (account ${c.customer.accountNo})` : '(none)'}`,
          `Key data     SGC ${c.sgc}  TI ${String(c.ti).padStart(2, '0')}  KRN ${c.krn}  ${c.ea}`,
          `Tariff       ${c.tariff.name} (v${c.tariff.version}), block ${c.currentBlock}, month to date ${(c.monthToDateUnits / 10).toFixed(1)}`,
          `Can vend     ${c.canVend ? 'yes' : `NO: ${c.blockedReason}`}`,
          `Limits       ${money(c.minVendMinor)} to ${money(c.maxVendMinor)}`,
          `Arrears      ${money(c.arrearsMinor)}`,
          `FBE due      ${c.fbeDue ? 'yes' : 'no'}`,
          `Last bought  ${c.daysSinceLastPurchase === null ? 'never' : `${c.daysSinceLastPurchase} day(s) ago`}`,
          ...(c.pendingKeyChange
            ? [
                `Key change   pending → SGC ${c.pendingKeyChange.sgc} KRN ${c.pendingKeyChange.krn} base ${c.pendingKeyChange.baseDate}`,
              ]
            : []),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );

  withOperator(program.command('quote'))
    .description('Trial vend: the full breakdown, without issuing a token or moving money')
    .argument('<meter>', 'meter number')
    .argument('<amount>', 'amount tendered, e.g. 150.00')
    .action((meter: string, amount: string, options: OperatorOptions) =>
      withEngine(options, async (open, currency) => {
        const session = await login(open, options);
        const quote = open.engine.quote(session, meter, parseMoney(amount, currency));
        printJson(quote);
      }),
    );

  withColumns(withOperator(program.command('vend')))
    .description('Sell: money in, token(s) out, exactly once per request id')
    .argument('<meter>', 'meter number')
    .argument('<amount>', 'amount tendered, e.g. 150.00')
    .option(
      '--request-id <id>',
      'client request id; repeat it to get the original result back instead of a second sale',
    )
    .option('--pay-type <type>', 'cash, card, mobile or other', 'cash')
    .action(
      (meter: string, amount: string, options: OperatorOptions & { requestId?: string; payType: string }) =>
        withEngine(options, async (open, currency) => {
          if (!['cash', 'card', 'mobile', 'other'].includes(options.payType))
            throw new CliInputError('--pay-type must be cash, card, mobile or other.');
          const session = await login(open, options);
          const tenderMinor = parseMoney(amount, currency);
          const result = open.engine.vend(session, {
            requestId: options.requestId ?? randomUUID(),
            meterNumber: meter,
            tenderMinor,
            payType: options.payType as 'cash',
          });
          printSale(result, currency, options);
        }),
    );

  withColumns(withOperator(program.command('reprint')))
    .description('Reprint a past receipt, marked COPY (audited)')
    .argument('<receipt>', 'receipt number (the digits after the terminal id)')
    .action((receipt: string, options: OperatorOptions) =>
      withEngine(options, async (open, currency) => {
        const session = await login(open, options);
        const number = Number(receipt.replace(/^.*-/, ''));
        if (!Number.isSafeInteger(number) || number <= 0)
          throw new CliInputError('Give the receipt number, e.g. 42 or T0001-00000042.');
        printSale(open.engine.reprint(session, number), currency, options);
      }),
    );

  withColumns(withOperator(program.command('reverse')))
    .description(
      'Reverse a sale with a compensating credit note (supervisor credentials on the spot, with a reason)',
    )
    .argument('<receipt>', 'receipt number of the sale')
    .requiredOption('--reason <code>', `one of: ${REVERSAL_REASONS.join(', ')}`)
    .option('--note <text>', 'free text for the audit trail')
    .option('--request-id <id>', 'client request id (repeat it to get the original result back)')
    .action(
      (receipt: string, options: OperatorOptions & { reason: string; note?: string; requestId?: string }) =>
        withEngine(options, async (open, currency) => {
          const session = await login(open, options);
          const result = open.engine.reverse(session, {
            requestId: options.requestId ?? randomUUID(),
            receiptNo: receiptNumber(receipt),
            reason: options.reason as ReversalReason,
            ...(options.note ? { note: options.note } : {}),
          });
          printSale(result, currency, options);
        }),
    );

  withColumns(withOperator(program.command('free-issue')))
    .description('Issue free units to a meter (supervisor or admin), with a reason')
    .argument('<meter>', 'meter number')
    .argument('<quantity>', 'kWh (or m³), e.g. 25 or 12.5')
    .requiredOption('--reason <text>', 'why the units are free')
    .option('--request-id <id>', 'client request id')
    .action(
      (meter: string, quantity: string, options: OperatorOptions & { reason: string; requestId?: string }) =>
        withEngine(options, async (open, currency) => {
          const session = await login(open, options);
          const result = open.engine.freeIssue(session, {
            requestId: options.requestId ?? randomUUID(),
            meterNumber: meter,
            units: transferUnitsFromDecimal(quantity),
            reason: options.reason,
          });
          printSale(result, currency, options);
        }),
    );

  withColumns(withOperator(program.command('engineering')))
    .description(
      'Engineering tokens for field engineers: clear-tamper, clear-credit, power-limit, phase-unbalance-limit, test',
    )
    .argument('<kind>', 'clear-tamper | clear-credit | power-limit | phase-unbalance-limit | test')
    .argument('<meter>', 'meter number')
    .option('--register <name>', 'clear-credit: electricity, water, gas or all', 'all')
    .option('--watts <n>', 'power-limit / phase-unbalance-limit: the limit in watts')
    .option('--control <n>', 'test: the test/display control bits (decimal or 0x hex)', '0x1')
    .option('--request-id <id>', 'client request id')
    .action(
      (
        kind: string,
        meter: string,
        options: OperatorOptions & { register: string; watts?: string; control: string; requestId?: string },
      ) =>
        withEngine(options, async (open, currency) => {
          const token = engineeringRequest(kind, options);
          const session = await login(open, options);
          printSale(
            open.engine.engineeringToken(session, {
              requestId: options.requestId ?? randomUUID(),
              meterNumber: meter,
              token,
            }),
            currency,
            options,
          );
        }),
    );

  withColumns(withOperator(program.command('key-change')))
    .description(
      'Update meter key: the key change tokens to the scheduled key (or to --krn/--ti/--sgc/--base-date), entry order printed',
    )
    .argument('<meter>', 'meter number')
    .option('--sgc <sgc>', 'new supply group code')
    .option('--ti <ti>', 'new tariff index')
    .option('--krn <krn>', 'new key revision number')
    .option('--base-date <year>', 'new base date: 1993, 2014 or 2035 (a move sets roll-over)')
    .option('--request-id <id>', 'client request id')
    .action(
      (
        meter: string,
        options: OperatorOptions & {
          sgc?: string;
          ti?: string;
          krn?: string;
          baseDate?: string;
          requestId?: string;
        },
      ) =>
        withEngine(options, async (open, currency) => {
          const to = {
            ...(options.sgc ? { sgc: options.sgc } : {}),
            ...(options.ti ? { ti: Number(options.ti) } : {}),
            ...(options.krn ? { krn: Number(options.krn) } : {}),
            ...(options.baseDate ? { baseDate: Number(options.baseDate) as 1993 } : {}),
          };
          const session = await login(open, options);
          const result = open.engine.keyChange(session, {
            requestId: options.requestId ?? randomUUID(),
            meterNumber: meter,
            ...(Object.keys(to).length ? { to } : {}),
          });
          printSale(result, currency, options);
        }),
    );

  const shift = program
    .command('shift')
    .description('Open a shift, print running totals (X) or close it with a Z report');
  withOperator(shift.command('open'))
    .description('Open a shift for the operator')
    .action((options: OperatorOptions) =>
      withEngine(options, async (open) => {
        const session = await login(open, options);
        printJson(openShift(open.engine, session, new Date()));
      }),
    );
  withColumns(withOperator(shift.command('x')))
    .description('X report: running totals of the open shift (nothing is closed)')
    .action((options: OperatorOptions) =>
      withEngine(options, async (open, currency) => {
        const session = await login(open, options);
        const report = xReport(open.engine, session, new Date());
        if (options.json) printJson(report);
        else
          process.stdout.write(
            renderShiftReportText(report, {
              columns: columnsOf(options),
              formatMoney: (m) => formatMoney(m, currency),
            }),
          );
      }),
    );
  withColumns(withOperator(shift.command('close')))
    .description(
      'Close the shift: declare the counted cash (blind), get the numbered Z report; a backup is taken',
    )
    .requiredOption('--declared-cash <amount>', 'the cash counted in the drawer')
    .action((options: OperatorOptions & { declaredCash: string }) =>
      withEngine(options, async (open, currency) => {
        const session = await login(open, options);
        const report = closeShift(
          open.engine,
          session,
          parseMoney(options.declaredCash, currency),
          new Date(),
        );
        const backup = await backupLedger(open.ledger.sqlite, dataDirOf(options), new Date());
        if (options.json) printJson({ report, backup });
        else {
          process.stdout.write(
            renderShiftReportText(report, {
              columns: columnsOf(options),
              formatMoney: (m) => formatMoney(m, currency),
            }),
          );
          process.stderr.write(`Backup written: ${backup.path}\n`);
        }
      }),
    );
  withColumns(withOperator(shift.command('reprint')))
    .description('Reprint a closed Z report, marked COPY')
    .argument('<number>', 'Z report number')
    .action((number: string, options: OperatorOptions) =>
      withEngine(options, async (open, currency) => {
        const session = await login(open, options);
        const report = reprintZReport(open.engine, session, Number(number));
        if (options.json) printJson(report);
        else
          process.stdout.write(
            renderShiftReportText(report, {
              columns: columnsOf(options),
              formatMoney: (m) => formatMoney(m, currency),
            }),
          );
      }),
    );

  const audit = program.command('audit').description('The append-only, hash-chained audit log');
  common(audit.command('verify'))
    .description('Check the audit chain: finds any edited or deleted entry')
    .action((options: CommonOptions) => {
      const ledger = openLedger(existingDataDir(options));
      try {
        const result = verifyAuditChain(ledger.sqlite);
        if (options.json) printJson(result);
        else if (result.ok) process.stdout.write(`Audit chain intact: ${result.entries} entries.\n`);
        else {
          process.stdout.write(`AUDIT CHAIN BROKEN (${result.problems.length} problem(s)):\n`);
          for (const p of result.problems) process.stdout.write(`  entry ${p.seq}: ${p.problem}\n`);
        }
        setExitCode(result.ok ? EXIT.ok : EXIT.failed);
      } finally {
        ledger.close();
      }
    });

  common(program.command('backup'))
    .description('Online backup of the outlet database (verified, rotated: the newest 14 are kept)')
    .action(async (options: CommonOptions) => {
      const ledger = openLedger(existingDataDir(options));
      try {
        printJson(await backupLedger(ledger.sqlite, dataDirOf(options), new Date()));
      } finally {
        ledger.close();
      }
    });

  common(program.command('restore'))
    .description(
      'Restore a backup in place of the outlet database (stop the app first; the current file is kept aside)',
    )
    .argument('<backup>', 'backup file (in the data directory under backups/)')
    .action((backup: string, options: CommonOptions) => {
      printJson(restoreLedger(dataDirOf(options), backup, new Date()));
    });
}
