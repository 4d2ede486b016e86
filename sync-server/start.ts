import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { APP_VERSION } from '../src-main/app-version.ts';
import { buildSyncServer } from './app.ts';
import { lockDataDir, PGLITE_DIR } from './data-dir.ts';
import { SERVER_MIGRATIONS } from './db/bundled.ts';
import { openServerDatabase, type ServerDatabase } from './db/database.ts';
import { migrateServerDatabase } from './db/migrator.ts';
import { serverKekSource } from './master-data.ts';
import { loadOrCreateTls } from './tls.ts';

export interface DatabaseChoice {
  dataDir: string;
  /** postgres://… ; absent or empty = the embedded PGlite database in the data folder. */
  databaseUrl?: string | undefined;
}

/**
 * Opens the server database (PostgreSQL or the embedded PGlite, which is locked to this process) and brings
 * its schema up to date. Used by the server and by `openvend server admin`.
 */
export async function openMigratedDatabase(choice: DatabaseChoice, purpose: string): Promise<ServerDatabase> {
  const lock = choice.databaseUrl ? null : lockDataDir(choice.dataDir, purpose);
  try {
    const database = await openServerDatabase({
      databaseUrl: choice.databaseUrl || undefined,
      pgliteDir: join(choice.dataDir, PGLITE_DIR),
    });
    try {
      await migrateServerDatabase(database.db, SERVER_MIGRATIONS, APP_VERSION);
    } catch (error) {
      await database.close();
      throw error;
    }
    return {
      ...database,
      close: async () => {
        try {
          await database.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}

export interface StartOptions extends DatabaseChoice {
  host: string;
  port: number;
  /** Plain HTTP: local development only. */
  insecureHttp: boolean;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  logger: FastifyBaseLogger | false;
}

export interface RunningSyncServer {
  url: string;
  fingerprint: string | null;
  certificateGenerated: boolean;
  database: ServerDatabase;
  close(): Promise<void>;
}

export async function startSyncServer(options: StartOptions): Promise<RunningSyncServer> {
  const tls = options.insecureHttp
    ? null
    : loadOrCreateTls(options.dataDir, { certPath: options.tlsCert, keyPath: options.tlsKey });
  const database = await openMigratedDatabase(options, 'sync server');
  try {
    const { app } = buildSyncServer({
      database,
      logger: options.logger,
      tls: tls ? { key: tls.key, cert: tls.cert } : null,
      fingerprint: tls?.fingerprint ?? null,
      processMetrics: true,
      serverKek: () => serverKekSource(options.dataDir).load(),
    });
    await app.listen({ host: options.host, port: options.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    return {
      url: `${tls ? 'https' : 'http'}://${host}:${port}`,
      fingerprint: tls?.fingerprint ?? null,
      certificateGenerated: tls?.generated ?? false,
      database,
      close: async () => {
        try {
          await app.close();
        } finally {
          await database.close();
        }
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
