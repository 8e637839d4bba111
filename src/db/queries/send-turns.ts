import { sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { providerSendTurns } from '../schema';

/** How fast one provider account may be sent refunds: its key (the account and sub-merchant) and requests a second. */
export interface SendingRate {
  key: string;
  perSecond: number;
}

/** A send's turn: when it is, in PostgreSQL's clock, and how long from the answer to it (0: now). */
export interface SendingTurn {
  at: Date;
  waitMs: number;
}

/**
 * Takes the account's next turn to send, if it comes within `longestWaitMs`; undefined, nothing
 * taken, when every turn that soon is taken already. Turns are a rate's interval apart in
 * PostgreSQL's clock, so every worker shares them; one upsert, its row lock held for that statement
 * alone. A turn taken and not used (its send claimed by another run, its worker gone) is lost: the
 * account sends slower for it, never faster.
 */
export async function takeSendingTurn(db: Executor, rate: SendingRate, longestWaitMs: number): Promise<SendingTurn | undefined> {
  const interval = sql`make_interval(secs => ${1 / rate.perSecond}::float8)`;
  const [turn] = await db.execute<{ at: string; wait_ms: number }>(sql`
    INSERT INTO ${providerSendTurns} AS t (rate_key, next_at)
    VALUES (${rate.key}, clock_timestamp() + ${interval})
    ON CONFLICT (rate_key) DO UPDATE SET next_at = greatest(t.next_at, clock_timestamp()) + ${interval}
    WHERE t.next_at < clock_timestamp() + make_interval(secs => ${longestWaitMs / 1000}::float8)
    RETURNING t.next_at - ${interval} AS at, greatest(0, ceil(extract(epoch FROM t.next_at - ${interval} - clock_timestamp()) * 1000))::int AS wait_ms`);
  return turn && { at: new Date(turn.at), waitMs: turn.wait_ms };
}
