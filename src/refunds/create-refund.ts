/**
 * Taking a refund request: check it against the original payment, reserve its amount and write
 * it down — with the order to start its workflow — in one database transaction, then start the
 * workflow beside the answer. The payment row is locked for the transaction, so concurrent requests against one
 * payment (the same key sent a hundred times at once among them) queue up and each sees what the
 * previous one left; the table's CHECK constraint backs that up should any path ever skip it.
 */
import { place, type FieldSeal } from '../field-seal';
import type { Client } from '@temporalio/client';
import { pgErrorCode, type Database, type Executor } from '../db/client';
import { lockPayment, reserveOnPayment } from '../db/queries/payments';
import { findIdempotencyRecord, findRefund, insertRefund } from '../db/queries/refunds';
import type { PaymentRow, RefundEventRow, RefundRow } from '../db/schema';
import { newRefundId, providerIdempotencyKey } from '../ids';
import { requestHash } from '../request-hash';
import { markWorkflowStarted } from '../db/queries/workflow-starts';
import { startRefundWorkflow } from '../temporal/refund-workflows';
import type { RefundReason } from '../../workflows/lifecycle';
import { sees, type RefundCaller } from '../merchants/merchant-scope';
import type { RefundWorkflowInput } from '../../workflows/messages';
import { localDate } from '../../workflows/business-days';
import { policyFor, refundFee, refundWindowClosesAt, requiredApprovals, type RefundPolicy } from '../../workflows/policy';
import { findMerchant, findMerchantOfPayment } from '../db/queries/merchants';
import type { MerchantRow } from '../db/schema';
import { addToAutomaticTotal } from '../db/queries/automatic-refund-totals';
import { RefundRequestError } from './refund-errors';
import { requireRouteOpen, type RouteAdapters } from './routes';
import { batchClosesAt } from './card-batch';

/** What a refund's workflow is started with, besides the refund itself. */
export interface WorkflowDefaults {
  policy: RefundPolicy;
  providerPollIntervalMs: number;
  /** Merchants with an endpoint for refund events (MERCHANT_WEBHOOKS); the others read GET /v1/events. */
  merchantWebhooks?: ReadonlyMap<string, string>;
}

export interface RefundRequest {
  paymentId: string;
  amount: number;
  currency: string;
  reason: RefundReason;
  note?: string;
  requestedBy?: string;
  expectedRefundedTotal?: number;
}

export interface RefundServiceDeps extends WorkflowDefaults {
  db: Database;
  temporal: Client;
  taskQueue: string;
  /** Which routes this deployment pays out along. */
  routes: RouteAdapters;
  /** The card route's acquirer voids a sale still in its open batch; the sandbox only refunds. */
  voidsCardSales?: boolean;
  /** Seals account numbers at rest: the payer's, opened from the payment, is sealed again to the refund's row. */
  fields: FieldSeal;
}

export interface CreatedRefund {
  refund: RefundRow;
  /** True when the idempotency key had already created this refund. */
  replayed: boolean;
  /** The refund's first timeline entry, when this request created it. */
  created?: RefundEventRow;
  /** Its merchant's record, when this request created it (null: a merchant without one). */
  merchant?: MerchantRow | null;
  /** For a new refund: settles once its workflow's start landed, or was left to the relay. */
  started?: Promise<void>;
}

const UNIQUE_VIOLATION = '23505';

export async function createRefund(
  deps: RefundServiceDeps,
  caller: RefundCaller,
  idempotencyKey: string,
  request: RefundRequest,
): Promise<CreatedRefund> {
  const created = await recordRefundRequest(deps, caller, idempotencyKey, request);
  // A replay never starts anything: the first request did, or its outbox row still will (an old
  // key can never start a refund whose workflow is long gone). A new refund is accepted once it is
  // on record with its start order: its workflow is started beside the answer, not before it, so
  // the caller never waits on Temporal; should this process die first, the relay starts it.
  if (created.replayed) return created;
  return { ...created, started: startWorkflowOfRefund(deps, created.refund, created.merchant).catch(() => undefined) };
}

/**
 * Starts the refund's workflow, or finds it started, and closes its start order. Taking a refund
 * calls it beside its answer; a decision that arrives before that start has landed calls it too.
 */
export async function startWorkflowOfRefund(deps: RefundServiceDeps, refund: RefundRow, merchant?: MerchantRow | null): Promise<void> {
  const record = merchant === undefined ? await findMerchant(deps.db, refund.merchantId) : merchant;
  await startRefundWorkflow(deps.temporal, deps.taskQueue, workflowInputOf(refund, deps, record ?? undefined));
  await markWorkflowStarted(deps.db, refund.id);
}

