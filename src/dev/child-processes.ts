/**
 * The embedded servers are child processes: how each ended, how it is stopped (its own polite
 * signal, then a firmer one if it hangs), and that it never outlives us.
 */
import type { ChildProcess } from 'node:child_process';

/** How the process ended: its exit code, the signal's name, or why it could not start (`spawn … EACCES`). */
export function exited(child: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode!);
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(code ?? signal!));
  });
}

/** Should this process end without stopping `child` (a crash, process.exit), `signal` goes to it on the way out. */
export function endWithUs(child: ChildProcess, signal: NodeJS.Signals): void {
  const onExit = () => child.kill(signal);
  process.once('exit', onExit);
  void exited(child).then(() => process.removeListener('exit', onExit));
}

/** Sends `signal`, and `firmer` if the process is still there after `patienceMs`; resolves once it is gone. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, firmer: NodeJS.Signals, patienceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited(child);
  child.kill(signal);
  const impatient = setTimeout(() => child.kill(firmer), patienceMs);
  await gone;
  clearTimeout(impatient);
}
