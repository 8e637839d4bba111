/**
 * What every part of a refund's workflow shares: its state, its activities, the one ordered
 * sequence in which its steps are put on record, and the lock that lets one decision at a time be
 * carried out. The parts (approval, settlement, proposals, corrections, a person's decisions) each
 * live in their own file and work through this.
 *
 * Two rules hold everywhere:
 * - Nothing moves ahead of its record (SPEC rule 16): a step is written to the database first and
 *   only then does the workflow's own state change, so no money is sent on a decision that is not
 *   on record. A step that cannot be recorded after bounded retries stops the refund in
 *   `requires_action` with the evidence.
 * - One decision at a time (rule 15): a person's decision (an Update) takes the lock in its
 *   handler's first synchronous line, and validators refuse every other while it is held; the
 *   workflow's own decisions (expiry, a lapsed proposal, returned money) wait for the lock.
 */
import {
  ApplicationFailure,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RefundActivities } from '../activities';
import type { ProviderOutcome } from '../activities/provider-activities';
import type { RefundStep, RefundStepChanges, StepOutcome } from '../activities/record-activities';
import type { ApprovedCorrection } from './corrections';
import type { DecisionView } from './decision-rules';
import { SYSTEM_ACTOR, type Actor, type ProviderName, type RefundStatus } from './lifecycle';
import { merchantEventsOfStep } from './merchant-events';
import type { AttemptLedger, ProviderNotice, RefundWorkflowInput, RefundWorkflowState } from './messages';
import { RefundRequestError } from './refusals';
import { NeedsAttentionKey, RefundStatusKey } from './search-attributes';
import { currentDetails } from './temporal-ui';

/** How long a provider call may go without a heartbeat before Temporal gives it to another worker (they beat every 2 s). */
export const PROVIDER_HEARTBEAT = '5s';

/**
 * Bookkeeping in our own database, as local activities: the worker running the workflow task
 * writes the step and goes on in the same task, so a step costs the history one marker instead of
 * an activity's three events and a workflow task's three. Retried for about two minutes: longer
 * than any database restart, shorter than anyone would wait for money held behind a step that can
 * never be written. (A retry waits in the worker for up to a second; longer waits are workflow timers.)
 */
const records = proxyLocalActivities<RefundActivities>({
  startToCloseTimeout: '30s',
  localRetryThreshold: '1s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
});

/** The evidence that a step could not be recorded: retried until it is, since it moves nothing. */
const evidence = proxyLocalActivities<RefundActivities>({
  startToCloseTimeout: '30s',
  localRetryThreshold: '1s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/**
 * Provider calls. They heartbeat, so a worker that dies mid-call is noticed within PROVIDER_HEARTBEAT
 * and the next try, on another worker, asks the provider by key before anything else. Transport trouble is retried for hours;
 * what still fails after that ends in `requires_action`, never in a failed run.
 */
export const provider = proxyActivities<RefundActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: PROVIDER_HEARTBEAT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 30, nonRetryableErrorTypes: ['UnknownRefundAttempt'] },
});

/** Merchant event delivery: the merchant's endpoint may be down for a while; the refund never waits for it. */
const merchantEvents = proxyActivities<RefundActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m' },
});

export type StepOptions = Partial<Pick<RefundStep, 'actor' | 'detail' | 'paymentShift' | 'newAttempt' | 'switchToAttempt' | 'redirectAttempt' | 'requireNewDestination' | 'notify' | 'tellStaff'>>;

/** A step planned by `plan()`, numbered when it is recorded. */
export interface PlannedStep {
  type: string;
  status: RefundStatus | undefined;
  changes: RefundStepChanges;
  options: StepOptions;
}

/** A step could not be recorded: the refund was stopped in requires_action with the evidence. */
export class StepNotRecorded extends Error {
  override name = 'StepNotRecorded';
}

