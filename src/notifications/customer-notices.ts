/**
 * Queues the customer's message for a refund step, rendered from our records as they stand inside
 * the step's transaction (so the message and the state it describes are written together).
 */
import type { Executor } from '../db/client';
import { findPayment } from '../db/queries/payments';
import { findRefund } from '../db/queries/refunds';
import { enqueueNotification } from '../db/queries/notifications';
import { maskAccount } from '../masking';
import { localDate } from '../../workflows/business-days';
import { renderNotification, type NotificationTemplate } from './templates';

export interface CustomerNotice {
  template: NotificationTemplate;
  /** Names the step: the same key again is the same message, not a new one. */
  noticeKey: string;
  reasonGiven?: string;
}

export async function queueCustomerNotice(tx: Executor, refundId: string, notice: CustomerNotice, utcOffsetMinutes: number): Promise<void> {
  const refund = await findRefund(tx, refundId);
  const payment = refund && (await findPayment(tx, refund.paymentId));
  if (!refund || !payment) throw new Error(`no refund ${refundId}`);
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
  await enqueueNotification(tx, {
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
}
