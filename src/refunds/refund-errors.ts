/**
 * Every way a refund request can be refused, as a closed set. The API maps each code to its HTTP
 * status once (src/api/problems.ts); nothing else invents error codes.
 */
export type RefundErrorCode =
  | 'payment_not_found'
  | 'payment_conflict'
  | 'payment_not_refundable'
  | 'currency_mismatch'
  | 'refund_window_closed'
  | 'amount_exceeds_refundable'
  | 'refunded_total_mismatch'
  | 'idempotency_key_reused'
  | 'refund_not_found'
  | 'invalid_state'
  | 'maker_checker_violation'
  | 'decision_forbidden'
  | 'provider_cannot_cancel'
  | 'correction_not_needed';

export class RefundRequestError extends Error {
  override name = 'RefundRequestError';

  constructor(
    readonly code: RefundErrorCode,
    message: string,
    /** Facts that help the caller correct the request (refundable amount, and the like). */
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
