import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { APP_VERSION } from '../../src-main/app-version.ts';
import { signedHeaders } from '../../src-main/sync/api.ts';
import { signText } from '../../src-main/sync/identity.ts';
import type { SyncTransport } from '../../src-main/sync/transport.ts';
import {
  batchHash,
  batchSigningString,
  type ErrorBody,
  enrollProofString,
  GENESIS_BATCH_HASH,
  SYNC_PROTOCOL_VERSION,
  SYNC_ROUTES,
  SYNC_SCHEMA_VERSION,
  type SyncBatch,
  type SyncEvent,
  type UploadRequest,
} from '../../src-shared/sync/protocol.ts';
import { createEnrollmentCode, createOutlet, createUtility } from '../../sync-server/admin.ts';
import { buildSyncServer, type SyncServer } from '../../sync-server/app.ts';
import { SERVER_MIGRATIONS } from '../../sync-server/db/bundled.ts';
import {
  openServerDatabase,
  queryRows,
  type ServerDatabase,
  type ServerDb,
} from '../../sync-server/db/database.ts';
import { migrateServerDatabase } from '../../sync-server/db/migrator.ts';

/**
 * Helpers for the server tests (and benchmarks: no vitest import here). The server suite runs twice: against the real PostgreSQL (DATABASE_URL, each test file in a database of
 * its own, dropped at the end) and against PGlite in memory.
 */
export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export type BackendName = 'postgresql' | 'pglite';
export const BACKENDS: BackendName[] = ['postgresql', 'pglite'];

export const TEST_NOW = new Date('2026-03-10T08:00:00.000Z');

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface TestBackend {
  name: BackendName;
  /** A fresh, migrated database. PostgreSQL: `connect()` opens further pools on it (more server instances). */
  database: ServerDatabase;
  /** PostgreSQL: the URL of this test database (null for PGlite). */
  url: string | null;
  connect(): Promise<ServerDatabase>;
  drop(): Promise<void>;
}

