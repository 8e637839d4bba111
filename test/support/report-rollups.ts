/**
 * The reports' rollups, kept row by row by triggers as refunds change, against everything counted
 * again from the refunds and their audit trail (`report_rollups_rebuild`), in one snapshot that
 * is then rolled back: a trigger that miscounts a change shows as a difference.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client';

type Rows = Array<Record<string, unknown>>;

async function rollups(tx: Pick<Database, 'execute'>): Promise<{ totals: Rows; durations: Rows }> {
  const [totals, durations] = [
    await tx.execute(sql`
      SELECT merchant_id, day::text, currency, reason::text, channel::text, status::text, needs_attention, refunds, amount::text
      FROM refund_day_totals WHERE refunds <> 0 OR amount <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7`),
    await tx.execute(sql`SELECT merchant_id, day::text, measure, bucket, refunds FROM refund_day_durations WHERE refunds <> 0 ORDER BY 1, 2, 3, 4`),
  ];
  return { totals: [...totals], durations: [...durations] };
}

class RolledBack extends Error {}

export async function expectRollupsMatchRecount(db: Database): Promise<{ totals: Rows; durations: Rows }> {
  let kept: Awaited<ReturnType<typeof rollups>> | undefined;
  let recounted: typeof kept;
  await db
    .transaction(
      async (tx) => {
        kept = await rollups(tx);
        await tx.execute(sql`SELECT report_rollups_rebuild()`);
        recounted = await rollups(tx);
        throw new RolledBack();
      },
      { isolationLevel: 'repeatable read' },
    )
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  expect(kept).toEqual(recounted);
  return kept!;
}