/** The database half of taking a refund request: checks, reservation, the refund row, in one transaction. */
export async function recordRefundRequest(
  deps: Pick<RefundServiceDeps, 'db' | 'policy' | 'routes' | 'fields' | 'voidsCardSales'>,
  caller: RefundCaller,
  idempotencyKey: string,
  request: RefundRequest,
): Promise<CreatedRefund> {
  const hash = requestHash(request);
  try {
    return await deps.db.transaction((tx) => recordRefund(tx, deps, caller, idempotencyKey, hash, request));
  } catch (error) {
    // The same key arrived twice at once for two payments, and the other committed first: decide again, seeing it.
    if (pgErrorCode(error) !== UNIQUE_VIOLATION) throw error;
    return deps.db.transaction((tx) => recordRefund(tx, deps, caller, idempotencyKey, hash, request));
  }
}

async function recordRefund(
  tx: Executor,
  { policy: deploymentPolicy, routes, fields, voidsCardSales }: Pick<RefundServiceDeps, 'policy' | 'routes' | 'fields' | 'voidsCardSales'>,
  caller: RefundCaller,
  idempotencyKey: string,
  hash: string,
  request: RefundRequest,
): Promise<CreatedRefund> {
  // The payment's lock first: a request with the same key queued behind it then sees the refund
  // the first one made and is answered as its replay, never as a second refund or a 422.
  // Sent together; PostgreSQL runs the others once the first has its lock, on what was committed by
  // then. The payment's merchant record comes along (a payment never changes merchant), read only
  // if the caller may see the payment.
  const [payment, previous, merchant] = await Promise.all([
    lockPayment(tx, request.paymentId),
    findIdempotencyRecord(tx, caller.principal, idempotencyKey),
    findMerchantOfPayment(tx, request.paymentId),
  ]);
  if (previous) {
    if (previous.requestHash !== hash) {
      throw new RefundRequestError('idempotency_key_reused', `Idempotency-Key "${idempotencyKey}" was already used for a different request`, {
        refundId: previous.refundId,
      });
    }
    const replayed = (await findRefund(tx, previous.refundId))!;
    // The same person under a key for other merchants gets nothing of this one's.
    if (!sees(caller.merchants, replayed.merchantId)) throw new RefundRequestError('payment_not_found', `No payment ${request.paymentId}`);
    return { refund: replayed, replayed: true };
  }

  // Another merchant's payment does not exist for this caller.
  if (!payment || !sees(caller.merchants, payment.merchantId)) throw new RefundRequestError('payment_not_found', `No payment ${request.paymentId}`);
  // The merchant's own limits and windows where it sets them.
  const policy = policyFor(deploymentPolicy, merchant?.policy);
  requireRouteOpen(routes, payment.channel);
  checkRefundable(payment, request, policy, new Date());

  const fee = refundFee(request.amount, request.reason, policy);
  // Judged on the payment's total with this refund, under the payment's lock: parts sent at once are
  // counted one after another, so splitting a refund never needs fewer approvals than the whole.
  const refundedBefore = payment.refundedAmount + payment.reservedAmount;
  let approvals = requiredApprovals({ amount: request.amount, refundedBefore, reason: request.reason, toOriginalDestination: true }, policy);
  // Nor can one key spread refunds over many payments: past its daily automatic total, a supervisor approves.
  if (approvals === 0 && policy.dailyAutoApproveMax !== undefined) {
    const businessDay = localDate(Date.now(), policy.utcOffsetMinutes);
    if (!(await addToAutomaticTotal(tx, caller.principal, businessDay, request.currency, request.amount, policy.dailyAutoApproveMax))) approvals = 1;
  }
  const refundId = newRefundId();
  // The payer's account, opened from the payment and sealed again to the attempt that pays it (the
  // refund's row holds its current attempt's, as that attempt holds it).
  const destination = fields.seal(fields.open(payment.payerAccount, place.payment(payment.id)), place.attempt(refundId, 1));
  // Millisecond precision, like the list cursor that pages on it and the workflow's timers.
  const createdAt = new Date();
  const [, { refund, created }] = await Promise.all([
    reserveOnPayment(tx, payment.id, request.amount),
    insertRefund(
      tx,
      {
        id: refundId,
        paymentId: payment.id,
        merchantId: payment.merchantId,
        orderId: payment.orderId,
        channel: payment.channel,
        amount: request.amount,
        fee,
        netAmount: request.amount - fee,
        currency: request.currency,
        reason: request.reason,
        note: request.note ?? null,
        status: approvals > 0 ? 'pending_approval' : 'processing',
        requestedBy: request.requestedBy ?? caller.principal,
        createdBy: caller.principal,
        requiredApprovals: approvals,
        destinationAccount: destination,
        destinationLast4: payment.payerLast4,
        payerLast4: payment.payerLast4,
        provider: payment.channel,
        voidableUntil: voidsCardSales ? voidableUntilOf(payment, request, policy, merchant) : null,
        createdAt,
        approvalDueAt: approvals > 0 ? new Date(createdAt.getTime() + policy.approvalTimeoutMs) : null,
      },
      { principal: caller.principal, key: idempotencyKey, requestHash: hash },
      { idempotencyKey: providerIdempotencyKey(refundId, 1), destinationAccount: destination },
      {
        eventKey: 'created',
        type: 'created',
        actor: caller,
        detail: { amount: request.amount, currency: request.currency, reason: request.reason, requiredApprovals: approvals, reserved: request.amount, refundedBefore },
      },
    ),
  ]);
  return { refund, replayed: false, created, merchant: merchant ?? null };
}

