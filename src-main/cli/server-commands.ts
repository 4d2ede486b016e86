import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { APP_VERSION } from '../app-version.ts';
import { createLogger } from '../host/logger.ts';
import { LEDGER_FILE, resolveDataDir } from '../ledger/data-dir.ts';
import { openLedger } from '../ledger/database.ts';
import { kekFromEnvironmentOrFile } from '../security/key-encryption-key.ts';
import { SyncClient } from '../sync/client.ts';
import { enrollOutlet } from '../sync/enroll.ts';
import { listQuarantine, readSyncStatus, resumeSync } from '../sync/sync-state.ts';
import { CliInputError, EXIT, printJson } from './io.ts';

/**
 * `openvend server …`: the central sync server and its administration (head office), and
 * `openvend sync …`: the outlet's side (enroll, status, push now, quarantine, resume).
 * The server modules are imported when a server command runs, so outlet commands never load them.
 */

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface ServerDbOptions {
  dataDir?: string;
  databaseUrl?: string;
}

const serverModules = async () => ({
  ...(await import('../../sync-server/start.ts')),
  ...(await import('../../sync-server/admin.ts')),
  ...(await import('../../sync-server/master-data.ts')),
  ...(await import('../../sync-server/data-dir.ts')),
  ...(await import('../../sync-server/tls.ts')),
  ...(await import('../../sync-server/reports.ts')),
  ...(await import('../../sync-server/api-clients.ts')),
});

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new CliInputError(`--port ${text} is not a port number`);
  return port;
}

/** "90m", "24h", "7d" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})\s*([mhd])$/i.exec(text.trim());
  if (!match) throw new CliInputError(`--expires-in ${text}: use minutes, hours or days, e.g. 90m, 24h, 7d.`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2]!.toLowerCase() as 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

async function withAdminDb<T>(
  options: ServerDbOptions,
  body: (db: import('../../sync-server/db/database.ts').ServerDb) => Promise<T>,
): Promise<T> {
  const { openMigratedDatabase, resolveServerDataDir } = await serverModules();
  const database = await openMigratedDatabase(
    {
      dataDir: resolveServerDataDir(options.dataDir),
      databaseUrl: options.databaseUrl ?? process.env.DATABASE_URL,
    },
    'openvend server admin',
  );
  try {
    return await body(database.db);
  } finally {
    await database.close();
  }
}

const dbOptions = (command: Command) =>
  command
    .option(
      '--data-dir <dir>',
      'server data folder (default: OPENVEND_SERVER_DATA_DIR or the OS app-data folder)',
    )
    .option('--database-url <url>', 'PostgreSQL (default: DATABASE_URL; neither = the embedded database)');

const wholeNumber = (text: string, what: string): number => {
  if (!/^\d{1,15}$/.test(text)) throw new CliInputError(`${what} ${text}: give a whole number (minor units)`);
  return Number(text);
};

/** Master data the outlets pull (sync-server/master-data.ts). */
function registerMasterDataCommands(admin: Command, setExitCode: (code: number) => void): void {
  const master = admin.command('master').description('Master data sent down to the outlets');
  type Opts = ServerDbOptions & Record<string, string>;
  dbOptions(
    master.command('import-customers').description('Import customers (CSV, the outlet import format)'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--file <csv>', 'the CSV file')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { importCustomersFileToServer } = await serverModules();
      const result = await withAdminDb(options, (db) =>
        importCustomersFileToServer(db, {
          utilityCode: options.utility!,
          file: options.file!,
          now: new Date(),
        }),
      );
      printJson(result);
      if (result.problems.length > 0) setExitCode(EXIT.failed);
    });
  for (const [name, block] of [
    ['block-meter', true],
    ['unblock-meter', false],
  ] as const) {
    dbOptions(master.command(name).description(block ? 'Block a meter at every outlet' : 'Unblock a meter'))
      .requiredOption('--utility <code>', 'the utility code')
      .requiredOption('--meter <number>', 'the meter number')
      .option('--reason <text>', 'why (shown to the cashier)', 'blocked by head office')
      .action(async (_o: Opts, command: Command) => {
        const options = command.optsWithGlobals() as Opts;
        const { setMeterBlock } = await serverModules();
        printJson(
          await withAdminDb(options, (db) =>
            setMeterBlock(db, {
              utilityCode: options.utility!,
              meterNo: options.meter!,
              reason: block ? options.reason! : null,
              now: new Date(),
            }),
          ),
        );
      });
  }
  dbOptions(
    master.command('operator').description('Create or change an operator at every outlet (hash only)'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--username <name>', 'login name')
    .requiredOption('--display-name <name>', 'shown name')
    .requiredOption('--role <role>', 'cashier, supervisor, engineer or admin')
    .option('--password-stdin', 'read the new password from standard input (never from the command line)')
    .option('--inactive', 'retire the operator')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts & { passwordStdin?: boolean; inactive?: boolean };
      const password = options.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : null;
      const { setOperator } = await serverModules();
      printJson(
        await withAdminDb(options, (db) =>
          setOperator(db, {
            utilityCode: options.utility!,
            username: options.username!,
            displayName: options.displayName!,
            role: options.role!,
            password,
            active: !options.inactive,
            now: new Date(),
          }),
        ),
      );
    });
  dbOptions(master.command('float-top-up').description("Credit an outlet's float (once per reference)"))
    .requiredOption('--outlet <code>', 'the outlet code')
    .requiredOption('--amount-minor <n>', 'amount in minor units')
    .requiredOption('--reference <text>', 'payment reference, unique per outlet')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { addFloatTopUp } = await serverModules();
      const amountMinor = wholeNumber(options.amountMinor!, '--amount-minor');
      printJson(
        await withAdminDb(options, (db) =>
          addFloatTopUp(db, {
            outletCode: options.outlet!,
            amountMinor,
            reference: options.reference!,
            now: new Date(),
          }),
        ),
      );
    });
  dbOptions(master.command('authority').description("Set an outlet's vending authority"))
    .requiredOption('--outlet <code>', 'the outlet code')
    .requiredOption('--credit-limit-minor <n>', 'credit limit in minor units')
    .requiredOption('--valid-until <iso>', 'ISO date-time, e.g. 2027-01-31T22:00:00Z')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { setVendingAuthority } = await serverModules();
      const creditLimitMinor = wholeNumber(options.creditLimitMinor!, '--credit-limit-minor');
      printJson(
        await withAdminDb(options, (db) =>
          setVendingAuthority(db, {
            outletCode: options.outlet!,
            creditLimitMinor,
            validUntil: options.validUntil!,
            now: new Date(),
          }),
        ),
      );
    });
  registerMasterKeyCommands(master, setExitCode);
}

