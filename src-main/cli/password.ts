import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliInputError } from './io.ts';

/** The operator's password: OPENVEND_PASSWORD, else a prompt on the terminal that does not echo. */
export async function readPassword(prompt: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.OPENVEND_PASSWORD !== undefined) return env.OPENVEND_PASSWORD;
  if (!process.stdin.isTTY) {
    throw new CliInputError(
      'A password is needed: set OPENVEND_PASSWORD or run in a terminal to be asked for it.',
    );
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(prompt, (answer) => {
        process.stderr.write('\n');
        resolve(answer);
      });
      muted = true;
    });
  } finally {
    rl.close();
  }
}
