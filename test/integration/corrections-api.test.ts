/**
 * After money has moved, over HTTP on the real stack: every correction kind (supervisors only, 202
 * while correcting, exact totals, the shortfall limit, the merchant's events), the `0003` refused
 * reversal with its recovery case, and the `0004` money returned by the bank.
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

/** Registers a payment to `account` and asks for a refund of `amount` of it. */
async function requestRefund(amount: number, paymentAmount: number, account = '6222020200112345678') {
  const payment = paymentRegistration({ amount: paymentAmount, payerAccount: account });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'wrong_amount' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  return { payment, refund: created.body };
}

async function succeededRefund(amount: number, paymentAmount: number, account?: string) {
  const requested = await requestRefund(amount, paymentAmount, account);
  await untilStatus(requested.refund.id, 'succeeded');
  return requested;
}

async function untilStatus(refundId: string, status: string) {
  return eventually(async () => {
    const { body } = await running.call('GET', `/v1/refunds/${refundId}`, { key: 'dev-support' });
    return body.status === status && body;
  }, 20_000, `refund ${refundId} to be ${status}`);
}

const propose = (refundId: string, body: unknown, key: 'dev-supervisor-a' | 'dev-support' = 'dev-supervisor-a') =>
  running.call('POST', `/v1/refunds/${refundId}/corrections`, { key, body });

/** Supervisor A proposes (202), supervisor B approves: then the correction is carried out. */
async function correct(refundId: string, body: unknown) {
  const proposed = await propose(refundId, body);
  if (proposed.status !== 202) return proposed;
  expect(proposed.body.proposal).toMatchObject({ kind: 'correction', proposedBy: 'supervisor-a' });
  return running.call('POST', `/v1/refunds/${refundId}/proposal/approve`, { key: 'dev-supervisor-b', body: {} });
}

it('corrects an over-refund and then an under-refund, exactly, for supervisors only', async () => {
  const { refund, payment } = await succeededRefund(40_000, 50_000);
  expect((await propose(refund.id, { amount: 30_000, reason: 'x' }, 'dev-support')).status).toBe(403);
  expect((await propose(refund.id, { reason: 'nothing to change' })).status).toBe(400);
  expect((await propose(refund.id, { amount: 40_000, reason: 'same' })).body.code).toBe('correction_not_needed');

  const proposed = await propose(refund.id, { amount: 30_000, reason: 'charged the wrong size' });
  expect(proposed.status).toBe(202);
  expect(proposed.body).toMatchObject({ status: 'succeeded', proposal: { correction: 'reversal', amount: 30_000 } });
  const byProposer = await running.call('POST', `/v1/refunds/${refund.id}/proposal/approve`, { key: 'dev-supervisor-a', body: {} });
  expect(byProposer.status).toBe(403);
  expect(byProposer.body.code).toBe('maker_checker_violation');
  const over = await running.call('POST', `/v1/refunds/${refund.id}/proposal/approve`, { key: 'dev-supervisor-b', body: {} });
  expect(over.status).toBe(200);
  expect(['correcting', 'corrected']).toContain(over.body.status);
  const corrected = await untilStatus(refund.id, 'corrected');
  expect(corrected).toMatchObject({ amount: 30_000, netAmount: 30_000 });
  expect(corrected.corrections).toEqual([expect.objectContaining({ kind: 'reversal', amount: 10_000, status: 'completed' })]);
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 30_000, reservedAmount: 0, refundableAmount: 20_000 });

  // A shortfall beyond what remains refundable is refused, and nothing is held for it.
  const tooMuch = await correct(refund.id, { amount: 50_001, reason: 'more' });
  expect(tooMuch.status).toBe(422);
  expect(tooMuch.body.code).toBe('amount_exceeds_refundable');
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body.reservedAmount).toBe(0);

  expect((await correct(refund.id, { amount: 50_000, reason: 'the whole order after all' })).status).toBe(200);
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
  expect(events!.types).toEqual([
    'refund.created',
    'refund.processing',
    'refund.succeeded',
    'refund.proposal_opened',
    'refund.proposal_approved',
    'refund.correcting',
    'refund.corrected',
    'refund.proposal_opened',
    'refund.proposal_approved',
    'refund.correcting',
    'refund.corrected',
  ]);
});

