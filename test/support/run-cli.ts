import { spawnSync } from 'node:child_process';

const bin = new URL('../../src-main/bin/openvend.mjs', import.meta.url).pathname;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
  error(): { code: string; message: string; detail: string };
}

/** Runs the real `openvend` executable in a child process, optionally feeding standard input. */
export function runOpenvend(args: string[], input?: string | object): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], {
    input: typeof input === 'object' ? JSON.stringify(input) : input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    json: () => JSON.parse(result.stdout),
    error: () => JSON.parse(result.stderr).error,
  };
}
