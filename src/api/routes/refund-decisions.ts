import type { ApiDeps } from '../deps';
import { refundTimeline } from '../../db/queries/refunds';
import { decideRefund, type RefundDecision } from '../../refunds/refund-decisions';
import { refundCallerOf, type Caller } from '../auth';
import { route, type ResponseSpec } from '../route';
import { ApproveBody, CancelBody, CorrectionBody, Problem, Refund, RefundIdParams, RejectBody, RetryBody } from '../schemas';
import { refundView } from '../views';

const answered = (what: string, extra: Record<number, ResponseSpec> = {}): Record<number, ResponseSpec> => ({
  200: { description: `The refund as the workflow left it after the ${what}`, schema: Refund },
  400: { description: 'Invalid body (each bad field named)', schema: Problem },
  404: { description: 'No such refund', schema: Problem },
  409: { description: 'invalid_state: not possible in the refund’s status, or another decision came first', schema: Problem },
  503: { description: 'decision_not_recorded: the decision could not be put on record, or the refund’s workflow is not running yet; nothing changed', schema: Problem },
  ...extra,
});

/** A correction is always a proposal: it never answers 200. */
function withoutOk({ 200: _ok, ...rest }: Record<number, ResponseSpec>): Record<number, ResponseSpec> {
  return rest;
}

const refused403 = (description: string): Record<number, ResponseSpec> => ({ 403: { description, schema: Problem } });

/**
 * People's decisions, carried out by the refund's workflow. Decisions that move money differently
 * from what was approved (a reroute, a correction) open a proposal (202) that another supervisor
 * approves at /proposal/approve.
 */
export function refundDecisionRoutes(deps: ApiDeps) {
  async function decide(caller: Caller | undefined, refundId: string, decision: RefundDecision) {
    const { refund, proposed } = await decideRefund({ ...deps, starts: deps.refunds, routes: deps.config.providers.routes }, refundCallerOf(caller!), refundId, decision);
    return { status: proposed ? 202 : 200, body: refundView(deps.fields, refund, await refundTimeline(deps.db, refundId)) };
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
      responses: answered('approval', refused403('maker_checker_violation')),
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
      responses: answered('rejection'),
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
      responses: answered('cancelation', refused403('decision_forbidden: a service key canceling another caller’s refund')),
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'cancel', reason: body.reason }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/retry',
      tag: 'decisions',
      summary: 'Send a refund requiring action again: on its original route (200), or propose a bank transfer (202, an open proposal a supervisor other than the proposer approves)',
      access: ['support', 'supervisor'],
      params: RefundIdParams,
      body: RetryBody,
      responses: answered('retry', { 202: { description: 'A reroute proposal is open; the refund stays requires_action until it is approved', schema: Refund } }),
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'retry', destination: body.destination, reason: body.reason }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/corrections',
      tag: 'decisions',
      summary: 'Propose correcting a refund that went out wrong: the correct total (excess reversed, or shortfall paid) or the correct account (reversed and re-issued); carried out once another supervisor approves',
      access: ['supervisor'],
      params: RefundIdParams,
      body: CorrectionBody,
      responses: withoutOk(
        answered('correction', {
          202: { description: 'The correction proposal is open (see `proposal`)', schema: Refund },
          422: { description: 'amount_exceeds_refundable (a shortfall beyond what remains), correction_not_needed', schema: Problem },
        }),
      ),
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'correct', amount: body.amount, destination: body.destination, reason: body.reason }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/proposal/approve',
      tag: 'decisions',
      summary: 'Approve the open proposal (not by its proposer, the refund’s requester or creator, nor twice by one supervisor); the last approval it needs carries it out',
      access: ['supervisor'],
      params: RefundIdParams,
      body: ApproveBody,
      responses: answered('approval', refused403('maker_checker_violation')),
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'approveProposal', comment: body.comment }),
    }),
    route({
      method: 'post',
      path: '/v1/refunds/:id/proposal/reject',
      tag: 'decisions',
      summary: 'Reject the open proposal: it is closed, the refund unchanged, the proposer told',
      access: ['supervisor'],
      params: RefundIdParams,
      body: RejectBody,
      responses: answered('rejection'),
      handle: ({ caller, params, body }) => decide(caller, params.id, { kind: 'rejectProposal', reason: body.reason }),
    }),
  ];
}
