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
  /** The route of the first provider attempt (the original payment channel). */
  provider: ProviderName;
  /**
   * A whole card sale refunded through an acquirer that voids: until when the sale is in its open
   * batch. Sent before then it goes as a void, after it as a refund (card-method.ts). Null otherwise.
   */
  voidableUntil: string | null;
  /** The policy in force when the refund was requested: later configuration changes do not apply. */
  policy: RefundPolicy;
  /** First wait before asking the provider about a settlement no webhook reported. */
  providerPollIntervalMs: number;
  /** The merchant has an endpoint for refund events: the workflow delivers them as they are written. */
  deliversMerchantEvents: boolean;
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

export type CorrectionKind = 'reversal' | 'supplementary' | 'reissue';

export interface CorrectionState {
  id: string;
  kind: CorrectionKind;
  amount: number;
  previousTotal: number;
  newTotal: number;
  status: 'in_progress' | 'completed' | 'refused' | 'failed';
  reason: string;
  requestedBy: string;
  approvedBy: string[];
  at: string;
}

/**
 * Where money goes when a person chooses: back along the payment's own channel, or to a bank
 * account — by our bank transfer, or (`wechat_bank_card`) by WeChat Pay itself, which sends a
 * refund it could not pay back (ABNORMAL) on to the payer's bank card. The account travels sealed
 * (AES-GCM, opened only by the activity that pays), so workflow history and the Temporal UI never
 * hold it; `last4` is what people are shown.
 */
export type Destination = { type: 'original' } | SealedBankAccount;

export interface SealedBankAccount {
  type: 'bank_transfer' | 'wechat_bank_card';
  sealed: string;
  last4: string;
  /** The account holder's name, masked (first letter): the name itself is only in `sealed`. */
  holder: string;
  /** For `wechat_bank_card`: the card's bank as WeChat Pay names it (`ICBC_DEBIT`…). */
  bankType?: string;
}

/** A decision waiting for a second pair of eyes (SPEC rule 14): a reroute or a correction. */
export interface ProposalState {
  id: string;
  kind: 'reroute' | 'correction';
  /** For corrections: what carrying it out means. */
  correction: CorrectionKind | null;
  /** The refund's total once carried out. */
  newTotal: number;
  /** Where the money goes, for a reroute or a re-issue. */
  destination: Destination | null;
  reason: string;
  proposedBy: string;
  requiredApprovals: 1 | 2;
  approvals: ApprovalDecision[];
  openedAt: string;
  expiresAt: string;
}

/** One provider attempt as the workflow keeps its books: what it sent, and what the customer still holds from it. */
export interface AttemptLedger {
  attempt: number;
  provider: ProviderName;
  /** What this attempt asked the provider to pay. */
  sent: number;
  reference: string | null;
  /** What it paid and has not been taken back (reversed or returned by the bank). */
  held: number;
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
  proposal: ProposalState | null;
  deadlines: RefundDeadlines;
  settledAt: string | null;
  /** What this refund holds on its payment: the same numbers as the payment's totals move by. */
  books: { reserved: number; refunded: number };
  attempts: AttemptLedger[];
  /** The provider holds the current attempt as one it can send on to a bank card itself (WeChat Pay's ABNORMAL). */
  redirectable: boolean;
  /** The decision being carried out right now, if any: every other decision is refused meanwhile. */
  busy: string | null;
}

/** A provider's webhook, verified by the API and handed to the refund it concerns. */
export interface ProviderNotice {
  noticeId: string;
  /** `failed`: the provider says it will not pay (WeChat Pay's ABNORMAL or CLOSED). */
  type: 'settled' | 'failed' | 'returned';
  /** Which provider attempt of the refund the notice is about (found by the provider key). */
  attempt: number;
  reference: string;
  amount: number;
  currency: string;
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

/** Send the refund again on its original route (a new provider attempt with a new key). */
export type RetryRequest = Decider;

/** Propose sending the refund to a bank account instead, by bank transfer or by WeChat Pay (needs a supervisor's approval). */
export interface RerouteRequest extends Decider {
  destination: SealedBankAccount;
  reason?: string | null;
}

/** Propose correcting a refund that went out wrong: the correct total, or the correct account. */
export interface CorrectionRequest extends Decider {
  newTotal?: number;
  destination?: Destination;
  reason: string;
}

export interface ProposalDecision extends Decider {
  comment?: string | null;
}

export interface ProposalRejection extends Decider {
  reason: string;
}

export const approveRefundUpdate = defineUpdate<RefundWorkflowState, [ApproveRequest]>('approveRefund');
export const rejectRefundUpdate = defineUpdate<RefundWorkflowState, [RejectRequest]>('rejectRefund');
export const cancelRefundUpdate = defineUpdate<RefundWorkflowState, [CancelRequest]>('cancelRefund');
export const retryRefundUpdate = defineUpdate<RefundWorkflowState, [RetryRequest]>('retryRefund');
export const proposeRerouteUpdate = defineUpdate<RefundWorkflowState, [RerouteRequest]>('proposeReroute');
export const proposeCorrectionUpdate = defineUpdate<RefundWorkflowState, [CorrectionRequest]>('proposeCorrection');
export const approveProposalUpdate = defineUpdate<RefundWorkflowState, [ProposalDecision]>('approveProposal');
export const rejectProposalUpdate = defineUpdate<RefundWorkflowState, [ProposalRejection]>('rejectProposal');