export class RefundRun {
  readonly state: RefundWorkflowState;
  /** Provider notices not taken yet, in the order they came. */
  readonly notices: ProviderNotice[] = [];
  private readonly seenNotices = new Set<string>();
  /** What a person decided while the refund required action. */
  personDecided: 'retry' | 'cancel' | null = null;
  /** Asked before a person's decision, the provider turned out to hold the current attempt: the refund follows it again. */
  heldAtProvider: ProviderOutcome | null = null;
  /** An approved correction the main flow has yet to carry out. */
  approvedCorrection: ApprovedCorrection | null = null;
  /** The attempt whose customer was already asked whether the money arrived. */
  followedUpAttempt: number | null = null;
  /** When the refund was canceled (the workflow's clock): a payout still holding money is watched from then. */
  canceledAt: number | null = null;
  /** Set when the refund's work is over: the workflow completes once its handlers have finished. */
  finished = false;
  /** Waits that run beside the main flow (a proposal's lapse): finished before the workflow is. */
  readonly background: Promise<void>[] = [];
  private seq = 0;
  /**
   * The status a step being recorded will set. The database has it from the moment the step
   * commits, a little before the workflow hears the activity is done: decisions are judged by it,
   * so one sent the instant a refund shows `requires_action` is not refused for being early.
   */
  private recordingStatus: RefundStatus | null = null;
  private recording: Promise<unknown> = Promise.resolve();
  private delivering: Promise<unknown> = Promise.resolve();
  private published = { status: '', needsAttention: false };

  constructor(readonly input: RefundWorkflowInput) {
    const needsApproval = input.requiredApprovals > 0;
    this.state = {
      status: needsApproval ? 'pending_approval' : 'processing',
      amount: input.amount,
      corrections: [],
      provider: input.provider,
      attempt: 1,
      providerState: 'not_sent',
      providerReference: null,
      traceReference: null,
      needsAttention: false,
      approvals: [],
      proposal: null,
      deadlines: {
        approvalDueAt: needsApproval ? iso(workflowInfo().startTime.getTime() + input.policy.approvalTimeoutMs) : null,
        settlementDueAt: null,
        expectedArrivalAt: null,
        hardDeadlineAt: null,
      },
      settledAt: null,
      // The API reserved the whole amount on the payment when it took the request.
      books: { reserved: input.amount, refunded: 0 },
      attempts: [],
      redirectable: false,
      busy: null,
    };
    this.published = { status: this.state.status, needsAttention: false };
    setCurrentDetails(currentDetails(input, this.state));
  }

  get fee(): number {
    return this.input.amount - this.input.netAmount;
  }

  /** The refund's state as the decision rules read it. */
  view(): DecisionView {
    const { input, state } = this;
    return {
      status: this.recordingStatus ?? state.status,
      requestedBy: input.requestedBy,
      createdBy: input.createdBy,
      requiredApprovals: input.requiredApprovals,
      approvals: state.approvals,
      proposal: state.proposal,
      amount: state.amount,
      fee: this.fee,
      corrections: state.corrections,
      redirectable: state.redirectable,
      busy: state.busy,
    };
  }

  // ── recording ───────────────────────────────────────────────────────────────────────────────

  /**
   * Puts one step on record — by one activity, in one transaction: the audit event, the read
   * model, the money it moves on the payment, the provider attempt it opens, the messages it sends
   * — and only then changes the workflow's own status, attention flag and books. Steps are written
   * one after another in the order they were asked for. Throws a RefundRequestError when the
   * database refuses the step (nothing was written), StepNotRecorded when it could not be written.
   */
  async step(type: string, status: RefundStatus | undefined, changes: RefundStepChanges, options: StepOptions = {}): Promise<void> {
    await this.record(this.plan(type, status, changes, options));
  }

  /** A step to record, alone (`step()`) or together with the next one (`record()`). */
  plan(type: string, status: RefundStatus | undefined, changes: RefundStepChanges, options: StepOptions = {}): PlannedStep {
    return { type, status, changes, options };
  }

