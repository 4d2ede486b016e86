import { describe, expect, it, vi } from 'vitest';
import { registerBridgeHandlers } from '../../../src-main/electron/bridge-ipc.ts';
import { handlers } from '../../../src-main/service/handlers/index.ts';
import { bridgeContract, ipcChannel, METHOD_NAMES } from '../../../src-shared/bridge/contract.ts';

// The preload imports electron, whose binary cannot exist here: it runs against a recorder of what it exposes.
const exposed = vi.hoisted(() => ({
  api: null as Record<string, (request: unknown) => Promise<unknown>> | null,
}));
const invoked = vi.hoisted(() => [] as Array<{ channel: string; request: unknown }>);
vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: Record<string, (request: unknown) => Promise<unknown>>) => {
      if (key === 'openvend') exposed.api = api;
    },
  },
  ipcRenderer: {
    invoke: async (channel: string, request: unknown) => {
      invoked.push({ channel, request });
      return { ok: true, result: channel };
    },
  },
}));

const sorted = (names: readonly string[]) => [...names].sort();

describe('one contract: preload, main handlers and engine handlers cannot drift', () => {
  it('the contract has methods and each has args, result and access', () => {
    expect(METHOD_NAMES.length).toBeGreaterThan(30);
    for (const name of METHOD_NAMES) {
      const spec = bridgeContract[name];
      expect(spec.args, name).toBeDefined();
      expect(spec.result, name).toBeDefined();
      expect(spec.access, name).toBeTruthy();
    }
  });

  it('the preload exposes exactly the contract, each function on its own channel', async () => {
    await import('../../../src-main/electron/preload.ts');
    const api = exposed.api;
    expect(api).not.toBeNull();
    expect(sorted(Object.keys(api ?? {}))).toEqual(sorted(METHOD_NAMES));
    for (const name of METHOD_NAMES) {
      await api?.[name]?.({ args: { probe: name } });
    }
    expect(invoked.map((i) => i.channel)).toEqual(METHOD_NAMES.map(ipcChannel));
    expect(invoked[0]?.request).toEqual({ args: { probe: METHOD_NAMES[0] } });
  });

  it('main registers one ipc handler per contract method and nothing else', () => {
    const channels: string[] = [];
    registerBridgeHandlers(
      { handle: (channel: string) => void channels.push(channel) } as never,
      { call: async () => ({ ok: true, result: null }) },
      { warn: () => {} },
    );
    expect(sorted(channels)).toEqual(sorted(METHOD_NAMES.map(ipcChannel)));
  });

  it('the engine has exactly one handler per contract method', () => {
    expect(sorted(Object.keys(handlers))).toEqual(sorted(METHOD_NAMES));
    for (const name of METHOD_NAMES) expect(typeof handlers[name], name).toBe('function');
  });
});

describe('ipc sender check', () => {
  type Listener = (event: unknown, request: unknown) => unknown;
  const register = () => {
    const listeners = new Map<string, Listener>();
    const calls: Array<{ method: string; request: unknown }> = [];
    const warnings: object[] = [];
    registerBridgeHandlers(
      { handle: (channel: string, listener: Listener) => void listeners.set(channel, listener) } as never,
      {
        call: async (method, request) => {
          calls.push({ method, request });
          return { ok: true, result: 'engine' };
        },
      },
      { warn: (details) => void warnings.push(details) },
    );
    return { listeners, calls, warnings };
  };
  const frame = (url: string, parent: unknown = null) => ({ senderFrame: { url, parent } });

  it('forwards calls from the app’s own top frame to the engine', async () => {
    const { listeners, calls } = register();
    const reply = await listeners.get('openvend:meter.confirm')?.(frame('app://openvend/index.html'), {
      args: { meterNumber: '1' },
    });
    expect(reply).toEqual({ ok: true, result: 'engine' });
    expect(calls).toEqual([{ method: 'meter.confirm', request: { args: { meterNumber: '1' } } }]);
  });

  it.each([
    ['a web page', 'https://evil.example/'],
    ['a file:// page', 'file:///tmp/x.html'],
    ['a look-alike host', 'app://openvend.evil/index.html'],
    ['a garbage URL', 'not a url'],
  ])('refuses a call from %s and logs it', async (_label, url) => {
    const { listeners, calls, warnings } = register();
    const reply = (await listeners.get('openvend:vend.sell')?.(frame(url), { args: {} })) as {
      ok: boolean;
      error: { code: string };
    };
    expect(reply.ok).toBe(false);
    expect(reply.error.code).toBe('BRIDGE_UNTRUSTED_SENDER');
    expect(calls).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('refuses a call from a sub-frame, even of the app', async () => {
    const { listeners, calls } = register();
    const reply = (await listeners.get('openvend:vend.sell')?.(
      frame('app://openvend/index.html', { url: 'app://openvend/' }),
      {},
    )) as { ok: boolean };
    expect(reply.ok).toBe(false);
    expect(calls).toEqual([]);
  });
});
