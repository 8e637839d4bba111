/**
 * The arithmetic of reading a report from the daily rollups (issue #18): which part of a period
 * whole business days cover, and a percentile from duration buckets. Pure; the SQL that keeps the
 * rollups is migration 0026, the queries are src/db/queries/reports.ts.
 */
import { localDate, localDayEnd, localDayStart } from '../../workflows/business-days';
import { DAY_MS } from '../../workflows/durations';

export interface PeriodSplit {
  /** Whole business days read from the rollups: `from` inclusive, `to` exclusive (YYYY-MM-DD); null when none. */
  days: { from: string; to: string } | null;
  /**
   * Parts of a day read from the refunds themselves, [from, to) in epoch ms: added to the days
   * (+1), or taken away from a whole day the days include (−1). Each is at most half a day.
   */
  edges: Array<{ from: number; to: number; sign: 1 | -1 }>;
}

/**
 * Splits [from, to) into whole business days and the parts of a day at either end, choosing for
 * each end the smaller part to read refund by refund: 20:00 to 20:00 thirty days later is the
 * thirty whole days after the first, plus 20:00–24:00 of the first, less 20:00–24:00 of the last —
 * which, asked at 20:00, is still to come and holds no refunds.
 */
export function splitPeriod(from: number, to: number, utcOffsetMinutes: number): PeriodSplit {
  if (!(from < to)) return { days: null, edges: [] };
  const dayOf = (at: number) => localDate(at, utcOffsetMinutes);
  const start = (day: string) => localDayStart(day, utcOffsetMinutes);
  const end = (day: string) => localDayEnd(day, utcOffsetMinutes);
  const next = (day: string) => dayOf(end(day));
  const part = (a: number, b: number, sign: 1 | -1) => (a < b ? [{ from: a, to: b, sign }] : []);
  const first = dayOf(from);
  const last = dayOf(to); // the day `to` falls in (it may be the instant that day begins)
  let days: { from: string; to: string };
  let edges: PeriodSplit['edges'];
  if (first === last) {
    // Within one day: the period itself, or the whole day less what lies either side of it.
    if (to - from <= DAY_MS / 2) return { days: null, edges: part(from, to, 1) };
    days = { from: first, to: next(first) };
    edges = [...part(start(first), from, -1), ...part(to, end(first), -1)];
  } else {
    const atStart = from - start(first) >= end(first) - from ? part(from, end(first), 1) : part(start(first), from, -1);
    const atEnd = to - start(last) <= end(last) - to ? part(start(last), to, 1) : part(to, end(last), -1);
    days = { from: atStart[0]?.sign === 1 ? next(first) : first, to: atEnd[0]?.sign === -1 ? next(last) : last };
    edges = [...atStart, ...atEnd];
  }
  // At the ends of the calendar (a business day in year 10000) there is no day to read: the refunds themselves are.
  if (!nameable(days.from) || !nameable(days.to)) return { days: null, edges: part(from, to, 1) };
  return { days: days.from < days.to ? days : null, edges };
}

/** A date PostgreSQL's `date` takes as written: years 0001 to 9999. */
function nameable(day: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && day >= '0001-01-01';
}

/** Buckets per unit of ln(1 + seconds): 50, so each is 2% wide (as `report_duration_bucket` in SQL). */
export const BUCKETS_PER_LN = 50;

/** The duration a bucket stands for: its middle, within about 1% of every duration counted in it (of one second more, for the shortest). */
export function bucketSeconds(bucket: number): number {
  return Math.exp((bucket + 0.5) / BUCKETS_PER_LN) - 1;
}

/**
 * The continuous percentile (PostgreSQL's percentile_cont: interpolated between the two nearest
 * ranks) of durations counted in buckets, each duration read as its bucket's middle; null when
 * nothing was counted. `counts` need not be sorted; a bucket may appear more than once.
 */
export function percentileOfBuckets(counts: ReadonlyArray<{ bucket: number; refunds: number }>, q: number): number | null {
  const sorted = counts.filter((c) => c.refunds > 0).sort((a, b) => a.bucket - b.bucket);
  const total = sorted.reduce((sum, c) => sum + c.refunds, 0);
  if (total === 0) return null;
  const position = q * (total - 1);
  const at = (rank: number) => {
    let seen = 0;
    for (const c of sorted) {
      seen += c.refunds;
      if (rank < seen) return bucketSeconds(c.bucket);
    }
    return bucketSeconds(sorted[sorted.length - 1]!.bucket);
  };
  const below = Math.floor(position);
  const low = at(below);
  return low + (at(Math.ceil(position)) - low) * (position - below);
}
