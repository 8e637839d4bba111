/**
 * Proposals (SPEC rule 14): every decision that moves money differently from what was approved —
 * a reroute to another destination, and every correction — is proposed by one person and carried
 * out only once a supervisor other than the proposer, the requester and the creator approves it
 * (two of them when the refund's resulting total needs two). One open proposal per refund; one
 * that nobody decides within REFUND_APPROVAL_TIMEOUT lapses and the refund stays as it was.
 */
import { uuid4 } from '@temporalio/workflow';
import { decision } from './approval';
import { checkCorrection, proposalApprovals } from './decision-rules';
import type { ProviderName } from './lifecycle';
import type { CorrectionRequest, CorrectionState, Destination, ProposalDecision, ProposalRejection, ProposalState, RerouteRequest, SealedBankAccount } from './messages';
import { actorOf, iso, provider, type RefundRun } from './refund-run';
import { RefundRequestError } from './refusals';

/** A proposal as the read model and the API show it: the destination masked to its last four digits, its holder to a first letter. */
export interface ProposalView {
  id: string;
  kind: ProposalState['kind'];
  correction: ProposalState['correction'];
  amount: number;
  destination: { type: Destination['type']; account: string | null; accountName: string | null; bankType?: string } | null;
  reason: string;
  proposedBy: string;
  requiredApprovals: number;
  approvals: ProposalState['approvals'];
  openedAt: string;
  expiresAt: string;
}

export function proposalView(proposal: ProposalState): ProposalView {
  const { destination } = proposal;
  return {
    id: proposal.id,
    kind: proposal.kind,
    correction: proposal.correction,
    amount: proposal.newTotal,
    destination:
      destination &&
      (destination.type === 'original'
        ? { type: 'original', account: null, accountName: null }
        : { type: destination.type, account: `****${destination.last4}`, accountName: destination.holder, ...(destination.bankType ? { bankType: destination.bankType } : {}) }),
    reason: proposal.reason,
    proposedBy: proposal.proposedBy,
    requiredApprovals: proposal.requiredApprovals,
    approvals: proposal.approvals,
    openedAt: proposal.openedAt,
    expiresAt: proposal.expiresAt,
  };
}

/** Support or a supervisor proposes sending a refund that requires action to a bank account. */
export async function proposeReroute(run: RefundRun, request: RerouteRequest): Promise<void> {
  await open(run, request, { kind: 'reroute', correction: null, newTotal: run.state.amount, destination: request.destination, reason: request.reason ?? '' });
}

/** A supervisor proposes correcting a refund that went out wrong. */
export async function proposeCorrection(run: RefundRun, request: CorrectionRequest): Promise<void> {
  // The validator let it in; here only what it plans is wanted (this decision holds the lock now).
  const plan = checkCorrection({ ...run.view(), busy: null }, request, request);
  await open(run, request, { kind: 'correction', correction: plan.kind, newTotal: plan.newTotal, destination: request.destination ?? null, reason: request.reason });
}

async function open(run: RefundRun, by: { principal: string; role: RerouteRequest['role'] }, what: Pick<ProposalState, 'kind' | 'correction' | 'newTotal' | 'destination' | 'reason'>): Promise<void> {
  const { state, input } = run;
  const now = Date.now();
  const proposal: ProposalState = {
    id: `prop_${uuid4()}`,
    ...what,
    proposedBy: by.principal,
    requiredApprovals: proposalApprovals(what.newTotal, input.policy),
    approvals: [],
    openedAt: iso(now),
    expiresAt: iso(now + input.policy.approvalTimeoutMs),
  };
  // A shortfall is held on the payment from now on, like a new refund's amount.
  const shortfall = what.correction === 'supplementary' ? what.newTotal - state.amount : 0;
  await run.step('proposal_opened', undefined, { proposal: proposalView(proposal) }, {
    actor: actorOf(by),
    detail: { proposalId: proposal.id, kind: proposal.kind, correction: proposal.correction, newTotal: proposal.newTotal, destination: proposalView(proposal).destination, reason: proposal.reason, requiredApprovals: proposal.requiredApprovals },
    paymentShift: shortfall > 0 ? { reserved: shortfall, refunded: 0 } : undefined,
    requireNewDestination: what.correction === 'reissue' ? what.destination! : undefined,
    tellStaff: { kind: 'proposal_opened', noticeKey: `${proposal.id}-opened`, to: [] },
  });
  state.proposal = proposal;
  watchLapse(run, proposal);
}

