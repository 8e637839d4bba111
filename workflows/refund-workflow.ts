/**
 * One refund, from the moment it is requested until the money has arrived and the customer has
 * been followed up. Deterministic: every side effect is an activity, every wait a Temporal timer
 * or condition, every clock reading the workflow's own.
 *
 *   pending_approval ──approve(s)──▶ processing ──▶ awaiting_settlement ──▶ succeeded ──▶ follow-up
 *     │ reject / expire / cancel        │ decline        │ past SLA: delayed     │ money returned
 *     ▼                                 ▼                ▼ past deadline         ▼
 *   rejected · expired · canceled    requires_action ◀───────────────────────────┘
 *                                       │ retry (same or other route) → processing;  cancel → canceled
 *
 * People decide through Updates whose validators refuse what the state, the role or
 * maker-checker forbid before anything enters history; providers report through a Signal.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  patched,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RefundActivities } from '../activities';
import type { RefundStep, RefundStepChanges } from '../activities/record-activities';
import type { ProviderOutcome } from '../activities/provider-activities';
import { addBusinessDays } from './business-days';
import { SYSTEM_ACTOR, type Actor, type RefundStatus } from './lifecycle';
import {
  approveRefundUpdate,
  cancelRefundUpdate,
  correctRefundUpdate,
  providerNoticeSignal,
  reconciliationFindingSignal,
  refundStateQuery,
  rejectRefundUpdate,
  REFUSALS,
  retryRefundUpdate,
  type ApprovalDecision,
  type CorrectionRequest,
  type CorrectionState,
  type Decider,
  type ProviderNotice,
  type RefundWorkflowInput,
  type RefundWorkflowState,
  type RetryRequest,
} from './messages';
import { merchantEventsOfStep } from './merchant-events';
import { ARRIVAL_BUSINESS_DAYS } from './policy';
import { NeedsAttentionKey, RefundStatusKey } from './search-attributes';

/** Bookkeeping: our own database, quick and safe to retry. */
const records = proxyActivities<RefundActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * Provider calls. The timeout is longer than any provider client's own, so a retry never starts
 * while an earlier call could still be in flight; transient errors are retried without limit
 * because the refund has been promised, and a person is alerted by the deadlines, not by a crash.
 */
const provider = proxyActivities<RefundActivities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    nonRetryableErrorTypes: ['UnknownRefundAttempt', REFUSALS.providerCannotCancel],
  },
});

/**
 * Merchant event delivery: the merchant's endpoint may be down for a while; Temporal keeps
 * retrying, and the refund itself never waits for it.
 */
const merchantEvents = proxyActivities<RefundActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m' },
});

/** The longest wait between two provider status checks when no webhook arrives. */
const MAX_POLL_INTERVAL_MS = 6 * 3_600_000;
/** How long after settlement the workflow stays open for a late return of the money. */
const AFTERCARE_MS = 90 * 86_400_000;

export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundWorkflowState> {
  return new RefundRun(input).run();
}

type StepOptions = Partial<Pick<RefundStep, 'actor' | 'detail' | 'reservation' | 'switchToAttempt' | 'paymentShift' | 'notify' | 'tellStaff'>>;

class RefundRun {
  private readonly state: RefundWorkflowState;
  private readonly notices: ProviderNotice[] = [];
  private readonly seenNotices = new Set<string>();
  private seq = 0;
  /** Steps are written in the order they happen, even when an Update and the main flow overlap. */
  private recording: Promise<unknown> = Promise.resolve();
  /** A person's decision is being carried out (a cancel or reroute at the provider): others wait. */
  private deciding = false;
  /** What a person decided while the refund required action. */
  private personDecided?: 'retry' | 'cancel';
  /** Merchant event deliveries, one after another so a refund's events arrive in order. */
  private delivering: Promise<unknown> = Promise.resolve();
  /** Refunds started before merchant events existed replay without them (Temporal patch). */
  private readonly deliversMerchantEvents: boolean;
  /** Corrections asked for and not yet carried out, oldest first. */
  private readonly pendingCorrections: CorrectionRequest[] = [];
  /** A reversal was refused: the customer was asked to return money; nothing else may move. */
  private recoveryOpen = false;
  /** What each settled attempt paid and the customer still holds: where reversals take money back from. */
  private readonly heldByAttempt: Array<{ attempt: number; amount: number }> = [];

