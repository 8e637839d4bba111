/**
 * "Start anywhere" (issue #10): as root, the embedded PostgreSQL runs as the `postgres` account,
 * which cannot enter a folder only root may (a clone in /root, a `mktemp -d`). Here both its
 * programs and DATA_DIR sit in such a folder: the server still starts, from a copy of the programs
 * and with its data in a shared folder named after DATA_DIR, and finds the same data on the next
 * start. Root only: for any other user the server runs as that user and reaches what it can.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openPostgres, socketPath } from '../../src/db/client';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { freePort } from '../../src/dev/ports';
import { canReach, LOCATION_NOTE, postgresAccount } from '../../src/dev/postgres-placement';
import { createLogger } from '../../src/logger';

const asRoot = process.getuid?.() === 0 ? describe : describe.skip;
const logger = createLogger({ level: 'warn' });
const folders: string[] = [];

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function folder(mode: number): string {
  const made = mkdtempSync(path.join(os.tmpdir(), 'refundflow-anywhere-'));
  chmodSync(made, mode);
  folders.push(made);
  return made;
}

/** Whether a login's URL reaches the server through its Unix socket (a TCP session has a server address). */
async function overSocket(url: string): Promise<boolean> {
  const sql = openPostgres(url, { max: 1 });
  try {
    const [row] = await sql<{ socket: boolean }[]>`SELECT inet_server_addr() IS NULL AS socket`;
    return row!.socket;
  } finally {
    await sql.end();
  }
}

describe('the embedded PostgreSQL in a DATA_DIR it can reach', () => {
  it('takes the service’s login through a socket in its data folder, the owner’s through TCP', async () => {
    const dataDir = folder(0o755);
    const server = await startEmbeddedPostgres({ dataDir, sharedHome: path.join(dataDir, 'shared'), logger, port: await freePort() });
    try {
      await server.createDatabase('nearby');
      const serviceUrl = await server.serviceLogin('nearby', 'pg_read_all_data');
      expect(new URL(serviceUrl).searchParams.get('host')).toBe(server.databaseDir);
      await expect(overSocket(serviceUrl)).resolves.toBe(true);
      await expect(overSocket(server.databaseUrl('nearby'))).resolves.toBe(false);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

asRoot('the embedded PostgreSQL, as root, with its programs and DATA_DIR where only root may enter', () => {
  const closed = folder(0o700);
  const shared = folder(0o755);
  const sharedHome = path.join(shared, 'refundflow'); // made by the service, as SHARED_HOME would be
  const installDir = path.join(closed, 'native');
  const dataDir = path.join(closed, 'data');

  beforeAll(() => {
    const bundled = path.join(path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..');
    cpSync(path.join(bundled, 'native'), installDir, { recursive: true, verbatimSymlinks: true });
    writeFileSync(path.join(closed, 'package.json'), readFileSync(path.join(bundled, 'package.json')));
  });

  it('starts from a copy of the programs, keeps its data in the shared folder, and finds it again on the next start', async () => {
    // The premise: the account PostgreSQL runs as can reach neither the programs nor DATA_DIR.
    expect(canReach(postgresAccount(), path.join(installDir, 'bin', 'postgres'))).toBe(false);
    expect(canReach(postgresAccount(), closed)).toBe(false);

    const port = await freePort();
    const first = await startEmbeddedPostgres({ dataDir, installDir, sharedHome, logger, port });
    try {
      expect(first.databaseDir.startsWith(path.join(sharedHome, 'data') + path.sep)).toBe(true);
      expect(readFileSync(path.join(dataDir, LOCATION_NOTE), 'utf8').trim()).toBe(first.databaseDir);
      const version = JSON.parse(readFileSync(path.join(closed, 'package.json'), 'utf8')).version;
      expect(existsSync(path.join(sharedHome, `postgres-${version}`, 'bin', 'postgres'))).toBe(true);
      await first.createDatabase('anywhere');
      const sql = postgres(first.databaseUrl('anywhere'), { max: 1, onnotice: () => undefined });
      await sql`CREATE TABLE kept (note text)`;
      await sql`INSERT INTO kept VALUES ('still here')`;
      await sql.end();
    } finally {
      await first.stop();
    }

    const second = await startEmbeddedPostgres({ dataDir, installDir, sharedHome, logger, port });
    try {
      expect(second.databaseDir).toBe(first.databaseDir);
      const sql = postgres(second.databaseUrl('anywhere'), { max: 1 });
      expect(await sql`SELECT note, current_user FROM kept`).toEqual([{ note: 'still here', current_user: 'postgres' }]);
      await sql.end();
      // A data folder this deep has no room for a socket address: the service's login keeps TCP.
      expect(socketPath(second.databaseDir, port).length).toBeGreaterThan(107);
      await expect(overSocket(await second.serviceLogin('anywhere', 'pg_read_all_data'))).resolves.toBe(false);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('a database already in a DATA_DIR the account cannot enter: one line says what to do, nothing is made elsewhere', async () => {
    const stranded = path.join(closed, 'stranded');
    mkdirSync(path.join(stranded, 'postgres'), { recursive: true });
    writeFileSync(path.join(stranded, 'postgres', 'PG_VERSION'), '18\n');
    await expect(startEmbeddedPostgres({ dataDir: stranded, installDir, sharedHome, logger })).rejects.toThrow(
      `${path.join(stranded, 'postgres')} holds a database the postgres account cannot reach: let it enter ${stranded} (chmod o+x on each folder above it) or move DATA_DIR`,
    );
    expect(existsSync(path.join(stranded, LOCATION_NOTE))).toBe(false);
  });
});
