import type Database from 'better-sqlite3';
import type { MethodName, MethodResult, ParsedArgs } from '../../src-shared/bridge/contract.ts';
import type { OperatorSession } from '../engine/operators.ts';
import type { Clock, VendEngine } from '../engine/vend-engine.ts';
import type { JobRunner } from './jobs.ts';
import type { SessionStore } from './sessions.ts';

/** Facts about how this engine was started, for app.info. */
export interface ServiceOptions {
  host: 'electron' | 'browser';
  demo: boolean;
  dataDir: string;
}

/** What every handler gets: the engine, the caller's session (null for public methods) and the time. */
export interface HandlerContext {
  engine: VendEngine;
  sqlite: Database.Database;
  session: OperatorSession | null;
  /** The session token of the caller (null for public methods). */
  sessionToken: string | null;
  sessions: SessionStore;
  jobs: JobRunner;
  options: ServiceOptions;
  clock: Clock;
  now: Date;
}

/** A context whose session is known to be present (every method whose access is not 'public'). */
export type SessionContext = HandlerContext & { session: OperatorSession; sessionToken: string };

export type Handler<M extends MethodName> = (
  args: ParsedArgs<M>,
  context: SessionContext,
) => MethodResult<M> | Promise<MethodResult<M>>;

/** Handlers of some contract methods: each domain module exports one of these. */
export type HandlerGroup<M extends MethodName> = { [K in M]: Handler<K> };

/** The full set: exactly one handler per contract method (checked by the compiler and by a test). */
export type Handlers = HandlerGroup<MethodName>;
