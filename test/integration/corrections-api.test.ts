/**
 * Corrections over HTTP on the real stack: supervisors only, 202 while correcting, exact totals,
 * the shortfall limit, and the merchant's events for it.
 */
import '../support/quiet-temporal';
import { sql } from 'drizzle-orm';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;

beforeAll(async () => {
  running = await startTestService();
});

afterAll(async () => {
  await running?.stop();
});

async function succeededRefund(amount: number, paymentAmount: number) {
  const payment = paymentRegistration({ amount: paymentAmount });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'wrong_amount' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  await untilStatus(created.body.id, 'succeeded');
  return { payment, refund: created.body };
}

async function untilStatus(refundId: string, status: string) {
  return eventually(async () => {
    const { body } = await running.call('GET', `/v1/refunds/${refundId}`, { key: 'dev-support' });
    return body.status === status && body;
  }, 20_000, `refund ${refundId} to be ${status}`);
}

const correct = (refundId: string, body: unknown, key: 'dev-supervisor-a' | 'dev-support' = 'dev-supervisor-a') =>
  running.call('POST', `/v1/refunds/${refundId}/corrections`, { key, body });

it('corrects an over-refund and then an under-refund, exactly, for supervisors only', async () => {
  const { refund, payment } = await succeededRefund(40_000, 50_000);
  expect((await correct(refund.id, { amount: 30_000, reason: 'x' }, 'dev-support')).status).toBe(403);
  expect((await correct(refund.id, { reason: 'nothing to change' })).status).toBe(400);
  expect((await correct(refund.id, { amount: 40_000, reason: 'same' })).body.code).toBe('correction_not_needed');

  const over = await correct(refund.id, { amount: 30_000, reason: 'charged the wrong size' });
  expect(over.status).toBe(202);
  expect(over.body.status).toBe('correcting');
  const corrected = await untilStatus(refund.id, 'corrected');
  expect(corrected).toMatchObject({ amount: 30_000, netAmount: 30_000 });
  expect(corrected.corrections).toEqual([expect.objectContaining({ kind: 'reversal', amount: 10_000, status: 'completed' })]);
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 30_000, reservedAmount: 0, refundableAmount: 20_000 });

  // A shortfall beyond what remains refundable is refused, and nothing is held for it.
  const tooMuch = await correct(refund.id, { amount: 50_001, reason: 'more' });
  expect(tooMuch.status).toBe(422);
  expect(tooMuch.body.code).toBe('amount_exceeds_refundable');
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body.reservedAmount).toBe(0);

  expect((await correct(refund.id, { amount: 50_000, reason: 'the whole order after all' })).status).toBe(202);
  await eventually(async () => (await running.call('GET', `/v1/refunds/${refund.id}`)).body.amount === 50_000, 20_000, 'second correction');
  await untilStatus(refund.id, 'corrected');
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 50_000, reservedAmount: 0, refundableAmount: 0, orderStatus: 'refunded' });

  const operations = (await running.call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${payment.id}`)).body.data;
  expect(operations.map((op: { kind: string; amount: number }) => [op.kind, op.amount])).toEqual([
    ['refund', 40_000],
    ['reversal', 10_000],
    ['refund', 20_000],
  ]);
  const [events] = await running.database.db.execute<{ types: string[] }>(sql`SELECT array_agg(type ORDER BY seq) AS types FROM merchant_events WHERE refund_id = ${refund.id}`);
  expect(events!.types).toEqual(['refund.created', 'refund.processing', 'refund.succeeded', 'refund.correcting', 'refund.corrected', 'refund.correcting', 'refund.corrected']);
});

it('refuses to correct a refund that has not succeeded', async () => {
  const payment = paymentRegistration({ payerAccount: '6222020200110002' });
  await running.call('POST', '/v1/payments', { body: payment });
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'defective' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  await untilStatus(created.body.id, 'requires_action');
  const refused = await correct(created.body.id, { amount: 500, reason: 'x' });
  expect(refused.status).toBe(409);
  expect(refused.body.code).toBe('invalid_state');
});
