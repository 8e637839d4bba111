/**
 * Who may decide what, and when: SPEC rules 4, 5, 8, 14 and 15 as pure functions over a refund's
 * state. The workflow's Update validators call them (the authority: they see every decision in
 * the one order the workflow takes them), and the API calls the same ones on its read model to
 * answer obvious refusals early, without a round trip. Each throws a RefundRequestError.
 */
import type { Destination } from './messages';
import type { RefundStatus, Role } from './lifecycle';
import type { RefundPolicy } from './policy';
import { RefundRequestError, type RefundErrorCode } from './refusals';
import { textProblem } from './text';

/** What the rules look at: the workflow's state, or the refund's read model. */
export interface DecisionView {
  status: RefundStatus;
  requestedBy: string;
  createdBy: string;
  requiredApprovals: number;
  approvals: readonly { principal: string; decision: string }[];
  proposal: { proposedBy: string; approvals: readonly { principal: string }[] } | null;
  /** The refund's total now, and the fee kept from it. */
  amount: number;
  fee: number;
  corrections: readonly { status: string }[];
  /** Its provider holds the current attempt as one it can send on to a bank card itself (WeChat Pay's ABNORMAL). */
  redirectable: boolean;
  /** A decision being carried out right now (only the workflow knows; the API passes null). */
  busy: string | null;
}

export interface Decider {
  principal: string;
  role: Role;
}

export function checkApproval(view: DecisionView, by: Decider, comment?: string | null): void {
  requireRole(by, ['supervisor'], 'approve a refund');
  requireText('comment', comment);
  requireFree(view);
  requireStatus(view, ['pending_approval']);
  requireNotMaker(view, by, 'refund');
  if (view.approvals.some((approval) => approval.principal === by.principal)) {
    refuse('maker_checker_violation', `${by.principal} has already decided on this refund`, { rule: 'already_decided' });
  }
}

export function checkRejection(view: DecisionView, by: Decider, reason: string): void {
  requireRole(by, ['supervisor'], 'reject a refund');
  requireReason(reason, 'a rejection needs a reason the customer can be told');
  requireFree(view);
  requireStatus(view, ['pending_approval']);
}

export function checkCancel(view: DecisionView, by: Decider, reason?: string | null): void {
  requireText('reason', reason);
  if (by.role === 'service' && by.principal !== view.createdBy) refuse('decision_forbidden', 'a service key may cancel only the refunds it created', { rule: 'service_not_creator' });
  requireFree(view);
  requireStatus(view, ['pending_approval', 'requires_action']);
}

/** Send again on the original route: support or a supervisor, no second pair of eyes needed. */
export function checkRetry(view: DecisionView, by: Decider): void {
  requireRole(by, ['support', 'supervisor'], 'retry a refund');
  requirePayable(view);
}

/**
 * Propose another route: support or a supervisor proposes, another supervisor approves. Our bank
 * transfer is always a way; WeChat Pay's own transfer to the payer's card only for a refund
 * WeChat Pay holds as abnormal (its way of paying that very refund, not a new one).
 */
export function checkReroute(view: DecisionView, by: Decider, reason?: string | null, route: Destination['type'] = 'bank_transfer'): void {
  requireRole(by, ['support', 'supervisor'], 'propose another route');
  requireText('reason', reason);
  requirePayable(view);
  if (route === 'wechat_bank_card' && !view.redirectable) {
    refuse('route_unavailable', 'WeChat Pay sends a refund to a bank card only when it holds the refund as abnormal (its payer’s card or balance could not take it); propose a bank transfer instead', {
      rule: 'not_redirectable',
    });
  }
}

export interface CorrectionOrder {
  newTotal?: number;
  destination?: Destination | { type: Destination['type'] };
  reason: string;
}

export interface CorrectionPlan {
  kind: 'reversal' | 'supplementary' | 'reissue';
  newTotal: number;
}

/** A supervisor proposes a correction; what it will do follows from the refund's total now. */
export function checkCorrection(view: DecisionView, by: Decider, order: CorrectionOrder): CorrectionPlan {
  requireRole(by, ['supervisor'], 'correct a refund');
  requireReason(order.reason, 'a correction needs a reason the customer can be told');
  requireFree(view);
  requireStatus(view, ['succeeded', 'corrected']);
  requireNoProposal(view);
  if (order.destination) {
    if (order.destination.type === 'wechat_bank_card') refuse('invalid_input', 'a correction re-issues by bank transfer: WeChat Pay’s own transfer is only for a refund it holds as abnormal');
    if (order.newTotal !== undefined && order.newTotal !== view.amount) refuse('correction_not_needed', 'correct the account and the amount one at a time');
    return { kind: 'reissue', newTotal: view.amount };
  }
  const newTotal = order.newTotal;
  if (newTotal === undefined || !Number.isSafeInteger(newTotal) || newTotal < 1) refuse('invalid_input', 'give the correct total in minor units, or the correct destination');
  if (newTotal === view.amount) refuse('correction_not_needed', `the refund is already ${newTotal}`);
  if (newTotal <= view.fee) refuse('correction_not_needed', `the corrected total must be more than the fee of ${view.fee}`);
  return { kind: newTotal < view.amount ? 'reversal' : 'supplementary', newTotal };
}

