/**
 * Rows as the API shows them: money as integer minor units, instants as ISO strings, account
 * numbers and contact details masked (SPEC §2 rule 13), and people's names (sealed at rest) opened
 * for the staff who read them.
 */
import type { PaymentRow, ProviderAttemptRow, RefundEventRow, RefundRow } from '../db/schema';
import { openName, place, type FieldSeal } from '../field-seal';
import type { SandboxOperationRow } from '../providers/sandbox/sandbox-schema';
import { maskAccount, maskEmail, maskPhone } from '../masking';

export function paymentView(fields: FieldSeal, payment: PaymentRow, refundIds: string[], orderStatus: string | null) {
  return {
    id: payment.id,
    merchantId: payment.merchantId,
    orderId: payment.orderId,
    orderStatus,
    channel: payment.channel,
    amount: payment.amount,
    currency: payment.currency,
    status: payment.status,
    capturedAt: payment.capturedAt.toISOString(),
    payerAccount: maskAccount(payment.payerLast4)!,
    card: payment.acquirerReference || payment.terminalId ? { acquirerReference: payment.acquirerReference, terminalId: payment.terminalId } : null,
    customer: {
      name: openName(fields, payment.customerName, place.customerName(payment.id)),
      email: maskEmail(payment.customerEmail),
      phone: maskPhone(payment.customerPhone),
      locale: payment.customerLocale,
    },
    refundedAmount: payment.refundedAmount,
    reservedAmount: payment.reservedAmount,
    refundableAmount: payment.amount - payment.refundedAmount - payment.reservedAmount,
    refunds: refundIds,
    createdAt: payment.createdAt.toISOString(),
  };
}

export function refundSummaryView(fields: FieldSeal, refund: RefundRow) {
  return {
    id: refund.id,
    paymentId: refund.paymentId,
    merchantId: refund.merchantId,
    orderId: refund.orderId,
    channel: refund.channel,
    amount: refund.amount,
    fee: refund.fee,
    netAmount: refund.netAmount,
    currency: refund.currency,
    reason: refund.reason,
    note: refund.note,
    status: refund.status,
    requestedBy: refund.requestedBy,
    createdBy: refund.createdBy,
    approvals: refund.approvals,
    requiredApprovals: refund.requiredApprovals,
    destination: {
      type: refund.destinationType,
      account: maskAccount(refund.destinationLast4)!,
      // The current attempt's holder: the refund's row holds that attempt's sealed copy.
      accountName: openName(fields, refund.destinationAccountName, place.holder(refund.id, refund.providerAttempt)),
    },
    provider: {
      name: refund.provider,
      reference: refund.providerReference,
      traceReference: refund.traceReference,
      state: refund.providerState,
      method: refund.providerMethod,
      methodReason: refund.providerMethodReason,
      redirectable: refund.status === 'requires_action' && refund.redirectable,
    },
    deadlines: {
      approvalDueAt: isoOrNull(refund.approvalDueAt),
      settlementDueAt: isoOrNull(refund.settlementDueAt),
      expectedArrivalAt: isoOrNull(refund.expectedArrivalAt),
      hardDeadlineAt: isoOrNull(refund.hardDeadlineAt),
    },
    needsAttention: refund.needsAttention,
    corrections: refund.corrections as unknown as Record<string, unknown>[],
    proposal: refund.proposal ?? null,
    createdAt: refund.createdAt.toISOString(),
    updatedAt: refund.updatedAt.toISOString(),
  };
}

export function refundView(fields: FieldSeal, refund: RefundRow, events: RefundEventRow[]) {
  return {
    ...refundSummaryView(fields, refund),
    timeline: events.map((event) => ({ at: event.at.toISOString(), type: event.type, actor: event.actor, detail: event.detail })),
  };
}

/** A provider attempt with its account holder's name opened (the console's table of attempts). */
export function withHolderOpened(fields: FieldSeal, attempt: ProviderAttemptRow): ProviderAttemptRow {
  return { ...attempt, destinationAccountName: openName(fields, attempt.destinationAccountName, place.holder(attempt.refundId, attempt.attempt)) };
}

export function sandboxOperationView(operation: SandboxOperationRow) {
  return {
    id: operation.id,
    paymentId: operation.paymentId,
    refundId: operation.refundId,
    kind: operation.kind,
    amount: operation.amount,
    currency: operation.currency,
    status: operation.status,
    returned: operation.returnedAt !== null,
    returnedAmount: operation.returnedAmount ?? 0,
    accountLast4: operation.accountLast4,
    createdAt: operation.createdAt.toISOString(),
  };
}

function isoOrNull(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
