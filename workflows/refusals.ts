/**
 * Every way a request about a refund can be refused, as one closed catalogue shared by the API,
 * the workflow's Update validators and the activities. The API maps each code to its HTTP status
 * once (src/api/problems.ts); nothing else invents error codes. Bundle-safe: no Node modules.
 */
export const REFUSAL_CODES = [
  'payment_not_found',
  'payment_conflict',
  'payment_not_refundable',
  'currency_mismatch',
  'refund_window_closed',
  'amount_exceeds_refundable',
  'refunded_total_mismatch',
  'idempotency_key_reused',
  'refund_not_found',
  'invalid_state',
  'maker_checker_violation',
  'decision_forbidden',
  'provider_cannot_cancel',
  'correction_not_needed',
  /** The route the money would take is off in this deployment (PROVIDER_…=off). */
  'route_unavailable',
  /** A field the API would have refused (a message sent to the workflow around the API). */
  'invalid_input',
  /** The workflow accepted the decision but could not put it on record: nothing moved. */
  'decision_not_recorded',
] as const;
export type RefundErrorCode = (typeof REFUSAL_CODES)[number];

export function isRefundErrorCode(value: unknown): value is RefundErrorCode {
  return typeof value === 'string' && (REFUSAL_CODES as readonly string[]).includes(value);
}

export class RefundRequestError extends Error {
  override name = 'RefundRequestError';

  constructor(
    readonly code: RefundErrorCode,
    message: string,
    /** Facts that help the caller correct the request (refundable amount, the refund's status, and the like). */
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
