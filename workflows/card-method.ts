/**
 * Void or refund (issue #21): the workflow's choice for a card attempt, made when it sends, on its
 * own clock. A whole sale still in its acquirer's open batch is voided (撤销: the money never leaves
 * the cardholder, at once); anything else — part of a sale, a fee withheld, a later attempt, or a
 * sale whose batch has settled — is refunded (退货). The acquirer has the last word: a void it
 * refuses because the batch has just settled goes again as a refund under the same attempt, once
 * (provider-activities.ts), and the refund's timeline says so.
 */
import type { RefundMethod } from './lifecycle';

export interface CardMethodChoice {
  method: RefundMethod;
  reason: string;
}

export interface CardSending {
  /** Until when the sale is in its open batch; null when the refund is not for a whole sale an acquirer can void. */
  voidableUntil: string | null;
  /** The first attempt, at the sale itself (a retry or reroute is a new attempt). */
  firstAttempt: boolean;
  /** What the attempt sends, and the refund's amount as it was taken (the whole sale when `voidableUntil` is set). */
  sending: number;
  wholeSale: number;
  now: number;
}

export function cardMethodOf({ voidableUntil, firstAttempt, sending, wholeSale, now }: CardSending): CardMethodChoice {
  if (voidableUntil === null) return { method: 'refund', reason: 'not the whole of a sale its acquirer can void (part of it, a settled sale, or an acquirer that only refunds): refunded' };
  if (!firstAttempt) return { method: 'refund', reason: 'a later attempt at the sale: refunded' };
  if (sending !== wholeSale) return { method: 'refund', reason: `${sending} of the sale’s ${wholeSale} is sent (a fee or a changed amount): only a whole sale is voided, so refunded` };
  if (now >= Date.parse(voidableUntil)) return { method: 'refund', reason: `the sale’s batch settled at ${voidableUntil} (the settlement cutoff): refunded` };
  return { method: 'void', reason: `the whole sale, in its open batch until ${voidableUntil}: voided, so the money never leaves the cardholder` };
}
