import { randomBytes } from 'node:crypto';
import type { Language } from '../../src-shared/bridge/contract.ts';
import { EngineError } from '../engine/errors.ts';
import type { OperatorSession } from '../engine/operators.ts';

/** An operator session ends after this long without a call: a counter left unattended locks itself. */
export const SESSION_IDLE_MINUTES = 30;

interface Entry {
  operator: OperatorSession;
  language: Language | null;
  lastSeen: number;
}

/** Operator sessions held by the engine: random bearer tokens, never persisted, expired when idle. */
export class SessionStore {
  readonly #entries = new Map<string, Entry>();
  readonly #idleMs: number;

  constructor(idleMinutes = SESSION_IDLE_MINUTES) {
    this.#idleMs = idleMinutes * 60_000;
  }

  open(operator: OperatorSession, language: Language | null, now: Date): string {
    const token = randomBytes(24).toString('base64url');
    this.#entries.set(token, { operator, language, lastSeen: now.getTime() });
    return token;
  }

  /** The operator behind a token, refreshing its idle timer; a clear error when it is missing or expired. */
  require(token: string | undefined, now: Date): OperatorSession {
    const entry = token === undefined ? undefined : this.#entries.get(token);
    if (!entry || token === undefined) {
      throw new EngineError('AUTH_SESSION_EXPIRED', 'Please log in.', 'no session or unknown session token');
    }
    if (now.getTime() - entry.lastSeen > this.#idleMs) {
      this.#entries.delete(token);
      throw new EngineError(
        'AUTH_SESSION_EXPIRED',
        `You were logged out after ${SESSION_IDLE_MINUTES} minutes without activity. Please log in again.`,
        'session idle timeout',
      );
    }
    entry.lastSeen = now.getTime();
    return entry.operator;
  }

  setLanguage(token: string, language: Language): void {
    const entry = this.#entries.get(token);
    if (entry) entry.language = language;
  }

  close(token: string): void {
    this.#entries.delete(token);
  }

  /** Ends every session of one operator (deactivated, role changed). */
  closeOperator(operatorId: number): void {
    for (const [token, entry] of this.#entries)
      if (entry.operator.id === operatorId) this.#entries.delete(token);
  }
}
