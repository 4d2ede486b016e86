import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations here, then bundles them into code (no runtime folder lookups).
export default defineConfig({
  dialect: 'sqlite',
  schema: './src-main/ledger/schema.ts',
  out: './src-main/ledger/migrations/sql',
});