  /**
   * Puts steps that happened together on record in one transaction (a payout the provider settled
   * at once: `submitted` and `settled`), then applies each to the workflow's state in order.
   */
  async record(...planned: PlannedStep[]): Promise<void> {
    const steps = planned.map(({ type, status, changes, options }): RefundStep => ({
      refundId: this.input.refundId,
      seq: (this.seq += 1),
      type,
      actor: options.actor ? { principal: options.actor.principal, role: options.actor.role } : SYSTEM_ACTOR,
      detail: options.detail ?? {},
      changes: status ? { status, ...changes } : changes,
      paymentShift: options.paymentShift,
      newAttempt: options.newAttempt,
      switchToAttempt: options.switchToAttempt,
      redirectAttempt: options.redirectAttempt,
      requireNewDestination: options.requireNewDestination,
      notify: options.notify,
      tellStaff: options.tellStaff,
    }));
    const finalStatus = planned.reduce<RefundStatus | undefined>((last, { status }) => status ?? last, undefined);
    if (finalStatus) this.recordingStatus = finalStatus;
    const outcome = await this.inOrder(() => records.recordRefundSteps(steps), steps[0]!);
    if (this.recordingStatus === finalStatus) this.recordingStatus = null;
    if (outcome === 'halted') throw new StepNotRecorded(`step ${steps[0]!.type} could not be recorded`);
    if (!outcome.recorded) throw new RefundRequestError(outcome.refusal.code, outcome.refusal.message, outcome.refusal.facts);

    for (const { status, changes, options } of planned) {
      if (status) this.state.status = status;
      if (changes.providerState) this.state.providerState = changes.providerState;
      if (changes.needsAttention !== undefined) this.state.needsAttention = changes.needsAttention;
      if (changes.redirectable !== undefined) this.state.redirectable = changes.redirectable;
      if (options.paymentShift) {
        this.state.books.reserved += options.paymentShift.reserved;
        this.state.books.refunded += options.paymentShift.refunded;
      }
    }
    this.publish();
    if (planned.some(({ type, status }) => merchantEventsOfStep(type, status).length > 0)) this.deliverMerchantEvents();
  }

  /** Runs `write` after every step asked for before it; a write that fails for good halts the refund. */
  private inOrder(write: () => Promise<StepOutcome>, step: RefundStep): Promise<StepOutcome | 'halted'> {
    const written = this.recording.then(async () => {
      try {
        return await write();
      } catch (error) {
        if (isCancellation(error)) throw error;
        await this.halt(step, error);
        return 'halted' as const;
      }
    });
    this.recording = written.catch(() => undefined);
    return written;
  }

  /** A step could not be written: stop where a person sees it, with what failed on record. */
  private async halt(failed: RefundStep, error: unknown): Promise<void> {
    this.state.status = 'requires_action';
    this.state.needsAttention = true;
    this.state.redirectable = false;
    this.publish();
    await evidence.recordRefundSteps([
      {
        refundId: this.input.refundId,
        seq: (this.seq += 1),
        type: 'step_not_recorded',
        actor: SYSTEM_ACTOR,
        detail: { step: failed.type, seq: failed.seq, error: messageOf(error) },
        changes: { status: 'requires_action', needsAttention: true, redirectable: false },
      },
    ]);
  }

  /**
   * Something unforeseen stopped the refund's flow (an activity that failed for good, say): rather
   * than a failed run with money held and nobody told, the refund waits for a person.
   */
  async stopForPerson(why: string, error: unknown): Promise<void> {
    const outcome = await this.inOrder(
      () =>
        evidence.recordRefundSteps([
          {
            refundId: this.input.refundId,
            seq: (this.seq += 1),
            type: why,
            actor: SYSTEM_ACTOR,
            detail: { error: messageOf(error), providerState: this.state.providerState, attempt: this.state.attempt },
            // Whatever stopped it, WeChat Pay's own transfer is not offered on a guess: our bank transfer still is.
            changes: { status: 'requires_action', needsAttention: true, providerState: this.state.providerState, redirectable: false },
          },
        ]),
      { type: why } as RefundStep,
    );
    if (outcome !== 'halted') {
      this.state.status = 'requires_action';
      this.state.needsAttention = true;
      this.state.redirectable = false;
      this.publish();
    }
  }

