/**
 * An embedded server left behind by an earlier run that was killed outright (kill -9, a crash)
 * still holds its data folder; a second server on the same files would corrupt them. Before
 * starting, such an orphan is found by its pid file, stopped, and waited for until it is truly
 * gone. A server that already died but has not been reaped yet (a zombie: its parent was killed
 * too, and nobody has collected it) holds nothing any more, yet its pid still answers as alive —
 * PostgreSQL would refuse to start on such a lock file, so a pid file naming a dead or unrelated
 * process is removed. (PostgreSQL's own shared-memory check still refuses to start while any
 * backend of the old server lives.)
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Logger } from '../logger';

type ProcessState = 'running' | 'dead' | 'other';

/** What `pid` is now: a live process whose command line names `command`, dead (gone or a zombie), or something else. */
export function processState(pid: number, command: string): ProcessState {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return 'dead';
  }
  // `pid (name) S …`: the state letter follows the last parenthesis (the name may hold any).
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return 'dead';
  return cmdline.includes(command) ? 'running' : 'other';
}

export async function stopOrphan(pidFile: string, command: string, logger: Logger, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (processState(pid, command) === 'running') {
    logger.warn('stopping a server an earlier run left behind', { pid, server: command });
    process.kill(pid, signal);
    if (!(await gone(pid, command, 15_000))) {
      process.kill(pid, 'SIGKILL');
      await gone(pid, command, 5_000);
    }
  }
  const now = processState(pid, command);
  if (now === 'running') throw new Error(`${command} (pid ${pid}, from ${pidFile}) did not stop; stop it and start again`);
  // Dead, a zombie, or the pid now belongs to something else: the lock it left is stale.
  logger.info('removing a stale pid file', { pidFile, pid, was: now });
  rmSync(pidFile, { force: true });
}

async function gone(pid: number, command: string, withinMs: number): Promise<boolean> {
  for (let waited = 0; waited < withinMs; waited += 100) {
    if (processState(pid, command) !== 'running') return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
