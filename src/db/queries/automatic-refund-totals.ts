/**
 * The per-key daily cap on refunds sent without approval (REFUND_DAILY_AUTO_APPROVE_MAX): what one
 * API key's automatic refunds came to on a business day, per currency.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { automaticRefundTotals } from '../schema';

/**
 * Adds `amount` to the key's automatic total for the day if it stays within `limit`, in the
 * caller's transaction: true when it did (the refund may go without approval), false when the
 * refund needs a supervisor. The row's lock holds the key's concurrent requests in line, so two
 * at once can never both fit into what is left.
 */
export async function addToAutomaticTotal(tx: Executor, principal: string, businessDay: string, currency: string, amount: number, limit: number): Promise<boolean> {
  if (amount > limit) return false;
  const added = await tx
    .insert(automaticRefundTotals)
    .values({ principal, businessDay, currency, total: amount })
    .onConflictDoUpdate({
      target: [automaticRefundTotals.principal, automaticRefundTotals.businessDay, automaticRefundTotals.currency],
      set: { total: sql`${automaticRefundTotals.total} + excluded.total` },
      setWhere: sql`${automaticRefundTotals.total} + excluded.total <= ${limit}`,
    })
    .returning({ total: automaticRefundTotals.total });
  return added.length === 1;
}
