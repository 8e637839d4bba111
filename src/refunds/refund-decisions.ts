/**
 * People's decisions on a refund — approve, reject, cancel, retry, propose a reroute or a
 * correction, approve or reject a proposal — each delivered to the refund's workflow as one
 * Update. The API writes nothing itself: it refuses the obvious early with the same pure rules the
 * workflow's validators run (workflows/decision-rules.ts), seals any account number a person
 * gives, and answers with the refund as the workflow left it (an Update returns only after its
 * step is on record).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { Database } from '../db/client';
import { findPayment } from '../db/queries/payments';
import { findRefund } from '../db/queries/refunds';
import type { RefundRow } from '../db/schema';
import type { BankAccountOrder, DestinationSeal } from '../destination-seal';
import { refundHandle } from '../temporal/refund-workflows';
import {
  checkApproval,
  checkCancel,
  checkCorrection,
  checkProposalApproval,
  checkProposalRejection,
  checkRejection,
  checkReroute,
  checkRetry,
  type DecisionView,
} from '../../workflows/decision-rules';
import {
  approveProposalUpdate,
  approveRefundUpdate,
  cancelRefundUpdate,
  proposeCorrectionUpdate,
  proposeRerouteUpdate,
  rejectProposalUpdate,
  rejectRefundUpdate,
  retryRefundUpdate,
  type Destination,
  type RefundWorkflowState,
} from '../../workflows/messages';
import { isRefundErrorCode, RefundRequestError } from '../../workflows/refusals';
import { startWorkflowOfRefund, type RefundServiceDeps } from './create-refund';
import { requireRefund } from './require-refund';
import type { RefundCaller } from '../merchants/merchant-scope';
import { requireRouteOpen, type RouteAdapters } from './routes';

export type DestinationOrder = { type: 'original' } | BankAccountOrder;

export type RefundDecision =
  | { kind: 'approve'; comment?: string }
  | { kind: 'reject'; reason: string }
  | { kind: 'cancel'; reason?: string }
  | { kind: 'retry'; destination?: DestinationOrder; reason?: string }
  | { kind: 'correct'; amount?: number; destination?: DestinationOrder; reason: string }
  | { kind: 'approveProposal'; comment?: string }
  | { kind: 'rejectProposal'; reason: string };

export interface DecisionDeps {
  db: Database;
  temporal: Client;
  seal: DestinationSeal;
  /** How to start a refund's workflow, for a decision that arrives before its start has landed. */
  starts?: RefundServiceDeps;
  /** Which routes this deployment pays out along: a reroute or correction to a route that is off is refused. */
  routes: RouteAdapters;
}

/** The refund as the workflow left it, and whether the decision opened a proposal (202) rather than took effect. */
export interface DecisionResult {
  refund: RefundRow;
  proposed: boolean;
}

