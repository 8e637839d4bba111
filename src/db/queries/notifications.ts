import { asc, eq, sql } from 'drizzle-orm';
import { maskText } from '../../masking';
import type { Executor } from '../client';
import { placeholders, prepared, preparedByShape, shapeOf } from '../prepared';
import { notifications, type NotificationRow } from '../schema';

export type NewNotification = typeof notifications.$inferInsert;

/** Queues a customer message once per refund and step: a retried activity queues nothing more. */
export async function enqueueNotification(db: Executor, notification: NewNotification): Promise<void> {
  await newNotification(db, shapeOf(notification), notification);
}

const newNotification = preparedByShape('new_notification', (db, fields) =>
  db
    .insert(notifications)
    .values(placeholders<NewNotification>(fields))
    .onConflictDoNothing({ target: [notifications.refundId, notifications.noticeKey] }),
);

export async function notificationsOfRefund(db: Executor, refundId: string): Promise<NotificationRow[]> {
  return db.select().from(notifications).where(eq(notifications.refundId, refundId)).orderBy(asc(notifications.id));
}

/** Tries before a message is given up (a dead letter, status `failed`, shown on the refund's page). */
export const MAX_DELIVERY_ATTEMPTS = 12;

/** Wait before the next try: 5 s, doubling, at most 30 min — twelve tries span about two hours. */
export function retryDelaySeconds(attemptsSoFar: number): number {
  return Math.min(5 * 2 ** Math.max(0, attemptsSoFar - 1), 1_800);
}

const notificationsDue = prepared('notifications_due', (db) =>
  db
    .select()
    .from(notifications)
    .where(sql`${notifications.status} = 'pending' AND ${notifications.nextAttemptAt} <= now()`)
    .orderBy(asc(notifications.nextAttemptAt), asc(notifications.id))
    .limit(sql.placeholder('batch'))
    .for('update', { skipLocked: true }),
);

/** The messages of a batch that went out: marked in one statement, under the locks the batch holds. */
const notificationsSent = prepared('notifications_sent', (db) =>
  db
    .update(notifications)
    .set({ status: 'sent', sentAt: sql`now()`, attempts: sql`${notifications.attempts} + 1`, lastError: null })
    .where(sql`${notifications.id} = ANY(${sql.placeholder('ids')}::bigint[])`),
);

/**
 * Delivers the messages that are due with `send`, each claimed under a row lock (SKIP LOCKED), so
 * several dispatchers never send the same message twice at once. A failure is tried again later
 * (backing off), and after MAX_DELIVERY_ATTEMPTS it stays `failed` for support to see.
 */
export async function deliverPendingNotifications(
  db: Executor,
  send: (notification: NotificationRow) => Promise<void>,
  batch = 20,
): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await notificationsDue(tx, { batch });
    const sent: number[] = [];
    for (const notification of due) {
      const attempts = notification.attempts + 1;
      try {
        await send(notification);
        sent.push(notification.id);
      } catch (error) {
        const givenUp = attempts >= MAX_DELIVERY_ATTEMPTS;
        await tx
          .update(notifications)
          .set({
            attempts,
            // Servers quote the address they refused: kept masked, as everything support reads.
            lastError: maskText(error instanceof Error ? error.message : String(error)),
            status: givenUp ? 'failed' : 'pending',
            nextAttemptAt: sql`now() + make_interval(secs => ${retryDelaySeconds(attempts)})`,
          })
          .where(eq(notifications.id, notification.id));
      }
    }
    if (sent.length > 0) await notificationsSent(tx, { ids: sent });
    return due.length;
  });
}
