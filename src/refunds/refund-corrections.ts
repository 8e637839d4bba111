/**
 * A supervisor's correction of a refund that went out wrong: a lower total (reverse the excess),
 * a higher one (pay the shortfall), or another account (reverse and re-issue). Decided and
 * prepared here, carried out by the refund's workflow as compensating activities.
 */
import type { Client } from '@temporalio/client';
import type { Database, Executor } from '../db/client';
import { findPayment, lockPayment, shiftPaymentTotals } from '../db/queries/payments';
import { findProviderAttempt, findRefund, proposeProviderAttempt } from '../db/queries/refunds';
import type { RefundRow } from '../db/schema';
import { providerIdempotencyKey, ulid } from '../ids';
import { refundHandle } from '../temporal/refund-workflows';
import type { Actor, Role } from '../../workflows/lifecycle';
import { correctRefundUpdate, type CorrectionRequest } from '../../workflows/messages';
import { refusalOf, routeTo, type RetryDestination } from './refund-decisions';
import { requireRefund } from './require-refund';
import { RefundRequestError } from './refund-errors';

export interface CorrectionOrder {
  /** The correct total of the refund, in minor units. */
  amount?: number;
  /** The correct account. */
  destination?: RetryDestination;
  reason: string;
}

export async function correctRefund(
  deps: { db: Database; temporal: Client },
  caller: Actor & { role: Role },
  refundId: string,
  order: CorrectionOrder,
): Promise<RefundRow> {
  const refund = await requireRefund(deps.db, refundId);
  if (refund.status !== 'succeeded' && refund.status !== 'corrected') {
    throw new RefundRequestError('invalid_state', `the refund is ${refund.status}; corrections need succeeded or corrected`, { status: refund.status });
  }
  const correctionId = `corr_${ulid()}`;
  const attempt = refund.providerAttempt + 1;
  const request = await prepare(deps.db, refund, { correctionId, attempt, order, principal: caller.principal });
  try {
    await refundHandle(deps.temporal, refundId).executeUpdate(correctRefundUpdate, {
      args: [{ ...request, principal: caller.principal, role: caller.role, reason: order.reason }],
    });
  } catch (error) {
    // Refused: what was prepared is undone, so a refused correction changes nothing.
    if (request.kind === 'supplementary') await deps.db.transaction((tx) => shiftPaymentTotals(tx, refund.paymentId, { refunded: 0, reserved: -(request.newTotal - refund.amount) }));
    throw refusalOf(error, refund);
  }
  return (await findRefund(deps.db, refundId))!;
}

type PreparedCorrection = Pick<CorrectionRequest, 'correctionId' | 'kind' | 'newTotal' | 'attempt' | 'provider'>;

async function prepare(
  db: Database,
  refund: RefundRow,
  { correctionId, attempt, order, principal }: { correctionId: string; attempt: number; order: CorrectionOrder; principal: string },
): Promise<PreparedCorrection> {
  if (order.destination) {
    if (order.amount !== undefined && order.amount !== refund.amount) {
      throw new RefundRequestError('correction_not_needed', 'correct the account and the amount one at a time');
    }
    const route = routeTo((await findPayment(db, refund.paymentId))!, order.destination);
    if (route.destinationAccount === refund.destinationAccount) throw new RefundRequestError('correction_not_needed', 'the refund already went to that account');
    await proposeProviderAttempt(db, {
      refundId: refund.id,
      attempt,
      idempotencyKey: providerIdempotencyKey(refund.id, attempt),
      destinationType: order.destination.type,
      requestedBy: principal,
      amount: refund.netAmount,
      ...route,
    });
    return { correctionId, kind: 'reissue', newTotal: refund.amount, attempt, provider: route.provider };
  }
  const newTotal = order.amount!;
  if (newTotal === refund.amount) throw new RefundRequestError('correction_not_needed', `the refund is already ${newTotal}`);
  if (newTotal <= refund.fee) throw new RefundRequestError('correction_not_needed', `the corrected total must be more than the fee of ${refund.fee}`);
  if (newTotal < refund.amount) return { correctionId, kind: 'reversal', newTotal };

  // A shortfall is reserved now, under the payment's row lock, like a new refund.
  const shortfall = newTotal - refund.amount;
  const current = (await findProviderAttempt(db, refund.id, refund.providerAttempt))!;
  await db.transaction(async (tx: Executor) => {
    const payment = (await lockPayment(tx, refund.paymentId))!;
    const refundable = payment.amount - payment.refundedAmount - payment.reservedAmount;
    if (shortfall > refundable) {
      throw new RefundRequestError('amount_exceeds_refundable', `Only ${refundable} ${payment.currency} minor units remain refundable on payment ${payment.id}`, {
        refundableAmount: refundable,
      });
    }
    await shiftPaymentTotals(tx, payment.id, { refunded: 0, reserved: shortfall });
    await proposeProviderAttempt(tx, {
      refundId: refund.id,
      attempt,
      idempotencyKey: providerIdempotencyKey(refund.id, attempt),
      provider: current.provider,
      destinationType: current.destinationType,
      destinationAccount: current.destinationAccount,
      destinationAccountName: current.destinationAccountName,
      requestedBy: principal,
      amount: shortfall,
    });
  });
  return { correctionId, kind: 'supplementary', newTotal, attempt, provider: current.provider };
}
