import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` turns changes to the schema into a new committed migration.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './src/db/migrations',
});
