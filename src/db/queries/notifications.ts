import { asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { notifications, type NotificationRow } from '../schema';

export type NewNotification = typeof notifications.$inferInsert;

/** Queues a customer message once per refund and step: a retried activity queues nothing more. */
export async function enqueueNotification(db: Executor, notification: NewNotification): Promise<void> {
  await db.insert(notifications).values(notification).onConflictDoNothing({ target: [notifications.refundId, notifications.noticeKey] });
}

export async function notificationsOfRefund(db: Executor, refundId: string): Promise<NotificationRow[]> {
  return db.select().from(notifications).where(eq(notifications.refundId, refundId)).orderBy(asc(notifications.id));
}

/**
 * Delivers pending messages with `send`, each claimed under a row lock (SKIP LOCKED), so several
 * dispatchers never send the same message twice at once.
 */
export async function deliverPendingNotifications(
  db: Executor,
  send: (notification: NotificationRow) => Promise<void>,
  batch = 20,
): Promise<number> {
  return db.transaction(async (tx) => {
    const pending = await tx
      .select()
      .from(notifications)
      .where(sql`${notifications.status} = 'pending' AND ${notifications.attempts} < 10`)
      .orderBy(asc(notifications.id))
      .limit(batch)
      .for('update', { skipLocked: true });
    for (const notification of pending) {
      try {
        await send(notification);
        await tx
          .update(notifications)
          .set({ status: 'sent', sentAt: sql`now()`, attempts: sql`${notifications.attempts} + 1` })
          .where(eq(notifications.id, notification.id));
      } catch (error) {
        await tx
          .update(notifications)
          .set({
            attempts: sql`${notifications.attempts} + 1`,
            lastError: (error as Error).message,
            status: notification.attempts + 1 >= 10 ? 'failed' : 'pending',
          })
          .where(eq(notifications.id, notification.id));
      }
    }
    return pending.length;
  });
}