  /** Waits until every step asked for so far is on record. */
  async recorded(): Promise<void> {
    await this.recording;
    await this.delivering;
  }

  /**
   * Keeps what Temporal shows of the refund true: its search attributes, so Temporal's own lists
   * find it as support does, and its current details in the Web UI (no history event).
   */
  private publish(): void {
    setCurrentDetails(currentDetails(this.input, this.state));
    const { status, needsAttention } = this.state;
    if (status === this.published.status && needsAttention === this.published.needsAttention) return;
    this.published = { status, needsAttention };
    upsertSearchAttributes([
      { key: RefundStatusKey, value: status },
      { key: NeedsAttentionKey, value: needsAttention },
    ]);
  }

  /** Delivers the refund's pending merchant events, one delivery after another so they arrive in order. */
  deliverMerchantEvents(): void {
    if (!this.input.deliversMerchantEvents) return;
    const refundId = this.input.refundId;
    this.delivering = this.delivering.then(() => merchantEvents.deliverMerchantEvents(refundId)).catch(() => undefined);
  }

  // ── one decision at a time ──────────────────────────────────────────────────────────────────

  /**
   * Carries out a person's decision (an Update handler). The lock is taken before the first
   * await, in the same workflow task as the validator that let the decision in, so a decision
   * sent at the same moment is refused by its own validator. A step still being recorded is
   * waited for, and the rule checked again on what it left. Refusals reach the caller as the
   * Update's failure, typed with the refusal code.
   */
  async decide(kind: string, rule: (view: DecisionView) => unknown, work: () => Promise<void>): Promise<RefundWorkflowState> {
    this.state.busy = kind;
    try {
      await condition(() => this.recordingStatus === null);
      rule({ ...this.view(), busy: null });
      await work();
      return this.state;
    } catch (error) {
      throw asUpdateFailure(error);
    } finally {
      this.state.busy = null;
    }
  }

  /** Carries out a decision of the workflow's own (an expiry, a lapse), once no person's decision is under way. */
  async exclusive(kind: string, work: () => Promise<void>): Promise<void> {
    while (this.state.busy !== null) await condition(() => this.state.busy === null);
    this.state.busy = kind;
    try {
      await work();
    } finally {
      this.state.busy = null;
    }
  }

  /** Waits until `done()` or the instant `atMs`; true when `done()`. */
  async waitUntil(done: () => boolean, atMs: number): Promise<boolean> {
    return condition(done, Math.max(atMs - Date.now(), 1));
  }

  /** Runs a validator: the same pure rule the API runs, its refusal typed for the caller. */
  validate(rule: (view: DecisionView) => unknown): void {
    try {
      rule(this.view());
    } catch (error) {
      throw asUpdateFailure(error);
    }
  }

  // ── provider notices ────────────────────────────────────────────────────────────────────────

  takeNotice(notice: ProviderNotice): void {
    if (this.seenNotices.has(notice.noticeId)) return;
    this.seenNotices.add(notice.noticeId);
    this.notices.push(notice);
  }

  /**
   * The first queued notice `wanted` picks, taken off the queue; waits for one until `atMs`, or
   * until `orElse()` (something else the caller waits for) comes true.
   */
  async nextNotice(wanted: (notice: ProviderNotice) => boolean, atMs: number, orElse: () => boolean = () => false): Promise<ProviderNotice | undefined> {
    const index = () => this.notices.findIndex(wanted);
    await this.waitUntil(() => index() >= 0 || orElse(), atMs);
    return index() >= 0 ? this.notices.splice(index(), 1)[0] : undefined;
  }