  constructor(private readonly input: RefundWorkflowInput) {
    this.state = {
      status: input.requiredApprovals > 0 ? 'pending_approval' : 'processing',
      amount: input.amount,
      corrections: [],
      provider: input.provider,
      attempt: 1,
      providerState: 'not_sent',
      providerReference: null,
      traceReference: null,
      needsAttention: false,
      approvals: [],
      deadlines: {
        approvalDueAt: input.requiredApprovals > 0 ? iso(workflowInfo().startTime.getTime() + input.policy.approvalTimeoutMs) : null,
        settlementDueAt: null,
        expectedArrivalAt: null,
        hardDeadlineAt: null,
      },
      settledAt: null,
    };
    this.deliversMerchantEvents = patched('merchant-events');
    setHandler(refundStateQuery, () => this.state);
    setHandler(providerNoticeSignal, (notice) => {
      if (this.seenNotices.has(notice.noticeId)) return;
      this.seenNotices.add(notice.noticeId);
      this.notices.push(notice);
    });
    setHandler(reconciliationFindingSignal, async (finding) => {
      // The providers' books disagree with ours: a person must look; the evidence goes on record.
      this.state.needsAttention = true;
      await this.step('reconciliation_mismatch', undefined, { needsAttention: true }, { detail: { ...finding } });
    });
    setHandler(approveRefundUpdate, (request) => this.approve(request), { validator: (request) => this.checkApproval(request) });
    setHandler(rejectRefundUpdate, (request) => this.reject(request), {
      validator: (request) => {
        this.checkStatus(['pending_approval']);
        if (request.role !== 'supervisor') throw refusal(REFUSALS.forbidden, 'only a supervisor may reject a refund');
        if (!request.reason.trim()) throw refusal(REFUSALS.invalidState, 'a rejection needs a reason the customer can be told');
      },
    });
    setHandler(cancelRefundUpdate, (request) => this.cancel(request), {
      validator: (request) => {
        this.checkStatus(['pending_approval', 'requires_action']);
        if (request.role === 'service' && request.principal !== input.createdBy) {
          throw refusal(REFUSALS.forbidden, 'a service key may cancel only the refunds it created');
        }
      },
    });
    setHandler(retryRefundUpdate, (request) => this.retry(request), { validator: (request) => this.checkRetry(request) });
    setHandler(correctRefundUpdate, (request) => this.requestCorrection(request), { validator: (request) => this.checkCorrection(request) });
  }

  async run(): Promise<RefundWorkflowState> {
    this.deliverMerchantEvents(); // `refund.created` and the first status, written by the API
    if (this.state.status !== 'pending_approval' || (await this.awaitApproval())) {
      let paid = await this.payOut();
      for (;;) {
        if (paid && !(await this.afterSuccess())) break;
        // requires_action: the refund waits for a person to retry or cancel it, or for the money
        // the provider still held to arrive after all.
        const next = await this.awaitPerson();
        if (next === 'cancel') break;
        if (next === 'retry') {
          paid = await this.payOut();
        } else {
          await this.succeed(next);
          paid = true;
        }
      }
    }
    await condition(allHandlersFinished);
    await this.recording;
    await this.delivering;
    return this.state;
  }

  // ── approval ────────────────────────────────────────────────────────────────────────────────

  /**
   * Holds the refund until enough supervisors approve, reminding them at REFUND_APPROVAL_REMINDER,
   * escalating at REFUND_APPROVAL_ESCALATE, and letting the request expire at
   * REFUND_APPROVAL_TIMEOUT. Resolves true when approved.
   */
  private async awaitApproval(): Promise<boolean> {
    const { policy } = this.input;
    // Counted on the workflow's own clock from its start (the API's createdAt is the same moment, give or take milliseconds).
    const createdAt = workflowInfo().startTime.getTime();
    const decided = () => this.state.status !== 'pending_approval';
    const until = (at: number) => Math.max(at - Date.now(), 1);

    if (!(await condition(decided, until(createdAt + policy.approvalReminderMs)))) {
      await this.step('approval_reminder', undefined, {}, { tellStaff: { kind: 'approval_reminder', noticeKey: 'approval-reminder', to: [] } });
    }
    if (!decided() && !(await condition(decided, until(createdAt + policy.approvalEscalateMs)))) {
      this.state.needsAttention = true;
      await this.step('approval_escalated', undefined, { needsAttention: true }, {
        tellStaff: { kind: 'approval_escalated', noticeKey: 'approval-escalated', to: policy.escalationPrincipals },
        detail: { escalatedTo: policy.escalationPrincipals },
      });
    }
    if (!decided() && !(await condition(decided, until(createdAt + policy.approvalTimeoutMs)))) {
      this.state.needsAttention = false;
      await this.step('approval_expired', 'expired', { needsAttention: false }, {
        reservation: 'release',
        notify: { template: 'refund_expired', noticeKey: 'expired' },
      });
    }
    return this.state.status === 'processing';
  }

