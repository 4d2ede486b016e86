import type { SyncTransport, TransportResponse } from '../../src-main/sync/transport.ts';
import { SyncError } from '../../src-shared/sync/errors.ts';
import type { ErrorBody } from '../../src-shared/sync/protocol.ts';
import type { ServerDatabase, ServerDb } from '../../sync-server/db/database.ts';

/**
 * A network between an outlet and the sync server that misbehaves on a schedule: a SyncTransport wrapper
 * (the same interface as the real pinned transport) whose n-th request meets the n-th fault of the schedule;
 * once the schedule is used up, or after `heal()`, requests pass untouched. No vitest import: the nightly
 * simulation script uses it too.
 */

export type Fault =
  /** Lost on the way: the server never sees it; the client times out. */
  | { kind: 'drop-request' }
  /** The server commits and answers, the answer is lost (= the server died after commit, before answering). */
  | { kind: 'drop-response' }
  /** Delivered twice (same bytes, same nonce); the client hears the first or the second answer. */
  | { kind: 'duplicate'; answer: 'first' | 'second' }
  /**
   * Held in the network: the client times out, the request reaches the server later, after `afterSends`
   * newer requests went through (before or after the one that releases it): a stale retry arriving late.
   */
  | { kind: 'delay'; afterSends: number; before: boolean }
  /** A 503 from a proxy in front of the server: not delivered. */
  | { kind: 'server-error' }
  /** The server process dies inside the ingest transaction, before COMMIT: rolled back, no answer. */
  | { kind: 'server-crash' }
  /** The outlet process dies while the request is on the wire (delivered or not): its answer is never read. */
  | { kind: 'client-crash'; delivered: boolean };

export type FaultKind = Fault['kind'];

export const FAULT_KINDS: readonly FaultKind[] = [
  'drop-request',
  'drop-response',
  'duplicate',
  'delay',
  'server-error',
  'server-crash',
  'client-crash',
];

/** Per fault kind, how often it was injected; plus what became of late (held) requests. */
export interface LinkStats {
  requests: number;
  faults: Record<FaultKind, number>;
  /** Held requests that reached the server later, by request and answer ("POST /v1/batches 200 duplicate"). */
  lateDeliveries: Record<string, number>;
}

export const emptyLinkStats = (): LinkStats => ({
  requests: 0,
  faults: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
  lateDeliveries: {},
});

interface WireRequest {
  method: 'GET' | 'POST';
  path: string;
  body: Buffer | null;
  headers: Record<string, string>;
}

interface HeldRequest {
  request: WireRequest;
  remaining: number;
  before: boolean;
}

export interface FaultyLinkOptions {
  /** The way to the server when all goes well (e.g. `injectTransport(server)`). */
  server: SyncTransport;
  /** The same server whose database transaction dies before COMMIT (see `crashBeforeCommit`). */
  crashingServer: SyncTransport;
  schedule: ReadonlyArray<Fault | null>;
  stats?: LinkStats;
}

const CLIENT_DEAD = Symbol('client crashed');

const timedOut = (what: string) => new SyncError('SYNC_UNAVAILABLE', `faulty link: ${what}`);

const proxyError: ErrorBody = {
  error: { code: 'SYNC_UNAVAILABLE', message: 'Service unavailable (proxy).', class: 'retry' },
};

/** A late request and its answer, for the statistics: "POST /v1/batches 200 duplicate", "GET /v1/master 200". */
function describeLate(request: WireRequest, response: TransportResponse): string {
  const what = `${request.method} ${request.path.replace(/\?.*$/, '')} ${response.status}`;
  try {
    const json = JSON.parse(response.body.toString('utf8')) as {
      status?: unknown;
      error?: { code?: string };
    };
    const outcome = request.method === 'POST' ? json.status : undefined;
    return [what, outcome ?? json.error?.code].filter(Boolean).join(' ');
  } catch {
    return what;
  }
}

export class FaultyLink implements SyncTransport {
  readonly stats: LinkStats;
  readonly #server: SyncTransport;
  readonly #crashingServer: SyncTransport;
  #schedule: ReadonlyArray<Fault | null>;
  #next = 0;
  #healed = false;
  #held: HeldRequest[] = [];
  #clientCrashed: (() => void) | null = null;
  #crashSignal: Promise<void>;

  constructor(options: FaultyLinkOptions) {
    this.#server = options.server;
    this.#crashingServer = options.crashingServer;
    this.#schedule = options.schedule;
    this.stats = options.stats ?? emptyLinkStats();
    this.#crashSignal = this.#armCrashSignal();
  }

