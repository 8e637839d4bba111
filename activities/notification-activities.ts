/**
 * Tells the customer where their refund stands. The message is rendered from our records and
 * queued in the outbox once per refund and step; the dispatcher delivers it.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../src/db/client';
import { findPayment } from '../src/db/queries/payments';
import { findRefund } from '../src/db/queries/refunds';
import { enqueueNotification } from '../src/db/queries/notifications';
import { maskAccount } from '../src/masking';
import { renderNotification, type NotificationTemplate } from '../src/notifications/templates';
import { localDate } from '../workflows/business-days';

export interface CustomerNotice {
  refundId: string;
  template: NotificationTemplate;
  /** Names the step: the same key again is the same message, not a new one. */
  noticeKey: string;
  reasonGiven?: string;
}

export function createNotificationActivities(db: Database, utcOffsetMinutes: number) {
  return {
    async notifyCustomer(notice: CustomerNotice): Promise<void> {
      const refund = await findRefund(db, notice.refundId);
      const payment = refund && (await findPayment(db, refund.paymentId));
      if (!refund || !payment) throw ApplicationFailure.nonRetryable(`no refund ${notice.refundId}`, 'UnknownRefund');
      const { subject, body } = renderNotification(notice.template, payment.customerLocale, {
        customerName: payment.customerName,
        orderId: refund.orderId,
        amount: refund.netAmount,
        currency: refund.currency,
        maskedAccount: maskAccount(refund.destinationAccount)!,
        traceReference: refund.traceReference,
        expectedArrivalDate: refund.expectedArrivalAt ? localDate(refund.expectedArrivalAt.getTime(), utcOffsetMinutes) : null,
        settledDate: refund.settledAt ? localDate(refund.settledAt.getTime(), utcOffsetMinutes) : null,
        reasonGiven: notice.reasonGiven ?? null,
      });
      const channel = payment.customerEmail ? 'email' : payment.customerPhone ? 'sms' : 'none';
      await enqueueNotification(db, {
        refundId: refund.id,
        noticeKey: notice.noticeKey,
        template: notice.template,
        locale: payment.customerLocale,
        channel,
        recipient: payment.customerEmail ?? payment.customerPhone,
        subject,
        body,
        status: channel === 'none' ? 'skipped' : 'pending',
      });
    },
  };
}
