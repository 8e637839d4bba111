/**
 * Refund reports for supervisors and support. Whole business days are read from the daily rollups
 * (refund_day_totals, refund_day_durations: a few thousand rows for a month of a chain's refunds,
 * kept by triggers, migration 0026); the part of a day at either end of the period from the refunds
 * themselves (a range scan of the created_at index), added, or taken from a whole day when that
 * part is the smaller. Counts and amounts are exact; percentiles are read from 2%-wide duration
 * buckets, within about 1% of the exact ones.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { withinScope, type MerchantScope } from '../../merchants/merchant-scope';
import { percentileOfBuckets, splitPeriod } from '../../reports/rollup-math';

export type ReportGrouping = 'reason' | 'channel' | 'status' | 'day';

export interface RefundReportGroup {
  key: string;
  currency: string;
  count: number;
  amount: number;
}

export interface RefundReport {
  groups: RefundReportGroup[];
  refunds: number;
  /** Seconds from request to money arrived, over refunds that settled (within about 1%: read from duration buckets). */
  timeToSettleSeconds: { p50: number | null; p90: number | null };
  /** Seconds from request to the approval that let it go, over refunds that needed one (within about 1%, likewise). */
  approvalLeadTimeSeconds: { p50: number | null; p90: number | null };
  /** Share of the refunds that need attention now (0 to 1). */
  needsAttentionShare: number;
}

/** A grouping's key in a rollup row (`t`) and in a refund row (`r`). */
function groupKeys(groupBy: ReportGrouping, utcOffsetMinutes: number): { rollup: SQL; refund: SQL } {
  switch (groupBy) {
    case 'reason':
    case 'channel':
    case 'status':
      return { rollup: sql.raw(`t.${groupBy}::text`), refund: sql.raw(`r.${groupBy}::text`) };
    case 'day': // the business day, not the UTC one
      return {
        rollup: sql`to_char(t.day, 'YYYY-MM-DD')`,
        refund: sql`to_char(r.created_at AT TIME ZONE 'UTC' + make_interval(mins => ${utcOffsetMinutes}), 'YYYY-MM-DD')`,
      };
  }
}

/** The longest period one report covers: a year and a day (a leap year's business days and the day it ends). */
export const MAX_REPORT_DAYS = 367;

/** Why a report's period cannot be had, or null: nobody scans ten thousand years of refunds by accident. */
export function reportRangeProblem(from: Date, to: Date): string | null {
  if (!(from < to)) return 'must be after from';
  return to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000 ? `must be at most ${MAX_REPORT_DAYS} days after from` : null;
}

export interface ReportRange {
  from: Date;
  to: Date;
  /** The business day's offset from UTC: days are the merchant's, not UTC's. */
  utcOffsetMinutes: number;
  /** The merchants the reader sees (issue #17); null: every merchant. */
  scope: MerchantScope;
}

export async function refundReport(db: Executor, range: ReportRange & { groupBy: ReportGrouping }): Promise<RefundReport> {
  const statements = reportStatements(range);
  const [groups, summary] = await Promise.all([groupsOf(db, statements.groups(range.groupBy)), summaryOf(db, statements)]);
  return { groups, ...summary };
}

/**
 * Where a period's counts come from: its whole days' rollup rows (`t`), and the refunds (`r`) of
 * the parts of a day at its ends, each added (sign 1) or taken from a whole day (−1); all within
 * the reader's merchants.
 */
function periodParts(range: ReportRange): { days: SQL; edges: Array<{ refunds: SQL; sign: 1 | -1 }> } {
  const split = splitPeriod(range.from.getTime(), range.to.getTime(), range.utcOffsetMinutes);
  // A reader who sees every merchant reads the rows of every merchant together ('*'), not fifty merchants' rows.
  const rollupRows = range.scope === null ? sql`t.merchant_id = '*'` : withinScope(sql`t.merchant_id`, range.scope)!;
  const refundRows = withinScope(sql`r.merchant_id`, range.scope) ?? sql`true`;
  return {
    days: split.days ? sql`${rollupRows} AND t.day >= ${split.days.from}::date AND t.day < ${split.days.to}::date` : sql`false`,
    edges: split.edges.map(({ from, to, sign }) => ({
      refunds: sql`r.created_at >= ${new Date(from).toISOString()}::timestamptz AND r.created_at < ${new Date(to).toISOString()}::timestamptz AND ${refundRows}`,
      sign,
    })),
  };
}

