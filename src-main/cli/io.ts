import { readFile } from 'node:fs/promises';
import { isOpenVendError, OpenVendError } from '../../src-shared/errors/openvend-error.ts';

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export class CliInputError extends OpenVendError {
  constructor(userMessage: string, detail = userMessage) {
    super('CLI_INPUT', userMessage, detail);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliInputError(
      'No request given: pass --request FILE, or pipe the JSON request on standard input.',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a JSON document from a file, or from standard input when the path is "-" or absent. */
export async function readJsonInput(path: string | undefined, what: string): Promise<unknown> {
  let text: string;
  try {
    text = path === undefined || path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof CliInputError) throw error;
    throw new CliInputError(`Cannot read the ${what} file ${path}.`, (error as Error).message);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliInputError(`The ${what} is not valid JSON.`, (error as Error).message);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Errors go to stderr as JSON (code, cashier-language message, developer detail); never a stack for known errors. */
export function reportError(error: unknown): number {
  if (isOpenVendError(error)) {
    process.stderr.write(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
    return EXIT.badInput;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `${JSON.stringify({ error: { code: 'INTERNAL', message: 'Unexpected failure.', detail } }, null, 2)}\n`,
  );
  return EXIT.failed;
}
