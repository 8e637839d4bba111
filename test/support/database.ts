/**
 * A fresh, migrated database for one test file, in the suite's embedded PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connectDatabase, migrateDatabase, type DatabaseConnection } from '../../src/db/client';

export interface TestDatabase extends DatabaseConnection {
  url: string;
}

/** `sandbox: false`: the database of a deployment without the sandbox (no sandbox tables). */
export async function createTestDatabase(options: { sandbox?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_POSTGRES_URL;
  if (!adminUrl) throw new Error('TEST_POSTGRES_URL is not set: run the tests with jest (global set-up starts PostgreSQL)');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  await migrateDatabase(url, { sandbox: options.sandbox ?? true });
  return { ...connectDatabase(url), url };
}