  private checkApproval(request: Decider): void {
    this.checkStatus(['pending_approval']);
    if (request.role !== 'supervisor') throw refusal(REFUSALS.forbidden, 'only a supervisor may approve a refund');
    if (request.principal === this.input.requestedBy) throw refusal(REFUSALS.makerChecker, `${request.principal} requested this refund`);
    if (request.principal === this.input.createdBy) throw refusal(REFUSALS.makerChecker, `${request.principal} created this refund`);
    if (this.state.approvals.some((approval) => approval.principal === request.principal)) {
      throw refusal(REFUSALS.makerChecker, `${request.principal} has already approved this refund`);
    }
  }

  private async approve(request: Decider & { comment?: string | null }): Promise<RefundWorkflowState> {
    this.state.approvals.push(decision(request.principal, 'approved', request.comment ?? null));
    const approvedBy = this.state.approvals.filter((a) => a.decision === 'approved').length;
    const enough = approvedBy >= this.input.requiredApprovals;
    if (enough) this.state.needsAttention = false;
    await this.step(
      enough ? 'approved' : 'approval_recorded',
      enough ? 'processing' : undefined,
      { approvals: [...this.state.approvals], ...(enough ? { needsAttention: false } : {}) },
      { actor: request, detail: { approvals: approvedBy, required: this.input.requiredApprovals } },
    );
    return this.state;
  }

  private async reject(request: Decider & { reason: string }): Promise<RefundWorkflowState> {
    this.state.approvals.push(decision(request.principal, 'rejected', request.reason));
    this.state.needsAttention = false;
    await this.step('rejected', 'rejected', { approvals: [...this.state.approvals], needsAttention: false }, {
      actor: request,
      detail: { reason: request.reason },
      reservation: 'release',
      notify: { template: 'refund_rejected', noticeKey: 'rejected', reasonGiven: request.reason },
    });
    return this.state;
  }

  // ── payout ──────────────────────────────────────────────────────────────────────────────────

  /** Submits along the current route and follows it until the money arrives (true) or a person must act (false). */
  private async payOut(): Promise<boolean> {
    const outcome = await this.submit();
    if (outcome.state === 'failed') {
      await this.needsAction('provider_declined', { failureReason: outcome.failureReason });
      return false;
    }
    const settlement = outcome.state === 'settled' ? { reportedBy: 'submission' as const } : await this.awaitSettlement();
    if (!settlement) return false;
    await this.succeed(settlement);
    return true;
  }

  /** Sends the refund along its current route and records the provider's answer. */
  private async submit(): Promise<ProviderOutcome> {
    const { refundId, policy } = this.input;
    const outcome = await provider.submitRefundToProvider({ refundId, attempt: this.state.attempt });
    this.state.providerState = outcome.state;
    this.state.providerReference = outcome.reference;
    this.state.traceReference = outcome.traceReference;
    if (outcome.state === 'failed') return outcome;

    const now = Date.now();
    this.state.deadlines = {
      ...this.state.deadlines,
      settlementDueAt: iso(now + policy.settlementSlaMs[this.state.provider]),
      hardDeadlineAt: iso(now + policy.settlementDeadlineMs),
      expectedArrivalAt: iso(addBusinessDays(now, ARRIVAL_BUSINESS_DAYS[this.state.provider], policy)),
    };
    await this.step(
      'submitted',
      'awaiting_settlement',
      { providerState: 'accepted', providerReference: outcome.reference, traceReference: outcome.traceReference, ...this.state.deadlines },
      { notify: { template: 'refund_sent', noticeKey: `sent-a${this.state.attempt}` }, detail: { attempt: this.state.attempt, provider: this.state.provider } },
    );
    return outcome;
  }