/** A supervisor approves the open proposal; the last approval it needs carries it out. */
export async function approveProposal(run: RefundRun, request: ProposalDecision): Promise<void> {
  const { state } = run;
  const proposal = state.proposal!;
  const approvals = [...proposal.approvals, decision(request.principal, 'approved', request.comment ?? null)];
  const detail = { proposalId: proposal.id, kind: proposal.kind, approvals: approvals.length, required: proposal.requiredApprovals };
  if (approvals.length < proposal.requiredApprovals) {
    await run.step('proposal_approval_recorded', undefined, { proposal: proposalView({ ...proposal, approvals }) }, { actor: actorOf(request), detail });
    proposal.approvals = approvals;
    return;
  }
  const approvedBy = approvals.map((approval) => approval.principal);
  if (proposal.destination?.type === 'wechat_bank_card') return redirectAtProvider(run, request, proposal, { ...detail, approvedBy });
  const attempt = state.attempt + 1;
  if (proposal.kind === 'reroute') {
    // The old route must not pay as well: a refund still pending there is canceled first (rule 8).
    await cancelAtCurrentProvider(run);
    const route = routeOf(run, proposal.destination!);
    await run.step('proposal_approved', 'processing', { proposal: null, providerState: 'not_sent', needsAttention: false, settlementDueAt: null, expectedArrivalAt: null, hardDeadlineAt: null }, {
      actor: actorOf(request),
      detail: { ...detail, approvedBy, attempt, provider: route },
      newAttempt: { attempt, destination: proposal.destination!, amount: run.owedNet(), requestedBy: proposal.proposedBy },
      switchToAttempt: attempt,
    });
    state.proposal = null;
    run.switchAttempt(attempt, route);
    run.personDecided = 'retry';
    return;
  }

  const kind = proposal.correction!;
  const correction: CorrectionState = {
    id: `corr_${proposal.id.slice('prop_'.length)}`,
    kind,
    amount: kind === 'reissue' ? state.amount : Math.abs(proposal.newTotal - state.amount),
    previousTotal: state.amount,
    newTotal: proposal.newTotal,
    status: 'in_progress',
    reason: proposal.reason,
    requestedBy: proposal.proposedBy,
    approvedBy,
    at: iso(Date.now()),
  };
  const payout =
    kind === 'supplementary'
      ? { attempt, destination: { type: 'current' as const }, amount: correction.amount, requestedBy: proposal.proposedBy }
      : kind === 'reissue'
        ? { attempt, destination: proposal.destination!, amount: run.netAmount(), requestedBy: proposal.proposedBy }
        : undefined;
  await run.step('proposal_approved', 'correcting', { proposal: null, corrections: [...state.corrections, correction].map((c) => ({ ...c })) }, {
    actor: actorOf(request),
    detail: { ...detail, approvedBy, correctionId: correction.id, correction: kind, newTotal: correction.newTotal },
    newAttempt: payout,
  });
  state.proposal = null;
  state.corrections.push(correction);
  run.approvedCorrection = {
    correctionId: correction.id,
    payout: payout ? { attempt, provider: kind === 'supplementary' ? state.provider : routeOf(run, proposal.destination!) } : null,
  };
}

export async function rejectProposal(run: RefundRun, request: ProposalRejection): Promise<void> {
  await closeProposal(run, 'proposal_rejected', request.reason, actorOf(request));
}

