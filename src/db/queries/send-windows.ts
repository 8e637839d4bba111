import { sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { providerSendWindows } from '../schema';

/** How fast one provider account may be sent refunds: its key (the account and sub-merchant) and requests a second. */
export interface SendingRate {
  key: string;
  perSecond: number;
}

/**
 * Takes one of this second's sends for the account, if any is left: one upsert, counted in
 * PostgreSQL's clock so every worker shares the same seconds. False: wait for the next second.
 */
export async function takeSendingSlot(db: Executor, rate: SendingRate): Promise<boolean> {
  const taken = await db.execute(sql`
    INSERT INTO ${providerSendWindows} (rate_key, second, count)
    VALUES (${rate.key}, floor(extract(epoch FROM clock_timestamp()))::bigint, 1)
    ON CONFLICT (rate_key, second) DO UPDATE SET count = ${providerSendWindows}.count + 1
    WHERE ${providerSendWindows}.count < ${rate.perSecond}
    RETURNING count`);
  return taken.length > 0;
}

/** Forgets seconds long past. */
export async function purgeOldSendWindows(db: Executor): Promise<void> {
  await db.delete(providerSendWindows).where(sql`${providerSendWindows.second} < extract(epoch FROM now())::bigint - 60`);
}