  /**
   * Waits for the provider to settle: a webhook notice is the fast path; polling the provider,
   * with a growing interval, is the fallback. Past the SLA the refund is `delayed`; past the hard
   * deadline a person must act. Resolves with what reported the settlement, or undefined when
   * the refund now needs a person instead.
   */
  private async awaitSettlement(): Promise<SettlementEvidence | undefined> {
    let pollIntervalMs = this.input.providerPollIntervalMs;
    let nextPollAt = Date.now() + pollIntervalMs;
    for (;;) {
      const settlementDueAt = Date.parse(this.state.deadlines.settlementDueAt!);
      const hardDeadlineAt = Date.parse(this.state.deadlines.hardDeadlineAt!);
      const wakeAt = Math.min(nextPollAt, hardDeadlineAt, this.state.status === 'delayed' ? Infinity : settlementDueAt);
      // Only settlements are taken here; a notice of money returned stays queued for afterSuccess.
      const settledNotice = () => this.notices.findIndex((n) => n.type === 'settled');
      if (await condition(() => settledNotice() >= 0, Math.max(wakeAt - Date.now(), 1))) {
        const [notice] = this.notices.splice(settledNotice(), 1);
        if (notice!.attempt === this.state.attempt) return { reportedBy: 'webhook', noticeId: notice!.noticeId, actor: notice!.actor };
        continue;
      }
      if (Date.now() >= hardDeadlineAt) {
        await this.needsAction('settlement_deadline_passed', { hardDeadlineAt: this.state.deadlines.hardDeadlineAt });
        return undefined;
      }
      if (Date.now() >= settlementDueAt && this.state.status !== 'delayed') {
        await this.markDelayed();
        continue;
      }
      const outcome = await provider.checkRefundAtProvider({ refundId: this.input.refundId, attempt: this.state.attempt });
      pollIntervalMs = Math.min(pollIntervalMs * 2, MAX_POLL_INTERVAL_MS);
      nextPollAt = Date.now() + pollIntervalMs;
      if (outcome.state === 'settled' || outcome.state === 'returned') return { reportedBy: 'status_check' };
      if (outcome.state === 'failed' || outcome.state === 'canceled') {
        this.state.providerState = outcome.state;
        await this.needsAction('provider_failed', { failureReason: outcome.failureReason });
        return undefined;
      }
    }
  }

  /** Past the route's usual settlement time: still waiting, but people should see it. */
  private async markDelayed(): Promise<void> {
    const { policy } = this.input;
    // The customer's new date: as many business days again as the route normally takes.
    this.state.deadlines.expectedArrivalAt = iso(addBusinessDays(Date.now(), ARRIVAL_BUSINESS_DAYS[this.state.provider], policy));
    this.state.needsAttention = true;
    await this.step(
      'settlement_delayed',
      'delayed',
      { needsAttention: true, expectedArrivalAt: this.state.deadlines.expectedArrivalAt },
      { notify: { template: 'refund_delayed', noticeKey: `delayed-a${this.state.attempt}` } },
    );
  }

  /** The money arrived: the payment's reservation becomes refunded and the customer is told. */
  private async succeed(evidence: SettlementEvidence): Promise<void> {
    this.heldByAttempt.push({ attempt: this.state.attempt, amount: this.netAmount() });
    this.state.settledAt = iso(Date.now());
    this.state.needsAttention = false;
    const { actor = PROVIDER_ACTOR(this.state.provider), ...detail } = evidence;
    await this.step(
      'settled',
      'succeeded',
      { providerState: 'settled', settledAt: this.state.settledAt, needsAttention: false },
      { actor, detail, reservation: 'settle', notify: { template: 'refund_succeeded', noticeKey: `succeeded-a${this.state.attempt}` } },
    );
  }

