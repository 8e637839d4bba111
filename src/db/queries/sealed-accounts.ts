/**
 * Keeps every account number at rest sealed under the current key: run when the service starts, it
 * seals what a database from before sealing still holds in the clear and seals again what an older
 * key sealed (a key rotation: put the new key first in ACCOUNT_SEAL_KEYS, start, then drop the old
 * one). In batches, each row by its own compare-and-set, so API and workers starting together never
 * undo each other's work.
 */
import { and, eq, notLike, sql } from 'drizzle-orm';
import { lastFourOf, place, type FieldSeal } from '../../field-seal';
import type { Executor } from '../client';
import { payments, providerAttempts, refunds } from '../schema';

const BATCH = 500;

export async function sealAccountsAtRest(db: Executor, fields: FieldSeal): Promise<number> {
  const stale = `${fields.currentPrefix}%`;
  let sealed = 0;
  for (;;) {
    const rows = await db.select({ id: payments.id, account: payments.payerAccount }).from(payments).where(notLike(payments.payerAccount, stale)).limit(BATCH);
    for (const row of rows) {
      const account = fields.open(row.account, place.payment(row.id));
      await db
        .update(payments)
        .set({ payerAccount: fields.seal(account, place.payment(row.id)), payerLast4: lastFourOf(account) })
        .where(and(eq(payments.id, row.id), eq(payments.payerAccount, row.account)));
    }
    sealed += rows.length;
    if (rows.length < BATCH) break;
  }
  for (;;) {
    const rows = await db
      .select({ refundId: providerAttempts.refundId, attempt: providerAttempts.attempt, account: providerAttempts.destinationAccount })
      .from(providerAttempts)
      .where(notLike(providerAttempts.destinationAccount, stale))
      .limit(BATCH);
    for (const row of rows) {
      const account = fields.open(row.account, place.attempt(row.refundId, row.attempt));
      const resealed = fields.seal(account, place.attempt(row.refundId, row.attempt));
      await db
        .update(providerAttempts)
        .set({ destinationAccount: resealed, destinationLast4: lastFourOf(account) })
        .where(and(eq(providerAttempts.refundId, row.refundId), eq(providerAttempts.attempt, row.attempt), eq(providerAttempts.destinationAccount, row.account)));
    }
    sealed += rows.length;
    if (rows.length < BATCH) break;
  }
  // A refund's row holds its current attempt's sealed account, as that attempt holds it now.
  await db.execute(sql`
    UPDATE ${refunds} r SET destination_account = a.destination_account, destination_last4 = a.destination_last4
    FROM ${providerAttempts} a
    WHERE r.destination_account NOT LIKE ${stale} AND a.refund_id = r.id AND a.attempt = r.provider_attempt`);
  return sealed;
}