const BUSINESS_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Head-office reports (sync-server/reports.ts) and the API keys that read them over HTTPS. */
function registerReportCommands(admin: Command): void {
  type Opts = ServerDbOptions & Record<string, string | boolean | undefined>;
  const report = admin.command('report').description('Reports built from the uploaded sales');
  dbOptions(
    report
      .command('end-of-day')
      .description('Sales, tax, charges, debt, FBE, reversals, cash per outlet and operator'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--date <YYYY-MM-DD>', 'the business date (utility local)')
    .option('--outlet <code>', 'one outlet only')
    .option('--csv', 'CSV instead of JSON')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const date = String(options.date);
      if (!BUSINESS_DATE.test(date)) throw new CliInputError(`--date ${date}: use YYYY-MM-DD`);
      const { endOfDayReport, endOfDayCsv, utilityByCode, outletOfUtility } = await serverModules();
      const result = await withAdminDb(options, async (db) => {
        const owner = await utilityByCode(db, String(options.utility));
        const outletCode = options.outlet === undefined ? undefined : String(options.outlet);
        const outletId = outletCode === undefined ? null : await outletOfUtility(db, owner.id, outletCode);
        if (outletCode !== undefined && outletId === null) {
          throw new CliInputError(`--outlet ${outletCode}: no such outlet of ${owner.code}`);
        }
        return endOfDayReport(
          db,
          { utilityId: owner.id, date, ...(outletId !== null ? { outletId } : {}) },
          new Date(),
        );
      });
      if (options.csv) process.stdout.write(endOfDayCsv(result));
      else printJson(result);
    });
  dbOptions(
    report
      .command('stale-month-to-date')
      .description('Sales priced on a month-to-date that missed other outlets’ sales'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--month <YYYY-MM>', 'the month')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const month = String(options.month);
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new CliInputError(`--month ${month}: use YYYY-MM`);
      const { staleMonthToDateReport, utilityByCode } = await serverModules();
      printJson(
        await withAdminDb(options, async (db) => ({
          month,
          sales: await staleMonthToDateReport(
            db,
            (await utilityByCode(db, String(options.utility))).id,
            month,
          ),
        })),
      );
    });
  dbOptions(
    report
      .command('tid-collisions')
      .description('Meters given the same TID by two outlets (offline in the same minute)'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { tidCollisionReport, utilityByCode } = await serverModules();
      printJson(
        await withAdminDb(options, async (db) => ({
          collisions: await tidCollisionReport(db, (await utilityByCode(db, String(options.utility))).id),
        })),
      );
    });

  const apiKey = admin.command('api-key').description('Keys for head-office systems reading the report API');
  dbOptions(apiKey.command('create').description('Create a key (printed once; only its hash is kept)'))
    .requiredOption('--utility <code>', 'the utility whose reports it may read')
    .requiredOption('--name <name>', 'who uses it, e.g. "Finance BI"')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { createApiKey } = await serverModules();
      printJson(
        await withAdminDb(options, (db) => createApiKey(db, String(options.utility), String(options.name))),
      );
    });
  dbOptions(apiKey.command('list').description('List keys (never the keys themselves)')).action(
    async (_o: Opts, command: Command) => {
      const { listApiKeys } = await serverModules();
      printJson(await withAdminDb(command.optsWithGlobals() as Opts, (db) => listApiKeys(db)));
    },
  );
  dbOptions(apiKey.command('revoke').description('Revoke a key'))
    .argument('<id>')
    .action(async (id: string, _o: Opts, command: Command) => {
      const { revokeApiKey } = await serverModules();
      await withAdminDb(command.optsWithGlobals() as Opts, (db) =>
        revokeApiKey(db, wholeNumber(id, 'key id'), new Date()),
      );
      printJson({ revoked: Number(id) });
    });
}