export function checkProposalApproval(view: DecisionView, by: Decider, comment?: string | null): void {
  requireRole(by, ['supervisor'], 'approve a proposal');
  requireText('comment', comment);
  requireFree(view);
  const proposal = requireProposal(view);
  if (proposal.proposedBy === by.principal) refuse('maker_checker_violation', `${by.principal} proposed this and may not approve it`, { rule: 'proposer' });
  requireNotMaker(view, by, 'refund');
  if (proposal.approvals.some((approval) => approval.principal === by.principal)) {
    refuse('maker_checker_violation', `${by.principal} has already approved this proposal`, { rule: 'already_approved_proposal' });
  }
}

export function checkProposalRejection(view: DecisionView, by: Decider, reason: string): void {
  requireRole(by, ['supervisor'], 'reject a proposal');
  requireReason(reason, 'a rejected proposal needs a reason the proposer can be told');
  requireFree(view);
  requireProposal(view);
}

/**
 * Approvals a proposal needs: always a second person, and two when the refund's resulting total
 * would need two as a new refund, so a correction is never a way around the approval policy.
 */
export function proposalApprovals(newTotal: number, policy: Pick<RefundPolicy, 'dualApprovalMin'>): 1 | 2 {
  return newTotal >= policy.dualApprovalMin ? 2 : 1;
}

/** Whether the refund was ever allowed to pay: automatic, or approved by enough supervisors. */
export function approvedToPay(view: Pick<DecisionView, 'requiredApprovals' | 'approvals'>): boolean {
  return view.approvals.filter((approval) => approval.decision === 'approved').length >= view.requiredApprovals;
}

/** A reversal was refused and the customer asked to return money: nothing else may move. */
export function recoveryOpen(view: Pick<DecisionView, 'corrections'>): boolean {
  return view.corrections.some((correction) => correction.status === 'refused');
}

function requirePayable(view: DecisionView): void {
  requireFree(view);
  requireStatus(view, ['requires_action']);
  requireNoProposal(view);
  if (!approvedToPay(view)) refuse('invalid_state', 'the refund was never approved: it can only be canceled', { rule: 'never_approved' });
}

function requireRole(by: Decider, roles: readonly Role[], what: string): void {
  if (!roles.includes(by.role)) refuse('decision_forbidden', `a ${by.role} may not ${what}`, { rule: 'role', role: by.role });
}

function requireFree(view: DecisionView): void {
  if (recoveryOpen(view)) refuse('invalid_state', 'a recovery case is open: the customer was asked to return an overpayment', { rule: 'recovery_open' });
  if (view.busy) refuse('invalid_state', `another decision on this refund (${view.busy}) is being carried out`, { rule: 'busy' });
}

function requireStatus(view: DecisionView, allowed: readonly RefundStatus[]): void {
  if (!allowed.includes(view.status)) refuse('invalid_state', `the refund is ${view.status}; this needs ${allowed.join(' or ')}`, { rule: 'status', allowed: [...allowed] });
}

function requireNoProposal(view: DecisionView): void {
  if (view.proposal) refuse('invalid_state', 'a proposal is open on this refund: approve or reject it first', { rule: 'proposal_open' });
}

function requireProposal(view: DecisionView): NonNullable<DecisionView['proposal']> {
  if (!view.proposal) refuse('invalid_state', 'no proposal is open on this refund', { rule: 'no_proposal' });
  return view.proposal;
}

function requireNotMaker(view: DecisionView, by: Decider, what: string): void {
  if (by.principal === view.requestedBy) refuse('maker_checker_violation', `${by.principal} requested this ${what}`, { rule: 'requested_it' });
  if (by.principal === view.createdBy) refuse('maker_checker_violation', `${by.principal} created this ${what}`, { rule: 'created_it' });
}

function requireReason(reason: string, missing: string): void {
  requireText('reason', reason);
  if (!reason.trim()) refuse('invalid_input', missing);
}

function requireText(field: string, text: string | null | undefined): void {
  if (text === null || text === undefined) return;
  if (typeof text !== 'string') refuse('invalid_input', `${field} must be text`);
  const problem = textProblem(text, true);
  if (problem) refuse('invalid_input', `${field} ${problem}`, { field });
}

/**
 * Which rule refused, as a stable name in the refusal's facts: callers (and the console, in the
 * reader's language) can tell a maker-checker refusal from a wrong status without reading prose.
 */
export type DecisionRule =
  | 'role'
  | 'service_not_creator'
  | 'requested_it'
  | 'created_it'
  | 'already_decided'
  | 'proposer'
  | 'already_approved_proposal'
  | 'recovery_open'
  | 'busy'
  | 'status'
  | 'proposal_open'
  | 'no_proposal'
  | 'never_approved'
  | 'not_redirectable';

function refuse(code: RefundErrorCode, message: string, facts: { rule?: DecisionRule } & Record<string, unknown> = {}): never {
  throw new RefundRequestError(code, message, facts);
}
