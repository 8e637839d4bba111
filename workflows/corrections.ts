/**
 * Carrying out an approved correction (SPEC rule 9) with compensating activities: an excess is
 * reversed at the provider (newest payout first, never more from a payout than it still holds), a
 * shortfall is paid as a supplementary refund, a wrong-account refund is reversed and re-issued.
 * A refused reversal opens a recovery case; every step is on record and the customer is told.
 */
import type { ProviderName } from './lifecycle';
import type { CorrectionState } from './messages';
import { iso, provider, type RefundRun } from './refund-run';
import { MAX_POLL_INTERVAL_MS, moneyReturned } from './settlement';

/** An approved correction waiting to be carried out, and the payout attempt it opened, if any. */
export interface ApprovedCorrection {
  correctionId: string;
  payout: { attempt: number; provider: ProviderName } | null;
}

export async function carryOutCorrection(run: RefundRun): Promise<void> {
  const approved = run.approvedCorrection;
  run.approvedCorrection = null;
  const correction = approved && run.state.corrections.find((c) => c.id === approved.correctionId);
  if (!approved || !correction) return run.needsAction('correction_lost', { why: 'the refund is correcting but no approved correction is waiting' });

  switch (correction.kind) {
    case 'reversal': {
      // Paid too much: take the excess back; it becomes refundable on the payment again.
      if (!(await reverse(run, correction, correction.amount))) return;
      return complete(run, correction, { refunded: -correction.amount, reserved: 0 });
    }
    case 'supplementary': {
      // Paid too little: pay the shortfall (held on the payment since the proposal opened).
      const paid = await payCorrection(run, correction, approved.payout!);
      if (paid === 'paid') return complete(run, correction, { refunded: correction.amount, reserved: -correction.amount });
      if (paid === 'stopped') return;
      correction.status = 'failed';
      const status = run.state.corrections.some((c) => c.status === 'completed') ? 'corrected' : 'succeeded';
      return run.step('correction_failed', status, { needsAttention: true, corrections: records(run) }, {
        detail: { correctionId: correction.id, released: correction.amount },
        paymentShift: { refunded: 0, reserved: -correction.amount },
      });
    }
    case 'reissue': {
      // Paid to the wrong account: take it all back, then pay the right one.
      const wrong = run.heldTotal();
      if (!(await reverse(run, correction, wrong))) return;
      const owed = run.state.books.refunded;
      await run.step('reversed', undefined, { reservation: 'reserved' }, { detail: { correctionId: correction.id, amount: wrong }, paymentShift: { refunded: -owed, reserved: owed } });
      const paid = await payCorrection(run, correction, approved.payout!);
      if (paid === 'paid') return complete(run, correction, { refunded: owed, reserved: -owed });
      if (paid === 'declined') {
        correction.status = 'failed';
        return run.needsAction('correction_payout_failed', { correctionId: correction.id });
      }
    }
  }
}

/**
 * Takes `amount` back from what the customer holds, newest payout first, never more from an
 * attempt than it holds. False when it stopped: a refusal opened a recovery case, or the bank had
 * returned the money already (then handled as returned money).
 */
async function reverse(run: RefundRun, correction: CorrectionState, amount: number): Promise<boolean> {
  let reversed = 0;
  for (const held of [...run.state.attempts].reverse()) {
    const part = Math.min(held.held, amount - reversed);
    if (part === 0) continue;
    const result = await provider.reverseAtProvider({ refundId: run.input.refundId, attempt: held.attempt, amount: part, correctionId: correction.id });
    if (result.refused !== null) {
      await openRecovery(run, correction, amount - reversed, reversed, result.refused);
      return false;
    }
    if (result.returned) {
      correction.status = 'failed';
      await run.step('correction_interrupted', undefined, { corrections: records(run) }, {
        detail: { correctionId: correction.id, reversed, why: `the bank had returned the money of attempt ${held.attempt}` },
        paymentShift: reversed > 0 ? { refunded: -reversed, reserved: 0 } : undefined,
      });
      await moneyReturned(run, held.attempt, { reportedBy: 'reversal', correctionId: correction.id });
      return false;
    }
    held.held -= part;
    reversed += part;
    if (reversed === amount) break;
  }
  return true;
}

