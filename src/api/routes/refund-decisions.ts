import type { ApiDeps } from '../deps';
import { refundTimeline } from '../../db/queries/refunds';
import { correctRefund } from '../../refunds/refund-corrections';
import { decideRefund, type RefundDecision } from '../../refunds/refund-decisions';
import type { Caller } from '../auth';
import { route } from '../route';
import { ApproveBody, CancelBody, CorrectionBody, Problem, Refund, RefundIdParams, RejectBody, RetryBody } from '../schemas';
import { refundView } from '../views';

const decisionResponses = (what: string) => ({
  200: { description: `The refund as the workflow left it after the ${what}`, schema: Refund },
  400: { description: 'Invalid body', schema: Problem },
  404: { description: 'No such refund', schema: Problem },
  409: { description: 'invalid_state: not possible in the refund’s status (or provider_cannot_cancel)', schema: Problem },
});

/** Approve, reject, cancel, retry: people's decisions, carried out by the refund's workflow. */
export function refundDecisionRoutes(deps: ApiDeps) {
  async function decide(caller: Caller | undefined, refundId: string, decision: RefundDecision) {
    const refund = await decideRefund(deps, caller!, refundId, decision);
    return { status: 200, body: refundView(refund, await refundTimeline(deps.db, refundId)) };
  }

  return [
    route({
      method: 'post',
      path: '/v1/refunds/:id/approve',
      tag: 'decisions',
      summary: 'Approve a refund held for approval (maker-checker: not by whoever requested or created it, nor twice by one supervisor)',
      access: ['supervisor'],
      params: RefundIdParams,
      body: ApproveBody,
      responses: { ...decisionResponses('approval'), 403: { description: 'maker_checker_violation', schema: Problem } },
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'approve', comment: body.comment }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/reject',
      tag: 'decisions',
      summary: 'Reject a refund held for approval; the customer is told the reason',
      access: ['supervisor'],
      params: RefundIdParams,
      body: RejectBody,
      responses: decisionResponses('rejection'),
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'reject', reason: body.reason }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/cancel',
      tag: 'decisions',
      summary: 'Cancel a refund pending approval or requiring action (service keys: only their own refunds)',
      access: ['service', 'support', 'supervisor'],
      params: RefundIdParams,
      body: CancelBody,
      responses: { ...decisionResponses('cancelation'), 403: { description: 'a service key canceling another caller’s refund', schema: Problem } },
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'cancel', reason: body.reason }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/retry',
      tag: 'decisions',
      summary: 'Send a refund requiring action again: on its original route (support, supervisor) or by bank transfer (supervisor)',
      access: ['support', 'supervisor'],
      params: RefundIdParams,
      body: RetryBody,
      responses: { ...decisionResponses('retry'), 403: { description: 'support asking for another route', schema: Problem } },
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'retry', destination: body.destination }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/corrections',
      tag: 'decisions',
      summary: 'Correct a refund that went out wrong: the correct total (excess reversed, or shortfall paid) or the correct account (reversed and re-issued)',
      access: ['supervisor'],
      params: RefundIdParams,
      body: CorrectionBody,
      responses: {
        202: { description: 'Accepted: the refund is correcting', schema: Refund },
        400: { description: 'Invalid body', schema: Problem },
        404: { description: 'No such refund', schema: Problem },
        409: { description: 'invalid_state: only succeeded or corrected refunds are corrected', schema: Problem },
        422: { description: 'amount_exceeds_refundable (a shortfall beyond what remains), correction_not_needed', schema: Problem },
      },
      async handle({ caller, params, body }) {
        const refund = await correctRefund(deps, caller!, params.id, body);
        return { status: 202, body: refundView(refund, await refundTimeline(deps.db, params.id)) };
      },
    }),
  ];
}
