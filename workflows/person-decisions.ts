/**
 * A refund that requires action waits for a person: a retry on the original route (support or a
 * supervisor), an approved reroute proposal (workflows/proposals.ts), or a cancel. Money the
 * provider still held that arrives after all (a late settlement) ends the wait too; money an
 * earlier payout held that the bank sends back is put on the books meanwhile.
 */
import { condition } from '@temporalio/workflow';
import type { CancelRequest, ProviderNotice, RetryRequest } from './messages';
import { cancelAtCurrentProvider, closeProposal } from './proposals';
import { actorOf, type RefundRun } from './refund-run';
import { foundAtProvider, returnedByNotice, settledByNotice } from './settlement';

export async function awaitPerson(run: RefundRun): Promise<void> {
  const { state } = run;
  const lateSettlement = (n: ProviderNotice) => n.type === 'settled' && n.attempt === state.attempt && state.providerState === 'accepted';
  // A payout that still holds money came back meanwhile (an earlier attempt's, say): the books follow it now, not after the person.
  const moneyBack = (n: ProviderNotice) => run.returnsHeldMoney(n);
  await condition(
    () => run.personDecided !== null || (state.busy === null && (run.heldAtProvider !== null || run.notices.some(lateSettlement) || run.notices.some(moneyBack))),
  );
  const decided = run.personDecided;
  run.personDecided = null;
  if (decided) return; // retried: processing; canceled: closed, or open while an earlier payout holds money (afterCancel)

  const held = run.heldAtProvider;
  if (held) {
    run.heldAtProvider = null;
    return run.exclusive('found_at_provider', async () => {
      if (state.status === 'requires_action') await foundAtProvider(run, held);
    });
  }
  const returned = run.notices.find(moneyBack);
  if (returned) {
    run.notices.splice(run.notices.indexOf(returned), 1);
    return run.exclusive('money_returned', () => returnedByNotice(run, returned));
  }
  const notice = run.notices.find(lateSettlement)!;
  run.notices.splice(run.notices.indexOf(notice), 1);
  await run.exclusive('late_settlement', async () => {
    if (state.status !== 'requires_action' || !lateSettlement(notice)) return;
    if (state.proposal) await closeProposal(run, 'proposal_withdrawn', 'the money arrived on the original route after all');
    await settledByNotice(run, notice);
  });
}

/** Sends the refund again on its original route, with a new provider key, once the old attempt can no longer pay. */
export async function retry(run: RefundRun, request: RetryRequest): Promise<void> {
  const { state, input } = run;
  await cancelAtCurrentProvider(run);
  const attempt = state.attempt + 1;
  await run.step('retry_requested', 'processing', { providerState: 'not_sent', needsAttention: false, settlementDueAt: null, expectedArrivalAt: null, hardDeadlineAt: null }, {
    actor: actorOf(request),
    detail: { attempt, provider: input.channel },
    newAttempt: { attempt, destination: { type: 'original' }, amount: run.owedNet(), requestedBy: request.principal },
    switchToAttempt: attempt,
  });
  run.switchAttempt(attempt, input.channel);
  run.personDecided = 'retry';
}

/** Closes the refund without (more) money moving: a pending payout is canceled at its provider first, what is held is released. */
export async function cancel(run: RefundRun, request: CancelRequest): Promise<void> {
  const { state } = run;
  if (state.status === 'requires_action') await cancelAtCurrentProvider(run);
  if (state.proposal) await closeProposal(run, 'proposal_withdrawn', 'the refund was canceled', actorOf(request));
  await run.step('canceled', 'canceled', { providerState: state.providerState, needsAttention: false, reservation: 'released' }, {
    actor: actorOf(request),
    detail: { reason: request.reason ?? null },
    paymentShift: { reserved: -state.books.reserved, refunded: 0 },
    notify: { template: 'refund_canceled', noticeKey: 'canceled' },
  });
  if (state.status === 'canceled') run.personDecided = 'cancel';
}
