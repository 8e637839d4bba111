/**
 * People's decisions on a refund (approve, reject, cancel, retry), delivered to its workflow as
 * Updates. The workflow's validators are the authority on state, roles and maker-checker; this
 * module turns their refusals into our error codes and answers with the refund as the workflow
 * left it (the Update returns only after the step is written to the read model).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../db/client';
import { findPayment } from '../db/queries/payments';
import { findRefund, proposeProviderAttempt } from '../db/queries/refunds';
import type { PaymentRow, RefundRow } from '../db/schema';
import { providerIdempotencyKey } from '../ids';
import { refundHandle } from '../temporal/refund-workflows';
import type { Actor, Role } from '../../workflows/lifecycle';
import {
  approveRefundUpdate,
  cancelRefundUpdate,
  REFUSALS,
  rejectRefundUpdate,
  retryRefundUpdate,
} from '../../workflows/messages';
import { requireRefund } from './require-refund';
import { RefundRequestError, type RefundErrorCode } from './refund-errors';

export type RetryDestination = { type: 'original' } | { type: 'bank_transfer'; account: string; accountName: string };

export type RefundDecision =
  | { kind: 'approve'; comment?: string }
  | { kind: 'reject'; reason: string }
  | { kind: 'cancel'; reason?: string }
  | { kind: 'retry'; destination?: RetryDestination };

const REFUSAL_CODES: Record<string, RefundErrorCode> = {
  [REFUSALS.invalidState]: 'invalid_state',
  [REFUSALS.makerChecker]: 'maker_checker_violation',
  [REFUSALS.forbidden]: 'decision_forbidden',
  [REFUSALS.providerCannotCancel]: 'provider_cannot_cancel',
};

export async function decideRefund(
  deps: { db: Database; temporal: Client },
  caller: Actor & { role: Role },
  refundId: string,
  decision: RefundDecision,
): Promise<RefundRow> {
  const refund = await requireRefund(deps.db, refundId);
  const handle = refundHandle(deps.temporal, refundId);
  const decider = { principal: caller.principal, role: caller.role };
  try {
    switch (decision.kind) {
      case 'approve':
        await handle.executeUpdate(approveRefundUpdate, { args: [{ ...decider, comment: decision.comment ?? null }] });
        break;
      case 'reject':
        await handle.executeUpdate(rejectRefundUpdate, { args: [{ ...decider, reason: decision.reason }] });
        break;
      case 'cancel':
        await handle.executeUpdate(cancelRefundUpdate, { args: [{ ...decider, reason: decision.reason ?? null }] });
        break;
      case 'retry':
        await retry(deps.db, handle, refund, decider, decision.destination ?? { type: 'original' });
        break;
    }
  } catch (error) {
    throw refusalOf(error, refund);
  }
  return (await findRefund(deps.db, refundId))!;
}

/**
 * Writes the chosen route down as the next provider attempt, then asks the workflow to take it.
 * The account travels by our database, never in the Update's arguments (workflow history is
 * visible in the Temporal UI).
 */
async function retry(
  db: Database,
  handle: ReturnType<typeof refundHandle>,
  refund: RefundRow,
  decider: { principal: string; role: Role },
  destination: RetryDestination,
): Promise<void> {
  // Checked here too (the workflow checks again) so that a refused retry writes no proposal.
  if (destination.type !== 'original' && decider.role !== 'supervisor') {
    throw new RefundRequestError('decision_forbidden', 'only a supervisor may send a refund another way');
  }
  if (refund.status !== 'requires_action') {
    throw new RefundRequestError('invalid_state', `the refund is ${refund.status}; a retry needs requires_action`, { status: refund.status });
  }
  const payment = (await findPayment(db, refund.paymentId))!;
  const attempt = refund.providerAttempt + 1;
  const route = routeTo(payment, destination);
  await proposeProviderAttempt(db, {
    refundId: refund.id,
    attempt,
    idempotencyKey: providerIdempotencyKey(refund.id, attempt),
    destinationType: destination.type,
    requestedBy: decider.principal,
    ...route,
  });
  await handle.executeUpdate(retryRefundUpdate, { args: [{ ...decider, attempt, provider: route.provider, otherRoute: destination.type !== 'original' }] });
}

/** Which provider pays, and to which account, for a destination a person chose. */
export function routeTo(payment: PaymentRow, destination: RetryDestination) {
  return destination.type === 'original'
    ? { provider: payment.channel, destinationAccount: payment.payerAccount, destinationAccountName: null }
    : { provider: 'bank_transfer' as const, destinationAccount: destination.account, destinationAccountName: destination.accountName };
}

export function refusalOf(error: unknown, refund: RefundRow): unknown {
  if (error instanceof RefundRequestError) return error;
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    const code = REFUSAL_CODES[error.cause.type ?? ''];
    if (code) return new RefundRequestError(code, error.cause.message, { status: refund.status });
  }
  // The workflow has ended: the refund is closed, and no decision can change it any more.
  if (error instanceof WorkflowNotFoundError || (error instanceof Error && /workflow execution already completed/i.test(error.message))) {
    return new RefundRequestError('invalid_state', `the refund is ${refund.status} and can no longer change`, { status: refund.status });
  }
  return error;
}
