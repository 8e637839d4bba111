import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { prepared } from '../prepared';
import { orders, payments, refunds, type PaymentRow } from '../schema';

export type NewPayment = typeof payments.$inferInsert;

/**
 * Registers a payment once. Returns the stored row and whether this call created it; a second
 * registration with the same id gets the existing row back and the caller compares hashes.
 */
export async function insertPaymentOnce(db: Executor, payment: NewPayment): Promise<{ payment: PaymentRow; created: boolean }> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx.insert(payments).values(payment).onConflictDoNothing({ target: payments.id }).returning();
    if (inserted) {
      await tx.insert(orders).values({ merchantId: payment.merchantId, orderId: payment.orderId }).onConflictDoNothing();
      return { payment: inserted, created: true };
    }
    const [existing] = await tx.select().from(payments).where(eq(payments.id, payment.id));
    return { payment: existing!, created: false };
  });
}

const paymentById = prepared('payment_by_id', (db) => db.select().from(payments).where(eq(payments.id, sql.placeholder('paymentId'))));

export async function findPayment(db: Executor, paymentId: string): Promise<PaymentRow | undefined> {
  const [payment] = await paymentById(db, { paymentId });
  return payment;
}

const paymentOfRefund = prepared('payment_of_refund', (db) =>
  db
    .select()
    .from(payments)
    .where(eq(payments.id, db.select({ paymentId: refunds.paymentId }).from(refunds).where(eq(refunds.id, sql.placeholder('refundId'))))),
);

/**
 * The payment a refund is against, by the refund's id, so that it can go beside a step's own first
 * writes in one round trip (a refund never changes payment).
 */
export async function findPaymentOfRefund(db: Executor, refundId: string): Promise<PaymentRow | undefined> {
  const [payment] = await paymentOfRefund(db, { refundId });
  return payment;
}

const paymentLocked = prepared('payment_locked', (db) => db.select().from(payments).where(eq(payments.id, sql.placeholder('paymentId'))).for('update'));

/** Locks the payment row for the rest of the transaction: refunds against it queue up here. */
export async function lockPayment(tx: Executor, paymentId: string): Promise<PaymentRow | undefined> {
  const [payment] = await paymentLocked(tx, { paymentId });
  return payment;
}

export async function refundIdsOfPayment(db: Executor, paymentId: string): Promise<string[]> {
  const rows = await db.select({ id: refunds.id }).from(refunds).where(eq(refunds.paymentId, paymentId)).orderBy(asc(refunds.createdAt), asc(refunds.id));
  return rows.map((row) => row.id);
}

/** Holds `amount` of the payment for a refund, checked beforehand under the payment's lock. */
export async function reserveOnPayment(tx: Executor, paymentId: string, amount: number): Promise<void> {
  if (!(await shiftPaymentTotals(tx, paymentId, { reserved: amount, refunded: 0 }))) {
    throw new Error(`payment ${paymentId} cannot hold ${amount} more: the refund was judged on totals its lock should have kept`);
  }
}

const paymentShift = prepared('payment_shift', (db) => {
  const refunded = sql`${payments.refundedAmount} + ${sql.placeholder('refunded')}::bigint`;
  const reserved = sql`${payments.reservedAmount} + ${sql.placeholder('reserved')}::bigint`;
  return db
    .update(payments)
    .set({ reservedAmount: reserved, refundedAmount: refunded, updatedAt: sql`now()` })
    .where(and(eq(payments.id, sql.placeholder('paymentId')), sql`${refunded} >= 0 AND ${reserved} >= 0 AND ${refunded} + ${reserved} <= ${payments.amount}`))
    .returning({ id: payments.id });
});

/**
 * Moves a payment's refunded and reserved totals by the given amounts, and refreshes the order's
 * status when what was refunded changed, inside the caller's transaction. False, with nothing
 * changed, when the shift would over-refund the payment or take a total below zero: the UPDATE's
 * condition is the table's CHECK, so a step learns it without an error that would abort its
 * transaction (no savepoint, no round trips for one); the CHECK still refuses whatever a path
 * without the condition might write.
 */
export async function shiftPaymentTotals(tx: Executor, paymentId: string, shift: { refunded: number; reserved: number }): Promise<boolean> {
  // The order's refresh follows the shift on the same connection, in the same round trip: it counts
  // the totals the shift left (a refused shift changed none, so it finds the status as it was).
  const [[payment]] = await Promise.all([paymentShift(tx, { paymentId, refunded: shift.refunded, reserved: shift.reserved }), shift.refunded !== 0 && orderStatusRefresh(tx, { paymentId })]);
  return payment !== undefined;
}

/** An order is refunded when everything captured on its payments has been refunded: the order of `paymentId`, counted again. */
const orderStatusRefresh = prepared('order_status_refresh', (db) =>
  db
    .update(orders)
    .set({
      updatedAt: sql`now()`,
      status: sql`(
        SELECT CASE
          WHEN coalesce(sum(p.refunded_amount), 0) = 0 THEN 'paid'
          WHEN sum(p.refunded_amount) >= sum(p.amount) FILTER (WHERE p.status IN ('captured', 'settled')) THEN 'refunded'
          ELSE 'partially_refunded' END::order_status
        FROM payments p WHERE p.merchant_id = ${orders.merchantId} AND p.order_id = ${orders.orderId})`,
    })
    .where(sql`(${orders.merchantId}, ${orders.orderId}) = (SELECT merchant_id, order_id FROM payments WHERE id = ${sql.placeholder('paymentId')})`),
);

export async function findOrderStatus(db: Executor, merchantId: string, orderId: string): Promise<string | undefined> {
  const [order] = await db.select({ status: orders.status }).from(orders).where(sql`${orders.merchantId} = ${merchantId} AND ${orders.orderId} = ${orderId}`);
  return order?.status;
}
