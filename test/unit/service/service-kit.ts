import type { OpenEngine } from '../../../src-main/engine/open-engine.ts';
import type { OperatorSession } from '../../../src-main/engine/operators.ts';
import type { Handler, SessionContext } from '../../../src-main/service/handler-types.ts';
import { JobRunner } from '../../../src-main/service/jobs.ts';
import { SessionStore } from '../../../src-main/service/sessions.ts';
import {
  bridgeContract,
  type MethodArgs,
  type MethodName,
  type MethodResult,
} from '../../../src-shared/bridge/contract.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { type EngineFixture, fixedClock } from '../../support/engine-fixture.ts';

/**
 * Handler tests without the dispatcher: a SessionContext built by hand, and `call`, which does what the
 * dispatcher does around a handler — parse the arguments with the contract (defaults applied) and check the
 * result against the contract's strict result schema.
 */

export interface ServiceKit {
  open: OpenEngine;
  sessions: SessionStore;
  context(session: OperatorSession, now?: Date): SessionContext;
}

export function serviceKit(f: EngineFixture, now: Date = f.now): ServiceKit {
  const open = f.open(fixedClock(now));
  const sessions = new SessionStore();
  const jobs = new JobRunner();
  return {
    open,
    sessions,
    context: (session, at = now) => ({
      engine: open.engine,
      sqlite: open.ledger.sqlite,
      session,
      sessionToken: sessions.open(session, null, at),
      sessions,
      jobs,
      options: { host: 'browser', demo: true, dataDir: f.dataDir },
      clock: fixedClock(at),
      now: at,
    }),
  };
}

export async function call<M extends MethodName>(
  handlers: Partial<Record<MethodName, unknown>>,
  name: M,
  args: MethodArgs<M>,
  context: SessionContext,
): Promise<MethodResult<M>> {
  const spec = bridgeContract[name];
  const handler = handlers[name] as Handler<M> | undefined;
  if (!handler) throw new Error(`no handler for ${name} in this group`);
  const parsed = spec.args.parse(args) as Parameters<Handler<M>>[0];
  const result = await handler(parsed, context);
  // The dispatcher refuses a result that does not match the contract (strict objects: no extra fields).
  return spec.result.parse(result) as MethodResult<M>;
}

/** The OpenVendError a call is refused with (fails the test when it succeeds or throws something else). */
export async function refusal(action: () => unknown): Promise<OpenVendError> {
  try {
    await action();
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the call succeeded');
}

export const rowCount = (sqlite: SessionContext['sqlite'], table: string) =>
  (sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

export const auditActions = (sqlite: SessionContext['sqlite']) =>
  (sqlite.prepare('SELECT action FROM audit_log ORDER BY seq').all() as Array<{ action: string }>).map(
    (r) => r.action,
  );
