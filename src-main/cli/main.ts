import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { stsSelfTest } from '../../src-shared/sts/self-test.ts';
import { APP_VERSION as version } from '../app-version.ts';
import { LEDGER_FILE, resolveDataDir } from '../ledger/data-dir.ts';
import { EXIT, reportError } from './io.ts';

export function statusLine(selfTest = stsSelfTest()): string {
  const engine =
    selfTest.failed.length === 0
      ? `STS engine ready (EA07, EA09, EA11; DKGA02, DKGA04), self-test ${selfTest.passed}/${selfTest.passed} passed`
      : `STS engine FAILED its self-test: ${selfTest.failed.join(', ')}`;
  const dataDir = resolveDataDir();
  const outlet = existsSync(join(dataDir, LEDGER_FILE))
    ? `outlet data in ${dataDir}`
    : `no outlet set up in ${dataDir} yet (try: openvend demo --data-dir DIR)`;
  return `OpenVend ${version}: ${engine}; ${outlet}.`;
}

/**
 * The command tree. Each command family is loaded only when needed: `openvend start` (the desktop app's hot path)
 * loads just the start command, not the sync server, device or import code, so the app starts quickly.
 */
export async function buildProgram(
  setExitCode: (code: number) => void,
  argv: readonly string[] = [],
): Promise<Command> {
  const program = new Command('openvend')
    .description('OpenVend: offline-first STS prepayment vending system')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)');

  const { registerStartCommand } = await import('./start-command.ts');
  registerStartCommand(program, setExitCode);
  if (argv[2] === 'start') return program;

  const [build, ledger, sts, imports, server] = await Promise.all([
    import('./build-command.ts'),
    import('./ledger-commands.ts'),
    import('./sts-commands.ts'),
    import('./import-commands.ts'),
    import('./server-commands.ts'),
  ]);
  build.registerBuildCommand(program);
  program
    .command('status')
    .description('One line: the STS engine self-test and where the outlet data is')
    .action(() => {
      const selfTest = stsSelfTest();
      process.stdout.write(`${statusLine(selfTest)}\n`);
      if (selfTest.failed.length > 0) setExitCode(EXIT.failed);
    });

  ledger.registerLedgerCommands(program, setExitCode);
  sts.registerStsCommands(program, setExitCode);
  imports.registerImportCommands(program, setExitCode);
  server.registerServerCommands(program, setExitCode);
  return program;
}

/** Runs the CLI and returns the process exit code (0 ok, 1 failed check, 2 bad input). */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = await buildProgram((code) => {
    exitCode = code;
  }, argv);
  program.exitOverride();
  program.commands.forEach(function override(command: Command) {
    command.exitOverride();
    command.commands.forEach(override);
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version requests exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    return reportError(error);
  }
}
