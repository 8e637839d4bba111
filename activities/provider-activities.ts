/**
 * The only code that moves money. Temporal may run each of these more than once; the provider
 * attempt row (one per refund route, with its own provider key) makes every run after the first
 * find out what happened instead of doing it again.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../src/db/client';
import { findProviderAttempt, findRefund, updateProviderAttempt } from '../src/db/queries/refunds';
import type { ProviderAttemptRow } from '../src/db/schema';
import { ProviderCannotCancelError, ProviderReversalRefusedError, providerStateOf, type ProviderRefund, type ProviderRegistry } from '../src/providers/provider';
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
}

export function createProviderActivities(db: Database, providers: ProviderRegistry) {
  async function loadAttempt({ refundId, attempt }: ProviderAttemptRef) {
    const refund = await findRefund(db, refundId);
    const providerAttempt = await findProviderAttempt(db, refundId, attempt);
    if (!refund || !providerAttempt) {
      throw ApplicationFailure.nonRetryable(`refund ${refundId} has no provider attempt ${attempt}`, 'UnknownRefundAttempt');
    }
    return { refund, providerAttempt, provider: providers[providerAttempt.provider] };
  }

  async function remember(attempt: ProviderAttemptRow, found: ProviderRefund): Promise<ProviderOutcome> {
    const outcome: ProviderOutcome = {
      state: providerStateOf(found),
      reference: found.reference,
      traceReference: found.traceReference,
      failureReason: found.failureReason,
    };
    await updateProviderAttempt(db, attempt.refundId, attempt.attempt, outcome);
    return outcome;
  }

  return {
    /**
     * Sends the refund to its provider exactly once. The attempt is marked `in_doubt` before the
     * call; if the call times out or this worker dies, the next run asks the provider by key
     * before it would ever send again (the `0007` case).
     */
    async submitRefundToProvider(ref: ProviderAttemptRef): Promise<ProviderOutcome> {
      const { refund, providerAttempt, provider } = await loadAttempt(ref);
      if (providerAttempt.state !== 'not_sent' && providerAttempt.state !== 'in_doubt') return outcomeOf(providerAttempt);
      if (providerAttempt.state === 'in_doubt') {
        const found = await provider.findRefund(providerAttempt.idempotencyKey);
        if (found) return remember(providerAttempt, found);
      } else {
        await updateProviderAttempt(db, ref.refundId, ref.attempt, { state: 'in_doubt' });
      }
      const submitted = await provider.submitRefund({
        idempotencyKey: providerAttempt.idempotencyKey,
        refundId: refund.id,
        paymentId: refund.paymentId,
        amount: providerAttempt.amount ?? refund.netAmount,
        currency: refund.currency,
        account: providerAttempt.destinationAccount,
        accountName: providerAttempt.destinationAccountName,
      });
      return remember(providerAttempt, submitted);
    },

    /** Asks the provider where a submitted refund stands: the fallback when no webhook came. */
    async checkRefundAtProvider(ref: ProviderAttemptRef): Promise<ProviderOutcome> {
      const { providerAttempt, provider } = await loadAttempt(ref);
      const found = await provider.findRefund(providerAttempt.idempotencyKey);
      if (!found) {
        throw ApplicationFailure.nonRetryable(
          `${providerAttempt.provider} holds no refund under key ${providerAttempt.idempotencyKey}`,
          'ProviderRefundMissing',
        );
      }
      return remember(providerAttempt, found);
    },

    /**
     * Takes back part or all of what an attempt paid (a correction). Keyed by the correction: a
     * retry finds the reversal it made instead of making another. A refusal is final
     * (`ReversalRefused`): the workflow opens a recovery case.
     */
    async reverseAtProvider(request: ProviderAttemptRef & { amount: number; correctionId: string }): Promise<{ reference: string }> {
      const { refund, providerAttempt, provider } = await loadAttempt(request);
      const key = `${request.correctionId}-a${request.attempt}`;
      const existing = await provider.findReversal(key);
      if (existing) return { reference: existing.reference };
      try {
        const reversal = await provider.reverseRefund({ idempotencyKey: key, reference: providerAttempt.reference!, amount: request.amount, currency: refund.currency });
        return { reference: reversal.reference };
      } catch (error) {
        if (error instanceof ProviderReversalRefusedError) throw ApplicationFailure.nonRetryable(error.message, 'ReversalRefused');
        throw error;
      }
    },

    /**
     * Before money goes another way, the old route must not pay too: a refund still pending there
     * is canceled. Refused (non-retryable, `ProviderCannotCancel`) when the provider has moved the
     * money already or will not cancel: the caller's reroute is then refused as well.
     */
    async cancelRefundAtProvider(ref: ProviderAttemptRef): Promise<ProviderOutcome> {
      const { providerAttempt, provider } = await loadAttempt(ref);
      const current = providerAttempt.state === 'in_doubt' || providerAttempt.state === 'accepted' ? await provider.findRefund(providerAttempt.idempotencyKey) : null;
      if (!current) {
        // Never taken by the provider (declined, not sent, or lost in doubt): nothing can pay out.
        if (providerAttempt.state === 'settled' || providerAttempt.state === 'returned') return outcomeOf(providerAttempt);
        const state = providerAttempt.state === 'in_doubt' ? 'failed' : providerAttempt.state;
        await updateProviderAttempt(db, ref.refundId, ref.attempt, { state });
        return { ...outcomeOf(providerAttempt), state };
      }
      if (current.status === 'failed' || current.status === 'canceled' || (current.status === 'settled' && current.returned)) return remember(providerAttempt, current);
      try {
        return remember(providerAttempt, await provider.cancelRefund(current.reference));
      } catch (error) {
        if (error instanceof ProviderCannotCancelError) {
          throw ApplicationFailure.nonRetryable(error.message, 'ProviderCannotCancel');
        }
        throw error;
      }
    },
  };
}

function outcomeOf(attempt: ProviderAttemptRow): ProviderOutcome {
  return { state: attempt.state, reference: attempt.reference, traceReference: attempt.traceReference, failureReason: attempt.failureReason };
}
