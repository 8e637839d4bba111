/**
 * A fresh, migrated database for one test file, in the suite's embedded PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connectDatabase, migrateDatabase, SERVICE_ROLE, type DatabaseConnection } from '../../src/db/client';

export interface TestDatabase extends DatabaseConnection {
  /** The owner's URL (the suite's superuser): what migrated it. */
  url: string;
  /** A login of the service's own role (no DDL, the audit trail insert-only), as production runs it. */
  serviceUrl(): Promise<string>;
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
  return {
    ...connectDatabase(url),
    url,
    async serviceUrl() {
      const login = `${name}_service`;
      const password = randomBytes(12).toString('hex');
      const owner = postgres(url, { max: 1, onnotice: () => undefined });
      try {
        await owner.unsafe(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE ${SERVICE_ROLE}`);
      } finally {
        await owner.end();
      }
      const parsed = new URL(url);
      parsed.username = login;
      parsed.password = password;
      return parsed.toString();
    },
  };
}
