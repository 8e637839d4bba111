import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { prepared } from '../prepared';
import { merchantRoutes, merchants, payments, type MerchantRouteRow, type MerchantRow } from '../schema';

export type NewMerchant = typeof merchants.$inferInsert;

/** Creates the merchant; undefined when one with its id exists already. */
export async function insertMerchant(db: Executor, merchant: NewMerchant): Promise<MerchantRow | undefined> {
  const [row] = await db.insert(merchants).values(merchant).onConflictDoNothing({ target: merchants.id }).returning();
  return row;
}

export async function findMerchant(db: Executor, id: string): Promise<MerchantRow | undefined> {
  const [row] = await db.select().from(merchants).where(eq(merchants.id, id));
  return row;
}

/** The record of the merchant a payment belongs to, by the payment's id: sent with the payment's lock, in the same round trip. */
export async function findMerchantOfPayment(db: Executor, paymentId: string): Promise<MerchantRow | undefined> {
  const [row] = await merchantOfPayment(db, { paymentId });
  return row;
}

const merchantOfPayment = prepared('merchant_of_payment', (db) =>
  db
    .select()
    .from(merchants)
    .where(inArray(merchants.id, db.select({ id: payments.merchantId }).from(payments).where(eq(payments.id, sql.placeholder('paymentId'))))),
);

/** Every merchant, or those of `ids`, by id. */
export async function listMerchants(db: Executor, ids: readonly string[] | null): Promise<MerchantRow[]> {
  return db
    .select()
    .from(merchants)
    .where(ids === null ? undefined : inArray(merchants.id, [...ids, '']))
    .orderBy(asc(merchants.id));
}

export async function updateMerchant(db: Executor, id: string, changes: Partial<Pick<MerchantRow, 'name' | 'timeZone' | 'locale' | 'policy' | 'webhookUrl' | 'webhookSecret'>>): Promise<MerchantRow | undefined> {
  const [row] = await db
    .update(merchants)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(merchants.id, id))
    .returning();
  return row;
}

/** Sets how the merchant's refunds go along a route (replacing what was set). */
export async function putMerchantRoute(db: Executor, row: Pick<MerchantRouteRow, 'merchantId' | 'route' | 'settings' | 'secrets'>): Promise<MerchantRouteRow> {
  const [stored] = await db
    .insert(merchantRoutes)
    .values(row)
    .onConflictDoUpdate({ target: [merchantRoutes.merchantId, merchantRoutes.route], set: { settings: row.settings, secrets: row.secrets, updatedAt: sql`now()` } })
    .returning();
  return stored!;
}

export async function findMerchantRoute(db: Executor, merchantId: string, route: string): Promise<MerchantRouteRow | undefined> {
  const [row] = await merchantRoute(db, { merchantId, route });
  return row;
}

/** Asked before every wallet payout: built once. */
const merchantRoute = prepared('merchant_route', (db) =>
  db
    .select()
    .from(merchantRoutes)
    .where(and(eq(merchantRoutes.merchantId, sql.placeholder('merchantId')), eq(merchantRoutes.route, sql.placeholder('route')))),
);

export async function merchantRoutesOf(db: Executor, merchantId: string): Promise<MerchantRouteRow[]> {
  return db.select().from(merchantRoutes).where(eq(merchantRoutes.merchantId, merchantId)).orderBy(asc(merchantRoutes.route));
}
