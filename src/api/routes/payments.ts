import type { ApiDeps } from '../deps';
import { findOrderStatus, findPayment, refundIdsOfPayment } from '../../db/queries/payments';
import { registerPayment } from '../../payments/register-payment';
import { RefundRequestError } from '../../refunds/refund-errors';
import { sees, type MerchantScope } from '../../merchants/merchant-scope';
import { merchantNotFound } from '../problems';
import { route } from '../route';
import { Payment, PaymentIdParams, Problem, RegisterPaymentBody } from '../schemas';
import { paymentView } from '../views';

export function paymentRoutes(deps: ApiDeps) {
  async function showPayment(paymentId: string, scope: MerchantScope) {
    const payment = await findPayment(deps.db, paymentId);
    // Another merchant's payment does not exist for this caller.
    if (!payment || !sees(scope, payment.merchantId)) throw new RefundRequestError('payment_not_found', `No payment ${paymentId}`);
    const [refundIds, orderStatus] = await Promise.all([
      refundIdsOfPayment(deps.db, paymentId),
      findOrderStatus(deps.db, payment.merchantId, payment.orderId),
    ]);
    return paymentView(deps.fields, payment, refundIds, orderStatus ?? null);
  }

  return [
    route({
      method: 'post',
      path: '/v1/payments',
      tag: 'payments',
      summary: 'Register an original transaction (idempotent on its id)',
      access: ['service'],
      body: RegisterPaymentBody,
      responses: {
        201: { description: 'Registered', schema: Payment },
        200: { description: 'Already registered with the same details', schema: Payment },
        400: { description: 'Invalid body', schema: Problem },
        404: { description: 'A merchant this key does not act for (merchant_not_found)', schema: Problem },
        409: { description: 'Same id, different details (payment_conflict)', schema: Problem },
      },
      async handle({ body, caller }) {
        if (!sees(caller!.merchants, body.merchantId)) throw merchantNotFound(body.merchantId);
        const { payment, created } = await registerPayment(deps.db, deps.fields, body);
        return { status: created ? 201 : 200, body: await showPayment(payment.id, caller!.merchants) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/payments/:id',
      tag: 'payments',
      summary: 'A payment with its refunded, reserved and refundable amounts',
      access: ['service', 'support', 'supervisor'],
      params: PaymentIdParams,
      responses: { 200: { description: 'The payment', schema: Payment }, 404: { description: 'No such payment', schema: Problem } },
      async handle({ params, caller }) {
        return { status: 200, body: await showPayment(params.id, caller!.merchants) };
      },
    }),
  ];
}
