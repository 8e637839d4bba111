/**
 * Delivers the customer-notification outbox. The workflow's activities only queue messages (so a
 * retry can never send twice); this loop hands each to a transport and marks it sent.
 */
import type { Database } from '../db/client';
import type { NotificationRow } from '../db/schema';
import { deliverPendingNotifications } from '../db/queries/notifications';
import type { Logger } from '../logger';
import { startPollingLoop, type PollingLoop } from '../polling-loop';
import { maskAccount, maskEmail } from '../masking';

export type NotificationTransport = (notification: NotificationRow) => Promise<void>;

/** Development delivery: the message goes to the log, recipient masked like everywhere else. */
export function logTransport(logger: Logger): NotificationTransport {
  return async (notification) => {
    logger.info('customer notified', {
      refundId: notification.refundId,
      template: notification.template,
      locale: notification.locale,
      channel: notification.channel,
      to: notification.channel === 'email' ? maskEmail(notification.recipient) : notification.channel === 'sms' ? maskAccount(notification.recipient) : notification.recipient,
      subject: notification.subject,
    });
  };
}

/** Production delivery: POST each message to the merchant's messaging gateway. */
export function gatewayTransport(url: string): NotificationTransport {
  return async (notification) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${notification.refundId}:${notification.noticeKey}` },
      body: JSON.stringify({
        channel: notification.channel,
        to: notification.recipient,
        locale: notification.locale,
        subject: notification.subject,
        body: notification.body,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`messaging gateway answered ${response.status}`);
  };
}

export class NotificationDispatcher {
  private loop?: PollingLoop;

  constructor(
    private readonly db: Database,
    private readonly transport: NotificationTransport,
    private readonly logger: Logger,
    private readonly tickMs = 500,
  ) {}

  start(): void {
    this.loop = startPollingLoop('notification delivery', () => deliverPendingNotifications(this.db, this.transport), this.tickMs, this.logger);
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }
}