  /**
   * Settles when a `client-crash` fault hits: from then on the client that sent it is dead (its request
   * never settles, so it writes nothing more). Re-armed for the next client by `afterClientRestart()`.
   */
  get clientCrashed(): Promise<void> {
    return this.#crashSignal;
  }

  afterClientRestart(): void {
    this.#crashSignal = this.#armCrashSignal();
  }

  /** A new schedule from its first entry (the link of a reused outlet, for the next case). */
  load(schedule: ReadonlyArray<Fault | null>): void {
    this.#schedule = schedule;
    this.#next = 0;
    this.#healed = false;
  }

  /** No more faults (held requests stay held until released or flushed). */
  heal(): void {
    this.#healed = true;
  }

  get heldCount(): number {
    return this.#held.length;
  }

  /** Delivers every request still held in the network, oldest first; their answers go nowhere. */
  async flushHeld(): Promise<void> {
    const held = this.#held;
    this.#held = [];
    for (const item of held) await this.#deliverLate(item.request);
  }

  async send(
    method: 'GET' | 'POST',
    path: string,
    body: Buffer | null,
    headers: Record<string, string>,
  ): Promise<TransportResponse> {
    const request: WireRequest = { method, path, body, headers };
    this.stats.requests++;
    const due = this.#releaseDue();
    for (const item of due) if (item.before) await this.#deliverLate(item.request);
    let answer: TransportResponse | typeof CLIENT_DEAD;
    try {
      answer = await this.#apply(request);
    } finally {
      for (const item of due) if (!item.before) await this.#deliverLate(item.request);
    }
    if (answer !== CLIENT_DEAD) return answer;
    this.#clientCrashed?.();
    // The process is gone: nobody ever reads an answer, and the dead client writes nothing more.
    return new Promise<TransportResponse>(() => {});
  }

  close(): void {}

  async #apply(request: WireRequest): Promise<TransportResponse | typeof CLIENT_DEAD> {
    const fault = this.#healed ? null : (this.#schedule[this.#next++] ?? null);
    if (!fault) return this.#deliver(this.#server, request);
    this.stats.faults[fault.kind]++;
    switch (fault.kind) {
      case 'drop-request':
        throw timedOut('request lost');
      case 'drop-response':
        await this.#deliver(this.#server, request);
        throw timedOut('answer lost');
      case 'duplicate': {
        const first = await this.#deliver(this.#server, request);
        const second = await this.#deliver(this.#server, request);
        return fault.answer === 'first' ? first : second;
      }
      case 'delay':
        this.#held.push({ request, remaining: fault.afterSends, before: fault.before });
        throw timedOut('no answer in time (request held in the network)');
      case 'server-error':
        return { status: 503, body: Buffer.from(JSON.stringify(proxyError)) };
      case 'server-crash':
        await this.#deliver(this.#crashingServer, request);
        throw timedOut('connection reset (server died)');
      case 'client-crash':
        if (fault.delivered) await this.#deliver(this.#server, request);
        return CLIENT_DEAD;
    }
  }

  #deliver(target: SyncTransport, request: WireRequest): Promise<TransportResponse> {
    return target.send(request.method, request.path, request.body, request.headers);
  }

  async #deliverLate(request: WireRequest): Promise<void> {
    const answer = describeLate(request, await this.#deliver(this.#server, request));
    this.stats.lateDeliveries[answer] = (this.stats.lateDeliveries[answer] ?? 0) + 1;
  }

  #releaseDue(): HeldRequest[] {
    const due: HeldRequest[] = [];
    for (const item of this.#held) if (--item.remaining <= 0) due.push(item);
    this.#held = this.#held.filter((item) => item.remaining > 0);
    return due;
  }

  #armCrashSignal(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#clientCrashed = resolve;
    });
  }
}

/** Thrown inside the ingest transaction by `crashBeforeCommit`: stands for the server process dying. */
export class ServerCrashBeforeCommit extends Error {
  constructor() {
    super('simulated server crash before COMMIT');
  }
}

/**
 * The same database seen by a server process that dies just before COMMIT: every transaction does all its
 * work, then fails instead of committing, so the database itself rolls it back (real ROLLBACK on PostgreSQL
 * and PGlite). Queries outside transactions (authentication, nonces) go through untouched, as they would
 * before a crash. Built on the production code without a seam: a proxy over the drizzle handle.
 */
export function crashBeforeCommit(database: ServerDatabase, onCrash: () => void): ServerDatabase {
  const real = database.db;
  const transaction: ServerDb['transaction'] = (work, config) =>
    real.transaction(async (tx) => {
      await work(tx);
      onCrash();
      throw new ServerCrashBeforeCommit();
    }, config);
  const db = new Proxy(real, {
    get(target, property) {
      if (property === 'transaction') return transaction;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ...database, db, close: async () => {} };
}
