/**
 * The only code that moves money. Temporal may run each of these more than once, even two at once
 * (a run past its timeout overlapping its retry); the provider attempt row (one per route, with its
 * own provider key) makes exactly one run send, and every other run ask the provider instead.
 * Answers a person must act on (a decline, a refused cancel or reversal) are returned, not thrown:
 * only transport trouble is retried.
 */
import { ApplicationFailure, Context, log, sleep } from '@temporalio/activity';
import type { Database } from '../src/db/client';
import { allowResend, claimProviderAttempt, findAttemptWithRefund, findProviderAttempt, sentAsOf, updateProviderAttempt, voidBecomesRefund } from '../src/db/queries/refunds';
import { takeSendingTurn, type SendingRate } from '../src/db/queries/send-turns';
import type { ProviderAttemptRow } from '../src/db/schema';
import { openName, place, type FieldSeal } from '../src/field-seal';
import type { ProviderDirectory } from '../src/providers/merchant-providers';
import {
  ProviderBalanceShortError,
  ProviderCannotCancelError,
  ProviderReversalRefusedError,
  ProviderUnavailableError,
  providerStateOf,
  type ProviderRefund,
  type ProviderRefundRequest,
  type RefundMethod,
  type RefundProvider,
  type SentAs,
} from '../src/providers/provider';
import type { ProviderState } from '../workflows/lifecycle';

export interface ProviderAttemptRef {
  refundId: string;
  attempt: number;
}

/** An attempt to send, and how the workflow chose to send it (a card sale's void or refund; `refund` for every other route). */
export interface ProviderSubmission extends ProviderAttemptRef {
  method?: RefundMethod;
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
  /** How the attempt went: a void or a refund (card sales; every other attempt is a refund). */
  method: RefundMethod;
  /** It went as a refund because the acquirer refused the void it was first (its words). */
  voidRefused?: string;
}

/** What a status check found: the provider's answer, or nothing at all under the attempt's key. */
export type ProviderCheck = Omit<ProviderOutcome, 'state'> & { state: ProviderState | 'missing' };

/** What the provider holds under an attempt's key: its refund, provably nothing, or nothing yet (its query may still miss it). */
type Lookup = { found: ProviderRefund } | { found: null; final: boolean };

