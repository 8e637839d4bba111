/**
 * Every way a refund request can be refused, as a closed set shared with the workflow's
 * validators (workflows/refusals.ts). The API maps each code to its HTTP status once
 * (src/api/problems.ts); nothing else invents error codes.
 */
export { RefundRequestError, type RefundErrorCode } from '../../workflows/refusals';
