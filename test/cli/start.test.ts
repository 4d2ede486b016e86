import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../src-main/bin/openvend.mjs', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `openvend start …` and resolves with its output once it prints the pairing address. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<{ pairUrl: string; output: () => string }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\/pair\?key=[\w-]+/.exec(output)?.[0];
      if (url) resolve({ pairUrl: url, output: () => output });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((code) => reject(new Error(`openvend start exited ${code}: ${output}`)));
  });
  return { child, ready, exited };
}

describe('npm start -- --demo (browser mode where the Electron runtime is missing)', () => {
  it('starts on a fresh demo outlet, says why it is in browser mode, serves the UI and the bridge, stops cleanly', async () => {
    const { child, ready, exited } = start(['--demo', '--port', '0']);
    const { pairUrl, output } = await ready;
    expect(output()).toMatch(/Demo outlet in (\S+) \(demo keys/);
    expect(output()).toMatch(/Browser mode: the Electron runtime could not be (downloaded|installed)/);
    const dataDir = /Demo outlet in (\S+) \(demo keys/.exec(output())?.[1] ?? '';
    expect(existsSync(`${dataDir}/outlet.db`)).toBe(true);

    const paired = await fetch(pairUrl, { redirect: 'manual' });
    const cookie = (paired.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const base = new URL('/', pairUrl).toString();
    const page = await fetch(base, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const info = await fetch(`${base}rpc/app.info`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ args: {} }),
    });
    expect(await info.json()).toMatchObject({ ok: true, result: { demo: true, host: 'browser' } });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);

  it('refuses a data directory without an outlet when one is named explicitly', async () => {
    const { ready, exited } = start([
      '--data-dir',
      '/tmp/openvend-no-such-outlet',
      '--browser',
      '--port',
      '0',
    ]);
    await expect(ready).rejects.toThrow(/no outlet in/i);
    expect(await exited).toBe(2);
  }, 60_000);
});
