import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../src-main/app-version.ts';
import { createDemoOutlet } from '../../src-main/engine/demo.ts';
import { buildElectronBundles, ELECTRON_DIST } from '../../src-main/host/electron-build.ts';
import { startEngineThread } from '../../src-main/host/engine-thread.ts';
import { METHOD_NAMES } from '../../src-shared/bridge/contract.ts';

/**
 * The desktop app cannot run here (no Electron binary), so its bundles are checked as artifacts: the engine
 * thread bundle runs under Node against a real ledger, and the sandboxed preload bundle runs in a fresh
 * context against a recorder standing in for Electron's contextBridge.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'openvend-bundles-'));
beforeAll(async () => {
  await buildElectronBundles();
  createDemoOutlet(dataDir, new Date());
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('Electron bundles', () => {
  it('the bundled engine thread opens the ledger and answers the bridge, with the version compiled in', async () => {
    const thread = await startEngineThread(
      { dataDir, host: 'electron', demo: true, logLevel: 'silent' },
      join(ELECTRON_DIST, 'engine-worker.mjs'),
    );
    try {
      const info = await thread.call('app.info', { args: {} });
      expect(info).toMatchObject({ ok: true, result: { version: APP_VERSION, host: 'electron' } });
      const login = await thread.call('auth.login', {
        args: { username: 'cashier', password: 'demo-cashier-pass' },
      });
      expect(login.ok).toBe(true);
    } finally {
      await thread.close();
    }
  }, 60_000);

  it('the sandboxed preload bundle exposes exactly the contract on window.openvend', async () => {
    const exposed: Record<string, Record<string, (request: unknown) => Promise<unknown>>> = {};
    const channels: string[] = [];
    const electron = {
      contextBridge: {
        exposeInMainWorld: (key: string, api: never) => {
          exposed[key] = api;
        },
      },
      ipcRenderer: { invoke: async (channel: string) => void channels.push(channel) },
    };
    const code = readFileSync(join(ELECTRON_DIST, 'preload.cjs'), 'utf8');
    const module = { exports: {} };
    runInNewContext(code, {
      module,
      exports: module.exports,
      // A sandboxed preload may require only 'electron' (and a few others); anything else would fail at run time.
      require: (name: string) => {
        if (name !== 'electron') throw new Error(`preload requires ${name}`);
        return electron;
      },
    });
    expect(Object.keys(exposed)).toEqual(['openvend']);
    expect(Object.keys(exposed.openvend ?? {}).sort()).toEqual([...METHOD_NAMES].sort());
    await exposed.openvend?.['vend.sell']?.({ args: {} });
    expect(channels).toEqual(['openvend:vend.sell']);
  });

  it('the main bundle loads the UI from the app:// protocol and keeps Electron external', () => {
    const main = readFileSync(join(ELECTRON_DIST, 'main.mjs'), 'utf8');
    expect(main).toMatch(/APP_SCHEME = "app"/);
    expect(main).toMatch(/APP_HOST = "openvend"/);
    expect(main).toContain('registerSchemesAsPrivileged');
    expect(main).toMatch(/from "electron"|from 'electron'/);
    expect(main).toMatch(/loadURL\(APP_START_URL\)/);
    expect(main).not.toContain('loadFile(');
  });
});
