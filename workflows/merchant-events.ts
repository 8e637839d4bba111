/**
 * Which merchant events a refund step produces (SPEC §5): one per status change the merchant's
 * backend cares about, plus `approved`, `returned` and the life of a proposal (SPEC rule 14),
 * which are moments rather than statuses.
 * Pure and bundle-safe: the workflow decides from it whether there is anything to deliver.
 */
import type { RefundStatus } from './lifecycle';

export const MERCHANT_EVENT_TYPES = [
  'refund.created',
  'refund.pending_approval',
  'refund.approved',
  'refund.rejected',
  'refund.processing',
  'refund.delayed',
  'refund.requires_action',
  'refund.succeeded',
  'refund.returned',
  'refund.correcting',
  'refund.corrected',
  'refund.canceled',
  'refund.expired',
  'refund.proposal_opened',
  'refund.proposal_approved',
  'refund.proposal_rejected',
  'refund.proposal_lapsed',
  'refund.proposal_withdrawn',
] as const;
export type MerchantEventType = (typeof MERCHANT_EVENT_TYPES)[number];

const STATUS_EVENT: Partial<Record<RefundStatus, MerchantEventType>> = {
  pending_approval: 'refund.pending_approval',
  processing: 'refund.processing',
  delayed: 'refund.delayed',
  requires_action: 'refund.requires_action',
  succeeded: 'refund.succeeded',
  correcting: 'refund.correcting',
  corrected: 'refund.corrected',
  rejected: 'refund.rejected',
  canceled: 'refund.canceled',
  expired: 'refund.expired',
};

const MOMENT_EVENT: Record<string, MerchantEventType> = {
  approved: 'refund.approved',
  money_returned: 'refund.returned',
  proposal_opened: 'refund.proposal_opened',
  proposal_approved: 'refund.proposal_approved',
  proposal_rejected: 'refund.proposal_rejected',
  proposal_lapsed: 'refund.proposal_lapsed',
  proposal_withdrawn: 'refund.proposal_withdrawn',
};

export function merchantEventsOfStep(stepType: string, status: RefundStatus | undefined): MerchantEventType[] {
  const events: MerchantEventType[] = [];
  const moment = MOMENT_EVENT[stepType];
  if (moment) events.push(moment);
  const change = status && STATUS_EVENT[status];
  if (change) events.push(change);
  return events;
}
