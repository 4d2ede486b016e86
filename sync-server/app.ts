import { eq, sql } from 'drizzle-orm';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { APP_VERSION } from '../src-main/app-version.ts';
import { isOpenVendError } from '../src-shared/errors/openvend-error.ts';
import { SyncError } from '../src-shared/sync/errors.ts';
import { masterQuerySchema } from '../src-shared/sync/master-data.ts';
import {
  type DeviceInfo,
  type ErrorBody,
  MAX_BODY_BYTES,
  SYNC_PROTOCOL_VERSION,
  SYNC_ROUTES,
} from '../src-shared/sync/protocol.ts';
import { endOfDayQuerySchema } from '../src-shared/sync/reports.ts';
import { authenticateApiClient } from './api-clients.ts';
import { authenticateDevice, pruneNonces } from './auth.ts';
import type { ServerDatabase } from './db/database.ts';
import { outlet } from './db/schema.ts';
import { enrollDevice } from './enrollment.ts';
import { ingestBatch, parseUpload } from './ingest.ts';
import { masterPage } from './master-data.ts';
import { createMetrics, type SyncMetrics } from './metrics.ts';
import { centralFloat } from './projections.ts';
import {
  type EndOfDayScope,
  endOfDayCsv,
  endOfDayReport,
  outletOfUtility,
  staleMonthToDateReport,
  tidCollisionReport,
} from './reports.ts';

export interface SyncServerOptions {
  database: ServerDatabase;
  /** A pino logger, or false for none (tests). */
  logger: FastifyBaseLogger | false;
  /** PEM key and certificate; null = plain HTTP (local development only). */
  tls: { key: string; cert: string } | null;
  /** SHA-256 fingerprint of `tls.cert`, told to enrolling outlets (null over plain HTTP). */
  fingerprint: string | null;
  clock?: () => Date;
  /** Process metrics (CPU, memory, event loop) on /metrics; off in tests that start many instances. */
  processMetrics?: boolean;
  bodyLimit?: number;
  noncePruneIntervalMs?: number;
  /** The server KEK that vending keys are sealed under at rest (from the data folder); default: env / OS folder. */
  serverKek?: () => Buffer;
}

export interface SyncServer {
  app: FastifyInstance;
  metrics: SyncMetrics;
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody: Buffer;
  }
}

const errorBody = (error: SyncError): ErrorBody => ({
  error: {
    code: error.code,
    message: error.userMessage,
    class: error.errorClass,
    ...(error.lastSeq !== undefined ? { lastSeq: error.lastSeq } : {}),
  },
});

function parseJson(request: FastifyRequest): unknown {
  try {
    return JSON.parse(request.rawBody.toString('utf8'));
  } catch (error) {
    throw new SyncError('SYNC_MALFORMED', `body is not JSON: ${(error as Error).message}`);
  }
}

/** Database failures are transient for the outlet (retry); the detail stays in the server log. */
const isDatabaseDown = (error: unknown): boolean => {
  const text = String((error as { cause?: unknown })?.cause ?? error);
  return /ECONNREFUSED|ECONNRESET|terminating connection|Connection terminated|timeout exceeded/i.test(text);
};

/**
 * The sync server: Fastify routes over one database. It keeps no state of its own between requests (only
 * caches of pure computations), so any number of instances can serve one PostgreSQL.
 */
