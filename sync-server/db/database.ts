import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { ServerError } from '../errors.ts';
import * as schema from './schema.ts';

/** drizzle over node-postgres or PGlite: the same pg-core schema and queries on both. */
export type ServerDb = PgDatabase<PgQueryResultHKT, typeof schema>;
/** The `tx` of `db.transaction(async (tx) => …)`. */
export type ServerTx = Parameters<Parameters<ServerDb['transaction']>[0]>[0];

export interface ServerDatabase {
  db: ServerDb;
  kind: 'postgresql' | 'pglite';
  /** Where the data is, for logs (the URL without its password, or the PGlite folder). */
  where: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… : a PostgreSQL server. Without it, PGlite in `pgliteDir`. */
  databaseUrl?: string | undefined;
  /** The PGlite data folder; 'memory://' for a throwaway database (tests). */
  pgliteDir?: string | undefined;
  /** PostgreSQL only: pool size per server instance. */
  poolSize?: number | undefined;
}

/** Rows of a raw `execute()`: node-postgres and PGlite both answer `{ rows }`. */
export async function queryRows<T>(db: ServerDb | ServerTx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * Inserts many rows with ONE parameter (a JSON array read by jsonb_to_recordset) instead of rows × columns
 * parameters: for a 100-event batch, building the parameterised statement cost more CPU than PostgreSQL spent on it.
 * `table` and the column list are code constants, never input; rows are keyed by the columns' camelCase names
 * (as drizzle's inferred insert types are).
 */
export async function insertJsonRows<T = never>(
  db: ServerDb | ServerTx,
  table: string,
  columns: ReadonlyArray<readonly [name: string, type: string]>,
  rows: ReadonlyArray<Record<string, unknown>>,
  returning?: string,
): Promise<T[]> {
  if (rows.length === 0) return [];
  const names = columns.map(([name]) => name).join(', ');
  const shape = columns.map(([name, type]) => `${name} ${type}`).join(', ');
  return queryRows<T>(
    db,
    sql`${sql.raw(`INSERT INTO ${table} (${names}) SELECT ${names} FROM jsonb_to_recordset(`)}${JSON.stringify(rows.map(snakeCaseKeys))}${sql.raw(
      `::jsonb) AS x(${shape})${returning ? ` RETURNING ${returning}` : ''}`,
    )}`,
  );
}

const snakeCaseKeys = (row: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );

const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

export async function openServerDatabase(options: OpenDatabaseOptions): Promise<ServerDatabase> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = drizzlePg({ client: pool, schema }) as unknown as ServerDb;
    try {
      await db.execute(sql`SELECT 1`);
    } catch (error) {
      await pool.end();
      throw new ServerError(
        'SERVER_DB_UNAVAILABLE',
        'The sync server cannot reach its PostgreSQL database. Check DATABASE_URL and that PostgreSQL is running.',
        `${redact(options.databaseUrl)}: ${(error as Error).message}`,
      );
    }
    return { db, kind: 'postgresql', where: redact(options.databaseUrl), close: () => pool.end() };
  }
  const dir = options.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true, mode: 0o700 });
  let client: PGlite;
  try {
    client = await PGlite.create(dir);
  } catch (error) {
    throw new ServerError(
      'SERVER_DB_UNAVAILABLE',
      'The sync server cannot open its embedded database.',
      `PGlite ${dir}: ${(error as Error).message}`,
    );
  }
  const db = drizzlePglite({ client, schema }) as unknown as ServerDb;
  return { db, kind: 'pglite', where: dir, close: () => client.close() };
}