  /**
   * After the money arrived: ask the customer whether it did after REFUND_FOLLOW_UP_AFTER, carry out
   * corrections supervisors order, and stay open a while for the bank returning the money (a closed
   * card, say). Resolves true if the refund now requires action again.
   */
  private async afterSuccess(): Promise<boolean> {
    const returned = () => this.notices.some((notice) => notice.type === 'returned' && notice.attempt === this.state.attempt);
    let followedUp = false;
    for (;;) {
      const settledAt = Date.parse(this.state.settledAt!);
      const wakeAt = settledAt + (followedUp ? AFTERCARE_MS : this.input.policy.followUpAfterMs);
      const woke = await condition(() => returned() || this.pendingCorrections.length > 0, Math.max(wakeAt - Date.now(), 1));
      if (returned()) break;
      if (this.pendingCorrections.length > 0) {
        if (!(await this.correct(this.pendingCorrections.shift()!))) return true;
        continue;
      }
      if (woke) continue;
      if (followedUp) return false;
      await this.step('followed_up', undefined, {}, { notify: { template: 'refund_follow_up', noticeKey: `follow-up-a${this.state.attempt}` } });
      followedUp = true;
    }
    // The bank sent the money back: no longer refunded, still owed; the earlier message is corrected.
    const attempt = this.state.attempt;
    const notice = this.notices.find((n) => n.type === 'returned' && n.attempt === attempt)!;
    this.heldByAttempt.splice(0, this.heldByAttempt.length);
    this.state.needsAttention = true;
    this.state.settledAt = null;
    await this.step(
      'money_returned',
      'requires_action',
      { providerState: 'returned', needsAttention: true, settledAt: null },
      { actor: notice.actor, detail: { noticeId: notice.noticeId }, reservation: 'reopen', notify: { template: 'refund_returned', noticeKey: `returned-a${attempt}` } },
    );
    return true;
  }

  // ── corrections ─────────────────────────────────────────────────────────────────────────────

  private checkCorrection(request: CorrectionRequest): void {
    this.checkStatus(['succeeded', 'corrected']);
    if (request.role !== 'supervisor') throw refusal(REFUSALS.forbidden, 'only a supervisor may correct a refund');
    const current = this.state.amount;
    const fee = this.input.amount - this.input.netAmount;
    if (request.newTotal <= fee) throw refusal(REFUSALS.invalidState, `the corrected total must be more than the fee of ${fee}`);
    const fits =
      (request.kind === 'reversal' && request.newTotal < current) ||
      (request.kind === 'supplementary' && request.newTotal > current) ||
      (request.kind === 'reissue' && request.newTotal === current);
    if (!fits) throw refusal(REFUSALS.invalidState, `a ${request.kind} does not take the refund from ${current} to ${request.newTotal}`);
    if (request.kind !== 'reversal' && request.attempt !== this.state.attempt + 1) {
      throw refusal(REFUSALS.invalidState, `the next attempt is ${this.state.attempt + 1}, not ${request.attempt}`);
    }
  }

  private async requestCorrection(request: CorrectionRequest): Promise<RefundWorkflowState> {
    const previousTotal = this.state.amount;
    this.state.corrections.push({
      id: request.correctionId,
      kind: request.kind,
      amount: request.kind === 'reissue' ? previousTotal : Math.abs(request.newTotal - previousTotal),
      previousTotal,
      newTotal: request.newTotal,
      status: 'in_progress',
      reason: request.reason,
      requestedBy: request.principal,
      at: iso(Date.now()),
    });
    this.pendingCorrections.push(request);
    await this.step('correction_requested', 'correcting', { corrections: this.correctionRecords() }, {
      actor: request,
      detail: { correctionId: request.correctionId, kind: request.kind, previousTotal, newTotal: request.newTotal, reason: request.reason },
    });
    return this.state;
  }

  /**
   * Carries out one correction with compensating activities. Resolves false when it ends in a
   * state a person must handle (a refused reversal, a re-issue that could not be paid).
   */
  private async correct(request: CorrectionRequest): Promise<boolean> {
    const correction = this.state.corrections.find((c) => c.id === request.correctionId)!;
    switch (request.kind) {
      case 'reversal': {
        // Paid too much: take the excess back; it becomes refundable on the payment again.
        if (!(await this.reverse(request, correction.amount))) return false;
        await this.completeCorrection(correction, { paymentShift: { refunded: -correction.amount, reserved: 0 } });
        return true;
      }
      case 'supplementary': {
        // Paid too little: pay the shortfall (reserved on the payment when it was asked for).
        if (await this.payCorrection(request)) {
          this.heldByAttempt.push({ attempt: this.state.attempt, amount: correction.amount });
          await this.completeCorrection(correction, { paymentShift: { refunded: correction.amount, reserved: -correction.amount } });
        } else {
          correction.status = 'failed';
          this.state.needsAttention = true;
          this.state.status = this.state.corrections.some((c) => c.status === 'completed') ? 'corrected' : 'succeeded';
          await this.step('correction_failed', this.state.status, { needsAttention: true, corrections: this.correctionRecords() }, {
            detail: { correctionId: correction.id, released: correction.amount },
            paymentShift: { refunded: 0, reserved: -correction.amount },
          });
        }
        return true;
      }
      case 'reissue': {
        // Paid to the wrong account: take it all back, then pay the right one.
        if (!(await this.reverse(request, this.netAmount()))) return false;
        await this.step('reversed', undefined, {}, { reservation: 'reopen', detail: { correctionId: correction.id, amount: this.netAmount() } });
        if (!(await this.payCorrection(request))) {
          correction.status = 'failed';
          await this.needsAction('correction_payout_failed', { correctionId: correction.id });
          return false;
        }
        this.heldByAttempt.push({ attempt: this.state.attempt, amount: this.netAmount() });
        await this.completeCorrection(correction, { reservation: 'settle' });
        return true;
      }
    }
  }

