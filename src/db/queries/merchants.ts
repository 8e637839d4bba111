import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { merchants, type MerchantRow } from '../schema';

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

/** Every merchant, or those of `ids`, by id. */
export async function listMerchants(db: Executor, ids: readonly string[] | null): Promise<MerchantRow[]> {
  return db
    .select()
    .from(merchants)
    .where(ids === null ? undefined : inArray(merchants.id, [...ids, '']))
    .orderBy(asc(merchants.id));
}

export async function updateMerchant(db: Executor, id: string, changes: Partial<Pick<MerchantRow, 'name' | 'timeZone' | 'locale'>>): Promise<MerchantRow | undefined> {
  const [row] = await db
    .update(merchants)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(merchants.id, id))
    .returning();
  return row;
}
