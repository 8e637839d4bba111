/**
 * What the service needs from a payment provider, whichever provider it is. Adapters translate a
 * provider's own API to this; the activities speak only this.
 */
import type { SendingRate } from '../db/queries/send-turns';
import type { ProviderName, ProviderState, RefundMethod } from '../../workflows/lifecycle';

export type { RefundMethod };

export interface ProviderRefundRequest {
  /** The refund's key at this provider: a provider that sees it again must not pay again. */
  idempotencyKey: string;
  refundId: string;
  paymentId: string;
  /** What the payment captured: wallets check a refund against the order's total. */
  paymentAmount: number;
  amount: number;
  currency: string;
  /** Full account number; it goes to the provider and nowhere else. */
  account: string;
  accountName: string | null;
  /**
   * Set when the provider is to send a refund it holds as failed on to this bank account itself
   * (WeChat Pay's abnormal refund): the refund's reference there, and the bank as it names it.
   * Same key: it is the same refund, paid another way.
   */
  redirect?: { reference: string; bankType: string };
  /** How the attempt goes (see `SentAs`). */
  sentAs: SentAs;
  /** The card sale being refunded, as its acquirer knows it; card adapters need it, wallets do not. */
  sale: CardSale;
}

/**
 * How an attempt was sent, which is how a provider finds it again: its method, and the moment of
 * its first send (card acquirers key a request by order number *and* send time).
 */
export interface SentAs {
  method: RefundMethod;
  requestedAt: Date;
}

export interface CardSale {
  capturedAt: Date;
  /** The sale's reference at its acquirer (an ACP queryId, say); null where the payment was registered without one. */
  acquirerReference: string | null;
  terminalId: string | null;
}

export type ProviderRefundStatus = 'pending' | 'settled' | 'canceled' | 'failed';

export interface ProviderRefund {
  reference: string;
  /** What the customer's bank can trace: the acquirer reference for cards, the wallet's refund id. */
  traceReference: string;
  status: ProviderRefundStatus;
  /** The money settled and later came back (account closed, say). */
  returned: boolean;
  failureReason: string | null;
  /** Failed, and the provider can send it on to a bank card itself (`redirect`): WeChat Pay's ABNORMAL. */
  redirectable?: boolean;
  /**
   * A void the acquirer refused, verifiably and with nothing done, because the sale is no longer in
   * an open batch: the same attempt goes again as a refund, once. Says why, in the acquirer's words.
   */
  voidRefused?: string;
}

export interface RefundProvider {
  readonly name: ProviderName;
  /**
   * What it means, in this provider's terms, when a refund it answered for is not found under its
   * key when asked later: said to the person who must then decide (Alipay reports only successes).
   */
  readonly absentMeans?: string;
  /**
   * How long after a send this provider's query may still miss the refund (Alipay advises asking no
   * sooner than 10 s after it). Until then "nothing under the key" is no answer: the attempt stays
   * in doubt and is asked again. Absent: the provider's verified "not found" is final at once.
   */
  readonly absentIsFinalAfterMs?: number;
  /** The provider can void a sale still in its open batch (a card acquirer); absent, every attempt is a refund. */
  readonly voids?: boolean;
  /** How many refunds a second this provider account takes (WeChat Pay: 150 per merchant); absent, no limit of ours. */
  readonly sendingRate?: SendingRate;
  /**
   * Sends a refund. A decline comes back as a `failed` refund (stored state, not an exception), and
   * only on an answer whose signature verified; `ProviderUnavailableError` says the same request may
   * go again under the same key (the provider said so, or it never left), `ProviderTimeoutError`
   * that it left and no answer we can believe came back.
   */
  submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund>;
  /**
   * The refund this provider holds under the key (for the payment's trade), or null when its
   * verified answer is that it holds none. Anything less than a verified answer throws
   * `ProviderUnavailableError`: "not found" is never read from a page nobody signed.
   */
  findRefund(idempotencyKey: string, paymentId: string, sent?: SentAs): Promise<ProviderRefund | null>;
  /** Cancels a refund still pending; throws `ProviderCannotCancelError` once money has moved. */
  cancelRefund(reference: string): Promise<ProviderRefund>;
  /**
   * Takes back `amount` of a settled refund (an over-refund, or money sent to the wrong account).
   * Throws `ProviderReversalRefusedError` when the provider or the bank will not.
   */
  reverseRefund(request: ProviderReversalRequest): Promise<ProviderRefund>;
  /** The reversal this provider holds under the key, or null. */
  findReversal(idempotencyKey: string): Promise<ProviderRefund | null>;
}

export interface ProviderReversalRequest {
  idempotencyKey: string;
  /** The provider's reference of the refund being reversed. */
  reference: string;
  amount: number;
  currency: string;
}

/**
 * No refund came of this call, and the same request may go again under the same key: the provider
 * could not be reached, or answered (verified) with an error that says "try again" — which for a
 * submission can also mean it took the refund already (WeChat Pay's SYSTEM_ERROR and
 * FREQUENCY_LIMITED): the attempt stays in doubt, and the next try asks before it sends again.
 */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/**
 * The provider refused for now because the merchant's balance there cannot cover the refund
 * (WeChat Pay's NOT_ENOUGH): nothing happened; retried like any temporary error, and flagged on
 * the attempt so support can see why the money waits.
 */
export class ProviderBalanceShortError extends ProviderUnavailableError {
  override name = 'ProviderBalanceShortError';
}

/**
 * The submission left and no answer we can believe came back (none in time, or one whose signature
 * did not verify): the provider may or may not have taken the refund. Ask, never resend blindly.
 */
export class ProviderTimeoutError extends Error {
  override name = 'ProviderTimeoutError';
}

export class ProviderCannotCancelError extends Error {
  override name = 'ProviderCannotCancelError';
}

export class ProviderReversalRefusedError extends Error {
  override name = 'ProviderReversalRefusedError';
}

/** Network errors raised before a request left this machine: nothing reached the provider. */
const NEVER_SENT = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/**
 * A provider call that got no usable answer, in our terms. A query, or a submission that never
 * left (`evidence` names a connection that was never made), is temporary trouble, tried again; a
 * submission that left and got no believable answer is in doubt: the activity asks by key and
 * never sends it again.
 */
export function noAnswerError(provider: string, what: 'submission' | 'query', evidence: string): ProviderUnavailableError | ProviderTimeoutError {
  const message = `${provider} ${what}: ${evidence}`;
  return what === 'query' || NEVER_SENT.test(evidence) ? new ProviderUnavailableError(message) : new ProviderTimeoutError(message);
}

/** The one place a provider's refund status becomes ours. */
export function providerStateOf(refund: ProviderRefund): ProviderState {
  switch (refund.status) {
    case 'pending':
      return 'accepted';
    case 'settled':
      return refund.returned ? 'returned' : 'settled';
    case 'canceled':
      return 'canceled';
    case 'failed':
      return 'failed';
  }
}

export type ProviderRegistry = Record<ProviderName, RefundProvider>;

export type ProviderNoticeType = 'refund.settled' | 'refund.failed' | 'refund.returned';

/** A provider's notification about a refund, verified and read into our terms by its webhook. */
export interface ProviderNoticePayload {
  /** The provider's id of the notification: a redelivery carries the same one. */
  id: string;
  type: ProviderNoticeType;
  reference: string;
  idempotencyKey: string;
  amount: number;
  currency: string;
  occurredAt: string;
}
