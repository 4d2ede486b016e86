import type { Clock } from '../../src-main/engine/vend-engine.ts';
import { createEngineService, type RunningService } from '../../src-main/service/create-service.ts';
import type {
  BridgeResponse,
  MethodArgs,
  MethodName,
  MethodResult,
} from '../../src-shared/bridge/contract.ts';
import { createEngineFixture, type EngineFixture, type FixtureOptions } from './engine-fixture.ts';

/** Log records the service wrote (warn/error), for tests that check a refused call is logged. */
export interface RecordedLog {
  level: 'warn' | 'error';
  details: object;
  message: string;
}

export interface ServiceFixture {
  fixture: EngineFixture;
  running: RunningService;
  logs: RecordedLog[];
  /** Calls a method through the real dispatcher; returns the raw envelope. */
  raw(method: string, request: unknown): Promise<BridgeResponse>;
  /** Calls a method and returns its result, or throws with the error code. */
  call<M extends MethodName>(method: M, args: MethodArgs<M>, session?: string): Promise<MethodResult<M>>;
  /** Logs in a demo operator and returns the session token. */
  login(username: string, password?: string): Promise<string>;
  cleanup(): Promise<void>;
}

export const DEMO_PASSWORDS: Record<string, string> = {
  admin: 'demo-admin-pass',
  super: 'demo-super-pass',
  cashier: 'demo-cashier-pass',
  engineer: 'demo-engineer-pass',
};

/** The bridge service in-process over a fresh demo outlet (the engine fixture's ledger and KEK). */
export function createServiceFixture(options: FixtureOptions & { clock?: Clock } = {}): ServiceFixture {
  const fixture = createEngineFixture(options);
  const logs: RecordedLog[] = [];
  const running = createEngineService({
    host: 'browser',
    demo: true,
    dataDir: fixture.dataDir,
    kek: { description: 'test KEK', load: () => fixture.kek },
    clock: options.clock ?? (() => new Date(fixture.now.getTime())),
    log: {
      warn: (details, message) => void logs.push({ level: 'warn', details, message }),
      error: (details, message) => void logs.push({ level: 'error', details, message }),
    },
  });
  const raw = (method: string, request: unknown) => running.service.dispatch(method, request);
  const call = async <M extends MethodName>(method: M, args: MethodArgs<M>, session?: string) => {
    const response = await raw(method, session === undefined ? { args } : { args, session });
    if (!response.ok) {
      throw Object.assign(new Error(`${response.error.code}: ${response.error.userMessage}`), response.error);
    }
    return response.result as MethodResult<M>;
  };
  return {
    fixture,
    running,
    logs,
    raw,
    call,
    async login(username, password = DEMO_PASSWORDS[username] ?? '') {
      return (await call('auth.login', { username, password })).session;
    },
    async cleanup() {
      await running.close();
      fixture.cleanup();
    },
  };
}
