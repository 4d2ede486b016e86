import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDemoOutlet } from '../../src-main/engine/demo.ts';
import { startEngineThread } from '../../src-main/host/engine-thread.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'openvend-thread-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('engine thread', () => {
  it('runs the engine off the calling thread and answers calls in order until closed', async () => {
    const dataDir = tempDir();
    createDemoOutlet(dataDir, new Date());
    const thread = await startEngineThread({ dataDir, host: 'browser', demo: true, logLevel: 'silent' });
    const [info, login] = await Promise.all([
      thread.call('app.info', { args: {} }),
      thread.call('auth.login', { args: { username: 'cashier', password: 'demo-cashier-pass' } }),
    ]);
    expect(info).toMatchObject({ ok: true, result: { outlet: { code: 'OUT-001' } } });
    expect(login.ok).toBe(true);
    await thread.close();
    const after = await thread.call('app.info', { args: {} });
    expect(after).toMatchObject({ ok: false, error: { code: 'ENGINE_STOPPED' } });
  }, 30_000);

  it('fails to start with the engine’s own error when there is no outlet', async () => {
    const dataDir = tempDir();
    await expect(
      startEngineThread({ dataDir, host: 'browser', demo: false, logLevel: 'silent' }),
    ).rejects.toMatchObject({ code: 'ENGINE_START_FAILED' });
  }, 30_000);
});