  /**
   * Takes `amount` back from what the customer holds, newest payout first, never more from an
   * attempt than it paid. A refusal opens a recovery case for what could not be taken back.
   */
  private async reverse(request: CorrectionRequest, amount: number): Promise<boolean> {
    let reversed = 0;
    for (const held of [...this.heldByAttempt].reverse()) {
      const part = Math.min(held.amount, amount - reversed);
      if (part === 0) break;
      try {
        await provider.reverseAtProvider({ refundId: this.input.refundId, attempt: held.attempt, amount: part, correctionId: request.correctionId });
      } catch (error) {
        const cause = error instanceof ActivityFailure ? error.cause : undefined;
        if (!(cause instanceof ApplicationFailure && cause.type === 'ReversalRefused')) throw error;
        await this.openRecovery(request, amount - reversed, reversed, cause.message);
        return false;
      }
      held.amount -= part;
      reversed += part;
    }
    this.heldByAttempt.splice(0, this.heldByAttempt.length, ...this.heldByAttempt.filter((held) => held.amount > 0));
    return true;
  }

  /** The bank would not give money back: the customer is asked to return it, and what is owed goes on record. */
  private async openRecovery(request: CorrectionRequest, owed: number, reversed: number, refusal: string): Promise<void> {
    this.state.corrections.find((c) => c.id === request.correctionId)!.status = 'refused';
    this.recoveryOpen = true;
    this.state.needsAttention = true;
    await this.step('reversal_refused', 'requires_action', { needsAttention: true, corrections: this.correctionRecords() }, {
      detail: { correctionId: request.correctionId, recoveryCase: true, owedByCustomer: owed, reversed, currency: this.input.currency, refusal },
      paymentShift: reversed > 0 ? { refunded: -reversed, reserved: 0 } : undefined,
      notify: { template: 'refund_recovery', noticeKey: `recovery-${request.correctionId}`, reasonGiven: request.reason, correctionAmount: owed },
    });
  }

  /** Sends a correction's payout (the attempt the API wrote down) and waits for it to settle. */
  private async payCorrection(request: CorrectionRequest): Promise<boolean> {
    Object.assign(this.state, { attempt: request.attempt!, provider: request.provider!, providerState: 'not_sent', providerReference: null, traceReference: null });
    await this.step('correction_payout', undefined, { providerState: 'not_sent' }, {
      switchToAttempt: request.attempt,
      detail: { correctionId: request.correctionId, attempt: request.attempt, provider: request.provider },
    });
    const outcome = await provider.submitRefundToProvider({ refundId: this.input.refundId, attempt: this.state.attempt });
    Object.assign(this.state, { providerState: outcome.state, providerReference: outcome.reference, traceReference: outcome.traceReference });
    if (outcome.state === 'settled') return true;
    if (outcome.state !== 'accepted') return false;
    const deadline = Date.now() + this.input.policy.settlementDeadlineMs;
    let pollIntervalMs = this.input.providerPollIntervalMs;
    for (;;) {
      const settledNotice = () => this.notices.some((n) => n.type === 'settled' && n.attempt === this.state.attempt);
      if (await condition(settledNotice, Math.max(Math.min(Date.now() + pollIntervalMs, deadline) - Date.now(), 1))) return true;
      const checked = await provider.checkRefundAtProvider({ refundId: this.input.refundId, attempt: this.state.attempt });
      if (checked.state === 'settled') return true;
      if (checked.state !== 'accepted' || Date.now() >= deadline) {
        if (checked.state === 'accepted') await this.cancelAtCurrentProvider();
        return false;
      }
      pollIntervalMs = Math.min(pollIntervalMs * 2, MAX_POLL_INTERVAL_MS);
    }
  }