it('refuses to correct a refund that has not succeeded', async () => {
  const { refund } = await requestRefund(1_000, 10_000, '6222020200110002');
  await untilStatus(refund.id, 'requires_action');
  const refused = await propose(refund.id, { amount: 500, reason: 'x' });
  expect(refused.status).toBe(409);
  expect(refused.body.code).toBe('invalid_state');
});

it('re-issues to the right account: one reversal from the wrong one, one payout to the right one', async () => {
  const { refund, payment } = await succeededRefund(12_000, 20_000);
  const accepted = await correct(refund.id, { destination: { type: 'bank_transfer', account: '6217000010009876', accountName: 'Li Wei' }, reason: 'card was closed' });
  expect(accepted.status).toBe(200);
  const corrected = await untilStatus(refund.id, 'corrected');
  expect(corrected).toMatchObject({ amount: 12_000, destination: { type: 'bank_transfer', account: '****9876' }, provider: { name: 'bank_transfer', state: 'settled' } });
  const card = (await running.call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${payment.id}`)).body.data;
  const bank = (await running.call('GET', `/v1/sandbox/providers/bank_transfer/refunds?paymentId=${payment.id}`)).body.data;
  expect(card.map((op: { kind: string; amount: number }) => [op.kind, op.amount])).toEqual([
    ['refund', 12_000],
    ['reversal', 12_000],
  ]);
  expect(bank.map((op: { kind: string; amount: number }) => [op.kind, op.amount])).toEqual([['refund', 12_000]]);
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 12_000, reservedAmount: 0 });
});

it('0003: a refused reversal leaves the refund requiring action with a recovery case', async () => {
  const { payment, refund } = await succeededRefund(15_000, 20_000, '6222020200110003');
  expect((await correct(refund.id, { amount: 5_000, reason: 'refunded the wrong item' })).status).toBe(200);
  const stuck = await untilStatus(refund.id, 'requires_action');
  expect(stuck.needsAttention).toBe(true);
  expect(stuck.corrections).toEqual([expect.objectContaining({ kind: 'reversal', amount: 10_000, status: 'refused' })]);
  const recovery = stuck.timeline.find((e: { type: string }) => e.type === 'reversal_refused');
  expect(recovery.detail).toMatchObject({ recoveryCase: true, owedByCustomer: 10_000, reversed: 0 });
  // Nothing came back, so nothing changed on the payment.
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 15_000, reservedAmount: 0 });
  expect((await running.call('POST', `/v1/refunds/${refund.id}/retry`, { key: 'dev-supervisor-a', body: {} })).status).toBe(409);
});

it('0004: money returned by the bank after success reopens the refund and the order', async () => {
  const { payment, refund: created } = await requestRefund(8_000, 8_000, '6222020200110004');
  await eventually(async () => (await running.call('GET', `/v1/payments/${payment.id}`)).body.orderStatus === 'refunded', 20_000, 'the order refunded');
  const reopened = await untilStatus(created.id, 'requires_action');
  expect(reopened.provider.state).toBe('returned');
  expect(reopened.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'submitted', 'settled', 'money_returned']);
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 0, reservedAmount: 8_000, orderStatus: 'paid' });
  const [returned] = await running.database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM merchant_events WHERE refund_id = ${created.id} AND type = 'refund.returned'`);
  expect(returned!.n).toBe(1);
  const [corrected] = await running.database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM notifications WHERE refund_id = ${created.id} AND template = 'refund_returned'`);
  expect(corrected!.n).toBe(1);
});