export function buildSyncServer(options: SyncServerOptions): SyncServer {
  const { database } = options;
  const db = database.db;
  const clock = options.clock ?? (() => new Date());
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? false });
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
    bodyLimit: options.bodyLimit ?? MAX_BODY_BYTES,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  // Every body is read as bytes: the signature covers its hash, JSON is parsed only after authentication.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    done(null, undefined);
  });
  app.addHook('onRequest', async (request) => {
    request.rawBody = Buffer.alloc(0);
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new SyncError('SYNC_NOT_FOUND', `${request.method} ${request.url}`);
    reply.code(error.status).send(errorBody(error));
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    let failure: SyncError;
    if (error instanceof SyncError) {
      failure = error;
    } else {
      const fastifyCode = (error as { code?: string }).code;
      const statusCode = (error as { statusCode?: number }).statusCode;
      if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        failure = new SyncError(
          'SYNC_BODY_TOO_LARGE',
          `body over ${options.bodyLimit ?? MAX_BODY_BYTES} bytes`,
        );
      } else if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
        failure = new SyncError('SYNC_MALFORMED', (error as Error).message);
      } else if (isDatabaseDown(error)) {
        request.log.error({ err: error }, 'database unavailable');
        failure = new SyncError('SYNC_UNAVAILABLE', 'database unavailable');
      } else {
        request.log.error({ err: error }, 'request failed');
        failure = new SyncError('SYNC_SERVER_ERROR', isOpenVendError(error) ? error.code : 'internal error');
      }
    }
    metrics.refusals.inc({ code: failure.code });
    if (failure.status >= 500) reply.header('retry-after', '5');
    reply.code(failure.status).send(errorBody(failure));
  });

  app.get(SYNC_ROUTES.health, async (_request, reply) => {
    try {
      await db.execute(sql`SELECT 1`);
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: database.kind });
    }
    return { status: 'ok', database: database.kind, version: APP_VERSION, protocol: SYNC_PROTOCOL_VERSION };
  });

  app.get(SYNC_ROUTES.metrics, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.post(SYNC_ROUTES.enroll, async (request) => {
    const response = await enrollDevice(db, parseJson(request), clock(), options.fingerprint);
    metrics.enrollments.inc();
    request.log.info({ deviceId: response.deviceId, outlet: response.outlet.code }, 'device enrolled');
    return response;
  });

  const signed = (request: FastifyRequest) => ({
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: request.rawBody,
  });

  app.get(SYNC_ROUTES.device, async (request): Promise<DeviceInfo> => {
    const row = await authenticateDevice(db, signed(request), clock(), { readOnly: true });
    const float = await centralFloat(db, row.outletId);
    return {
      deviceId: row.id,
      outletCode: (await db.select({ code: outlet.code }).from(outlet).where(eq(outlet.id, row.outletId)))[0]!
        .code,
      status: row.status as DeviceInfo['status'],
      lastSeq: row.lastSeq,
      lastHash: row.lastHash,
      serverTime: clock().toISOString(),
      ...(float ? { float } : {}),
    };
  });

  app.get(SYNC_ROUTES.master, async (request) => {
    const row = await authenticateDevice(db, signed(request), clock(), { readOnly: false });
    const query = masterQuerySchema.safeParse(request.query);
    if (!query.success) throw new SyncError('SYNC_MALFORMED', 'after and limit must be whole numbers');
    const reader = { outletId: row.outletId, deviceId: row.id, publicKey: row.publicKey };
    return options.serverKek
      ? masterPage(db, reader, query.data, options.serverKek)
      : masterPage(db, reader, query.data);
  });

  // Reports: a device reads its own outlet's end of day; head office reads every outlet with an API key.
  const sendEndOfDay = async (reply: FastifyReply, scope: EndOfDayScope, format: 'json' | 'csv') => {
    const report = await endOfDayReport(db, scope, clock());
    if (format === 'json') return report;
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="end-of-day-${scope.date}.csv"`)
      .send(endOfDayCsv(report));
  };
  const endOfDayQuery = (request: FastifyRequest) => {
    const query = endOfDayQuerySchema.safeParse(request.query);
    if (!query.success) throw new SyncError('SYNC_MALFORMED', 'date must be YYYY-MM-DD; format json or csv');
    return query.data;
  };

  app.get(SYNC_ROUTES.endOfDay, async (request, reply) => {
    const row = await authenticateDevice(db, signed(request), clock(), { readOnly: false });
    const query = endOfDayQuery(request);
    const [own] = await db
      .select({ utilityId: outlet.utilityId })
      .from(outlet)
      .where(eq(outlet.id, row.outletId));
    return sendEndOfDay(
      reply,
      { utilityId: own!.utilityId, date: query.date, outletId: row.outletId },
      query.format,
    );
  });

  app.get(SYNC_ROUTES.adminEndOfDay, async (request, reply) => {
    const client = await authenticateApiClient(db, request.headers.authorization);
    const query = endOfDayQuery(request);
    const outletId =
      query.outlet === undefined ? null : await outletOfUtility(db, client.utilityId, query.outlet);
    if (query.outlet !== undefined && outletId === null)
      throw new SyncError('SYNC_NOT_FOUND', `outlet ${query.outlet}`);
    return sendEndOfDay(
      reply,
      { utilityId: client.utilityId, date: query.date, ...(outletId !== null ? { outletId } : {}) },
      query.format,
    );
  });

  app.get(SYNC_ROUTES.adminStaleMonthToDate, async (request) => {
    const client = await authenticateApiClient(db, request.headers.authorization);
    const month = /^\d{4}-(0[1-9]|1[0-2])$/.exec(String((request.query as { month?: unknown }).month ?? ''));
    if (!month) throw new SyncError('SYNC_MALFORMED', 'month must be YYYY-MM');
    return { month: month[0], sales: await staleMonthToDateReport(db, client.utilityId, month[0]) };
  });

  app.get(SYNC_ROUTES.adminTidCollisions, async (request) => {
    const client = await authenticateApiClient(db, request.headers.authorization);
    return { collisions: await tidCollisionReport(db, client.utilityId) };
  });

  app.post(SYNC_ROUTES.batches, async (request) => {
    const stop = metrics.batchSeconds.startTimer();
    let counted = false;
    try {
      const now = clock();
      const row = await authenticateDevice(db, signed(request), now, { readOnly: false });
      const upload = parseUpload(parseJson(request));
      const result = await ingestBatch(db, row, upload, now);
      metrics.batches.inc({ outcome: result.outcome });
      counted = true;
      if ('error' in result) {
        if (result.outcome === 'quarantined') {
          request.log.warn(
            { deviceId: row.id, seq: upload.batch.seq, code: result.error.code },
            result.error.detail,
          );
        }
        throw result.error;
      }
      const rejected = result.response.rejected.length;
      if (result.outcome === 'applied') {
        metrics.events.inc({ result: 'accepted' }, upload.batch.events.length - rejected);
        if (rejected > 0) metrics.events.inc({ result: 'rejected' }, rejected);
      }
      return result.response;
    } catch (error) {
      if (!counted) metrics.batches.inc({ outcome: 'refused' });
      throw error;
    } finally {
      stop();
    }
  });

  const pruneEvery = options.noncePruneIntervalMs ?? 60_000;
  const pruner = setInterval(() => {
    pruneNonces(db, clock()).catch((error: unknown) => app.log.warn({ err: error }, 'nonce pruning failed'));
  }, pruneEvery);
  pruner.unref();
  app.addHook('onClose', async () => clearInterval(pruner));

  return { app, metrics };
}
