/**
 * Settlement: the refund sent along its route and followed until the money has arrived. A
 * provider webhook is the fast path, but nothing is believed on its word alone: a notice must
 * match what was sent and the provider must confirm it before money state moves. Polling with a
 * growing interval is the fallback; past the SLA the refund is `delayed`, past the hard deadline
 * a person must act. After success the refund stays open a while for the customer's follow-up,
 * corrections, and the bank returning the money.
 */
import { addBusinessDays } from './business-days';
import { ARRIVAL_BUSINESS_DAYS } from './policy';
import type { ProviderNotice } from './messages';
import { closeProposal } from './proposals';
import { CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { RefundActivities } from '../activities';
import type { ProviderCheck, ProviderOutcome } from '../activities/provider-activities';
import { iso, messageOf, provider, PROVIDER_HEARTBEAT, type PlannedStep, type RefundRun } from './refund-run';
import type { Actor, RefundMethod } from './lifecycle';
import { cardMethodOf, type CardMethodChoice } from './card-method';

/** The longest wait between two provider status checks when no webhook arrives. */
export const MAX_POLL_INTERVAL_MS = 6 * 3_600_000;
/** How long after settlement the workflow stays open for a late return of the money. */
const AFTERCARE_MS = 90 * 86_400_000;

/** What told the workflow that the money arrived: recorded with the `settled` event. */
export interface SettlementEvidence extends Record<string, unknown> {
  reportedBy: 'submission' | 'webhook' | 'status_check';
  noticeId?: string;
  actor?: Actor;
}

/** Sends the refund along its current route and follows it until the money arrives or a person must act. */
export async function payOut(run: RefundRun): Promise<void> {
  const { state, input } = run;
  // Only WeChat Pay's card transfer sends an attempt a second time: the customer is told again, with the card.
  const sentBefore = run.ledger(state.attempt) !== undefined;
  // A card attempt goes as a void or a refund, by the workflow's clock at the moment it is sent.
  const choice = state.provider === 'card' ? cardMethodOf({ voidableUntil: input.voidableUntil, firstAttempt: state.attempt === 1, sending: run.netAmount(), wholeSale: input.amount, now: Date.now() }) : null;
  let outcome: ProviderOutcome;
  try {
    outcome = await provider.submitRefundToProvider({ refundId: input.refundId, attempt: state.attempt, method: choice?.method });
  } catch (error) {
    if (isCancellation(error)) throw error;
    // Asked and sent for as long as the retries ran, with no answer we could rely on: the provider
    // may hold it. A person decides, and nothing goes another way before the provider says it will not pay.
    state.providerState = 'in_doubt';
    return run.needsAction('submission_in_doubt', { attempt: state.attempt, why: 'no answer from the provider that could be relied on, for as long as it was asked', error: messageOf(error) });
  }
  run.noteAttempt(state.attempt, state.provider, outcome.amount, outcome.reference);
  Object.assign(state, { providerReference: outcome.reference, traceReference: outcome.traceReference, providerState: outcome.state, redirectable: outcome.redirectable === true });
  const sentAs = choice ? methodSent(choice, outcome) : {};
  switch (outcome.state) {
    case 'failed':
      return run.needsAction('provider_declined', { failureReason: outcome.failureReason, ...sentAs });
    case 'in_doubt':
      // Sent, and the provider holds nothing under its key: never sent again by itself (SPEC §3).
      return run.needsAction('submission_in_doubt', { attempt: state.attempt, why: 'the provider holds nothing under the attempt’s key; a person decides' });
    case 'accepted':
    case 'settled':
      return follow(run, outcome, 'submitted', `sent-a${state.attempt}${sentBefore ? '-again' : ''}`, sentAs);
    default:
      return run.needsAction('provider_failed', { providerState: outcome.state });
  }
}

/** How a card attempt went, and why: the workflow's choice, or what made it go otherwise. */
function methodSent(choice: CardMethodChoice, outcome: ProviderOutcome): { method: RefundMethod; methodReason: string } {
  if (outcome.method === choice.method) return { method: outcome.method, methodReason: choice.reason };
  if (outcome.voidRefused) return { method: outcome.method, methodReason: `sent as a void (${choice.reason}); ${outcome.voidRefused}, so refunded under the same attempt` };
  // The attempt's first send fixed its method: a resend keeps it; a provider that does not void takes a refund.
  return outcome.method === 'void'
    ? { method: 'void', methodReason: 'the attempt had gone as a void while the sale’s batch was open: voided' }
    : { method: 'refund', methodReason: `a void was chosen (${choice.reason}), but the card route’s provider takes refunds only, or the attempt had gone as a refund before: refunded` };
}

/**
 * The provider holds the current attempt (it took or paid it): put on record, after which the
 * refund waits for its money (awaitSettlement, the next phase). `type` is the step that says how we
 * know: `submitted`, or `found_at_provider` when a refund waiting for a person turned out to be
 * taken after all.
 */
async function follow(run: RefundRun, outcome: ProviderOutcome, type: 'submitted' | 'found_at_provider', noticeKey: string, detail: Record<string, unknown> = {}): Promise<void> {
  const { state, input } = run;
  const now = Date.now();
  state.deadlines = {
    ...state.deadlines,
    settlementDueAt: iso(now + input.policy.settlementSlaMs[state.provider]),
    hardDeadlineAt: iso(now + input.policy.settlementDeadlineMs),
    expectedArrivalAt: iso(addBusinessDays(now, ARRIVAL_BUSINESS_DAYS[state.provider], input.policy)),
  };
  const method = typeof detail.method === 'string' ? { providerMethod: detail.method as RefundMethod, providerMethodReason: String(detail.methodReason) } : {};
  const submitted = run.plan(
    type,
    'awaiting_settlement',
    { providerState: 'accepted', providerReference: outcome.reference, traceReference: outcome.traceReference, needsAttention: false, ...method, ...state.deadlines },
    { notify: { template: 'refund_sent', noticeKey }, detail: { ...detail, attempt: state.attempt, provider: state.provider } },
  );
  // Settled at once: both steps go on record together.
  if (outcome.state === 'settled') return succeed(run, { reportedBy: type === 'submitted' ? 'submission' : 'status_check' }, submitted);
  await run.record(submitted);
}

/**
 * A refund waiting for a person whose current attempt, asked before money went another way, the
 * provider turned out to hold after all (a "try again" it had in fact accepted): the decision was
 * refused, and the refund follows that payout again instead of waiting for nobody.
 */
export async function foundAtProvider(run: RefundRun, outcome: ProviderOutcome): Promise<void> {
  const { state } = run;
  if (state.proposal) await closeProposal(run, 'proposal_withdrawn', 'the provider holds the refund on its route after all');
  run.noteAttempt(state.attempt, state.provider, outcome.amount, outcome.reference);
  Object.assign(state, { providerReference: outcome.reference, traceReference: outcome.traceReference, providerState: outcome.state, redirectable: false });
  await follow(run, outcome, 'found_at_provider', `sent-a${state.attempt}`, { providerState: outcome.state });
}

/**
 * Waits for the money of the current attempt: a confirmed webhook notice, or what the provider
 * answers when asked. The asking is one activity that Temporal retries with a growing interval
 * (from PROVIDER_POLL_INTERVAL up to 6 h) until the answer is final: retries are not written to
 * history, so a refund that waits 30 days costs a few dozen events, not a timer and an activity
 * per poll. Past the SLA the refund is `delayed`; past the hard deadline a person must act.
 */
export async function awaitSettlement(run: RefundRun): Promise<void> {
  const { state, input } = run;
  const hardDeadlineAt = Date.parse(state.deadlines.hardDeadlineAt!);
  const asking = new CancellationScope();
  let answer: ProviderCheck | undefined;
  const polling = asking
    .run(() =>
      proxyActivities<RefundActivities>({
        startToCloseTimeout: '2m',
        heartbeatTimeout: PROVIDER_HEARTBEAT,
        scheduleToCloseTimeout: hardDeadlineAt - Date.now() + 86_400_000,
        retry: { initialInterval: input.providerPollIntervalMs, backoffCoefficient: 2, maximumInterval: MAX_POLL_INTERVAL_MS },
      }).awaitFinalAtProvider({ refundId: input.refundId, attempt: state.attempt }),
    )
    .then(
      (checked) => void (answer = checked),
      () => undefined, // canceled: a notice or the deadline came first
    );
  try {
    for (;;) {
      const settlementDueAt = Date.parse(state.deadlines.settlementDueAt!);
      const wakeAt = state.status === 'delayed' ? hardDeadlineAt : Math.min(settlementDueAt, hardDeadlineAt);
      // Settlements and failures are taken here; a notice of money returned waits for the aftercare.
      const notice = await run.nextNotice((n) => n.type === 'settled' || n.type === 'failed', wakeAt, () => answer !== undefined);
      if (notice) {
        if (await settledByNotice(run, notice)) return;
        continue;
      }
      if (answer) return await settledByAnswer(run, answer);
      if (Date.now() >= hardDeadlineAt) return await run.needsAction('settlement_deadline_passed', { hardDeadlineAt: state.deadlines.hardDeadlineAt });
      if (Date.now() >= settlementDueAt && state.status !== 'delayed') await markDelayed(run);
    }
  } finally {
    asking.cancel();
    await polling;
  }
}

/** What the provider finally answered when asked (no webhook came first). */
async function settledByAnswer(run: RefundRun, checked: ProviderCheck): Promise<void> {
  const { state } = run;
  switch (checked.state) {
    case 'settled':
      return succeed(run, { reportedBy: 'status_check' });
    case 'returned':
      return settledThenReturned(run, { reportedBy: 'status_check' });
    case 'missing':
      return run.needsAction('provider_lost_refund', { attempt: state.attempt, why: checked.failureReason ?? 'the provider accepted the refund but holds nothing under its key now' });
    default:
      state.providerState = checked.state;
      state.redirectable = checked.redirectable === true;
      return run.needsAction('provider_failed', { failureReason: checked.failureReason });
  }
}

/**
 * A settlement (or failure) notice for the refund: believed only when it matches what this attempt
 * sent and the provider itself, asked, says the same. True when the refund's wait ended by it:
 * succeeded, or (the provider will not pay) waiting for a person.
 */
export async function settledByNotice(run: RefundRun, notice: ProviderNotice): Promise<boolean> {
  const { state } = run;
  if (notice.attempt !== state.attempt || state.providerState !== 'accepted') {
    // A failure of an attempt no longer waited on changes nothing: its money never moved.
    if (notice.type === 'failed') return false;
    // A settlement for an attempt that is not the one waiting: money we never expected to move.
    if (!run.ledger(notice.attempt)?.held) await run.flagNotice(notice, `no payout of attempt ${notice.attempt} is waiting for a settlement`);
    return false;
  }
  if (!(await run.noticeMatches(notice, run.ledger(notice.attempt)!.sent))) return false;
  const checked = await provider.checkRefundAtProvider({ refundId: run.input.refundId, attempt: notice.attempt });
  const evidence: SettlementEvidence = { reportedBy: 'webhook', noticeId: notice.noticeId, actor: notice.actor };
  if (checked.state === 'returned') await settledThenReturned(run, evidence);
  else if (checked.state === 'settled') await succeed(run, evidence);
  else if (notice.type === 'failed' && (checked.state === 'failed' || checked.state === 'canceled')) {
    state.providerState = checked.state;
    state.redirectable = checked.redirectable === true;
    await run.needsAction('provider_failed', { failureReason: checked.failureReason, noticeId: notice.noticeId });
  } else {
    await run.flagNotice(notice, 'the provider does not confirm the settlement', checked.state);
    return false;
  }
  return true;
}

/**
 * The provider says the payout settled and the bank has sent it back already (it moved while we
 * were asking): both go on record, in that order; the bank's own notice, when it comes, is a repeat.
 */
async function settledThenReturned(run: RefundRun, evidence: SettlementEvidence): Promise<void> {
  await succeed(run, evidence);
  await run.exclusive('money_returned', () => moneyReturned(run, run.state.attempt, { reportedBy: 'status_check' }));
}

/** Past the route's usual settlement time: still waiting, but people should see it. */
async function markDelayed(run: RefundRun): Promise<void> {
  const { state, input } = run;
  // The customer's new date: as many business days again as the route normally takes.
  state.deadlines.expectedArrivalAt = iso(addBusinessDays(Date.now(), ARRIVAL_BUSINESS_DAYS[state.provider], input.policy));
  await run.step('settlement_delayed', 'delayed', { needsAttention: true, expectedArrivalAt: state.deadlines.expectedArrivalAt }, {
    notify: { template: 'refund_delayed', noticeKey: `delayed-a${state.attempt}` },
  });
}

/**
 * The money arrived: what was reserved becomes refunded on the payment, and the customer is told.
 * `submitted`, when the provider settled the payout as it took it, is recorded in the same go.
 */
export async function succeed(run: RefundRun, evidence: SettlementEvidence, submitted?: PlannedStep): Promise<void> {
  const { state } = run;
  const settledAt = iso(Date.now());
  const settles = state.books.reserved;
  const { actor = { principal: state.provider, role: 'provider' as const }, ...detail } = evidence;
  const settled = run.plan('settled', 'succeeded', { providerState: 'settled', settledAt, needsAttention: false, reservation: 'settled' }, {
    actor,
    detail,
    paymentShift: { reserved: -settles, refunded: settles },
    notify: { template: 'refund_succeeded', noticeKey: `succeeded-a${state.attempt}` },
  });
  await (submitted ? run.record(submitted, settled) : run.record(settled));
  state.settledAt = settledAt;
  run.ledger(state.attempt)!.held = run.ledger(state.attempt)!.sent;
}

/**
 * After the money arrived: ask the customer whether it did after REFUND_FOLLOW_UP_AFTER, and stay
 * open a while for the bank returning the money (a closed card, say). Returns when the refund
 * leaves succeeded/corrected (an approved correction, returned money); sets `finished` when the
 * aftercare is over.
 */
export async function aftercare(run: RefundRun): Promise<void> {
  const { state, input } = run;
  const paid = () => state.status === 'succeeded' || state.status === 'corrected';
  const returned = (n: ProviderNotice) => n.type === 'returned';
  while (paid()) {
    const followedUp = run.followedUpAttempt === state.attempt;
    const wakeAt = Date.parse(state.settledAt!) + (followedUp ? AFTERCARE_MS : input.policy.followUpAfterMs);
    const woke = await run.waitUntil(() => !paid() || run.notices.some(returned), wakeAt);
    const notice = run.notices.find(returned);
    if (notice) {
      run.notices.splice(run.notices.indexOf(notice), 1);
      await run.exclusive('money_returned', () => returnedByNotice(run, notice));
      continue;
    }
    if (woke) continue;
    if (followedUp) {
      // Done, once no proposal is open on it any more (an open one lapses on its own).
      if (state.proposal === null) run.finished = true;
      else await run.waitUntil(() => state.proposal === null, Date.parse(state.proposal.expiresAt) + 1);
      if (run.finished) return;
      continue;
    }
    await run.step('followed_up', undefined, {}, { notify: { template: 'refund_follow_up', noticeKey: `follow-up-a${state.attempt}` } });
    run.followedUpAttempt = state.attempt;
  }
}

/**
 * A canceled refund closes, unless a payout of it still holds money (a refund corrected upwards,
 * canceled once the supplement came back): then it stays open as a paid refund does, for the bank
 * sending that money back too. It stays canceled; what comes back leaves the payment's refunded
 * total, and a person is told (moneyReturned).
 */
export async function afterCancel(run: RefundRun): Promise<void> {
  if (run.heldTotal() > 0) {
    run.canceledAt ??= Date.now();
    const notice = await run.nextNotice((n) => run.returnsHeldMoney(n), run.canceledAt + AFTERCARE_MS);
    if (notice) return run.exclusive('money_returned', () => returnedByNotice(run, notice));
  }
  run.finished = true;
}

/**
 * A notice that the bank sent a payout's money back: checked against our books and the provider
 * before it moves anything. Taken once the refund is paid (aftercare), while it waits for a person
 * and once it is canceled (a payout of an earlier attempt can come back then too: the books must
 * not wait for anyone).
 */
export async function returnedByNotice(run: RefundRun, notice: ProviderNotice): Promise<void> {
  const { state } = run;
  if (!['succeeded', 'corrected', 'requires_action', 'canceled'].includes(state.status)) {
    run.notices.push(notice); // taken where it applies, once the decision under way is done
    return;
  }
  const ledger = run.ledger(notice.attempt);
  if (ledger && ledger.held === 0) return; // already taken back: a repeat
  if (!(await run.noticeMatches(notice, ledger?.held ?? 0))) return;
  const checked = await provider.checkRefundAtProvider({ refundId: run.input.refundId, attempt: notice.attempt });
  if (checked.state !== 'returned') return run.flagNotice(notice, 'the provider does not confirm the money came back', checked.state);
  await moneyReturned(run, notice.attempt, { noticeId: notice.noticeId }, notice.actor);
}

/**
 * The bank sent what attempt `attempt` paid back: no longer refunded, still owed, held on the
 * payment again until a person retries or cancels; the customer's "refunded" message is corrected.
 * Runs under the decision lock.
 */
export async function moneyReturned(run: RefundRun, attempt: number, detail: Record<string, unknown>, actor?: Actor): Promise<void> {
  const { state } = run;
  const ledger = run.ledger(attempt)!;
  if (state.proposal) await closeProposal(run, 'proposal_withdrawn', 'the bank returned the money');
  const returned = ledger.held;
  // Everything came back: the whole refunded amount (fee included) leaves the refunded total; else what this payout held.
  const back = run.heldTotal() === returned ? state.books.refunded : returned;
  // Owed again and held for a person's retry; a canceled refund stays closed (SPEC: terminal), so
  // nothing is owed: what came back is released, and a person is told (the customer may be owed).
  const closed = state.status === 'canceled';
  await run.step(
    'money_returned',
    closed ? undefined : 'requires_action',
    {
      providerState: attempt === state.attempt ? 'returned' : state.providerState,
      needsAttention: true,
      redirectable: false,
      settledAt: null,
      reservation: closed ? 'released' : 'reserved',
    },
    {
      actor,
      detail: { ...detail, attempt, returned },
      paymentShift: { refunded: -back, reserved: closed ? 0 : back },
      notify: { template: 'refund_returned', noticeKey: `returned-a${attempt}` },
    },
  );
  ledger.held = 0;
  state.settledAt = null;
}
