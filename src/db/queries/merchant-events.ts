import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { preparedByShape } from '../prepared';
import { merchantEvents, type MerchantEventRow, type RefundRow } from '../schema';
import { sees, withinScope, type MerchantScope } from '../../merchants/merchant-scope';
import { maskAccount } from '../../masking';
import type { MerchantEventType } from '../../../workflows/merchant-events';

/**
 * Records merchant events for a refund as it now stands (`refund`, as the step left it), inside
 * the caller's transaction. The id is made from the refund and the step, so writing the same step
 * again cannot add an event.
 */
export async function recordMerchantEvents(tx: Executor, refund: RefundRow, stepKey: string, types: readonly MerchantEventType[]): Promise<void> {
  if (types.length === 0) return;
  const data = {
    refundId: refund.id,
    paymentId: refund.paymentId,
    merchantId: refund.merchantId,
    orderId: refund.orderId,
    status: refund.status,
    amount: refund.amount,
    fee: refund.fee,
    netAmount: refund.netAmount,
    currency: refund.currency,
    reason: refund.reason,
    destination: { type: refund.destinationType, account: maskAccount(refund.destinationLast4) },
    provider: { name: refund.provider, state: refund.providerState, reference: refund.providerReference, traceReference: refund.traceReference },
    needsAttention: refund.needsAttention,
  };
  const ids = Object.fromEntries(types.map((type, n) => [`id${n}`, `evt_${refund.id}_${stepKey}_${type.slice('refund.'.length)}`]));
  await newMerchantEvents(tx, types, { ...ids, refundId: refund.id, merchantId: refund.merchantId, data });
}

/** One row per event type, each named after the refund, the step and its type: built once per set of types a step sends. */
const newMerchantEvents = preparedByShape('new_merchant_events', (db, types) =>
  db
    .insert(merchantEvents)
    .values(
      types.map((type, n) => ({
        id: sql.placeholder(`id${n}`),
        refundId: sql.placeholder('refundId'),
        merchantId: sql.placeholder('merchantId'),
        type: type as MerchantEventType,
        data: sql.placeholder('data'),
      })),
    )
    .onConflictDoNothing({ target: merchantEvents.id }),
);

export async function undeliveredMerchantEvents(db: Executor, refundId: string): Promise<MerchantEventRow[]> {
  return db
    .select()
    .from(merchantEvents)
    .where(and(eq(merchantEvents.refundId, refundId), isNull(merchantEvents.deliveredAt)))
    .orderBy(asc(merchantEvents.seq));
}

export async function markMerchantEventDelivered(db: Executor, seq: number): Promise<void> {
  await db
    .update(merchantEvents)
    .set({ deliveredAt: sql`now()`, attempts: sql`${merchantEvents.attempts} + 1`, lastError: null })
    .where(eq(merchantEvents.seq, seq));
}

export async function markMerchantEventFailed(db: Executor, seq: number, error: string): Promise<void> {
  await db
    .update(merchantEvents)
    .set({ attempts: sql`${merchantEvents.attempts} + 1`, lastError: error })
    .where(eq(merchantEvents.seq, seq));
}

/**
 * Events after the one named, in commit order: how a backend that missed deliveries catches up.
 * Sequence numbers are drawn before commit, so a later number can become visible first; paging on
 * them alone would let a follower pass an event that commits a moment later. The feed pages on
 * (writing transaction, seq) instead and shows only transactions older than every one still
 * running: nothing can ever appear behind a position a follower has passed.
 */
export async function merchantEventsAfter(db: Executor, afterEventId: string | undefined, limit: number, scope: MerchantScope): Promise<MerchantEventRow[] | undefined> {
  if (!afterEventId) return merchantEventsFeed(db, null, limit, scope);
  const [position] = await db
    .select({ txId: merchantEvents.txId, seq: merchantEvents.seq, merchantId: merchantEvents.merchantId })
    .from(merchantEvents)
    .where(eq(merchantEvents.id, afterEventId));
  // Another merchant's event is no position in this caller's feed.
  if (!position || !sees(scope, position.merchantId)) return undefined;
  return merchantEventsFeed(db, position, limit, scope);
}

/** The feed's page after a position (null: from the start), in (transaction, seq) order, settled transactions only. */
export function merchantEventsFeed(db: Executor, position: { txId: string; seq: number } | null, limit: number, scope: MerchantScope) {
  const after = position ? sql`(${merchantEvents.txId}, ${merchantEvents.seq}) > (${position.txId}::xid8, ${position.seq})` : sql`TRUE`;
  return db
    .select()
    .from(merchantEvents)
    .where(and(after, sql`${merchantEvents.txId} < pg_snapshot_xmin(pg_current_snapshot())`, withinScope(merchantEvents.merchantId, scope)))
    .orderBy(asc(merchantEvents.txId), asc(merchantEvents.seq))
    .limit(limit);
}
