/**
 * One refund, from the moment it is requested until the money has arrived and the customer has
 * been followed up. Deterministic: every side effect is an activity, every wait a Temporal timer
 * or condition, every clock reading the workflow's own.
 *
 *   request ─▶ (approval) ─▶ submit to provider ─▶ wait for settlement ─▶ succeeded ─▶ follow-up
 *                                 │                 │ webhook signal, or polling  │
 *                                 ▼                 ▼ past SLA: delayed          ▼ money returned
 *                            requires_action ◀── past deadline            requires_action
 */
import {
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { RefundActivities } from '../activities';
import type { RefundStepChanges, ReservationMove } from '../activities/record-activities';
import type { ProviderOutcome } from '../activities/provider-activities';
import type { CustomerNotice } from '../src/notifications/customer-notices';
import { addBusinessDays } from './business-days';
import { SYSTEM_ACTOR, type Actor, type RefundStatus } from './lifecycle';
import {
  providerNoticeSignal,
  refundStateQuery,
  type ProviderNotice,
  type RefundWorkflowInput,
  type RefundWorkflowState,
} from './messages';
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
    nonRetryableErrorTypes: ['UnknownRefundAttempt'],
  },
});

/** The longest wait between two provider status checks when no webhook arrives. */
const MAX_POLL_INTERVAL_MS = 6 * 3_600_000;
/** How long after settlement the workflow stays open for a late return of the money. */
const AFTERCARE_MS = 90 * 86_400_000;

export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundWorkflowState> {
  return new RefundRun(input).run();
}

class RefundRun {
  private readonly state: RefundWorkflowState;
  private readonly notices: ProviderNotice[] = [];
  private readonly seenNotices = new Set<string>();
  private seq = 0;

  constructor(private readonly input: RefundWorkflowInput) {
    this.state = {
      status: input.requiredApprovals > 0 ? 'pending_approval' : 'processing',
      provider: input.provider,
      attempt: 1,
      providerState: 'not_sent',
      providerReference: null,
      traceReference: null,
      needsAttention: false,
      approvals: [],
      deadlines: { approvalDueAt: null, settlementDueAt: null, expectedArrivalAt: null, hardDeadlineAt: null },
      settledAt: null,
    };
    setHandler(refundStateQuery, () => this.state);
    setHandler(providerNoticeSignal, (notice) => {
      if (this.seenNotices.has(notice.noticeId)) return;
      this.seenNotices.add(notice.noticeId);
      this.notices.push(notice);
    });
  }

  async run(): Promise<RefundWorkflowState> {
    const outcome = await this.submit();
    if (outcome.state === 'failed') {
      await this.needsAction('provider_declined', { failureReason: outcome.failureReason });
      return this.state;
    }
    const settlement: SettlementEvidence | undefined =
      outcome.state === 'settled' ? { reportedBy: 'submission' } : await this.awaitSettlement();
    if (!settlement) return this.state;
    await this.succeed(settlement);
    await this.followUp();
    return this.state;
  }