/** Supply groups (keys), tariffs, meters and key changes sent down to the outlets. */
function registerMasterKeyCommands(master: Command, setExitCode: (code: number) => void): void {
  type Opts = ServerDbOptions & Record<string, string | boolean | undefined>;
  const text = (options: Opts, name: string) => String(options[name]);
  const optionalNumber = (options: Opts, name: string, flag: string) => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (!/^\d{1,6}$/.test(String(value)))
      throw new CliInputError(`${flag} ${String(value)}: give a whole number`);
    return Number(value);
  };
  dbOptions(
    master
      .command('supply-group')
      .description(
        'Publish a supply group and its vending key (hex on standard input, never on the command line)',
      ),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--sgc <code>', 'supply group code, 6 digits')
    .requiredOption('--krn <n>', 'key revision number 1-9')
    .requiredOption('--name <name>', 'display name')
    .option('--dkga <algorithm>', 'DKGA02 or DKGA04', 'DKGA02')
    .option('--ea <algorithm>', 'EA07, EA09 or EA11', 'EA07')
    .option('--key-type <type>', 'key type 0-3 (or DITK, DDTK, DUTK, DCTK)', '2')
    .option('--base-date <year>', '1993, 2014 or 2035', '2014')
    .option('--ken <n>', 'key expiry number 0-255', '255')
    .requiredOption('--key-stdin', 'read the vending key (hex) from standard input')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const vendingKeyHex = readFileSync(0, 'utf8').trim();
      const { publishSupplyGroup, loadOrCreateServerKek, resolveServerDataDir } = await serverModules();
      const kek = loadOrCreateServerKek(resolveServerDataDir(options.dataDir));
      printJson(
        await withAdminDb(options, (db) =>
          publishSupplyGroup(db, kek, {
            utilityCode: text(options, 'utility'),
            sgc: text(options, 'sgc'),
            krn: optionalNumber(options, 'krn', '--krn')!,
            name: text(options, 'name'),
            dkga: text(options, 'dkga'),
            ea: text(options, 'ea'),
            keyType: text(options, 'keyType'),
            baseDate: optionalNumber(options, 'baseDate', '--base-date')!,
            ken: optionalNumber(options, 'ken', '--ken')!,
            vendingKeyHex,
            now: new Date(),
          }),
        ),
      );
    });
  dbOptions(
    master
      .command('tariff')
      .description('Publish a tariff and its versions (JSON file; versions are append-only)'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--file <json>', '{code, name, ti, resource, versions: [...]}')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { publishTariffFile } = await serverModules();
      printJson(
        await withAdminDb(options, (db) =>
          publishTariffFile(db, {
            utilityCode: text(options, 'utility'),
            file: text(options, 'file'),
            now: new Date(),
          }),
        ),
      );
    });
  dbOptions(
    master.command('import-meters').description('Import meters (CSV, the outlet meter import format)'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--file <csv>', 'the CSV file')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { importMetersFileToServer } = await serverModules();
      const result = await withAdminDb(options, (db) =>
        importMetersFileToServer(db, {
          utilityCode: text(options, 'utility'),
          file: text(options, 'file'),
          now: new Date(),
        }),
      );
      printJson(result);
      if (result.problems.length > 0) setExitCode(EXIT.failed);
    });
  dbOptions(
    master
      .command('retire-meter')
      .description('Retire a meter at every outlet (blocked there, history kept)'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--meter <number>', 'the meter number')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { retireMeter } = await serverModules();
      printJson(
        await withAdminDb(options, (db) =>
          retireMeter(db, {
            utilityCode: text(options, 'utility'),
            meterNo: text(options, 'meter'),
            now: new Date(),
          }),
        ),
      );
    });
  dbOptions(
    master
      .command('key-change')
      .description("Schedule (or --cancel) a meter's key change; outlets issue it at the next vend"),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--meter <number>', 'the meter number')
    .option('--to-sgc <code>', 'new supply group code')
    .option('--to-ti <n>', 'new tariff index')
    .option('--to-krn <n>', 'new key revision number')
    .option('--to-base-date <year>', 'new base date (TID roll-over)')
    .option('--cancel', 'withdraw the scheduled key change')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { scheduleKeyChange, cancelKeyChange } = await serverModules();
      const base = {
        utilityCode: text(options, 'utility'),
        meterNo: text(options, 'meter'),
        now: new Date(),
      };
      const to = {
        sgc: options.toSgc === undefined ? undefined : text(options, 'toSgc'),
        ti: optionalNumber(options, 'toTi', '--to-ti'),
        krn: optionalNumber(options, 'toKrn', '--to-krn'),
        baseDate: optionalNumber(options, 'toBaseDate', '--to-base-date'),
      };
      printJson(
        await withAdminDb(options, (db) =>
          options.cancel ? cancelKeyChange(db, base) : scheduleKeyChange(db, { ...base, to }),
        ),
      );
    });
  dbOptions(
    master
      .command('rollover')
      .description('Schedule the TID roll-over (base-date move) for every meter of a supply group'),
  )
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--sgc <code>', 'the supply group code')
    .requiredOption('--to-base-date <year>', 'the new base date, e.g. 2014')
    .action(async (_o: Opts, command: Command) => {
      const options = command.optsWithGlobals() as Opts;
      const { scheduleRollover } = await serverModules();
      printJson(
        await withAdminDb(options, (db) =>
          scheduleRollover(db, {
            utilityCode: text(options, 'utility'),
            sgc: text(options, 'sgc'),
            toBaseDate: optionalNumber(options, 'toBaseDate', '--to-base-date')!,
            now: new Date(),
          }),
        ),
      );
    });
}