/** One SELECT per end of the period (its sign a constant), in UNION ALL; a SELECT of nothing when the period has no ends. */
function atTheEnds(edges: Array<{ refunds: SQL; sign: 1 | -1 }>, select: (sign: SQL, where: SQL) => SQL): SQL {
  if (edges.length === 0) return select(sql.raw('0'), sql`false`);
  return sql.join(
    edges.map(({ refunds, sign }) => select(sql.raw(String(sign)), refunds)),
    sql` UNION ALL `,
  );
}

/**
 * A report's statements over one period, as the service runs them (the plan test on 200,000
 * refunds reads them too): counts and amounts (per currency: amounts in different currencies never
 * add up) by a grouping; how many and how many need attention; and the duration buckets.
 */
export interface ReportStatements {
  groups(groupBy: ReportGrouping): SQL;
  counted: SQL;
  durations: SQL;
}

export function reportStatements(range: ReportRange): ReportStatements {
  const { days, edges } = periodParts(range);
  return {
    groups: (groupBy) => {
      const key = groupKeys(groupBy, range.utcOffsetMinutes);
      return sql`
      SELECT key, currency, sum(refunds)::int AS count, sum(amount)::text AS amount FROM (
        SELECT ${key.rollup} AS key, t.currency, t.refunds, t.amount FROM refund_day_totals t WHERE ${days}
        UNION ALL
        ${atTheEnds(edges, (sign, where) => sql`SELECT ${key.refund}, r.currency, ${sign}, ${sign} * r.amount FROM refunds r WHERE ${where}`)}
      ) counted
      GROUP BY 1, 2 HAVING sum(refunds) > 0 ORDER BY 1, 2`;
    },
    counted: sql`
      SELECT coalesce(sum(refunds), 0)::int AS refunds, coalesce(sum(refunds) FILTER (WHERE needs_attention), 0)::int AS attention FROM (
        SELECT t.refunds, t.needs_attention FROM refund_day_totals t WHERE ${days}
        UNION ALL
        ${atTheEnds(edges, (sign, where) => sql`SELECT ${sign}, r.needs_attention FROM refunds r WHERE ${where}`)}
      ) counted`,
    durations: sql`
      SELECT measure, bucket, sum(refunds)::int AS refunds FROM (
        SELECT t.measure, t.bucket, t.refunds FROM refund_day_durations t WHERE ${days}
        UNION ALL
        ${atTheEnds(
          edges,
          (sign, where) => sql`
            SELECT 'settle', report_duration_bucket(extract(epoch FROM r.settled_at - r.created_at)), ${sign}
            FROM refunds r WHERE ${where} AND r.settled_at IS NOT NULL
            UNION ALL
            SELECT 'approval', report_duration_bucket(extract(epoch FROM a.at - r.created_at)), ${sign}
            FROM refunds r CROSS JOIN LATERAL (SELECT min(e.at) AS at FROM refund_events e WHERE e.refund_id = r.id AND e.type = 'approved') a
            WHERE ${where} AND r.required_approvals > 0 AND a.at IS NOT NULL`,
        )}
      ) counted
      GROUP BY 1, 2`,
  };
}

/** Counts and amounts by one grouping. */
export async function refundReportGroups(db: Executor, range: ReportRange, groupBy: ReportGrouping): Promise<RefundReportGroup[]> {
  return groupsOf(db, reportStatements(range).groups(groupBy));
}

/** How many, how fast they settled and were approved, and how many need a person now. */
export async function refundReportSummary(db: Executor, range: ReportRange): Promise<Omit<RefundReport, 'groups'>> {
  return summaryOf(db, reportStatements(range));
}

async function groupsOf(db: Executor, statement: SQL): Promise<RefundReportGroup[]> {
  const groups = await db.execute<{ key: string; currency: string; count: number; amount: string }>(statement);
  return groups.map((group) => ({ key: group.key, currency: group.currency, count: group.count, amount: Number(group.amount) }));
}

async function summaryOf(db: Executor, statements: ReportStatements): Promise<Omit<RefundReport, 'groups'>> {
  const [[counted], durations] = await Promise.all([
    db.execute<{ refunds: number; attention: number }>(statements.counted),
    db.execute<{ measure: 'settle' | 'approval'; bucket: number; refunds: number }>(statements.durations),
  ]);
  const of = (measure: 'settle' | 'approval') => {
    const counts = durations.filter((row) => row.measure === measure);
    const round = (value: number | null) => (value === null ? null : Math.round(value));
    return { p50: round(percentileOfBuckets(counts, 0.5)), p90: round(percentileOfBuckets(counts, 0.9)) };
  };
  const { refunds, attention } = counted!;
  return {
    refunds,
    timeToSettleSeconds: of('settle'),
    approvalLeadTimeSeconds: of('approval'),
    needsAttentionShare: refunds === 0 ? 0 : Number((attention / refunds).toFixed(4)),
  };
}