  private async completeCorrection(correction: CorrectionState, effects: Pick<StepOptions, 'paymentShift' | 'reservation'>): Promise<void> {
    correction.status = 'completed';
    this.state.amount = correction.newTotal;
    this.state.needsAttention = false;
    await this.step(
      'corrected',
      'corrected',
      { amount: correction.newTotal, netAmount: this.netAmount(), providerState: 'settled', needsAttention: false, corrections: this.correctionRecords() },
      { ...effects, detail: { correctionId: correction.id, kind: correction.kind, newTotal: correction.newTotal }, notify: { template: 'refund_corrected', noticeKey: `corrected-${correction.id}`, reasonGiven: correction.reason } },
    );
  }

  private netAmount(): number {
    return this.state.amount - (this.input.amount - this.input.netAmount);
  }

  private correctionRecords() {
    return this.state.corrections.map((c) => ({ ...c }));
  }

  /** The route failed or time ran out: the refund waits for a person (retry or cancel). */
  private async needsAction(why: string, detail: Record<string, unknown>): Promise<void> {
    this.state.needsAttention = true;
    await this.step(why, 'requires_action', { providerState: this.state.providerState, needsAttention: true }, { detail });
  }

  // ── a person's decisions in requires_action ─────────────────────────────────────────────────

  /**
   * Waits in requires_action for a person's decision. A settlement notice for the attempt still
   * pending at its provider (the bank was only late) ends the wait too: the refund succeeded.
   */
  private async awaitPerson(): Promise<'retry' | 'cancel' | SettlementEvidence> {
    const lateNotice = () =>
      this.state.providerState === 'accepted' ? this.notices.find((n) => n.type === 'settled' && n.attempt === this.state.attempt) : undefined;
    await condition(() => this.personDecided !== undefined || (lateNotice() !== undefined && !this.deciding));
    // Refunds that reached this wait before late settlements were taken keep waiting for a person.
    if (this.personDecided === undefined && !patched('settled-while-requiring-action')) await condition(() => this.personDecided !== undefined);
    const decided = this.personDecided;
    this.personDecided = undefined;
    if (decided) return decided;
    const notice = lateNotice()!;
    this.notices.splice(this.notices.indexOf(notice), 1);
    return { reportedBy: 'webhook', noticeId: notice.noticeId, actor: notice.actor };
  }

  private checkRetry(request: RetryRequest): void {
    this.checkStatus(['requires_action']);
    if (request.role === 'service') throw refusal(REFUSALS.forbidden, 'a service key may not retry a refund');
    if (request.otherRoute && request.role !== 'supervisor') throw refusal(REFUSALS.forbidden, 'only a supervisor may send a refund another way');
    if (request.attempt !== this.state.attempt + 1) throw refusal(REFUSALS.invalidState, `the next attempt is ${this.state.attempt + 1}, not ${request.attempt}`);
  }

  /**
   * Sends the refund again, on its route or another. Whatever is still pending at the old
   * provider is canceled first, so the customer can never be paid twice; if the provider will
   * not cancel, the Update fails and nothing changes.
   */
  private async retry(request: RetryRequest): Promise<RefundWorkflowState> {
    await this.decide(async () => {
      await this.cancelAtCurrentProvider();
      Object.assign(this.state, {
        attempt: request.attempt,
        provider: request.provider,
        providerState: 'not_sent',
        providerReference: null,
        traceReference: null,
        needsAttention: false,
        settledAt: null,
      });
      this.state.deadlines = { ...this.state.deadlines, settlementDueAt: null, expectedArrivalAt: null, hardDeadlineAt: null };
      await this.step('retry_requested', 'processing', { providerState: 'not_sent', needsAttention: false, settlementDueAt: null, expectedArrivalAt: null, hardDeadlineAt: null }, {
        actor: request,
        switchToAttempt: request.attempt,
        detail: { attempt: request.attempt, provider: request.provider, otherRoute: request.otherRoute },
      });
      this.personDecided = 'retry';
    });
    return this.state;
  }

