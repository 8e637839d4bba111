/**
 * Registering an original transaction. Registration is idempotent on the client's payment id:
 * the same body again returns the stored payment; a different body under the same id is refused,
 * because a refund must be checked against one unambiguous original.
 */
import type { Database } from '../db/client';
import { lastFourOf, place, sealName, type FieldSeal } from '../field-seal';
import { insertPaymentOnce } from '../db/queries/payments';
import type { PaymentRow } from '../db/schema';
import { requestHash } from '../request-hash';
import { RefundRequestError } from '../refunds/refund-errors';
import type { CustomerLocale, PaymentChannel, PaymentStatus } from '../../workflows/lifecycle';

export interface PaymentRegistration {
  id: string;
  merchantId: string;
  orderId: string;
  channel: PaymentChannel;
  amount: number;
  currency: string;
  status: PaymentStatus;
  capturedAt: string;
  payerAccount: string;
  /** A card sale as its acquirer knows it: its reference there (an ACP queryId, say) and the terminal that took it. */
  card?: { acquirerReference?: string; terminalId?: string };
  customer?: { name?: string; email?: string; phone?: string; locale: CustomerLocale };
}

export async function registerPayment(db: Database, fields: FieldSeal, registration: PaymentRegistration): Promise<{ payment: PaymentRow; created: boolean }> {
  const hash = requestHash(registration);
  const result = await insertPaymentOnce(db, {
    id: registration.id,
    merchantId: registration.merchantId,
    orderId: registration.orderId,
    channel: registration.channel,
    amount: registration.amount,
    currency: registration.currency,
    status: registration.status,
    capturedAt: new Date(registration.capturedAt),
    // At rest, the number (and the customer's name) sealed to this payment's row; its last four stay readable for search.
    payerAccount: fields.seal(registration.payerAccount, place.payment(registration.id)),
    payerLast4: lastFourOf(registration.payerAccount),
    customerName: sealName(fields, registration.customer?.name, place.customerName(registration.id)),
    customerEmail: registration.customer?.email ?? null,
    customerPhone: registration.customer?.phone ?? null,
    customerLocale: registration.customer?.locale ?? 'zh-CN',
    acquirerReference: registration.card?.acquirerReference ?? null,
    terminalId: registration.card?.terminalId ?? null,
    requestHash: hash,
  });
  if (!result.created && result.payment.requestHash !== hash) {
    throw new RefundRequestError('payment_conflict', `Payment ${registration.id} is already registered with different details`);
  }
  return result;
}
