/**
 * The messages a refund step sends (the customer's, and reminders to staff), rendered from our
 * records as they stand inside the step's transaction, so a message and the state it describes are
 * written together.
 */
import type { Executor } from '../db/client';
import type { NotificationRow, PaymentRow, RefundRow } from '../db/schema';
import { openName, place, type FieldSeal } from '../field-seal';
import { enqueueNotification } from '../db/queries/notifications';
import { maskAccount } from '../masking';
import { localDate } from '../../workflows/business-days';
import { formatMinorUnits } from '../../workflows/money';
import { renderNotification, type NotificationTemplate } from './templates';

export interface CustomerNotice {
  template: NotificationTemplate;
  /** Names the step: the same key again is the same message, not a new one. */
  noticeKey: string;
  reasonGiven?: string;
  correctionAmount?: number;
}

/**
 * The customer's message of a step, about `refund` as the step left it, to the customer of its
 * `payment` (both read in the step's transaction).
 */
export async function queueCustomerNotice(tx: Executor, fields: FieldSeal, refund: RefundRow, payment: PaymentRow, notice: CustomerNotice, utcOffsetMinutes: number): Promise<void> {
  const { subject, body } = renderNotification(notice.template, payment.customerLocale, {
    customerName: openName(fields, payment.customerName, place.customerName(payment.id)),
    orderId: refund.orderId,
    amount: refund.netAmount,
    currency: refund.currency,
    maskedAccount: maskAccount(refund.destinationLast4)!,
    traceReference: refund.traceReference,
    expectedArrivalDate: refund.expectedArrivalAt ? localDate(refund.expectedArrivalAt.getTime(), utcOffsetMinutes) : null,
    settledDate: refund.settledAt ? localDate(refund.settledAt.getTime(), utcOffsetMinutes) : null,
    reasonGiven: notice.reasonGiven ?? null,
    correctionAmount: notice.correctionAmount ?? null,
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
    // The body greets the customer by name: sealed to its row like the name itself (the subject never names them).
    body: fields.seal(body, place.notice(refund.id, notice.noticeKey)),
    status: channel === 'none' ? 'skipped' : 'pending',
  });
}

/** A customer's message as it goes out: its body opened. */
export function openedNotice(fields: FieldSeal, notification: NotificationRow): NotificationRow {
  return { ...notification, body: fields.open(notification.body, place.notice(notification.refundId, notification.noticeKey)) };
}

/** A message to staff (approval reminders, escalations, proposals), in the same outbox as customers'. */
export interface StaffNotice {
  kind: 'approval_reminder' | 'approval_escalated' | 'proposal_opened' | 'proposal_rejected' | 'proposal_lapsed' | 'proposal_withdrawn';
  noticeKey: string;
  /** Principals to tell; empty: every supervisor (the outbox's `supervisors` group). */
  to: string[];
}

export async function queueStaffNotice(tx: Executor, refund: RefundRow, notice: StaffNotice): Promise<void> {
  const { subject, body } = staffMessage(notice.kind, refund);
  await enqueueNotification(tx, {
    refundId: refund.id,
    noticeKey: notice.noticeKey,
    template: notice.kind,
    locale: 'en',
    channel: 'staff',
    recipient: notice.to.length ? notice.to.join(',') : 'supervisors',
    subject,
    body,
  });
}

function staffMessage(kind: StaffNotice['kind'], refund: RefundRow): { subject: string; body: string } {
  const money = `${refund.currency} ${formatMinorUnits(refund.amount, refund.currency)}`;
  const about = `Refund ${refund.id} of ${money} for order ${refund.orderId} (reason: ${refund.reason})`;
  const proposal = refund.proposal;
  switch (kind) {
    case 'approval_reminder':
      return { subject: `Reminder: refund ${refund.id} needs approval`, body: `${about} is waiting for approval; it expires at ${refund.approvalDueAt?.toISOString()}.` };
    case 'approval_escalated':
      return { subject: `Escalated: refund ${refund.id} still unapproved`, body: `${about} is waiting for approval and has been escalated to you; it expires at ${refund.approvalDueAt?.toISOString()}.` };
    case 'proposal_opened':
      return { subject: `Proposal on refund ${refund.id} needs approval`, body: `${about}: ${proposal?.proposedBy} proposes a ${proposal?.correction ?? proposal?.kind}; it lapses at ${proposal?.expiresAt}.` };
    case 'proposal_rejected':
    case 'proposal_lapsed':
    case 'proposal_withdrawn':
      return { subject: `Your proposal on refund ${refund.id} was ${kind.slice('proposal_'.length)}`, body: `${about}: the proposal was ${kind.slice('proposal_'.length)}; the refund is unchanged.` };
  }
}
