/**
 * The only code that moves money. Temporal may run each of these more than once, even two at once
 * (a run past its timeout overlapping its retry); the provider attempt row (one per route, with its
 * own provider key) makes exactly one run send, and every other run ask the provider instead.
 * Answers a person must act on (a decline, a refused cancel or reversal) are returned, not thrown:
 * only transport trouble is retried.
 */
import { ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import type { Database } from '../src/db/client';
import { findPayment } from '../src/db/queries/payments';
import { claimProviderAttempt, findProviderAttempt, findRefund, unclaimProviderAttempt, updateProviderAttempt } from '../src/db/queries/refunds';
import type { ProviderAttemptRow } from '../src/db/schema';
import {
  ProviderBalanceShortError,
  ProviderCannotCancelError,
  ProviderReversalRefusedError,
  ProviderUnavailableError,
  providerStateOf,
  type ProviderRefund,
  type ProviderRefundRequest,
  type ProviderRegistry,
  type RefundProvider,
} from '../src/providers/provider';
import type { ProviderState } from '../workflows/lifecycle';

export interface ProviderAttemptRef {
  refundId: string;
  attempt: number;
}

/** What the provider holds for a refund attempt, in our terms. */
export interface ProviderOutcome {
  state: ProviderState;
  reference: string | null;
  traceReference: string | null;
  failureReason: string | null;
  /** What the attempt asked the provider to pay (net of the fee). */
  amount: number;
  /** Failed, and the provider can send it on to a bank card itself (WeChat Pay's abnormal refund). */
  redirectable?: boolean;
}

/** What a status check found: the provider's answer, or nothing at all under the attempt's key. */
export type ProviderCheck = Omit<ProviderOutcome, 'state'> & { state: ProviderState | 'missing' };

export function createProviderActivities(db: Database, providers: ProviderRegistry) {
  async function loadAttempt({ refundId, attempt }: ProviderAttemptRef) {
    const [refund, providerAttempt] = await Promise.all([findRefund(db, refundId), findProviderAttempt(db, refundId, attempt)]);
    if (!refund || !providerAttempt) {
      throw ApplicationFailure.nonRetryable(`refund ${refundId} has no provider attempt ${attempt}`, 'UnknownRefundAttempt');
    }
    return { refund, providerAttempt, provider: providers[providerAttempt.provider], amount: providerAttempt.amount ?? refund.netAmount };
  }

  /** What the provider holds under the attempt's key, if anything. */
  async function lookUp(ref: ProviderAttemptRef) {
    const { refund, providerAttempt, provider, amount } = await loadAttempt(ref);
    return { providerAttempt, provider, amount, found: await whileHeartbeating(provider.findRefund(providerAttempt.idempotencyKey, refund.paymentId)) };
  }

  /** Nothing under the key: with what that means at this provider, for the person who decides next. */
  function missing(providerAttempt: ProviderAttemptRow, provider: RefundProvider, amount: number): ProviderCheck {
    return { ...outcomeOf(providerAttempt, amount), state: 'missing', failureReason: provider.absentMeans ?? null };
  }

  async function remember(attempt: ProviderAttemptRow, amount: number, found: ProviderRefund): Promise<ProviderOutcome> {
    const outcome: ProviderOutcome = { state: providerStateOf(found), reference: found.reference, traceReference: found.traceReference, failureReason: found.failureReason, amount, redirectable: found.redirectable === true };
    await updateProviderAttempt(db, attempt.refundId, attempt.attempt, outcome);
    return outcome;
  }

  return {
    /**
     * Sends the attempt to its provider exactly once. Sending is claimed by compare-and-set
     * (`not_sent → in_doubt`); a run that finds the attempt in doubt asks the provider by key and
     * never sends again: found, it records what the provider holds (the `0007` case); not found,
     * it answers `in_doubt` and the workflow has a person decide (SPEC §3).
     */
    async submitRefundToProvider(ref: ProviderAttemptRef): Promise<ProviderOutcome> {
      const { refund, providerAttempt, provider, amount } = await loadAttempt(ref);
      if (providerAttempt.state !== 'not_sent' && providerAttempt.state !== 'in_doubt') return outcomeOf(providerAttempt, amount);
      // Read before the claim: a claim is a promise that the send follows (a failure after it leaves the attempt in doubt).
      const payment = providerAttempt.state === 'not_sent' ? await findPayment(db, refund.paymentId) : undefined;
      if (payment && (await claimProviderAttempt(db, ref.refundId, ref.attempt))) {
        try {
          const submitted = await whileHeartbeating(
            provider.submitRefund({
              idempotencyKey: providerAttempt.idempotencyKey,
              refundId: refund.id,
              paymentId: refund.paymentId,
              paymentAmount: payment.amount,
              amount,
              currency: refund.currency,
              account: providerAttempt.destinationAccount,
              accountName: providerAttempt.destinationAccountName,
              redirect: cardTransferOf(providerAttempt),
            }),
          );
          return await remember(providerAttempt, amount, submitted);
        } catch (error) {
          // The provider said it took nothing: the attempt may be sent again. Anything else stays in doubt.
          if (error instanceof ProviderUnavailableError) {
            const waiting = error instanceof ProviderBalanceShortError;
            if (waiting) log.warn('provider balance short: the refund waits for it', { refundId: ref.refundId, attempt: ref.attempt, provider: provider.name });
            await unclaimProviderAttempt(db, ref.refundId, ref.attempt, waiting ? error.message : null);
          }
          throw error;
        }
      }
      const found = await whileHeartbeating(provider.findRefund(providerAttempt.idempotencyKey, refund.paymentId));
      if (found) return remember(providerAttempt, amount, found);
      return { ...outcomeOf(providerAttempt, amount), state: 'in_doubt' };
    },

    /** Asks the provider where a submitted refund stands: the fallback when no webhook came, and the check of every notice. */
    async checkRefundAtProvider(ref: ProviderAttemptRef): Promise<ProviderCheck> {
      const { providerAttempt, provider, amount, found } = await lookUp(ref);
      if (!found) return missing(providerAttempt, provider, amount);
      return remember(providerAttempt, amount, found);
    },

    /**
     * Asks the provider until its answer is final: still pending, it fails (retryably) and Temporal
     * asks again after the retry policy's growing interval. Retries are not written to workflow
     * history, which is what keeps a refund waiting for weeks small.
     */
    async awaitFinalAtProvider(ref: ProviderAttemptRef): Promise<ProviderCheck> {
      const { providerAttempt, provider, amount, found } = await lookUp(ref);
      if (!found) return missing(providerAttempt, provider, amount);
      if (providerStateOf(found) === 'accepted') throw ApplicationFailure.retryable(`${providerAttempt.provider} still holds refund ${found.reference} pending`, 'StillPending');
      return remember(providerAttempt, amount, found);
    },

    /**
     * Takes back part of what an attempt paid (a correction). Keyed by the correction and attempt:
     * a retry finds the reversal it made instead of making another. `refused` carries the bank's
     * refusal (the workflow opens a recovery case); `returned` says the bank had sent the money
     * back already, so there is nothing to reverse.
     */
    async reverseAtProvider(request: ProviderAttemptRef & { amount: number; correctionId: string }): Promise<{ reference: string | null; refused: string | null; returned: boolean }> {
      const { refund, providerAttempt, provider } = await loadAttempt(request);
      const key = `${request.correctionId}-a${request.attempt}`;
      const existing = await provider.findReversal(key);
      if (existing) return { reference: existing.reference, refused: null, returned: false };
      const payout = await provider.findRefund(providerAttempt.idempotencyKey, refund.paymentId);
      if (payout?.returned) return { reference: null, refused: null, returned: true };
      try {
        const reversal = await whileHeartbeating(provider.reverseRefund({ idempotencyKey: key, reference: providerAttempt.reference!, amount: request.amount, currency: refund.currency }));
        return { reference: reversal.reference, refused: null, returned: false };
      } catch (error) {
        if (!(error instanceof ProviderReversalRefusedError)) throw error;
        // Refused because the bank sent the payout back a moment ago? Then there was nothing to reverse.
        const now = await provider.findRefund(providerAttempt.idempotencyKey, refund.paymentId);
        return now?.returned ? { reference: null, refused: null, returned: true } : { reference: null, refused: error.message, returned: false };
      }
    },

    /**
     * Before money goes another way, the old route must not pay too: a refund still pending there
     * is canceled. `cannotCancel` says why not when the provider has moved the money already or
     * will not cancel: the decision that needed it is then refused.
     */
    async cancelRefundAtProvider(ref: ProviderAttemptRef): Promise<ProviderOutcome & { cannotCancel: string | null }> {
      const { refund, providerAttempt, provider, amount } = await loadAttempt(ref);
      const current = providerAttempt.state === 'in_doubt' || providerAttempt.state === 'accepted' ? await provider.findRefund(providerAttempt.idempotencyKey, refund.paymentId) : null;
      if (!current) {
        // Never taken by the provider (declined, not sent, or lost in doubt): nothing can pay out.
        if (providerAttempt.state === 'settled' || providerAttempt.state === 'returned') return { ...outcomeOf(providerAttempt, amount), cannotCancel: null };
        const state = providerAttempt.state === 'in_doubt' ? 'failed' : providerAttempt.state;
        await updateProviderAttempt(db, ref.refundId, ref.attempt, { state });
        return { ...outcomeOf(providerAttempt, amount), state, cannotCancel: null };
      }
      if (current.status === 'failed' || current.status === 'canceled') return { ...(await remember(providerAttempt, amount, current)), cannotCancel: null };
      try {
        return { ...(await remember(providerAttempt, amount, await provider.cancelRefund(current.reference))), cannotCancel: null };
      } catch (error) {
        if (error instanceof ProviderCannotCancelError) return { ...outcomeOf(providerAttempt, amount), cannotCancel: error.message };
        throw error;
      }
    },
  };
}

/** An attempt a person sent on to a bank card by its provider's own route: what the provider needs to find the refund. */
function cardTransferOf(attempt: ProviderAttemptRow): ProviderRefundRequest['redirect'] {
  if (attempt.destinationType !== 'wechat_bank_card') return undefined;
  return { reference: attempt.reference!, bankType: attempt.destinationBankType! };
}

/**
 * Heartbeats while a provider call is in flight, so a worker that dies mid-call is noticed within
 * the heartbeat timeout (seconds) instead of the start-to-close timeout (minutes).
 */
async function whileHeartbeating<T>(work: Promise<T>): Promise<T> {
  heartbeat();
  const beat = setInterval(() => heartbeat(), 2_000);
  try {
    return await work;
  } finally {
    clearInterval(beat);
  }
}

function outcomeOf(attempt: ProviderAttemptRow, amount: number): ProviderOutcome {
  return { state: attempt.state, reference: attempt.reference, traceReference: attempt.traceReference, failureReason: attempt.failureReason, amount };
}
