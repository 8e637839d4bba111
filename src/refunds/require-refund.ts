import type { Executor } from '../db/client';
import { findRefund } from '../db/queries/refunds';
import type { RefundRow } from '../db/schema';
import { sees, type MerchantScope } from '../merchants/merchant-scope';
import { RefundRequestError } from './refund-errors';

/** The refund, or the `refund_not_found` refusal every endpoint about one refund gives — also for another merchant's refund. */
export async function requireRefund(db: Executor, refundId: string, scope: MerchantScope): Promise<RefundRow> {
  const refund = await findRefund(db, refundId);
  if (!refund || !sees(scope, refund.merchantId)) throw new RefundRequestError('refund_not_found', `No refund ${refundId}`);
  return refund;
}
