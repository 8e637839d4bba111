/**
 * Where a benchmark's CPU goes, by process: this Node process (API, worker and the bench's own
 * client), the Temporal server and PostgreSQL, read from /proc (Linux; elsewhere nothing is
 * counted). On a 2-core machine every process shares the same cores, so a refund's cost is the
 * sum: what the refund path spends beyond the one-activity workflow is what it loses in throughput.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSeconds {
  node: number;
  temporal: number;
  postgres: number;
}

/** Clock ticks per second of /proc's times: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user and system) each group has used so far. Processes that ended in between are not counted. */
export function cpuSecondsSoFar(): CpuSeconds {
  const own = process.cpuUsage();
  const totals: CpuSeconds = { node: (own.user + own.system) / 1e6, temporal: 0, postgres: 0 };
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return totals;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name sits in parentheses and may hold spaces; the fields after it are fixed.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
      if (name === 'postgres') totals.postgres += seconds;
      else if (name.startsWith('temporal')) totals.temporal += seconds;
    } catch {
      // The process ended while we read.
    }
  }
  return totals;
}

/** What each group spent between two readings. */
export function cpuSpent(before: CpuSeconds, after: CpuSeconds): CpuSeconds {
  return { node: after.node - before.node, temporal: after.temporal - before.temporal, postgres: after.postgres - before.postgres };
}

/** Two spendings together (a side's rounds added up). */
export function cpuTogether(a: CpuSeconds, b: CpuSeconds): CpuSeconds {
  return { node: a.node + b.node, temporal: a.temporal + b.temporal, postgres: a.postgres + b.postgres };
}

export const NO_CPU: CpuSeconds = { node: 0, temporal: 0, postgres: 0 };

/** CPU milliseconds per unit of work, by group and in all. */
export function cpuMsPer(spent: CpuSeconds, units: number) {
  const per = (key: keyof CpuSeconds) => Math.round((spent[key] * 1000 * 10) / units) / 10;
  const node = per('node');
  const temporal = per('temporal');
  const postgres = per('postgres');
  return { node, temporal, postgres, total: Math.round((node + temporal + postgres) * 10) / 10 };
}