/** The bank would not give money back: the customer is asked to return it, and what is owed goes on record. */
async function openRecovery(run: RefundRun, correction: CorrectionState, owed: number, reversed: number, refusal: string): Promise<void> {
  correction.status = 'refused';
  await run.step('reversal_refused', 'requires_action', { needsAttention: true, redirectable: false, corrections: records(run) }, {
    detail: { correctionId: correction.id, recoveryCase: true, owedByCustomer: owed, reversed, currency: run.input.currency, refusal },
    paymentShift: reversed > 0 ? { refunded: -reversed, reserved: 0 } : undefined,
    notify: { template: 'refund_recovery', noticeKey: `recovery-${correction.id}`, reasonGiven: correction.reason, correctionAmount: owed },
  });
}

/**
 * Sends a correction's payout (the attempt its approval opened) and waits for it to settle.
 * `stopped`: it ended where a person must look (sent but unknown, or neither settled nor cancelable).
 */
async function payCorrection(run: RefundRun, correction: CorrectionState, payout: NonNullable<ApprovedCorrection['payout']>): Promise<'paid' | 'declined' | 'stopped'> {
  const { state, input } = run;
  await run.step('correction_payout', undefined, { providerState: 'not_sent' }, {
    switchToAttempt: payout.attempt,
    detail: { correctionId: correction.id, attempt: payout.attempt, provider: payout.provider },
  });
  run.switchAttempt(payout.attempt, payout.provider);
  const outcome = await provider.submitRefundToProvider({ refundId: input.refundId, attempt: payout.attempt });
  const ledger = run.noteAttempt(payout.attempt, payout.provider, outcome.amount, outcome.reference);
  Object.assign(state, { providerState: outcome.state, providerReference: outcome.reference, traceReference: outcome.traceReference });
  if (outcome.state === 'in_doubt') {
    await run.needsAction('submission_in_doubt', { attempt: payout.attempt, correctionId: correction.id });
    return 'stopped';
  }
  if (outcome.state !== 'accepted' && outcome.state !== 'settled') return 'declined';

  let settled = outcome.state === 'settled';
  const deadline = Date.now() + input.policy.settlementDeadlineMs;
  let pollIntervalMs = input.providerPollIntervalMs;
  while (!settled) {
    const notice = await run.nextNotice((n) => n.type === 'settled' && n.attempt === payout.attempt, Math.min(Date.now() + pollIntervalMs, deadline));
    if (notice && !(await run.noticeMatches(notice, ledger.sent))) continue;
    const checked = await provider.checkRefundAtProvider({ refundId: input.refundId, attempt: payout.attempt });
    if (checked.state === 'settled') settled = true;
    else if (checked.state === 'accepted' && Date.now() < deadline) pollIntervalMs = Math.min(pollIntervalMs * 2, MAX_POLL_INTERVAL_MS);
    else if (checked.state === 'accepted') {
      const canceled = await provider.cancelRefundAtProvider({ refundId: input.refundId, attempt: payout.attempt });
      if (canceled.cannotCancel) {
        await run.needsAction('correction_payout_stuck', { correctionId: correction.id, attempt: payout.attempt, why: canceled.cannotCancel });
        return 'stopped';
      }
      state.providerState = canceled.state;
      return 'declined';
    } else return 'declined';
  }
  ledger.held = ledger.sent;
  Object.assign(state, { providerState: 'settled', settledAt: iso(Date.now()) });
  return 'paid';
}

async function complete(run: RefundRun, correction: CorrectionState, shift: { refunded: number; reserved: number }): Promise<void> {
  const { state } = run;
  correction.status = 'completed';
  const amount = correction.newTotal;
  await run.step(
    'corrected',
    'corrected',
    { amount, netAmount: amount - run.fee, providerState: 'settled', settledAt: state.settledAt ?? iso(Date.now()), needsAttention: false, reservation: 'settled', corrections: records(run) },
    { paymentShift: shift, detail: { correctionId: correction.id, kind: correction.kind, newTotal: amount }, notify: { template: 'refund_corrected', noticeKey: `corrected-${correction.id}`, reasonGiven: correction.reason } },
  );
  state.amount = amount;
  state.settledAt ??= iso(Date.now());
}

function records(run: RefundRun): CorrectionState[] {
  return run.state.corrections.map((c) => ({ ...c }));
}
