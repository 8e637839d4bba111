/**
 * `npm run migrate`: brings the database to the current schema as its owner (DATABASE_OWNER_URL,
 * else DATABASE_URL), then ends. Compose runs it as a one-shot job, so the API and the workers log in
 * with the service's own role only, which can change no schema and no audit row.
 */
import { loadConfig } from './config';
import { connectDatabase, migrateDatabase } from './db/client';
import { sealAccountsAtRest } from './db/queries/sealed-accounts';
import { fieldSealOf } from './field-seal';
import { createLogger } from './logger';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, base: { service: 'refundflow-migrate' } });
const url = config.databaseOwnerUrl ?? config.databaseUrl;
if (!url) {
  logger.error('DATABASE_OWNER_URL (or DATABASE_URL) must be set: the database to migrate');
  process.exit(1);
}
async function migrate(databaseUrl: string): Promise<void> {
  await migrateDatabase(databaseUrl, { sandbox: config.sandbox.enabled });
  // Then what a rotated key (or a database from before sealing) left: sealed under the current key.
  const database = connectDatabase(databaseUrl, { max: 1 });
  try {
    const resealed = await sealAccountsAtRest(database.db, fieldSealOf(config));
    logger.info('database migrated', { accountsSealed: resealed });
  } finally {
    await database.close();
  }
}

migrate(url).then(
  () => undefined,
  (error: unknown) => {
    logger.error('migration failed', { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
