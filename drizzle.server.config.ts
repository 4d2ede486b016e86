import { defineConfig } from 'drizzle-kit';

// The sync server's PostgreSQL schema. `npm run db:generate:server` writes SQL migrations here, then bundles
// them into code (sync-server/db/bundled.ts), as the outlet ledger does for SQLite.
export default defineConfig({
  dialect: 'postgresql',
  schema: './sync-server/db/schema.ts',
  out: './sync-server/db/migrations',
});
