import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { SyncError } from '../src-shared/sync/errors.ts';
import type { ServerDb } from './db/database.ts';
import { apiClient } from './db/schema.ts';
import { ServerError } from './errors.ts';
import { utilityByCode } from './master-data.ts';

/**
 * Head-office API clients (finance, BI, a supervisor portal) read reports with a bearer key: 32 random bytes,
 * shown once at creation; only their sha256 is stored, so a database dump does not give the keys away.
 */
const KEY_PREFIX = 'ovk_';
const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export async function createApiKey(db: ServerDb, utilityCode: string, name: string) {
  if (!name.trim()) throw new ServerError('ADMIN_INVALID', 'Give the API client a name.');
  const owner = await utilityByCode(db, utilityCode);
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const [row] = await db
    .insert(apiClient)
    .values({ utilityId: owner.id, name: name.trim(), keyHash: hashKey(key) })
    .returning({ id: apiClient.id });
  return { id: row!.id, key };
}

export async function revokeApiKey(db: ServerDb, id: number, now: Date): Promise<void> {
  const rows = await db
    .update(apiClient)
    .set({ revokedAt: now.toISOString() })
    .where(and(eq(apiClient.id, id), isNull(apiClient.revokedAt)))
    .returning({ id: apiClient.id });
  if (rows.length === 0) throw new ServerError('ADMIN_NOT_FOUND', `There is no active API key ${id}.`);
}

export async function listApiKeys(db: ServerDb) {
  return db
    .select({
      id: apiClient.id,
      utilityId: apiClient.utilityId,
      name: apiClient.name,
      createdAt: apiClient.createdAt,
      revokedAt: apiClient.revokedAt,
    })
    .from(apiClient)
    .orderBy(apiClient.id);
}

/** The utility an `Authorization: Bearer ovk_…` header may read, or SYNC_API_KEY_INVALID. */
export async function authenticateApiClient(
  db: ServerDb,
  authorization: string | undefined,
): Promise<{ utilityId: number; name: string }> {
  const match = /^Bearer (ovk_[A-Za-z0-9_-]{43})$/.exec(authorization ?? '');
  if (!match) throw new SyncError('SYNC_API_KEY_INVALID', 'no bearer API key');
  const [row] = await db
    .select({ utilityId: apiClient.utilityId, name: apiClient.name })
    .from(apiClient)
    .where(and(eq(apiClient.keyHash, hashKey(match[1]!)), isNull(apiClient.revokedAt)));
  if (!row) throw new SyncError('SYNC_API_KEY_INVALID', 'unknown or revoked API key');
  return row;
}
