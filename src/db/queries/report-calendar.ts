/**
 * The reports' rollups count each refund on a business day (migration 0026). The offset that
 * defines it lives in the database, where the triggers read it; this keeps it equal to the
 * deployment's REFUND_BUSINESS_UTC_OFFSET, counting everything again when that changed.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../client';

/** Makes the rollups' business day the configured one; true when they had to be rebuilt. */
export async function alignReportCalendar(db: Database, utcOffsetMinutes: number): Promise<boolean> {
  const offsetNow = async (tx: Pick<Database, 'execute'>) =>
    (await tx.execute<{ utc_offset_minutes: number }>(sql`SELECT utc_offset_minutes FROM report_calendar`))[0]?.utc_offset_minutes;
  if ((await offsetNow(db)) === utcOffsetMinutes) return false;
  return db.transaction(async (tx) => {
    // No refund changes while everything is counted again (reads go on); a second process
    // starting with the same new offset waits here, then finds nothing to do.
    await tx.execute(sql`LOCK TABLE refunds IN SHARE ROW EXCLUSIVE MODE`);
    await tx.execute(sql`LOCK TABLE report_calendar, refund_day_totals, refund_day_durations IN EXCLUSIVE MODE`);
    if ((await offsetNow(tx)) === utcOffsetMinutes) return false;
    await tx.execute(sql`UPDATE report_calendar SET utc_offset_minutes = ${utcOffsetMinutes}`);
    await tx.execute(sql`SELECT report_rollups_rebuild()`);
    return true;
  });
}