export async function decideRefund(deps: DecisionDeps, caller: RefundCaller, refundId: string, decision: RefundDecision): Promise<DecisionResult> {
  const refund = await requireRefund(deps.db, refundId, caller.merchants);
  const view = decisionViewOf(refund);
  const by = { principal: caller.principal, role: caller.role };
  const handle = refundHandle(deps.temporal, refundId);
  /** Sends the decision; a refund taken a moment ago whose workflow is not started yet has it started first. */
  async function send<Request>(update: UpdateDefinition<RefundWorkflowState, [Request]>, request: Request): Promise<void> {
    try {
      await handle.executeUpdate(update, { args: [request] });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError) || !deps.starts || !BEFORE_FIRST_STEP.includes(refund.status)) throw error;
      await startWorkflowOfRefund(deps.starts, refund);
      await handle.executeUpdate(update, { args: [request] });
    }
  }
  let proposed = false;
  try {
    switch (decision.kind) {
      case 'approve':
        checkApproval(view, by, decision.comment);
        await send(approveRefundUpdate, { ...by, comment: decision.comment ?? null });
        break;
      case 'reject':
        checkRejection(view, by, decision.reason);
        await send(rejectRefundUpdate, { ...by, reason: decision.reason });
        break;
      case 'cancel':
        checkCancel(view, by, decision.reason);
        await send(cancelRefundUpdate, { ...by, reason: decision.reason ?? null });
        break;
      case 'retry':
        if (!decision.destination || decision.destination.type === 'original') {
          checkRetry(view, by);
          await send(retryRefundUpdate, by);
        } else {
          // Another destination is a proposal: it waits for a supervisor who is not the proposer (rule 14).
          checkReroute(view, by, decision.reason, decision.destination.type);
          requireRouteOpen(deps.routes, decision.destination.type === 'bank_transfer' ? 'bank_transfer' : 'wechat');
          await send(proposeRerouteUpdate, { ...by, destination: deps.seal.seal(decision.destination), reason: decision.reason ?? null });
          proposed = true;
        }
        break;
      case 'correct': {
        if (decision.destination?.type === 'bank_transfer') requireRouteOpen(deps.routes, 'bank_transfer');
        const destination = decision.destination && sealed(deps.seal, decision.destination);
        const plan = checkCorrection(view, by, { newTotal: decision.amount, destination, reason: decision.reason });
        if (plan.kind === 'supplementary') await requireRefundable(deps.db, refund, plan.newTotal - refund.amount);
        await send(proposeCorrectionUpdate, { ...by, newTotal: decision.amount, destination, reason: decision.reason });
        proposed = true;
        break;
      }
      case 'approveProposal':
        checkProposalApproval(view, by, decision.comment);
        await send(approveProposalUpdate, { ...by, comment: decision.comment ?? null });
        break;
      case 'rejectProposal':
        checkProposalRejection(view, by, decision.reason);
        await send(rejectProposalUpdate, { ...by, reason: decision.reason });
        break;
    }
  } catch (error) {
    // A workflow that ended meanwhile (another decision closed the refund) is judged by where the refund stands now.
    throw refusalOf(error, workflowGone(error) ? ((await findRefund(deps.db, refundId)) ?? refund) : refund);
  }
  return { refund: (await findRefund(deps.db, refundId))!, proposed };
}

/** The statuses a refund has until its workflow records a step: the only ones it may be without a workflow. */
const BEFORE_FIRST_STEP: readonly string[] = ['pending_approval', 'processing'];

/** The refund's read model as the decision rules read it (the workflow alone knows whether a decision is under way). */
export function decisionViewOf(refund: RefundRow): DecisionView {
  return {
    status: refund.status,
    requestedBy: refund.requestedBy,
    createdBy: refund.createdBy,
    requiredApprovals: refund.requiredApprovals,
    approvals: refund.approvals,
    proposal: refund.proposal,
    amount: refund.amount,
    fee: refund.fee,
    corrections: refund.corrections,
    redirectable: refund.redirectable,
    busy: null,
  };
}

function sealed(seal: DestinationSeal, destination: DestinationOrder): Destination {
  return destination.type === 'original' ? destination : seal.seal(destination);
}

/** A shortfall beyond what remains refundable is refused before anything is asked of the workflow. */
async function requireRefundable(db: Database, refund: RefundRow, shortfall: number): Promise<void> {
  const payment = (await findPayment(db, refund.paymentId))!;
  const refundable = payment.amount - payment.refundedAmount - payment.reservedAmount;
  if (shortfall > refundable) {
    throw new RefundRequestError('amount_exceeds_refundable', `Only ${refundable} ${payment.currency} minor units remain refundable on payment ${payment.id}`, { refundableAmount: refundable });
  }
}

/** The refund's workflow is not there: not started yet, or over. */
function workflowGone(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError || (error instanceof Error && /workflow execution already completed/i.test(error.message));
}

/** The workflow's refusal (or its absence) as one of our error codes. */
export function refusalOf(error: unknown, refund: RefundRow): unknown {
  if (error instanceof RefundRequestError) return new RefundRequestError(error.code, error.message, { refundStatus: refund.status, ...error.facts });
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && isRefundErrorCode(error.cause.type)) {
    const facts = (error.cause.details?.[0] as Record<string, unknown> | undefined) ?? {};
    return new RefundRequestError(error.cause.type, error.cause.message, { ...facts, refundStatus: refund.status });
  }
  const gone = workflowGone(error);
  if (gone && ['rejected', 'expired', 'canceled', 'succeeded', 'corrected'].includes(refund.status)) {
    return new RefundRequestError('invalid_state', `the refund is ${refund.status} and can no longer change`, { refundStatus: refund.status });
  }
  if (gone) return new RefundRequestError('decision_not_recorded', 'the refund’s workflow is not running yet; try again in a few seconds', { refundStatus: refund.status });
  return error;
}
