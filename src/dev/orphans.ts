/**
 * An embedded server left running by an earlier run that was killed outright (kill -9, a crash)
 * still holds its data folder; a second server on the same files would corrupt them. Before
 * starting, such an orphan is found by its pid file and stopped.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from '../logger';

export async function stopOrphan(pidFile: string, commandContains: string, logger: Logger, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  let command: string;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // no such process: the pid file is stale, the server will start normally
  }
  if (!command.includes(commandContains)) return;
  logger.warn('stopping a server an earlier run left behind', { pid, server: commandContains });
  process.kill(pid, signal);
  for (let waited = 0; waited < 15_000 && existsSync(`/proc/${pid}`); waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
}
