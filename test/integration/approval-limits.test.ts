/**
 * The approval policy cannot be split around across payments either (issue #20): with
 * REFUND_DAILY_AUTO_APPROVE_MAX, what one API key sends without approval in a business day is
 * capped, whatever payments it spreads its refunds over; requests at the same moment are held in
 * line by the key's total, so together they never pass it.
 */
import '../support/quiet-temporal';
import { paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;

beforeAll(async () => {
  running = await startTestService({ REFUND_DAILY_AUTO_APPROVE_MAX: '100000' });
});

afterAll(async () => {
  await running?.stop();
});

async function refundOnNewPayment(key: 'dev-service' | 'dev-support', amount: number) {
  const payment = paymentRegistration({ amount: 500_000 });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', { key, body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(created.status).toBe(201);
  return created.body as { id: string; status: string; requiredApprovals: number; amount: number };
}

it('six refunds of 40,000 on six payments at once by one key: two go without approval (80,000 ≤ 100,000), the rest wait for a supervisor; another key has its own day', async () => {
  const created = await Promise.all(Array.from({ length: 6 }, () => refundOnNewPayment('dev-service', 40_000)));
  const automatic = created.filter((r) => r.requiredApprovals === 0);
  expect(automatic).toHaveLength(2);
  expect(automatic.map((r) => r.status)).toEqual(['processing', 'processing']);
  expect(created.filter((r) => r.requiredApprovals === 1).map((r) => r.status)).toEqual(Array(4).fill('pending_approval'));
  // A small one still fits what is left of the day (20,000); one more does not.
  expect((await refundOnNewPayment('dev-service', 20_000)).requiredApprovals).toBe(0);
  expect((await refundOnNewPayment('dev-service', 1)).requiredApprovals).toBe(1);
  // Support's key has a day of its own.
  expect((await refundOnNewPayment('dev-support', 40_000)).requiredApprovals).toBe(0);
}, 60_000);