  /**
   * Checks a notice against what this refund sent to the provider (attempt, reference, currency,
   * amount). A notice that does not match moves nothing: the refund is flagged with the evidence.
   */
  async noticeMatches(notice: ProviderNotice, expectedAmount: number): Promise<boolean> {
    const ledger = this.ledger(notice.attempt);
    const problems: string[] = [];
    if (!ledger) problems.push(`attempt ${notice.attempt} was never sent`);
    if (ledger?.reference && notice.reference !== ledger.reference) problems.push(`reference ${notice.reference}, sent as ${ledger.reference}`);
    if (notice.currency !== this.input.currency) problems.push(`currency ${notice.currency}, refund in ${this.input.currency}`);
    if (notice.amount !== expectedAmount) problems.push(`amount ${notice.amount}, expected ${expectedAmount}`);
    if (problems.length === 0) return true;
    await this.flagNotice(notice, problems.join('; '));
    return false;
  }

  /** A provider notice we cannot believe: flagged for a person with the evidence; nothing else changes. */
  async flagNotice(notice: ProviderNotice, why: string, providerSays?: string): Promise<void> {
    await this.step('provider_notice_mismatch', undefined, { needsAttention: true }, {
      actor: notice.actor,
      detail: { noticeId: notice.noticeId, noticeType: notice.type, attempt: notice.attempt, reference: notice.reference, amount: notice.amount, currency: notice.currency, why, ...(providerSays ? { providerSays } : {}) },
    });
  }

  // ── the books of each provider attempt ──────────────────────────────────────────────────────

  ledger(attempt: number): AttemptLedger | undefined {
    return this.state.attempts.find((entry) => entry.attempt === attempt);
  }

  /** Notes what an attempt was asked to pay and the reference the provider gave it. */
  noteAttempt(attempt: number, providerName: ProviderName, sent: number, reference: string | null): AttemptLedger {
    let entry = this.ledger(attempt);
    if (!entry) {
      entry = { attempt, provider: providerName, sent, reference, held: 0 };
      this.state.attempts.push(entry);
    }
    entry.reference = reference ?? entry.reference;
    return entry;
  }

  /** A notice that the bank sent back money a payout of this refund still holds (not a repeat). */
  returnsHeldMoney(notice: ProviderNotice): boolean {
    return notice.type === 'returned' && (this.ledger(notice.attempt)?.held ?? 0) > 0;
  }

  /** What the customer holds from every payout together. */
  heldTotal(): number {
    return this.state.attempts.reduce((sum, entry) => sum + entry.held, 0);
  }

  /** What a new payout must send: what is reserved, less the fee once nothing is paid out yet. */
  owedNet(): number {
    return this.state.books.reserved - (this.heldTotal() === 0 ? this.fee : 0);
  }

  /** The refund's total, less the fee the merchant keeps. */
  netAmount(): number {
    return this.state.amount - this.fee;
  }

  /** The refund pays through attempt `attempt` on `providerName` from now on. */
  switchAttempt(attempt: number, providerName: ProviderName): void {
    Object.assign(this.state, { attempt, provider: providerName, providerState: 'not_sent', providerReference: null, traceReference: null, settledAt: null, redirectable: false });
    this.state.deadlines = { ...this.state.deadlines, settlementDueAt: null, expectedArrivalAt: null, hardDeadlineAt: null };
  }

  /** The route failed or time ran out: the refund waits for a person (retry, reroute or cancel). */
  async needsAction(why: string, detail: Record<string, unknown>): Promise<void> {
    await this.step(why, 'requires_action', { providerState: this.state.providerState, needsAttention: true, redirectable: this.state.redirectable }, { detail });
  }
}

/** The person deciding, as the event log records them. */
export function actorOf(decider: { principal: string; role: Actor['role'] }): Actor {
  return { principal: decider.principal, role: decider.role };
}

export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

/** A refusal becomes the Update's failure, typed with its code; anything else stays what it is. */
function asUpdateFailure(error: unknown): unknown {
  if (error instanceof RefundRequestError) {
    return ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true, details: [error.facts] });
  }
  if (error instanceof StepNotRecorded) {
    return ApplicationFailure.create({ type: 'decision_not_recorded', message: 'the decision could not be put on record; the refund now requires action', nonRetryable: true });
  }
  return error;
}
