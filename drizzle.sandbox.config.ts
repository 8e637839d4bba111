import { defineConfig } from 'drizzle-kit';

// The sandbox providers' tables, migrated apart from the service's own (see sandbox-schema.ts):
// `npm run db:generate:sandbox` after changing them.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/providers/sandbox/sandbox-schema.ts',
  out: './src/providers/sandbox/migrations',
  migrations: { table: '__sandbox_migrations' },
});
