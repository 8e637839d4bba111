import { and, asc, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import {
  idempotencyKeys,
  providerAttempts,
  refundEvents,
  refunds,
  type ProviderAttemptRow,
  type RefundEventRow,
  type RefundRow,
} from '../schema';
import type { Actor, ProviderState, RefundStatus } from '../../../workflows/lifecycle';
import { merchantEventsOfStep } from '../../../workflows/merchant-events';
import { recordMerchantEvents } from './merchant-events';
import { moveRefundedToReserved, moveReservedToRefunded, releaseReservedOnPayment, shiftPaymentTotals } from './payments';

export type NewRefund = typeof refunds.$inferInsert;
export type RefundChanges = Partial<Omit<NewRefund, 'id' | 'paymentId' | 'amount' | 'createdAt'>>;

export interface NewRefundEvent {
  eventKey: string;
  type: string;
  actor: Actor;
  detail?: Record<string, unknown>;
}

export async function findRefund(db: Executor, refundId: string): Promise<RefundRow | undefined> {
  const [refund] = await db.select().from(refunds).where(eq(refunds.id, refundId));
  return refund;
}

export async function findIdempotencyRecord(db: Executor, principal: string, key: string) {
  const [record] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
  return record;
}

/** Writes a new refund with its first provider attempt, its idempotency record and its first event. */
export async function insertRefund(
  tx: Executor,
  refund: NewRefund,
  idempotency: { principal: string; key: string; requestHash: string },
  providerKey: string,
  event: NewRefundEvent,
): Promise<RefundRow> {
  const [row] = await tx.insert(refunds).values(refund).returning();
  await tx.insert(providerAttempts).values({
    refundId: refund.id,
    attempt: 1,
    provider: refund.provider,
    idempotencyKey: providerKey,
    destinationAccount: refund.destinationAccount,
  });
  await tx.insert(idempotencyKeys).values({ ...idempotency, refundId: refund.id });
  await appendRefundEvent(tx, refund.id, event);
  await recordMerchantEvents(tx, refund.id, event.eventKey, ['refund.created', ...merchantEventsOfStep(event.type, refund.status)]);
  return row!;
}

/** Appends to the audit trail; a retried write of the same step is ignored (and returns false). */
export async function appendRefundEvent(db: Executor, refundId: string, event: NewRefundEvent): Promise<boolean> {
  const [inserted] = await db
    .insert(refundEvents)
    .values({
      refundId,
      eventKey: event.eventKey,
      type: event.type,
      actor: event.actor.principal,
      actorRole: event.actor.role,
      detail: event.detail ?? {},
    })
    .onConflictDoNothing({ target: [refundEvents.refundId, refundEvents.eventKey] })
    .returning({ id: refundEvents.id });
  return inserted !== undefined;
}

/** What a step does besides changing the refund's fields; each part is idempotent on its own. */
export interface StepEffects {
  /** Move the refund's amount on the payment: see `ReservationMove`. */
  reservation?: 'settle' | 'release' | 'reopen';
  /** The refund now pays through this provider attempt (a retry): copy its route and destination. */
  switchToAttempt?: number;
  /** Moves the payment's totals by parts of the refund (corrections). */
  paymentShift?: { refunded: number; reserved: number };
  /** Further writes in the same transaction (the customer's message). */
  alsoWrite?: (tx: Executor) => Promise<void>;
}

/**
 * Applies one workflow step in one transaction: its event, the refund's new fields, the money it
 * moves on the payment and the messages it sends. Every part is idempotent, so a retried
 * activity changes nothing; `workflowSeq` orders the field changes, so an older step landing
 * after a newer one never overwrites it.
 */
export async function applyWorkflowStep(db: Executor, refundId: string, seq: number, changes: RefundChanges, event: NewRefundEvent, effects: StepEffects = {}): Promise<void> {
  await db.transaction(async (tx) => {
    if (!(await appendRefundEvent(tx, refundId, event))) return; // this step was applied before: a retry
    let fields: RefundChanges = { ...changes };
    if (effects.switchToAttempt !== undefined) {
      const attempt = await findProviderAttempt(tx, refundId, effects.switchToAttempt);
      if (!attempt) throw new Error(`refund ${refundId} has no provider attempt ${effects.switchToAttempt}`);
      fields = {
        ...fields,
        provider: attempt.provider,
        providerAttempt: attempt.attempt,
        destinationType: attempt.destinationType,
        destinationAccount: attempt.destinationAccount,
        destinationAccountName: attempt.destinationAccountName,
        providerReference: null,
        traceReference: null,
      };
    }
    await tx
      .update(refunds)
      .set({ ...fields, workflowSeq: seq, updatedAt: sql`now()` })
      .where(and(eq(refunds.id, refundId), lt(refunds.workflowSeq, seq)));
    await recordMerchantEvents(tx, refundId, event.eventKey, merchantEventsOfStep(event.type, changes.status));
    if (effects.reservation === 'settle') await settleReservation(tx, refundId);
    if (effects.reservation === 'release') await releaseReservation(tx, refundId);
    if (effects.reservation === 'reopen') await reopenSettledReservation(tx, refundId);
    if (effects.paymentShift) {
      const [refund] = await tx.select({ paymentId: refunds.paymentId }).from(refunds).where(eq(refunds.id, refundId));
      await shiftPaymentTotals(tx, refund!.paymentId, effects.paymentShift);
    }
    if (effects.alsoWrite) await effects.alsoWrite(tx);
  });
}

/**
 * Writes down the route a person asked a retry to take, before the workflow is asked to take it:
 * the account number stays in our database and never enters the workflow's history. Until the
 * workflow switches to it the proposal may be replaced by another.
 */
export async function proposeProviderAttempt(
  db: Executor,
  proposal: {
    refundId: string;
    attempt: number;
    provider: ProviderAttemptRow['provider'];
    idempotencyKey: string;
    destinationType: 'original' | 'bank_transfer';
    destinationAccount: string;
    destinationAccountName: string | null;
    requestedBy: string;
    /** Set for a correction's payout; absent: the refund's net amount. */
    amount?: number | null;
  },
): Promise<void> {
  await db
    .insert(providerAttempts)
    .values(proposal)
    .onConflictDoUpdate({
      target: [providerAttempts.refundId, providerAttempts.attempt],
      set: {
        provider: proposal.provider,
        idempotencyKey: proposal.idempotencyKey,
        destinationType: proposal.destinationType,
        destinationAccount: proposal.destinationAccount,
        destinationAccountName: proposal.destinationAccountName,
        requestedBy: proposal.requestedBy,
        amount: proposal.amount ?? null,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${providerAttempts.state} = 'not_sent'`,
    });
}

export async function refundTimeline(db: Executor, refundId: string): Promise<RefundEventRow[]> {
  return db.select().from(refundEvents).where(eq(refundEvents.refundId, refundId)).orderBy(asc(refundEvents.id));
}

export async function findProviderAttempt(db: Executor, refundId: string, attempt: number): Promise<ProviderAttemptRow | undefined> {
  const [row] = await db
    .select()
    .from(providerAttempts)
    .where(and(eq(providerAttempts.refundId, refundId), eq(providerAttempts.attempt, attempt)));
  return row;
}

export async function findProviderAttemptByKey(db: Executor, provider: ProviderAttemptRow['provider'], idempotencyKey: string) {
  const [row] = await db
    .select()
    .from(providerAttempts)
    .where(and(eq(providerAttempts.provider, provider), eq(providerAttempts.idempotencyKey, idempotencyKey)));
  return row;
}

export async function updateProviderAttempt(
  db: Executor,
  refundId: string,
  attempt: number,
  changes: { state: ProviderState; reference?: string | null; traceReference?: string | null; failureReason?: string | null },
): Promise<void> {
  await db
    .update(providerAttempts)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(providerAttempts.refundId, refundId), eq(providerAttempts.attempt, attempt)));
}

/**
 * The refund's money arrived: its reservation becomes refunded on the payment. Guarded by the
 * reservation state, so running it twice moves the amount once.
 */
export async function settleReservation(db: Executor, refundId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [refund] = await tx
      .update(refunds)
      .set({ reservation: 'settled', updatedAt: sql`now()` })
      .where(and(eq(refunds.id, refundId), eq(refunds.reservation, 'reserved')))
      .returning();
    if (refund) await moveReservedToRefunded(tx, refund.paymentId, refund.amount);
  });
}

/**
 * The bank sent a settled refund's money back: it is no longer refunded but still owed to the
 * customer, so it is held on the payment again until someone retries or cancels. Once only.
 */
export async function reopenSettledReservation(db: Executor, refundId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [refund] = await tx
      .update(refunds)
      .set({ reservation: 'reserved', updatedAt: sql`now()` })
      .where(and(eq(refunds.id, refundId), eq(refunds.reservation, 'settled')))
      .returning();
    if (refund) await moveRefundedToReserved(tx, refund.paymentId, refund.amount);
  });
}

/** The refund closed without money moving: its reservation goes back to the payment, once. */
export async function releaseReservation(db: Executor, refundId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [refund] = await tx
      .update(refunds)
      .set({ reservation: 'released', updatedAt: sql`now()` })
      .where(and(eq(refunds.id, refundId), eq(refunds.reservation, 'reserved')))
      .returning();
    if (refund) await releaseReservedOnPayment(tx, refund.paymentId, refund.amount);
  });
}

export interface RefundListFilter {
  statuses?: RefundStatus[];
  merchantId?: string;
  paymentId?: string;
  needsAttention?: boolean;
  createdFrom?: Date;
  createdTo?: Date;
  /** Continue after this (createdAt, id) position, newest first. */
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id) so deep pages stay as fast as the first. */
export async function listRefunds(db: Executor, filter: RefundListFilter): Promise<RefundRow[]> {
  return listRefundsQuery(db, filter);
}

/** The list query itself, for listRefunds and for tests that check its plan uses the indexes. */
export function listRefundsQuery(db: Executor, filter: RefundListFilter) {
  const conditions: SQL[] = [];
  if (filter.statuses?.length) conditions.push(inArray(refunds.status, filter.statuses));
  if (filter.merchantId) conditions.push(eq(refunds.merchantId, filter.merchantId));
  if (filter.paymentId) conditions.push(eq(refunds.paymentId, filter.paymentId));
  if (filter.needsAttention) conditions.push(eq(refunds.needsAttention, true));
  if (filter.createdFrom) conditions.push(gte(refunds.createdAt, filter.createdFrom));
  if (filter.createdTo) conditions.push(lte(refunds.createdAt, filter.createdTo));
  if (filter.after) {
    conditions.push(
      or(lt(refunds.createdAt, filter.after.createdAt), and(eq(refunds.createdAt, filter.after.createdAt), lt(refunds.id, filter.after.id)))!,
    );
  }
  return db
    .select()
    .from(refunds)
    .where(and(...conditions))
    .orderBy(desc(refunds.createdAt), desc(refunds.id))
    .limit(filter.limit);
}
