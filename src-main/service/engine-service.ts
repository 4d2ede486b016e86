import type { z } from 'zod';
import {
  type BridgeResponse,
  bridgeContract,
  bridgeRequestSchema,
  type MethodName,
} from '../../src-shared/bridge/contract.ts';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { type OperatorSession, requirePermission } from '../engine/operators.ts';
import type { Clock, VendEngine } from '../engine/vend-engine.ts';
import type { Handler, HandlerContext, Handlers, ServiceOptions } from './handler-types.ts';
import { JobRunner } from './jobs.ts';
import { SessionStore } from './sessions.ts';

/** The part of a pino logger the service uses (a test passes a recorder). */
export interface ServiceLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

const isMethodName = (name: string): name is MethodName => Object.hasOwn(bridgeContract, name);

const fail = (code: string, userMessage: string, detail: string): BridgeResponse => ({
  ok: false,
  error: { code, userMessage, detail },
});

const describeIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/**
 * The engine behind the bridge: one `dispatch` for every transport (Electron IPC, browser-mode HTTP, tests).
 * It checks the method name, the envelope, the session and the permission, validates the arguments with the
 * contract's zod schema, runs the handler and checks the result against the contract before it leaves.
 */
export class EngineService {
  readonly sessions = new SessionStore();
  readonly jobs = new JobRunner();
  readonly #engine: VendEngine;
  readonly #handlers: Handlers;
  readonly #options: ServiceOptions;
  readonly #clock: Clock;
  readonly #log: ServiceLogger;

  constructor(
    engine: VendEngine,
    handlers: Handlers,
    options: ServiceOptions,
    clock: Clock,
    log: ServiceLogger,
  ) {
    this.#engine = engine;
    this.#handlers = handlers;
    this.#options = options;
    this.#clock = clock;
    this.#log = log;
  }

  async dispatch(name: string, request: unknown): Promise<BridgeResponse> {
    if (!isMethodName(name)) {
      this.#log.warn({ method: name }, 'bridge call to an unknown method refused');
      return fail(
        'BRIDGE_UNKNOWN_METHOD',
        'This action is not available in this version.',
        `no method ${name}`,
      );
    }
    const envelope = bridgeRequestSchema.safeParse(request);
    if (!envelope.success) {
      this.#log.warn(
        { method: name, issues: describeIssues(envelope.error) },
        'malformed bridge envelope refused',
      );
      return fail(
        'BRIDGE_INVALID_REQUEST',
        'The request was not understood.',
        describeIssues(envelope.error),
      );
    }
    const spec = bridgeContract[name];
    const args = spec.args.safeParse(envelope.data.args ?? {});
    if (!args.success) {
      const detail = describeIssues(args.error);
      this.#log.warn({ method: name, issues: detail }, 'bridge call with invalid arguments refused');
      return fail(
        'BRIDGE_INVALID_ARGUMENTS',
        'Some of the information given is not valid.',
        `${name}: ${detail}`,
      );
    }
    const now = this.#clock();
    try {
      let session: OperatorSession | null = null;
      const token = envelope.data.session ?? null;
      if (spec.access !== 'public') {
        session = this.sessions.require(token ?? undefined, now);
        if (spec.access !== 'session') requirePermission(session, spec.access);
      }
      const context: HandlerContext = {
        engine: this.#engine,
        sqlite: this.#engine.sqlite,
        session,
        sessionToken: session ? token : null,
        sessions: this.sessions,
        jobs: this.jobs,
        options: this.#options,
        clock: this.#clock,
        now,
      };
      // Handlers of non-public methods may rely on the session being present (checked just above).
      const handler = this.#handlers[name] as Handler<MethodName>;
      const result = await handler(args.data as never, context as never);
      const checked = spec.result.safeParse(result);
      if (!checked.success) {
        const detail = describeIssues(checked.error);
        this.#log.error({ method: name, issues: detail }, 'handler result does not match the contract');
        return fail(
          'BRIDGE_INVALID_RESULT',
          'Something went wrong. Call support.',
          `${name} result: ${detail}`,
        );
      }
      return { ok: true, result: checked.data };
    } catch (error) {
      if (isOpenVendError(error)) return fail(error.code, error.userMessage, error.detail);
      this.#log.error({ method: name, err: error }, 'bridge handler failed');
      return fail(
        'INTERNAL',
        'Something went wrong. Nothing was sold. Try again; if it happens again, call support.',
        error instanceof Error ? error.message : String(error),
      );
    }
  }
}