/**
 * A whole card sale, refunded through an acquirer that voids, not yet settled by the merchant's
 * word: until when it is in its open batch (the workflow voids it before then, refunds it after).
 */
function voidableUntilOf(payment: PaymentRow, request: RefundRequest, policy: RefundPolicy, merchant: MerchantRow | undefined): Date | null {
  if (payment.channel !== 'card' || payment.status !== 'captured' || request.amount !== payment.amount) return null;
  return batchClosesAt(payment.capturedAt, policy.cardCutoff, { timeZone: merchant?.timeZone, utcOffsetMinutes: policy.utcOffsetMinutes });
}

/** SPEC §2 rules 1 and 3 and the policy's refund window, in the order a caller would fix them. */
function checkRefundable(payment: PaymentRow, request: RefundRequest, policy: RefundPolicy, now: Date): void {
  if (payment.status !== 'captured' && payment.status !== 'settled') {
    throw new RefundRequestError('payment_not_refundable', `Payment ${payment.id} is ${payment.status}; only captured or settled payments can be refunded`, {
      paymentStatus: payment.status,
    });
  }
  if (request.currency !== payment.currency) {
    throw new RefundRequestError('currency_mismatch', `Payment ${payment.id} is in ${payment.currency}, not ${request.currency}`, {
      paymentCurrency: payment.currency,
    });
  }
  const closesAt = refundWindowClosesAt(payment.capturedAt.getTime(), payment.channel, policy);
  if (now.getTime() > closesAt) {
    throw new RefundRequestError('refund_window_closed', `Refunds of ${payment.channel} payments are accepted until ${new Date(closesAt).toISOString()}`, {
      windowClosedAt: new Date(closesAt).toISOString(),
    });
  }
  // Refunded or in flight: a partial refund sent twice under two keys sees the first one here.
  const refundedTotal = payment.refundedAmount + payment.reservedAmount;
  if (request.expectedRefundedTotal !== undefined && request.expectedRefundedTotal !== refundedTotal) {
    throw new RefundRequestError(
      'refunded_total_mismatch',
      `Expected ${request.expectedRefundedTotal} already refunded on payment ${payment.id}, but it is ${refundedTotal}`,
      { refundedTotal },
    );
  }
  const refundable = payment.amount - refundedTotal;
  if (request.amount > refundable) {
    throw new RefundRequestError('amount_exceeds_refundable', `Only ${refundable} ${payment.currency} minor units remain refundable on payment ${payment.id}`, {
      refundableAmount: refundable,
    });
  }
}

/** The workflow's input: the refund, and the policy and event delivery of its merchant (its record's, over the deployment's). */
export function workflowInputOf(refund: RefundRow, deps: WorkflowDefaults, merchant?: MerchantRow): RefundWorkflowInput {
  return {
    refundId: refund.id,
    paymentId: refund.paymentId,
    merchantId: refund.merchantId,
    channel: refund.channel,
    amount: refund.amount,
    netAmount: refund.netAmount,
    currency: refund.currency,
    reason: refund.reason,
    requestedBy: refund.requestedBy,
    createdBy: refund.createdBy,
    requiredApprovals: refund.requiredApprovals as 0 | 1 | 2,
    createdAt: refund.createdAt.toISOString(),
    provider: refund.provider,
    voidableUntil: refund.voidableUntil?.toISOString() ?? null,
    policy: policyFor(deps.policy, merchant?.policy),
    providerPollIntervalMs: deps.providerPollIntervalMs,
    // No endpoint, nothing to deliver: the workflow schedules no deliveries (a merchant added
    // later catches up on earlier refunds with GET /v1/events).
    deliversMerchantEvents: Boolean(merchant?.webhookUrl) || (deps.merchantWebhooks?.has(refund.merchantId) ?? false),
  };
}
