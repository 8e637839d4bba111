/**
 * RFC 9457 problem details: every refusal the API gives has a `type`, `title`, `status`,
 * `detail` and a machine-readable `code`; validation problems list each bad field.
 */
import type { ZodError } from 'zod';
import { maskText } from '../masking';
import type { RefundErrorCode } from '../refunds/refund-errors';

export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  [fact: string]: unknown;
}

const PROBLEM_TYPE_BASE = 'https://refundflow.dev/problems/';

export class ApiProblem extends Error {
  override name = 'ApiProblem';

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
    /** Response headers the problem needs (`Allow` on a 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  /** The RFC 9457 members come last: no fact (a refund's status, say) can ever overwrite them. */
  toBody(): ProblemBody {
    return { ...this.extra, type: `${PROBLEM_TYPE_BASE}${this.code}`, title: this.title, status: this.status, detail: this.message, code: this.code };
  }
}

/** A merchant that does not exist, or not for this caller (issue #17: the same answer either way). */
export function merchantNotFound(merchantId: string): ApiProblem {
  return new ApiProblem(404, 'merchant_not_found', 'Merchant not found', `No merchant ${merchantId}`);
}

/** Each domain refusal's HTTP status and title, in one place. */
const REFUND_ERRORS: Record<RefundErrorCode, { status: number; title: string }> = {
  payment_not_found: { status: 404, title: 'Payment not found' },
  payment_conflict: { status: 409, title: 'Payment already registered with different details' },
  payment_not_refundable: { status: 422, title: 'Payment cannot be refunded' },
  currency_mismatch: { status: 422, title: 'Currency does not match the payment' },
  refund_window_closed: { status: 422, title: 'Refund window has closed' },
  amount_exceeds_refundable: { status: 422, title: 'Amount exceeds what remains refundable' },
  refunded_total_mismatch: { status: 409, title: 'Refunded total differs from what the caller expected' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with a different request' },
  refund_not_found: { status: 404, title: 'Refund not found' },
  invalid_state: { status: 409, title: 'Not possible in the refund’s current status' },
  maker_checker_violation: { status: 403, title: 'Separation of duties: this person may not approve' },
  decision_forbidden: { status: 403, title: 'Not allowed for this role' },
  provider_cannot_cancel: { status: 409, title: 'The provider cannot cancel the pending refund' },
  correction_not_needed: { status: 422, title: 'The correction changes nothing' },
  route_unavailable: { status: 422, title: 'This deployment does not pay out along that route' },
  invalid_input: { status: 400, title: 'Request is not valid' },
  decision_not_recorded: { status: 503, title: 'The decision could not be put on record' },
};

export function problemForRefundError(code: RefundErrorCode, detail: string, facts: Record<string, unknown>): ApiProblem {
  const { status, title } = REFUND_ERRORS[code];
  return new ApiProblem(status, code, title, detail, facts);
}

export function validationProblem(where: 'body' | 'query' | 'path' | 'header', error: ZodError): ApiProblem {
  // Field names come from the caller: an unknown one could itself be an account number.
  const errors: FieldError[] = error.issues.map((issue) => ({
    field: maskText(issue.path.length ? issue.path.join('.') : where),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.map(maskText).join(', ')}` : issue.message,
  }));
  const fields = errors.map((e) => e.field).join(', ');
  return new ApiProblem(400, 'validation_failed', 'Request is not valid', `Invalid ${where}: ${fields}`, { errors });
}

/** A value the schema accepted but the meaning refuses (an unknown cursor, a backwards range). */
export function invalidField(where: 'body' | 'query' | 'path' | 'header', field: string, message: string): ApiProblem {
  return new ApiProblem(400, 'validation_failed', 'Request is not valid', `Invalid ${where}: ${field}`, { errors: [{ field, message }] });
}

/** Too many failures from one source (wrong sign-ins, unknown keys): try again after `seconds`. */
export const tooManyAttempts = (seconds: number) =>
  new ApiProblem(429, 'too_many_attempts', 'Too many failed attempts', `Too many failed attempts from this address: try again in ${seconds} s`, { retryAfter: seconds }, { 'Retry-After': String(seconds) });
export const unauthorized = (detail: string) => new ApiProblem(401, 'unauthorized', 'Missing or unknown API key', detail);
export const forbidden = (detail: string) => new ApiProblem(403, 'forbidden', 'Not allowed for this role', detail);
export const notFound = (detail: string) => new ApiProblem(404, 'not_found', 'Not found', detail);
export const methodNotAllowed = (detail: string, allow: string[]) => new ApiProblem(405, 'method_not_allowed', 'Method not allowed', detail, {}, { Allow: allow.join(', ') });
