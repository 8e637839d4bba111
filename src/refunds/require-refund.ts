import type { Executor } from '../db/client';
import { findRefund } from '../db/queries/refunds';
import type { RefundRow } from '../db/schema';
import { RefundRequestError } from './refund-errors';

/** The refund, or the `refund_not_found` refusal every endpoint about one refund gives. */
export async function requireRefund(db: Executor, refundId: string): Promise<RefundRow> {
  const refund = await findRefund(db, refundId);
  if (!refund) throw new RefundRequestError('refund_not_found', `No refund ${refundId}`);
  return refund;
}
