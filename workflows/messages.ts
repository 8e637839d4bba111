/**
 * The refund workflow's input, its messages and the state its Query serves. Shared by the
 * workflow and its callers (API, tests); values here are only message definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, PaymentChannel, ProviderName, ProviderState, RefundReason, RefundStatus, Role } from './lifecycle';
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
  /** When the refund was requested (the API's clock). */
  createdAt: string;
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

export interface CorrectionState {
  id: string;
  kind: CorrectionRequest['kind'];
  amount: number;
  previousTotal: number;
  newTotal: number;
  status: 'in_progress' | 'completed' | 'refused' | 'failed';
  reason: string;
  requestedBy: string;
  at: string;
}

export interface RefundWorkflowState {
  status: RefundStatus;
  /** The refund's total now (minor units): the requested amount, or what corrections made it. */
  amount: number;
  corrections: CorrectionState[];
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

/** The daily reconciliation found a provider's books disagreeing with ours about an attempt. */
export interface ReconciliationFinding {
  refundId: string;
  attempt: number;
  provider: ProviderName;
  ours: ProviderState;
  theirs: ProviderState | 'missing';
  reference: string | null;
}

export const reconciliationFindingSignal = defineSignal<[ReconciliationFinding]>('reconciliationFinding');
export const refundStateQuery = defineQuery<RefundWorkflowState>('refundState');

/** The person behind a decision, as the API authenticated them. */
export interface Decider {
  principal: string;
  role: Role;
}

export interface ApproveRequest extends Decider {
  comment?: string | null;
}

export interface RejectRequest extends Decider {
  reason: string;
}

export interface CancelRequest extends Decider {
  reason?: string | null;
}

/**
 * Send the refund again. The API has written the new route down as provider attempt `attempt`
 * (account numbers stay out of workflow history); `otherRoute` says whether it leaves the
 * original one, which only a supervisor may order.
 */
export interface RetryRequest extends Decider {
  attempt: number;
  provider: ProviderName;
  otherRoute: boolean;
}

/**
 * Correct a refund that went out wrong. The API has decided the kind from the request (a lower
 * total: reverse the excess; a higher one: pay the shortfall, already reserved on the payment; a
 * destination: reverse and re-issue) and, for a payout, written it as provider attempt `attempt`.
 */
export interface CorrectionRequest extends Decider {
  correctionId: string;
  kind: 'reversal' | 'supplementary' | 'reissue';
  newTotal: number;
  attempt?: number;
  provider?: ProviderName;
  reason: string;
}

export const approveRefundUpdate = defineUpdate<RefundWorkflowState, [ApproveRequest]>('approveRefund');
export const rejectRefundUpdate = defineUpdate<RefundWorkflowState, [RejectRequest]>('rejectRefund');
export const cancelRefundUpdate = defineUpdate<RefundWorkflowState, [CancelRequest]>('cancelRefund');
export const retryRefundUpdate = defineUpdate<RefundWorkflowState, [RetryRequest]>('retryRefund');
export const correctRefundUpdate = defineUpdate<RefundWorkflowState, [CorrectionRequest]>('correctRefund');

/** Why the workflow refused a decision: the failure type of the rejected Update. */
export const REFUSALS = {
  invalidState: 'InvalidState',
  makerChecker: 'MakerCheckerViolation',
  forbidden: 'Forbidden',
  providerCannotCancel: 'ProviderCannotCancel',
} as const;