export async function createBackend(name: BackendName): Promise<TestBackend> {
  if (name === 'pglite') {
    const database = await openServerDatabase({ pgliteDir: 'memory://' });
    await migrateServerDatabase(database.db, SERVER_MIGRATIONS, APP_VERSION);
    return {
      name,
      database,
      url: null,
      // One PGlite handle serves every in-process instance (it is a single connection by nature).
      connect: async () => ({ ...database, close: async () => {} }),
      drop: () => database.close(),
    };
  }
  const dbName = `ovsync_${randomBytes(6).toString('hex')}`;
  const admin = await openServerDatabase({ databaseUrl: DATABASE_URL, poolSize: 1 });
  await admin.db.execute(sql.raw(`CREATE DATABASE ${dbName}`));
  const url = withDatabase(DATABASE_URL, dbName);
  const pools: ServerDatabase[] = [];
  const connect = async () => {
    const database = await openServerDatabase({ databaseUrl: url, poolSize: 8 });
    pools.push(database);
    return database;
  };
  const database = await connect();
  await migrateServerDatabase(database.db, SERVER_MIGRATIONS, APP_VERSION);
  return {
    name,
    database,
    url,
    connect,
    async drop() {
      for (const pool of pools) await pool.close().catch(() => undefined);
      await admin.db.execute(sql.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
      await admin.close();
    },
  };
}

export function testServer(database: ServerDatabase, clock: () => Date = () => TEST_NOW): SyncServer {
  return buildSyncServer({ database, logger: false, tls: null, fingerprint: null, clock });
}

export interface TestDevice {
  deviceId: string;
  key: KeyObject;
  publicKey: string;
}

/** A utility and an outlet, and a fresh enrollment code for it. */
export async function seedOutlet(
  db: ServerDb,
  outletCode = `OUT-${randomBytes(3).toString('hex')}`,
  now: Date = TEST_NOW,
) {
  const [existing] = await queryRows<{ code: string }>(db, sql`SELECT code FROM utility WHERE code = 'UT'`);
  if (!existing) await createUtility(db, { code: 'UT', name: 'Test Utility' });
  await createOutlet(db, { utilityCode: 'UT', code: outletCode, name: `Outlet ${outletCode}` });
  const { code } = await createEnrollmentCode(db, { outletCode, ttlMs: 3_600_000, now });
  return { outletCode, code };
}

export function newDeviceKey(): { key: KeyObject; publicKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { key: privateKey, publicKey: publicKey.export({ format: 'jwk' }).x! };
}

/** An enrollment request as the outlet sends it (with its proof of possession). */
export function enrollPayload(code: string, device: { key: KeyObject; publicKey: string } = newDeviceKey()) {
  return {
    protocolVersion: SYNC_PROTOCOL_VERSION,
    appVersion: APP_VERSION,
    code,
    publicKey: device.publicKey,
    proof: signText(device.key, enrollProofString(device.publicKey, code)),
  };
}

/** A device enrolled through the real route. */
export async function enrollTestDevice(
  server: SyncServer,
  db: ServerDb,
): Promise<TestDevice & { outletCode: string }> {
  const { outletCode, code } = await seedOutlet(db);
  const { key, publicKey } = newDeviceKey();
  const response = await server.app.inject({
    method: 'POST',
    url: SYNC_ROUTES.enroll,
    payload: enrollPayload(code, { key, publicKey }),
  });
  if (response.statusCode !== 200)
    throw new Error(`enrollment failed: ${response.statusCode} ${response.body}`);
  return { deviceId: (response.json() as { deviceId: string }).deviceId, key, publicKey, outletCode };
}

let eventSeq = 0;
/** Valid events of the kinds the outlet writes (sale, float top-up, shift close). */
export function sampleEvents(count: number, options: { firstSeq?: number; at?: Date } = {}): SyncEvent[] {
  const first = options.firstSeq ?? ++eventSeq;
  eventSeq = Math.max(eventSeq, first + count);
  const at = (options.at ?? TEST_NOW).toISOString();
  return Array.from({ length: count }, (_, i) => {
    const seq = first + i;
    if (i % 10 === 9) {
      return {
        seq,
        type: 'float.top-up',
        createdAt: at,
        payload: { requestId: `top-up-${seq}`, amountMinor: 10_000, reference: 'x' },
      };
    }
    return { seq, type: 'sale.sale', createdAt: at, payload: sampleSalePayload(seq, at) };
  });
}

/**
 * A credit sale as the outlet's engine writes it to the outbox (the fields the server reads): R50.00 tendered,
 * R43.48 energy + R6.52 VAT, 25.0 kWh on one of 20 meters, one credit token with a TID unique to the receipt.
 */
export function sampleSalePayload(
  receiptNo: number,
  at: string,
  overrides: { meterNo?: string; units?: number } = {},
) {
  const meterNo = overrides.meterNo ?? `0100000${String(receiptNo % 20).padStart(4, '0')}`;
  const units = overrides.units ?? 250;
  return {
    receiptNo,
    requestId: `request-${receiptNo}`,
    saleId: receiptNo,
    ledger: {
      kind: 'sale',
      shiftId: 1,
      operator: 'cashier',
      operatorName: 'Test Cashier',
      payType: 'cash',
      tenderMinor: 5_000,
      chargesMinor: 0,
      debtMinor: 0,
      leviesMinor: 0,
      vatMinor: 652,
      energyMinor: 4_348,
      changeMinor: 0,
      units,
      fbeUnits: 0,
      meterNo,
      resource: 'electricity',
      reversesReceiptNo: null,
      reasonCode: null,
      businessDate: at.slice(0, 10),
    },
    result: {
      kind: 'sale',
      receiptNo,
      createdAt: at,
      meterNo,
      tokens: [{ kind: 'credit', digits: '1'.repeat(20), tid: 1_000_000 + receiptNo, baseDate: 2014, units }],
      breakdown: { month: at.slice(0, 7), units, monthToDateUnitsBefore: 0, monthToDateUnitsAfter: units },
    },
  };
}

/** A flat tariff version as head office publishes it (master data), effective the first of month `version`. */
export const flatTariffVersion = (
  version: number,
  rate: number,
  effectiveFromLocal = `2026-0${version}-01`,
) => ({
  version,
  effectiveFromLocal,
  kind: 'flat' as const,
  blocks: [{ upToUnits: null, rateMilliMinorPerKwh: rate }],
  vatRateBp: 1500,
  pricesIncludeVat: true,
  fixedCharge: null,
  levies: [],
  fbeMonthlyUnits: 0,
  minVendMinor: 100,
  maxVendMinor: 500_000,
});

/** A sealed, signed batch as the outlet makes it. */
export function sealTestBatch(
  device: TestDevice,
  seq: number,
  prevHash: string,
  events: SyncEvent[],
  overrides: Partial<SyncBatch> = {},
): UploadRequest {
  const batch: SyncBatch = {
    protocolVersion: SYNC_PROTOCOL_VERSION,
    schemaVersion: SYNC_SCHEMA_VERSION,
    appVersion: APP_VERSION,
    deviceId: device.deviceId,
    seq,
    prevHash,
    sealedAt: TEST_NOW.toISOString(),
    events,
    ...overrides,
  };
  const hash = batchHash(batch);
  return { batch, hash, signature: signText(device.key, batchSigningString(hash)) };
}

/** A chain of `count` batches of `size` events each. */
export function chainOfBatches(
  device: TestDevice,
  count: number,
  size: number,
  firstEventSeq = 1,
): UploadRequest[] {
  const out: UploadRequest[] = [];
  let prev = GENESIS_BATCH_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const batch = sealTestBatch(
      device,
      seq,
      prev,
      sampleEvents(size, { firstSeq: firstEventSeq + (seq - 1) * size }),
    );
    out.push(batch);
    prev = batch.hash;
  }
  return out;
}

/** A device-signed request through `app.inject`; `body` may be raw bytes (sent and signed as is). */
export async function signedInject(
  server: SyncServer,
  device: TestDevice,
  options: {
    method?: 'GET' | 'POST';
    url?: string;
    body?: unknown;
    now?: Date;
    nonce?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const method = options.method ?? 'POST';
  const url = options.url ?? SYNC_ROUTES.batches;
  const body =
    options.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(options.body)
        ? options.body
        : Buffer.from(JSON.stringify(options.body));
  const headers = {
    ...signedHeaders(device, method, url, body, options.now ?? TEST_NOW, options.nonce),
    ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  return server.app.inject({ method, url, headers, ...(method === 'POST' ? { payload: body } : {}) });
}

export const errorCode = (response: { json(): unknown }) => (response.json() as ErrorBody).error.code;

/** A SyncTransport that calls a server in-process (no port), for outlet tests. */
export function injectTransport(server: SyncServer): SyncTransport {
  return {
    async send(method, path, body, headers) {
      const response = await server.app.inject({
        method,
        url: path,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { payload: body } : {}),
      });
      return { status: response.statusCode, body: response.rawPayload };
    },
    close() {},
  };
}

export async function countRows(
  db: ServerDb,
  table: 'event' | 'batch' | 'rejected_event' | 'device_incident' | 'request_nonce',
) {
  const [row] = await queryRows<{ n: number }>(db, sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
  return row!.n;
}

/** Hook timeout for creating a backend: PGlite takes seconds to start on a busy machine. */
export const BACKEND_START_MS = 120_000;