function registerAdminCommands(server: Command, setExitCode: (code: number) => void): void {
  const admin = server.command('admin').description('Head-office administration of the sync server database');
  registerReportCommands(admin);

  const utility = admin.command('utility').description('Utilities (the companies outlets sell for)');
  dbOptions(utility.command('create').description('Create a utility'))
    .requiredOption('--code <code>', 'short unique code')
    .requiredOption('--name <name>', 'display name')
    .action(async (_options: ServerDbOptions & { code: string; name: string }, command: Command) => {
      const options = command.optsWithGlobals() as ServerDbOptions & { code: string; name: string };
      const { createUtility } = await serverModules();
      printJson(await withAdminDb(options, (db) => createUtility(db, options)));
    });

  const outlet = admin.command('outlet').description('Outlets (the vending points)');
  dbOptions(outlet.command('create').description('Create an outlet of a utility'))
    .requiredOption('--utility <code>', 'the utility code')
    .requiredOption('--code <code>', 'short unique outlet code')
    .requiredOption('--name <name>', 'display name')
    .action(
      async (
        _options: ServerDbOptions & { utility: string; code: string; name: string },
        command: Command,
      ) => {
        const options = command.optsWithGlobals() as ServerDbOptions & {
          utility: string;
          code: string;
          name: string;
        };
        const { createOutlet } = await serverModules();
        printJson(
          await withAdminDb(options, (db) =>
            createOutlet(db, { utilityCode: options.utility, code: options.code, name: options.name }),
          ),
        );
      },
    );
  dbOptions(outlet.command('list').description('List outlets')).action(
    async (_options: ServerDbOptions, command: Command) => {
      const options = command.optsWithGlobals() as ServerDbOptions;
      const { listOutlets } = await serverModules();
      printJson(await withAdminDb(options, (db) => listOutlets(db)));
    },
  );

  dbOptions(admin.command('enrollment-code').description('Create a one-time enrollment code for an outlet'))
    .requiredOption('--outlet <code>', 'the outlet code')
    .option('--expires-in <duration>', 'validity: 90m, 24h, 7d (at most 30d)', '24h')
    .action(async (_options: ServerDbOptions & { outlet: string; expiresIn: string }, command: Command) => {
      const options = command.optsWithGlobals() as ServerDbOptions & { outlet: string; expiresIn: string };
      const { createEnrollmentCode, resolveServerDataDir, certificateFingerprint, TLS_DIR, CERT_FILE } =
        await serverModules();
      const ttlMs = parseDuration(options.expiresIn);
      const created = await withAdminDb(options, (db) =>
        createEnrollmentCode(db, { outletCode: options.outlet, ttlMs, now: new Date() }),
      );
      // The self-signed certificate's fingerprint, if this server made one: outlets check it before enrolling.
      const certPath = join(resolveServerDataDir(options.dataDir), TLS_DIR, CERT_FILE);
      const fingerprint = existsSync(certPath)
        ? certificateFingerprint(readFileSync(certPath, 'utf8'))
        : null;
      printJson({
        ...created,
        serverFingerprint: fingerprint,
        outletCommand: `openvend sync enroll --server https://<server-address>:<port> --code ${created.code}${fingerprint ? ` --fingerprint ${fingerprint}` : ''}`,
      });
    });

  registerMasterDataCommands(admin, setExitCode);

  const device = admin.command('device').description('Enrolled outlet devices');
  dbOptions(device.command('list').description('List devices and their state')).action(
    async (options: ServerDbOptions) => {
      const { listDevices } = await serverModules();
      printJson(await withAdminDb(options, (db) => listDevices(db)));
    },
  );
  dbOptions(device.command('revoke').description('Refuse every later request of a device (final)'))
    .argument('<device-id>')
    .option('--reason <text>', 'why (kept with the device)', '')
    .action(async (deviceId: string, _options: ServerDbOptions & { reason: string }, command: Command) => {
      const options = command.optsWithGlobals() as ServerDbOptions & { reason: string };
      const { revokeDevice } = await serverModules();
      printJson(
        await withAdminDb(options, (db) =>
          revokeDevice(db, { deviceId, reason: options.reason, now: new Date() }),
        ),
      );
    });
  dbOptions(
    device.command('release').description('Let a quarantined device upload again after an investigation'),
  )
    .argument('<device-id>')
    .option('--reason <text>', 'the outcome of the investigation', '')
    .action(async (deviceId: string, _options: ServerDbOptions & { reason: string }, command: Command) => {
      const options = command.optsWithGlobals() as ServerDbOptions & { reason: string };
      const { releaseDevice } = await serverModules();
      printJson(
        await withAdminDb(options, (db) =>
          releaseDevice(db, { deviceId, reason: options.reason, now: new Date() }),
        ),
      );
    });
}

