/**
 * The refund workflow's input, its messages and the state its Query serves. Shared by the
 * workflow and its callers (API, tests); values here are only message definitions.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Actor, PaymentChannel, ProviderName, ProviderState, RefundReason, RefundStatus } from './lifecycle';
import type { RefundPolicy } from './policy';

export const REFUND_TASK_QUEUE = 'refunds';

export interface RefundWorkflowInput {
  refundId: string;
  paymentId: string;
  merchantId: string;
  channel: PaymentChannel;
  amount: number;
  netAmount: number;
  currency: string;
  reason: RefundReason;
  requestedBy: string;
  /** Principal of the API key that created the refund (maker-checker: may not approve it). */
  createdBy: string;
  requiredApprovals: 0 | 1 | 2;
  /** The route of the first provider attempt (the original payment channel, or a bank transfer). */
  provider: ProviderName;
  /** The policy in force when the refund was requested: later configuration changes do not apply. */
  policy: RefundPolicy;
  /** First wait before asking the provider about a settlement no webhook reported. */
  providerPollIntervalMs: number;
}

export interface ApprovalDecision {
  principal: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  at: string;
}

export interface RefundDeadlines {
  approvalDueAt: string | null;
  settlementDueAt: string | null;
  expectedArrivalAt: string | null;
  hardDeadlineAt: string | null;
}

export interface RefundWorkflowState {
  status: RefundStatus;
  provider: ProviderName;
  attempt: number;
  providerState: ProviderState;
  providerReference: string | null;
  traceReference: string | null;
  needsAttention: boolean;
  approvals: ApprovalDecision[];
  deadlines: RefundDeadlines;
  settledAt: string | null;
}

/** A provider's webhook, verified by the API and handed to the refund it concerns. */
export interface ProviderNotice {
  noticeId: string;
  type: 'settled' | 'returned';
  /** Which provider attempt of the refund the notice is about. */
  attempt: number;
  reference: string;
  occurredAt: string;
  actor: Actor;
}

export const providerNoticeSignal = defineSignal<[ProviderNotice]>('providerNotice');
export const refundStateQuery = defineQuery<RefundWorkflowState>('refundState');
