import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A socat pseudo-terminal pair (toolchain.md §10): the app opens `app` with the real serialport binding, a simulator
 * opens `device`. Linux and macOS only; ptys refuse the DTR/RTS ioctls and never drop data like a UART, so they prove
 * the binding and the byte stream, not timing.
 */
export interface PtyPair {
  app: string;
  device: string;
  close(): Promise<void>;
}

export const socatAvailable = (): boolean => spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

export async function startPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  if (!socatAvailable()) {
    throw new Error('socat is not installed (apt-get install socat): the pty serial tests need it');
  }
  const dir = mkdtempSync(join(tmpdir(), 'openvend-pty-'));
  const app = join(dir, 'ttyApp');
  const device = join(dir, 'ttyDevice');
  const socat: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${app}`, `pty,raw,echo=0,link=${device}`],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(app) && existsSync(device))) {
    if (socat.exitCode !== null || Date.now() > deadline) {
      socat.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`socat did not create the pty pair in ${dir}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    app,
    device,
    async close() {
      if (socat.exitCode === null) {
        const exited = new Promise((resolve) => socat.once('exit', resolve));
        socat.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