/**
 * Closes the open proposal without carrying it out (rejected, lapsed, or withdrawn because the
 * refund moved on): what it held on the payment is released and the proposer is told.
 */
export async function closeProposal(run: RefundRun, type: 'proposal_rejected' | 'proposal_lapsed' | 'proposal_withdrawn', why: string, actor?: ReturnType<typeof actorOf>): Promise<void> {
  const { state } = run;
  const proposal = state.proposal!;
  const held = proposal.correction === 'supplementary' ? proposal.newTotal - state.amount : 0;
  await run.step(type, undefined, { proposal: null }, {
    actor,
    detail: { proposalId: proposal.id, kind: proposal.kind, reason: why },
    paymentShift: held > 0 ? { reserved: -held, refunded: 0 } : undefined,
    tellStaff: { kind: type, noticeKey: `${proposal.id}-closed`, to: [proposal.proposedBy] },
  });
  state.proposal = null;
}

/** A proposal nobody decides within REFUND_APPROVAL_TIMEOUT lapses; an approval racing the lapse is decided by the lock. */
function watchLapse(run: RefundRun, proposal: ProposalState): void {
  const open = () => run.state.proposal?.id === proposal.id;
  const watching = (async () => {
    if (await run.waitUntil(() => !open(), Date.parse(proposal.expiresAt))) return;
    await run.exclusive('proposal_lapse', async () => {
      if (open()) await closeProposal(run, 'proposal_lapsed', 'nobody decided within the approval timeout');
    });
  })().catch(() => undefined); // a lapse that could not be recorded has stopped the refund with the evidence
  run.background.push(watching);
}

/**
 * WeChat Pay holds the refund as abnormal: the money left the merchant but could not reach the
 * payer. Its abnormal-refund route sends that same refund on to the payer's bank card, so nothing
 * is canceled and no attempt opened: the current one is sent again, to the card, under its key.
 */
async function redirectAtProvider(run: RefundRun, request: ProposalDecision, proposal: ProposalState, detail: Record<string, unknown>): Promise<void> {
  const { state } = run;
  const card = proposal.destination as SealedBankAccount;
  await run.step('proposal_approved', 'processing', { proposal: null, providerState: 'not_sent', needsAttention: false, redirectable: false, settlementDueAt: null, expectedArrivalAt: null, hardDeadlineAt: null }, {
    actor: actorOf(request),
    detail: { ...detail, attempt: state.attempt, provider: state.provider, redirectedTo: { type: card.type, account: `****${card.last4}`, bankType: card.bankType } },
    redirectAttempt: { attempt: state.attempt, destination: card },
    switchToAttempt: state.attempt,
  });
  state.proposal = null;
  run.switchAttempt(state.attempt, state.provider);
  run.personDecided = 'retry';
}

/** Which provider pays a destination a person chose. */
export function routeOf(run: RefundRun, destination: Destination): ProviderName {
  return destination.type === 'original' ? run.input.channel : 'bank_transfer';
}

/**
 * Makes sure the current attempt cannot pay before money goes another way: its provider is asked by
 * the attempt's key (whatever our books say of it) and a refund still pending there is canceled. If
 * the provider will not cancel, or gives no answer it can be held to, the decision that needed it is
 * refused (409) with the provider's words, and nothing changes; a refund the provider turned out to
 * hold is followed again (awaitPerson).
 */
export async function cancelAtCurrentProvider(run: RefundRun): Promise<void> {
  const { state } = run;
  const outcome = await provider.cancelRefundAtProvider({ refundId: run.input.refundId, attempt: state.attempt });
  if (outcome.cannotCancel) {
    if (outcome.providerHoldsIt && state.status === 'requires_action') run.heldAtProvider = outcome;
    throw new RefundRequestError('provider_cannot_cancel', outcome.cannotCancel, { attempt: state.attempt, providerState: outcome.state, reference: outcome.reference });
  }
  state.providerState = outcome.state;
}