export function createProviderActivities(db: Database, providers: ProviderDirectory, fields: FieldSeal) {
  async function loadAttempt({ refundId, attempt }: ProviderAttemptRef) {
    const found = await findAttemptWithRefund(db, refundId, attempt);
    if (!found) throw ApplicationFailure.nonRetryable(`refund ${refundId} has no provider attempt ${attempt}`, 'UnknownRefundAttempt');
    const { refund, attempt: providerAttempt, payment } = found;
    const provider = await providers.forMerchant(refund.merchantId, providerAttempt.provider);
    return { refund, providerAttempt, payment, provider, amount: providerAttempt.amount ?? refund.netAmount };
  }

  /**
   * Asks the provider by the attempt's key. Its verified "none" is final only once the provider's
   * query can be trusted to see the last send (Alipay: some seconds after it).
   */
  async function ask(provider: RefundProvider, attempt: ProviderAttemptRow, paymentId: string): Promise<Lookup> {
    const found = await whileHeartbeating(provider.findRefund(attempt.idempotencyKey, paymentId, sentAsOf(attempt)));
    if (found) return { found };
    const sentAt = attempt.lastSentAt?.getTime() ?? attempt.updatedAt.getTime();
    return { found: null, final: Date.now() - sentAt >= (provider.absentIsFinalAfterMs ?? 0) };
  }

  /** What the provider holds for an attempt, if anything. */
  async function lookUp(ref: ProviderAttemptRef) {
    const { refund, providerAttempt, provider, amount } = await loadAttempt(ref);
    return { providerAttempt, provider, amount, lookup: await ask(provider, providerAttempt, refund.paymentId) };
  }

  /** Nothing under the key: with what that means at this provider, for the person who decides next. */
  function missing(providerAttempt: ProviderAttemptRow, provider: RefundProvider, amount: number): ProviderCheck {
    return { ...outcomeOf(providerAttempt, amount), state: 'missing', failureReason: provider.absentMeans ?? null };
  }

  async function remember(attempt: ProviderAttemptRow, amount: number, found: ProviderRefund): Promise<ProviderOutcome> {
    const outcome: ProviderOutcome = {
      ...outcomeOf(attempt, amount),
      state: providerStateOf(found),
      reference: found.reference,
      traceReference: found.traceReference,
      failureReason: found.failureReason,
      redirectable: found.redirectable === true,
    };
    await updateProviderAttempt(db, attempt.refundId, attempt.attempt, outcome);
    return outcome;
  }

  return {
    /**
     * Sends the attempt to its provider, and never pays twice. Sending is claimed by
     * compare-and-set (to `in_doubt`), so of two runs at once one sends. An attempt sent before is
     * first asked about by its key: found, the provider's answer is recorded (the `0007` case);
     * provably not there and the provider had said "try again", the same request goes again under
     * the same key; provably not there after an answer that was lost or could not be believed, it
     * answers `in_doubt` and the workflow has a person decide (SPEC §3).
     */
    async submitRefundToProvider(ref: ProviderSubmission): Promise<ProviderOutcome> {
      // The payment is read with the attempt, before the claim: a claim is a promise that the send
      // follows (a failure after it leaves the attempt in doubt).
      const { refund, payment, provider, amount, ...loaded } = await loadAttempt(ref);
      let providerAttempt = loaded.providerAttempt;
      if (providerAttempt.state !== 'not_sent' && providerAttempt.state !== 'in_doubt') return outcomeOf(providerAttempt, amount);
      if (providerAttempt.state === 'in_doubt') {
        const lookup = await ask(provider, providerAttempt, refund.paymentId);
        if (lookup.found?.voidRefused) {
          // A void sent before, found refused as its batch had settled: the attempt goes on as a refund.
          await voidBecomesRefund(db, ref.refundId, ref.attempt, lookup.found.voidRefused);
          providerAttempt = (await findProviderAttempt(db, ref.refundId, ref.attempt))!;
        } else if (lookup.found) return remember(providerAttempt, amount, lookup.found);
        else if (!lookup.final) throw ApplicationFailure.retryable(`${provider.name} shows nothing under ${providerAttempt.idempotencyKey} yet; asked again shortly`, 'NotFoundYet');
        if (!providerAttempt.resendable) return { ...outcomeOf(providerAttempt, amount), state: 'in_doubt' };
      }
      // Within the provider account's rate: beyond it, wait for a turn rather than be told FREQUENCY_LIMITED.
      if (provider.sendingRate) await waitForSendingTurn(db, provider.sendingRate);
      // Only a provider that voids is asked to; the first send fixes the method, a resend keeps it.
      const claimed = await claimProviderAttempt(db, ref.refundId, ref.attempt, provider.voids && ref.method === 'void' ? 'void' : 'refund');
      if (!claimed) {
        // Another run is sending it: the next try asks the provider what came of that.
        throw ApplicationFailure.retryable(`attempt ${ref.attempt} of ${ref.refundId} is being sent by another run`, 'AttemptBeingSent');
      }
      const send = (sentAs: SentAs) =>
        whileHeartbeating(
          provider.submitRefund({
            idempotencyKey: providerAttempt.idempotencyKey,
            refundId: refund.id,
            paymentId: refund.paymentId,
            paymentAmount: payment.amount,
            amount,
            currency: refund.currency,
            // Opened here, for the provider and nowhere else.
            account: fields.open(providerAttempt.destinationAccount, place.attempt(ref.refundId, ref.attempt)),
            accountName: openName(fields, providerAttempt.destinationAccountName, place.holder(ref.refundId, ref.attempt)),
            redirect: cardTransferOf(providerAttempt),
            sentAs,
            sale: { capturedAt: payment.capturedAt, acquirerReference: payment.acquirerReference, terminalId: payment.terminalId },
          }),
        );
      try {
        // The attempt as the claim left it (its method fixed by the first send): no second read.
        let sent: ProviderAttemptRow = { ...providerAttempt, method: claimed.method };
        let submitted = await send(claimed);
        if (submitted.voidRefused) {
          // The batch settled before the void arrived: nothing moved; the same attempt goes as a refund, once.
          const asRefund = await voidBecomesRefund(db, ref.refundId, ref.attempt, submitted.voidRefused);
          if (asRefund) {
            sent = { ...sent, method: asRefund.method, methodNote: submitted.voidRefused };
            submitted = await send(asRefund);
          }
        }
        return await remember(sent, amount, submitted);
      } catch (error) {
        // "Try again", said by the provider (it may have taken it already) or by a connection never made:
        // still in doubt, asked about first, then sent again under the same key. Anything else is only asked about.
        if (error instanceof ProviderUnavailableError) {
          if (error instanceof ProviderBalanceShortError) log.warn('provider balance short: the refund waits for it', { refundId: ref.refundId, attempt: ref.attempt, provider: provider.name });
          await allowResend(db, ref.refundId, ref.attempt, error.message);
        }
        throw error;
      }
    },

    /** Asks the provider where a submitted refund stands: the fallback when no webhook came, and the check of every notice. */
    async checkRefundAtProvider(ref: ProviderAttemptRef): Promise<ProviderCheck> {
      const { providerAttempt, provider, amount, lookup } = await lookUp(ref);
      if (lookup.found) return remember(providerAttempt, amount, lookup.found);
      // Too soon after the send for the provider's "none" to mean anything: nothing new.
      return lookup.final ? missing(providerAttempt, provider, amount) : outcomeOf(providerAttempt, amount);
    },

    /**
     * Asks the provider until its answer is final: still pending, it fails (retryably) and Temporal
     * asks again after the retry policy's growing interval. Retries are not written to workflow
     * history, which is what keeps a refund waiting for weeks small.
     */
    async awaitFinalAtProvider(ref: ProviderAttemptRef): Promise<ProviderCheck> {
      const { providerAttempt, provider, amount, lookup } = await lookUp(ref);
      if (!lookup.found) {
        if (lookup.final) return missing(providerAttempt, provider, amount);
        throw ApplicationFailure.retryable(`${providerAttempt.provider} shows nothing under ${providerAttempt.idempotencyKey} yet`, 'NotFoundYet');
      }
      if (providerStateOf(lookup.found) === 'accepted') throw ApplicationFailure.retryable(`${providerAttempt.provider} still holds refund ${lookup.found.reference} pending`, 'StillPending');
      return remember(providerAttempt, amount, lookup.found);
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
      const payout = await provider.findRefund(providerAttempt.idempotencyKey, refund.paymentId, sentAsOf(providerAttempt));
      if (payout?.returned) return { reference: null, refused: null, returned: true };
      try {
        const reversal = await whileHeartbeating(provider.reverseRefund({ idempotencyKey: key, reference: providerAttempt.reference!, amount: request.amount, currency: refund.currency }));
        return { reference: reversal.reference, refused: null, returned: false };
      } catch (error) {
        if (!(error instanceof ProviderReversalRefusedError)) throw error;
        // Refused because the bank sent the payout back a moment ago? Then there was nothing to reverse.
        const now = await provider.findRefund(providerAttempt.idempotencyKey, refund.paymentId, sentAsOf(providerAttempt));
        return now?.returned ? { reference: null, refused: null, returned: true } : { reference: null, refused: error.message, returned: false };
      }
    },

    /**
     * Before money goes another way (a retry, a reroute, a cancel, a correction's payout given up),
     * the old attempt must provably not pay. Whatever our books say of it, anything ever sent is
     * asked of its provider by its key: a refund still pending there is canceled; one the provider
     * verifiably holds as failed, canceled or not at all may be left behind. Otherwise
     * `cannotCancel` says why, with the evidence, and the decision that needed it is refused;
     * `providerHoldsIt` says the provider took (or paid) a refund our books did not know it had.
     */
    async cancelRefundAtProvider(ref: ProviderAttemptRef): Promise<ProviderOutcome & { cannotCancel: string | null; providerHoldsIt?: boolean }> {
      const { refund, providerAttempt, provider, amount } = await loadAttempt(ref);
      const recorded = outcomeOf(providerAttempt, amount);
      // Never sent, canceled, or paid and counted (a settled payout is on the books; a returned one came back).
      if (['not_sent', 'canceled', 'settled', 'returned'].includes(providerAttempt.state)) return { ...recorded, cannotCancel: null };
      let lookup: Lookup;
      try {
        lookup = await ask(provider, providerAttempt, refund.paymentId);
      } catch (error) {
        if (!(error instanceof ProviderUnavailableError)) throw error;
        return { ...recorded, cannotCancel: `${provider.name} gave no answer it can be held to about ${providerAttempt.idempotencyKey} (${error.message}): nothing was changed; try again later` };
      }
      if (!lookup.found) {
        if (!lookup.final) return { ...recorded, cannotCancel: `${provider.name} shows nothing under ${providerAttempt.idempotencyKey} yet, too soon after it was sent to be sure: try again in a minute` };
        // The provider's verified word: it holds no refund under the key, so nothing can pay out there.
        await updateProviderAttempt(db, ref.refundId, ref.attempt, { state: 'failed', failureReason: providerAttempt.failureReason ?? `${provider.name} holds no refund under ${providerAttempt.idempotencyKey}` });
        return { ...recorded, state: 'failed', cannotCancel: null };
      }
      const found = lookup.found;
      const news = providerAttempt.state !== 'accepted';
      if (found.status === 'failed' || found.status === 'canceled' || found.returned) return { ...(await remember(providerAttempt, amount, found)), cannotCancel: null };
      if (found.status === 'settled') {
        return { ...(await remember(providerAttempt, amount, found)), cannotCancel: `${provider.name} has paid refund ${found.reference} under ${providerAttempt.idempotencyKey}: the money went to the customer`, providerHoldsIt: true };
      }
      try {
        return { ...(await remember(providerAttempt, amount, await provider.cancelRefund(found.reference))), cannotCancel: null };
      } catch (error) {
        if (!(error instanceof ProviderCannotCancelError)) throw error;
        const held = await remember(providerAttempt, amount, found);
        const why = news ? `${provider.name} holds refund ${found.reference} under ${providerAttempt.idempotencyKey} as pending; ${error.message}` : error.message;
        return { ...held, cannotCancel: why, providerHoldsIt: news };
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
 * Waits (heartbeating, cancellable) for the account's next turn to send. With every turn of the
 * next minute taken, the attempt goes back to Temporal's retry, well inside the activity's two
 * minutes: the refund waits on, durably, and the worker's slot goes to others meanwhile.
 */
async function waitForSendingTurn(db: Database, rate: SendingRate): Promise<void> {
  const turn = await takeSendingTurn(db, rate, LONGEST_TURN_WAIT_MS);
  if (turn === undefined) throw ApplicationFailure.retryable(`${rate.key} has its ${rate.perSecond} refunds a second taken for the next minute: waiting on`, 'SendingRateFull');
  const context = Context.current();
  for (let left = turn.waitMs; left > 0; left -= BEAT_EVERY_MS) {
    if (left > BEAT_EVERY_MS) beat(context);
    await sleep(Math.min(left, BEAT_EVERY_MS));
  }
}

/** The furthest turn a send takes; beyond, its attempt waits in Temporal's retry rather than in a worker's slot. */
const LONGEST_TURN_WAIT_MS = 60_000;

/** Every how often a provider call in flight tells Temporal the worker is alive: well inside PROVIDER_HEARTBEAT. */
const BEAT_EVERY_MS = 2_000;
/** When each running activity last did. */
const lastBeats = new WeakMap<Context, number>();

function beat(context: Context): void {
  lastBeats.set(context, Date.now());
  context.heartbeat();
}

/**
 * Heartbeats while a provider call is in flight, so a worker that dies mid-call is noticed within
 * the heartbeat timeout (seconds) instead of the start-to-close timeout (minutes). A beat is a
 * write of the refund's state at the server: a call answered within 2 s of the last one (or of the
 * attempt's start) sends none.
 */
async function whileHeartbeating<T>(work: Promise<T>): Promise<T> {
  const context = Context.current();
  if (Date.now() - (lastBeats.get(context) ?? context.info.currentAttemptScheduledTimestampMs) >= BEAT_EVERY_MS) beat(context);
  const beating = setInterval(() => beat(context), BEAT_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(beating);
  }
}

function outcomeOf(attempt: ProviderAttemptRow, amount: number): ProviderOutcome {
  return {
    state: attempt.state,
    reference: attempt.reference,
    traceReference: attempt.traceReference,
    failureReason: attempt.failureReason,
    amount,
    method: attempt.method,
    // Only a fallen-back void carries a note: why it went as a refund.
    ...(attempt.methodNote ? { voidRefused: attempt.methodNote } : {}),
  };
}
