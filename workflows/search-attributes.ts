/**
 * The search attributes that let `temporal workflow list --query` and the Web UI find refunds the
 * way support staff do (SPEC §4). The dev stack registers them; a cluster operator registers the
 * same names and types (see README).
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { RefundWorkflowInput } from './messages';

export const RefundStatusKey = defineSearchAttributeKey('RefundStatus', SearchAttributeType.KEYWORD);
export const MerchantIdKey = defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD);
export const PaymentChannelKey = defineSearchAttributeKey('PaymentChannel', SearchAttributeType.KEYWORD);
export const RefundAmountKey = defineSearchAttributeKey('RefundAmount', SearchAttributeType.INT);
export const NeedsAttentionKey = defineSearchAttributeKey('NeedsAttention', SearchAttributeType.BOOL);

export const REFUND_SEARCH_ATTRIBUTES = [RefundStatusKey, MerchantIdKey, PaymentChannelKey, RefundAmountKey, NeedsAttentionKey];

/** What a refund's workflow starts with, whoever starts it (the API, or the reconciliation). */
export function initialSearchAttributes(input: RefundWorkflowInput): SearchAttributePair[] {
  return [
    { key: RefundStatusKey, value: input.requiredApprovals > 0 ? 'pending_approval' : 'processing' },
    { key: MerchantIdKey, value: input.merchantId },
    { key: PaymentChannelKey, value: input.channel },
    { key: RefundAmountKey, value: input.amount },
    { key: NeedsAttentionKey, value: false },
  ];
}
