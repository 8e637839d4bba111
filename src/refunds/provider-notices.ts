/**
 * A verified provider webhook on its way to the refund it concerns. Notices are written down
 * before they are forwarded, and a redelivered notice is recognised by its id: it changes nothing,
 * unless the first delivery never reached the workflow, in which case it is forwarded now. What the
 * notice claims (reference, amount, currency) is judged by the refund's workflow, against what it
 * sent and against the provider's own answer: a signature proves who sent a notice, not that it is right.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { findProviderAttemptByKey, findRefund } from '../db/queries/refunds';
import { providerNotices } from '../db/schema';
import { refundHandle } from '../temporal/refund-workflows';
import type { ProviderName } from '../../workflows/lifecycle';
import { providerNoticeSignal, type ProviderNotice } from '../../workflows/messages';
import type { ProviderNoticePayload } from '../providers/provider';
import { RefundRequestError } from './refund-errors';

const NOTICE_TYPES: Record<ProviderNoticePayload['type'], ProviderNotice['type']> = {
  'refund.settled': 'settled',
  'refund.failed': 'failed',
  'refund.returned': 'returned',
};

export async function receiveProviderNotice(
  deps: { db: Database; temporal: Client },
  provider: ProviderName,
  notice: ProviderNoticePayload,
  /** The merchant whose keys verified it (its own notification address): a refund of any other merchant's is none of its business. */
  merchantId?: string,
): Promise<{ duplicate: boolean }> {
  const attempt = await findProviderAttemptByKey(deps.db, provider, notice.idempotencyKey);
  if (!attempt) throw new RefundRequestError('refund_not_found', `${provider} notice ${notice.id} names no refund of ours`);
  if (merchantId !== undefined && (await findRefund(deps.db, attempt.refundId))?.merchantId !== merchantId) {
    throw new RefundRequestError('refund_not_found', `${provider} notice ${notice.id}, verified with merchant ${merchantId}'s keys, names no refund of that merchant`);
  }

  const [inserted] = await deps.db
    .insert(providerNotices)
    .values({ provider, noticeId: notice.id, refundId: attempt.refundId, type: notice.type, payload: { ...notice } })
    .onConflictDoNothing()
    .returning();
  if (!inserted) {
    const [known] = await deps.db
      .select()
      .from(providerNotices)
      .where(and(eq(providerNotices.provider, provider), eq(providerNotices.noticeId, notice.id)));
    if (known?.forwardedAt) return { duplicate: true };
  }

  try {
    await refundHandle(deps.temporal, attempt.refundId).signal(providerNoticeSignal, {
      noticeId: notice.id,
      type: NOTICE_TYPES[notice.type],
      attempt: attempt.attempt,
      reference: notice.reference,
      amount: notice.amount,
      currency: notice.currency,
      occurredAt: notice.occurredAt,
      actor: { principal: provider, role: 'provider' },
    });
  } catch (error) {
    // A refund whose workflow has ended has nothing left to learn from the notice.
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  await deps.db
    .update(providerNotices)
    .set({ forwardedAt: sql`now()` })
    .where(and(eq(providerNotices.provider, provider), eq(providerNotices.noticeId, notice.id)));
  return { duplicate: !inserted };
}