  private async cancel(request: Decider & { reason?: string | null }): Promise<RefundWorkflowState> {
    await this.decide(async () => {
      if (this.state.status === 'requires_action') await this.cancelAtCurrentProvider();
      this.state.needsAttention = false;
      await this.step('canceled', 'canceled', { providerState: this.state.providerState, needsAttention: false }, {
        actor: request,
        detail: { reason: request.reason ?? null },
        reservation: 'release',
        notify: { template: 'refund_canceled', noticeKey: 'canceled' },
      });
      this.personDecided = 'cancel';
    });
    return this.state;
  }

  /** Cancels the current attempt at its provider if money could still move there. */
  private async cancelAtCurrentProvider(): Promise<void> {
    if (this.state.providerState !== 'accepted' && this.state.providerState !== 'in_doubt') return;
    try {
      const outcome = await provider.cancelRefundAtProvider({ refundId: this.input.refundId, attempt: this.state.attempt });
      this.state.providerState = outcome.state;
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === REFUSALS.providerCannotCancel) throw refusal(REFUSALS.providerCannotCancel, cause.message);
      throw error;
    }
  }

  /** Runs one decision at a time: validators refuse others while one is being carried out. */
  private async decide(work: () => Promise<void>): Promise<void> {
    this.deciding = true;
    try {
      await work();
    } finally {
      this.deciding = false;
    }
  }

  private checkStatus(allowed: RefundStatus[]): void {
    if (this.recoveryOpen) throw refusal(REFUSALS.invalidState, 'a recovery case is open: the customer was asked to return an overpayment');
    if (this.deciding) throw refusal(REFUSALS.invalidState, 'another decision on this refund is being carried out');
    if (!allowed.includes(this.state.status)) {
      throw refusal(REFUSALS.invalidState, `the refund is ${this.state.status}; this needs ${allowed.join(' or ')}`);
    }
  }

  // ── recording ───────────────────────────────────────────────────────────────────────────────

  /**
   * Records one step: the workflow's own state and search attributes here, and by one activity
   * (one transaction) the audit event, the read model, the money it moves and the messages it
   * sends, all saying the same thing. Steps are written one after another, in order.
   */
  private step(type: string, status: RefundStatus | undefined, changes: RefundStepChanges, options: StepOptions = {}): Promise<void> {
    if (status) this.state.status = status;
    if (changes.providerState) this.state.providerState = changes.providerState;
    this.seq += 1;
    upsertSearchAttributes([
      { key: RefundStatusKey, value: this.state.status },
      { key: NeedsAttentionKey, value: this.state.needsAttention },
    ]);
    const step: RefundStep = {
      refundId: this.input.refundId,
      seq: this.seq,
      type,
      actor: options.actor ? { principal: options.actor.principal, role: options.actor.role } : SYSTEM_ACTOR,
      detail: options.detail ?? {},
      changes: status ? { status, ...changes } : changes,
      reservation: options.reservation,
      switchToAttempt: options.switchToAttempt,
      paymentShift: options.paymentShift,
      notify: options.notify,
      tellStaff: options.tellStaff,
    };
    const written = this.recording.then(() => records.recordRefundStep(step));
    this.recording = written.catch(() => undefined);
    if (merchantEventsOfStep(type, status).length > 0) this.deliverMerchantEvents(written);
    return written;
  }

  /** Delivers the refund's pending merchant events once `after` (the step that wrote them) is done. */
  private deliverMerchantEvents(after: Promise<unknown> = Promise.resolve()): void {
    if (!this.deliversMerchantEvents) return;
    const previous = this.delivering;
    this.delivering = Promise.all([previous, after])
      .then(() => merchantEvents.deliverMerchantEvents(this.input.refundId))
      .catch(() => undefined);
  }
}

/** What told the workflow that the money arrived: recorded with the `settled` event. */
interface SettlementEvidence extends Record<string, unknown> {
  reportedBy: 'submission' | 'webhook' | 'status_check';
  noticeId?: string;
  actor?: Actor;
}

const PROVIDER_ACTOR = (name: string): Actor => ({ principal: name, role: 'provider' });

function decision(principal: string, kind: ApprovalDecision['decision'], comment: string | null): ApprovalDecision {
  return { principal, decision: kind, comment, at: iso(Date.now()) };
}

/** A refused decision: the Update fails with this type, and nothing enters history. */
function refusal(type: (typeof REFUSALS)[keyof typeof REFUSALS], message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
