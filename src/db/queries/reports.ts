/**
 * Refund reports for supervisors and support, computed in SQL over the read model and the event
 * log: a range scan of the created_at index, then one aggregation.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../client';
import type { MerchantScope } from '../../merchants/merchant-scope';

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
  /** Seconds from request to money arrived, over refunds that settled. */
  timeToSettleSeconds: { p50: number | null; p90: number | null };
  /** Seconds from request to the approval that let it go, over refunds that needed one. */
  approvalLeadTimeSeconds: { p50: number | null; p90: number | null };
  /** Share of the refunds that need attention now (0 to 1). */
  needsAttentionShare: number;
}

function groupKey(groupBy: ReportGrouping, utcOffsetMinutes: number) {
  switch (groupBy) {
    case 'reason':
      return sql`r.reason::text`;
    case 'channel':
      return sql`r.channel::text`;
    case 'status':
      return sql`r.status::text`;
    case 'day': // the business day, not the UTC one
      return sql`to_char(r.created_at AT TIME ZONE 'UTC' + make_interval(mins => ${utcOffsetMinutes}), 'YYYY-MM-DD')`;
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
  const [groups, summary] = await Promise.all([refundReportGroups(db, range, range.groupBy), refundReportSummary(db, range)]);
  return { groups, ...summary };
}

function inRange(range: ReportRange) {
  const within = sql`r.created_at >= ${range.from.toISOString()}::timestamptz AND r.created_at < ${range.to.toISOString()}::timestamptz`;
  if (range.scope === null) return within;
  if (range.scope.length === 0) return sql`false`;
  return sql`${within} AND r.merchant_id IN (${sql.join(
    range.scope.map((id) => sql`${id}`),
    sql`, `,
  )})`;
}

/** Counts and amounts (per currency: amounts in different currencies never add up) by one grouping. */
export async function refundReportGroups(db: Executor, range: ReportRange, groupBy: ReportGrouping): Promise<RefundReportGroup[]> {
  const key = groupKey(groupBy, range.utcOffsetMinutes);
  const groups = await db.execute<{ key: string; currency: string; count: number; amount: string }>(sql`
    SELECT ${key} AS key, r.currency, count(*)::int AS count, sum(r.amount)::text AS amount
    FROM refunds r WHERE ${inRange(range)}
    GROUP BY 1, 2 ORDER BY 1, 2`);
  return groups.map((group) => ({ key: group.key, currency: group.currency, count: group.count, amount: Number(group.amount) }));
}

/** How many, how fast they settled and were approved, and how many need a person now. */
export async function refundReportSummary(db: Executor, range: ReportRange): Promise<Omit<RefundReport, 'groups'>> {
  const [summary] = await db.execute<{
    refunds: number;
    attention: number;
    settle_p50: number | null;
    settle_p90: number | null;
    approval_p50: number | null;
    approval_p90: number | null;
  }>(sql`
    WITH chosen AS (SELECT * FROM refunds r WHERE ${inRange(range)}),
    approvals AS (
      SELECT c.id, extract(epoch FROM min(e.at) - c.created_at) AS seconds
      FROM chosen c JOIN refund_events e ON e.refund_id = c.id AND e.type = 'approved'
      GROUP BY c.id, c.created_at)
    SELECT count(*)::int AS refunds,
           count(*) FILTER (WHERE needs_attention)::int AS attention,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM settled_at - created_at)) FILTER (WHERE settled_at IS NOT NULL) AS settle_p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM settled_at - created_at)) FILTER (WHERE settled_at IS NOT NULL) AS settle_p90,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM approvals) AS approval_p50,
           (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) FROM approvals) AS approval_p90
    FROM chosen`);
  const round = (value: number | null) => (value === null ? null : Math.round(Number(value)));
  return {
    refunds: summary!.refunds,
    timeToSettleSeconds: { p50: round(summary!.settle_p50), p90: round(summary!.settle_p90) },
    approvalLeadTimeSeconds: { p50: round(summary!.approval_p50), p90: round(summary!.approval_p90) },
    needsAttentionShare: summary!.refunds === 0 ? 0 : Number((summary!.attention / summary!.refunds).toFixed(4)),
  };
}
