/**
 * The daily reconciliation, started through its real Temporal Schedule: catching a planted
 * disagreement between a provider's books and ours. (Refunds whose workflow was never started are
 * the outbox relay's, within seconds: test/integration/workflow-starts.test.ts.)
 */
import '../support/quiet-temporal';
import { eq } from 'drizzle-orm';
import { sandboxOperations } from '../../src/providers/sandbox/sandbox-schema';
import { reconciliationScheduleId } from '../../src/temporal/reconciliation-schedule';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;

beforeAll(async () => {
  running = await startTestService();
});

afterAll(async () => {
  await running?.stop();
});

async function openRefund(): Promise<string> {
  const payment = paymentRegistration({ payerAccount: '6222020200110009' }); // accepted, never settles
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount: 1_500, currency: 'CNY', reason: 'defective' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  await eventually(async () => (await running.call('GET', `/v1/refunds/${created.body.id}`)).body.status === 'awaiting_settlement', 15_000, 'submission');
  return created.body.id;
}

it('flags the refund whose provider says otherwise, with the evidence in its timeline, and only that one', async () => {
  const disputed = await openRefund();
  const agreed = await openRefund();
  // The provider paid the first one out but never told us.
  await running.database.db.update(sandboxOperations).set({ status: 'settled', settledAt: new Date() }).where(eq(sandboxOperations.refundId, disputed));

  const schedule = running.service.temporal.schedule.getHandle(reconciliationScheduleId(running.config.taskQueue));
  const described = await schedule.describe();
  expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconciliationWorkflow' });
  await schedule.trigger(); // what the daily run does, now

  const flagged = await eventually(async () => {
    const refund = (await running.call('GET', `/v1/refunds/${disputed}`, { key: 'dev-support' })).body;
    return refund.needsAttention === true && refund;
  }, 20_000, 'the disagreement flagged');
  const evidence = flagged.timeline.find((event: { type: string }) => event.type === 'reconciliation_mismatch');
  expect(evidence.detail).toMatchObject({ attempt: 1, provider: 'card', ours: 'accepted', theirs: 'settled' });
  const attention = (await running.call('GET', '/v1/refunds?needsAttention=true', { key: 'dev-support' })).body.data.map((r: { id: string }) => r.id);
  expect(attention).toContain(disputed);
  expect(attention).not.toContain(agreed);
  expect((await running.call('GET', `/v1/refunds/${agreed}`)).body.timeline.map((e: { type: string }) => e.type)).not.toContain('reconciliation_mismatch');
});

it('looks at recently settled refunds too: one we believe settled that the provider still holds is flagged', async () => {
  const payment = paymentRegistration();
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount: 1_200, currency: 'CNY', reason: 'defective' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  await eventually(async () => (await running.call('GET', `/v1/refunds/${created.body.id}`)).body.status === 'succeeded', 15_000, 'settled');
  // The provider's books say the money never left (and its bank will not settle it by itself).
  await running.database.db.update(sandboxOperations).set({ status: 'pending', settledAt: null, settleAt: null }).where(eq(sandboxOperations.refundId, created.body.id));
  // One sweep at a time (the Schedule skips a trigger while one runs): let the earlier test's finish.
  const schedule = running.service.temporal.schedule.getHandle(reconciliationScheduleId(running.config.taskQueue));
  await eventually(async () => (await schedule.describe()).info.runningActions.length === 0, 20_000, 'the earlier sweep to finish');
  await schedule.trigger();
  const flagged = await eventually(async () => {
    const refund = (await running.call('GET', `/v1/refunds/${created.body.id}`, { key: 'dev-support' })).body;
    return refund.needsAttention === true && refund;
  }, 20_000, 'the disagreement flagged');
  expect(flagged.timeline.find((e: { type: string }) => e.type === 'reconciliation_mismatch').detail).toMatchObject({ ours: 'settled', theirs: 'accepted' });
});
