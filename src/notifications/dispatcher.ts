/**
 * Delivers the customer-notification outbox. The workflow's activities only queue messages (so a
 * retry can never send twice); this loop hands each to a transport and marks it sent.
 */
import nodemailer from 'nodemailer';
import type { Database } from '../db/client';
import type { NotificationRow } from '../db/schema';
import { deliverPendingNotifications } from '../db/queries/notifications';
import type { FieldSeal } from '../field-seal';
import type { Logger } from '../logger';
import { startPollingLoop, type PollingLoop } from '../polling-loop';
import { maskAccount, maskEmail } from '../masking';
import { openedNotice } from './step-notices';

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

/**
 * Email through SMTP (`smtps://` for TLS from the start, `smtp://` upgrading with STARTTLS where
 * the server offers it). The refund and step go in a Message-ID of their own, so a message the
 * server took but whose answer was lost, sent again, is recognisably the same one.
 */
export function smtpTransport(url: string, from: string): NotificationTransport {
  // Short limits: delivery runs inside a transaction holding the message's row lock.
  const mailer = nodemailer.createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }, { from });
  const domain = from.match(/@([^>\s]+)/)?.[1] ?? 'refundflow.local';
  return async (notification) => {
    if (!notification.recipient) throw new Error('no email address');
    await mailer.sendMail({
      to: notification.recipient,
      subject: notification.subject,
      text: notification.body,
      messageId: `<${notification.refundId}.${notification.noticeKey}@${domain}>`,
      headers: { 'Content-Language': notification.locale },
    });
  };
}

/** Each message by its channel: email and SMS each have their own way out. */
export function channelTransport(transports: { email: NotificationTransport; sms: NotificationTransport }): NotificationTransport {
  return async (notification) => {
    if (notification.channel === 'email') return transports.email(notification);
    if (notification.channel === 'sms') return transports.sms(notification);
    throw new Error(`no transport for channel ${notification.channel}`);
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
    private readonly fields: FieldSeal,
    private readonly transport: NotificationTransport,
    private readonly logger: Logger,
    private readonly tickMs = 500,
  ) {}

  start(): void {
    this.loop = startPollingLoop('notification delivery', () => deliverPendingNotifications(this.db, (notification) => this.transport(openedNotice(this.fields, notification))), this.tickMs, this.logger);
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }
}