function registerServer(program: Command, setExitCode: (code: number) => void): void {
  const server = dbOptions(
    program
      .command('server')
      .description(
        'Start the central sync server (HTTPS; embedded database unless DATABASE_URL); see also "server admin"',
      ),
  )
    .option('--host <address>', 'address to listen on (default 0.0.0.0; 127.0.0.1 with --insecure-http)')
    .option('--port <n>', 'port', '8443')
    .option('--insecure-http', 'plain HTTP on loopback, for local development only')
    .option('--tls-cert <file>', 'TLS certificate (PEM) instead of the self-signed one')
    .option('--tls-key <file>', 'its private key (PEM)')
    .action(
      async (
        options: ServerDbOptions & {
          host?: string;
          port: string;
          insecureHttp?: boolean;
          tlsCert?: string;
          tlsKey?: string;
        },
      ) => {
        const { startSyncServer, resolveServerDataDir } = await serverModules();
        const insecureHttp = options.insecureHttp ?? false;
        const running = await startSyncServer({
          dataDir: resolveServerDataDir(options.dataDir),
          databaseUrl: options.databaseUrl ?? process.env.DATABASE_URL,
          host: options.host ?? (insecureHttp ? '127.0.0.1' : '0.0.0.0'),
          port: parsePort(options.port),
          insecureHttp,
          tlsCert: options.tlsCert,
          tlsKey: options.tlsKey,
          logger: createLogger(),
        });
        // One write, so a reader that waits for "listening" also has the database and certificate lines.
        const security = running.fingerprint
          ? `TLS certificate SHA-256 fingerprint: ${running.fingerprint}${running.certificateGenerated ? ' (new self-signed certificate)' : ''}`
          : 'WARNING: plain HTTP (--insecure-http): for local development only.';
        say(
          `OpenVend sync server ${APP_VERSION} listening on ${running.url}\ndatabase: ${running.database.kind} (${running.database.where})\n${security}`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            running.close().then(resolve, (error: unknown) => {
              process.stderr.write(`sync server did not close cleanly: ${String(error)}\n`);
              setExitCode(EXIT.failed);
              resolve();
            });
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      },
    );
  registerAdminCommands(server, setExitCode);
}

interface OutletOptions {
  dataDir?: string;
  json?: boolean;
}

function withOutletLedger<T>(
  options: OutletOptions,
  body: (ledger: ReturnType<typeof openLedger>, dataDir: string) => Promise<T> | T,
): Promise<void> {
  const dataDir = resolveDataDir(options.dataDir);
  if (!existsSync(join(dataDir, LEDGER_FILE))) {
    throw new CliInputError(
      `There is no outlet database in ${dataDir}. Run "openvend demo" or "openvend init" first.`,
    );
  }
  const ledger = openLedger(dataDir);
  return Promise.resolve()
    .then(() => body(ledger, dataDir))
    .then(() => undefined)
    .finally(() => ledger.close());
}

const outletDir = (command: Command) =>
  command.option(
    '--data-dir <dir>',
    'outlet data folder (default: OPENVEND_DATA_DIR or the OS app-data folder)',
  );

function registerSync(program: Command, setExitCode: (code: number) => void): void {
  const sync = program.command('sync').description("This outlet's link to the sync server");

  outletDir(
    sync
      .command('enroll')
      .description('Enroll this outlet with the sync server (one-time code from head office)'),
  )
    .requiredOption('--server <url>', 'https://HOST:PORT of the sync server')
    .requiredOption('--code <code>', 'the one-time enrollment code')
    .option('--fingerprint <sha256>', "the server certificate's fingerprint, as head office printed it")
    .option('--insecure-http', 'allow a plain-HTTP server (local development only)')
    .option('--replace', 'enroll again as a new device (unsent batches are sealed again under it)')
    .action(
      (
        options: OutletOptions & {
          server: string;
          code: string;
          fingerprint?: string;
          insecureHttp?: boolean;
          replace?: boolean;
        },
      ) =>
        withOutletLedger(options, async (ledger, dataDir) => {
          const result = await enrollOutlet(ledger.sqlite, kekFromEnvironmentOrFile(dataDir).load(), {
            serverUrl: options.server,
            code: options.code,
            fingerprint: options.fingerprint,
            insecureHttp: options.insecureHttp ?? false,
            replace: options.replace ?? false,
            now: new Date(),
          });
          printJson(result);
          if (result.trustedOnFirstUse) {
            process.stderr.write(
              `No --fingerprint given: pinned the certificate presented now (${result.serverFingerprint}). Check it with head office.\n`,
            );
          }
        }),
    );

  outletDir(sync.command('status').description('Sync state: last success, queue, oldest unsent, quarantine'))
    .option('--json', 'machine-readable output')
    .action((options: OutletOptions) =>
      withOutletLedger(options, (ledger) => {
        const status = readSyncStatus(ledger.sqlite);
        if (options.json) return printJson(status);
        if (!status.enrolled) return say('Not enrolled with a sync server (openvend sync enroll).');
        say(`server ${status.serverUrl} · device ${status.deviceId} · outlet ${status.outletCode}`);
        say(`state ${status.state}${status.haltedCode ? ` (halted: ${status.haltedCode})` : ''}`);
        say(
          `last success ${status.lastSuccessAt ?? 'never'}${status.lastErrorCode ? ` · last error ${status.lastErrorCode}: ${status.lastErrorMessage}` : ''}`,
        );
        say(
          `waiting ${status.pendingEvents} event(s) (${status.pendingSales} sale(s)), oldest ${status.oldestPendingAt ?? '—'} · quarantined ${status.quarantinedEvents}`,
        );
      }),
    );

  outletDir(sync.command('push').description('Seal everything waiting and upload it now'))
    .option('--json', 'machine-readable output')
    .action((options: OutletOptions) =>
      withOutletLedger(options, async (ledger, dataDir) => {
        const client = new SyncClient({
          sqlite: ledger.sqlite,
          kek: kekFromEnvironmentOrFile(dataDir).load(),
          log: createLogger(process.env.OPENVEND_LOG_LEVEL ?? 'warn'),
        });
        try {
          const report = await client.runOnce({ forceSeal: true });
          const summary = {
            sealed: report.sealed,
            applied: report.applied,
            duplicates: report.duplicates,
            rejectedEvents: report.rejectedEvents,
            halted: report.halted,
            error: report.error ? report.error.toJSON() : null,
          };
          if (options.json) printJson(summary);
          else if (report.halted && !report.error)
            say(`Uploads are halted (${report.halted}): see "openvend sync status".`);
          else if (report.error) say(`Upload failed: ${report.error.userMessage} [${report.error.code}]`);
          else
            say(
              `Sealed ${report.sealed} batch(es); ${report.applied} applied, ${report.duplicates} already there.`,
            );
          if (report.error || report.halted) setExitCode(EXIT.failed);
        } finally {
          await client.stop();
        }
      }),
    );

  outletDir(sync.command('quarantine').description('Events the server refused, kept here for the supervisor'))
    .option('--json', 'machine-readable output')
    .action((options: OutletOptions) =>
      withOutletLedger(options, (ledger) => {
        const rows = listQuarantine(ledger.sqlite);
        if (options.json) return printJson(rows);
        if (rows.length === 0) return say('No quarantined events.');
        for (const row of rows) {
          say(
            `#${row.outboxSeq} ${row.eventType} ${row.createdAt} — ${row.reasonCode}: ${row.reasonMessage}`,
          );
        }
      }),
    );

  outletDir(
    sync
      .command('resume')
      .description('Lift a halt (after head office released the device or after an upgrade)'),
  ).action((options: OutletOptions) =>
    withOutletLedger(options, (ledger) => {
      resumeSync(ledger.sqlite);
      say('Uploads resume at the next attempt.');
    }),
  );
}

export function registerServerCommands(program: Command, setExitCode: (code: number) => void): void {
  registerServer(program, setExitCode);
  registerSync(program, setExitCode);
}
