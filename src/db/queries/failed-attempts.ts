import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { failedAttempts } from '../schema';

export type AttemptKind = 'sign_in' | 'unknown_key';

/** How many failures a source may have in a window, and the window's length. */
export interface AttemptLimit {
  max: number;
  windowMs: number;
}

/** Seconds until the source may try again, or 0 while it is within its limit. */
export async function secondsBlocked(db: Executor, kind: AttemptKind, source: string, limit: AttemptLimit): Promise<number> {
  const [row] = await db
    .select({ count: failedAttempts.count, left: sql<number>`ceil(extract(epoch FROM ${failedAttempts.windowStart} + make_interval(secs => ${limit.windowMs / 1000}) - now()))::int` })
    .from(failedAttempts)
    .where(and(eq(failedAttempts.kind, kind), eq(failedAttempts.source, source)));
  return row && row.count >= limit.max && row.left > 0 ? row.left : 0;
}

/** Counts one more failure (a window past its end starts again at one). Returns the seconds blocked after it. */
export async function countFailure(db: Executor, kind: AttemptKind, source: string, limit: AttemptLimit): Promise<number> {
  const expired = sql`${failedAttempts.windowStart} <= now() - make_interval(secs => ${limit.windowMs / 1000})`;
  const [row] = await db
    .insert(failedAttempts)
    .values({ kind, source, count: 1 })
    .onConflictDoUpdate({
      target: [failedAttempts.kind, failedAttempts.source],
      set: {
        count: sql`CASE WHEN ${expired} THEN 1 ELSE ${failedAttempts.count} + 1 END`,
        windowStart: sql`CASE WHEN ${expired} THEN now() ELSE ${failedAttempts.windowStart} END`,
      },
    })
    .returning({ count: failedAttempts.count, left: sql<number>`ceil(extract(epoch FROM ${failedAttempts.windowStart} + make_interval(secs => ${limit.windowMs / 1000}) - now()))::int` });
  return row!.count >= limit.max ? Math.max(row!.left, 1) : 0;
}

/** Forgets sources whose last window ended a day ago or more: the table holds the day's offenders. */
export async function purgeStaleFailedAttempts(db: Executor): Promise<void> {
  await db.delete(failedAttempts).where(sql`${failedAttempts.windowStart} < now() - interval '1 day'`);
}