  /** Sends the refund along its current route and records the provider's answer. */
  private async submit(): Promise<ProviderOutcome> {
    const { refundId } = this.input;
    const outcome = await provider.submitRefundToProvider({ refundId, attempt: this.state.attempt });
    this.state.providerState = outcome.state;
    this.state.providerReference = outcome.reference;
    this.state.traceReference = outcome.traceReference;
    if (outcome.state === 'failed') return outcome;

    const now = Date.now();
    const { policy } = this.input;
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
      { notify: { template: 'refund_sent', noticeKey: `sent-a${this.state.attempt}` } },
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
      const noticed = await condition(() => this.notices.length > 0, Math.max(wakeAt - Date.now(), 1));

      if (noticed) {
        const notice = this.notices.shift()!;
        if (notice.attempt === this.state.attempt) return { reportedBy: 'webhook', noticeId: notice.noticeId, actor: notice.actor };
        continue;
      }
      if (Date.now() >= hardDeadlineAt) {
        await this.needsAction('settlement_deadline_passed', { hardDeadlineAt: this.state.deadlines.hardDeadlineAt });
        return undefined;
      } else if (Date.now() >= settlementDueAt && this.state.status !== 'delayed') {
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
    const now = Date.now();
    const { policy } = this.input;
    // The customer's new date: as many business days again as the route normally takes.
    this.state.deadlines.expectedArrivalAt = iso(addBusinessDays(now, ARRIVAL_BUSINESS_DAYS[this.state.provider], policy));
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
    this.state.settledAt = iso(Date.now());
    this.state.needsAttention = false;
    const { actor = PROVIDER_ACTOR(this.state.provider), ...detail } = evidence;
    await this.step(
      'settled',
      'succeeded',
      { providerState: 'settled', settledAt: this.state.settledAt, needsAttention: false },
      { actor, detail, reservation: 'settle', notify: { template: 'refund_succeeded', noticeKey: 'succeeded' } },
    );
  }

  /**
   * After the money arrived: ask the customer whether it did after REFUND_FOLLOW_UP_AFTER, and stay
   * open a while for the bank returning it (a closed card, say).
   */
  private async followUp(): Promise<void> {
    const settledAt = Date.parse(this.state.settledAt!);
    const returned = () => this.notices.some((notice) => notice.type === 'returned' && notice.attempt === this.state.attempt);
    if (!(await condition(returned, this.input.policy.followUpAfterMs))) {
      await this.step('followed_up', undefined, {}, { notify: { template: 'refund_follow_up', noticeKey: 'follow-up' } });
      if (!(await condition(returned, Math.max(settledAt + AFTERCARE_MS - Date.now(), 1)))) return;
    }
    // The bank sent the money back: no longer refunded, still owed; the earlier message is corrected.
    const notice = this.notices.find((n) => n.type === 'returned')!;
    this.state.needsAttention = true;
    await this.step(
      'money_returned',
      'requires_action',
      { providerState: 'returned', needsAttention: true },
      {
        actor: notice.actor,
        detail: { noticeId: notice.noticeId },
        reservation: 'reopen',
        notify: { template: 'refund_returned', noticeKey: `returned-a${this.state.attempt}` },
      },
    );
  }

  /** The route failed or time ran out: the refund waits for a person (retry or cancel). */
  private async needsAction(why: string, detail: Record<string, unknown>): Promise<void> {
    this.state.needsAttention = true;
    await this.step(why, 'requires_action', { providerState: this.state.providerState, needsAttention: true }, { detail });
  }

  /**
   * Records one step: the workflow's own state and search attributes here, and by one activity
   * (one transaction) the audit event, the read model, the money it moves and the customer's
   * message, all saying the same thing.
   */
  private async step(
    type: string,
    status: RefundStatus | undefined,
    changes: RefundStepChanges,
    options: { actor?: Actor; detail?: Record<string, unknown>; reservation?: ReservationMove; notify?: CustomerNotice } = {},
  ): Promise<void> {
    if (status) this.state.status = status;
    if (changes.providerState) this.state.providerState = changes.providerState;
    this.seq += 1;
    upsertSearchAttributes([
      { key: RefundStatusKey, value: this.state.status },
      { key: NeedsAttentionKey, value: this.state.needsAttention },
    ]);
    await records.recordRefundStep({
      refundId: this.input.refundId,
      seq: this.seq,
      type,
      actor: options.actor ?? SYSTEM_ACTOR,
      detail: options.detail ?? {},
      changes: status ? { status, ...changes } : changes,
      reservation: options.reservation,
      notify: options.notify,
    });
  }
}

/** What told the workflow that the money arrived: recorded with the `settled` event. */
interface SettlementEvidence extends Record<string, unknown> {
  reportedBy: 'submission' | 'webhook' | 'status_check';
  noticeId?: string;
  actor?: Actor;
}

const PROVIDER_ACTOR = (name: string): Actor => ({ principal: name, role: 'provider' });

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
