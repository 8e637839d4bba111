/**
 * The database handle every part of the service shares, and the migrations applied at start.
 */
import path from 'node:path';
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import * as schema from './schema';
import { maskText } from '../masking';
import { PROJECT_ROOT } from '../project-root';

/** Drizzle over postgres.js; `$client` is the driver itself, for what Drizzle has no word for (a cursor). */
export type Database = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
/** A database handle or an open transaction: query functions accept either. */
export type Executor = Pick<Database, 'select' | 'selectDistinctOn' | 'insert' | 'update' | 'delete' | 'execute' | 'transaction'>;

export interface DatabaseConnection {
  db: Database;
  close(): Promise<void>;
}

/** PostgreSQL's own error, wherever the driver's error sits in the cause chain (drizzle wraps it). */
function postgresError(error: unknown): (Error & { code: string }) | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return current as Error & { code: string };
  }
  return undefined;
}

/** PostgreSQL's SQLSTATE of a failed query. */
export function pgErrorCode(error: unknown): string | undefined {
  return postgresError(error)?.code;
}

/**
 * What the database said, without the statement and parameters the driver wraps it in (they can
 * hold account numbers): for evidence that goes on record and to people.
 */
export function databaseErrorMessage(error: unknown): string {
  const database = postgresError(error);
  if (database) return maskText(`${database.message} (SQLSTATE ${database.code})`);
  return error instanceof Error && !/^Failed query:/.test(error.message) ? maskText(error.message) : 'the database refused the write';
}

/** The role the service's own login belongs to (migration 0016): data in and out, the audit trail insert-only, no DDL. */
export const SERVICE_ROLE = 'refundflow_service';

export const MIGRATIONS_FOLDER = path.join(PROJECT_ROOT, 'src', 'db', 'migrations');
/** The sandbox providers' tables, migrated only where the sandbox is enabled. */
export const SANDBOX_MIGRATIONS_FOLDER = path.join(PROJECT_ROOT, 'src', 'providers', 'sandbox', 'migrations');

/** Connections per process by default: the worker runs at most this many activities at once (see worker.ts). */
export const DEFAULT_POOL_SIZE = 10;

/**
 * The driver on a database URL, reading a socket folder the way libpq does
 * (`postgres://user:password@localhost:5432/refundflow?host=/run/postgresql`): over a Unix socket
 * each statement skips the loopback TCP stack on both sides, which on the refund path was a seventh
 * of the API and worker's own CPU (`npm run bench`). Any other URL goes over TCP as given.
 */
export function openPostgres(url: string, options: postgres.Options<Record<string, postgres.PostgresType>> = {}): postgres.Sql {
  const parsed = new URL(url);
  const socketFolder = parsed.searchParams.get('host');
  if (!socketFolder?.startsWith('/')) return postgres(url, { onnotice: () => undefined, ...options });
  parsed.searchParams.delete('host');
  return postgres(parsed.toString(), { onnotice: () => undefined, ...options, path: socketPath(socketFolder, Number(parsed.port || 5432)) });
}

/** Where PostgreSQL listening on `port` puts its socket in `folder`. */
export function socketPath(folder: string, port: number): string {
  return path.join(folder, `.s.PGSQL.${port}`);
}

export function connectDatabase(url: string, options: { max?: number } = {}): DatabaseConnection {
  const client = openPostgres(url, { max: options.max ?? DEFAULT_POOL_SIZE });
  return {
    db: drizzle(client, { schema }),
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * Applies the committed migrations, and the sandbox's when it is enabled. API and worker may start
 * at the same moment against the same database: an advisory lock makes the second wait for the
 * first instead of racing it.
 */
export async function migrateDatabase(url: string, options: { sandbox: boolean }): Promise<void> {
  const client = openPostgres(url, { max: 1 });
  try {
    await client`SELECT pg_advisory_lock(hashtext('refundflow.migrations'))`;
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
    if (options.sandbox) await migrate(drizzle(client), { migrationsFolder: SANDBOX_MIGRATIONS_FOLDER, migrationsTable: '__sandbox_migrations' });
  } finally {
    await client.end({ timeout: 5 });
  }
}
