/**
 * People and banks taking their time, over HTTP against the real stack: approvals with
 * maker-checker, rejection, expiry, delays, deadlines, reroutes and cancelations. This service
 * runs with timers of seconds instead of hours and days.
 */
import '../support/quiet-temporal';
import type { RunningService } from '../../src/service';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type ApiKeyName, type TestService } from '../support/test-service';

let running: TestService;
let service: RunningService;

beforeAll(async () => {
  running = await startTestService({
    REFUND_APPROVAL_REMINDER: '2s',
    REFUND_APPROVAL_ESCALATE: '3s',
    REFUND_APPROVAL_TIMEOUT: '4s',
    REFUND_SETTLEMENT_SLA: '2s',
    REFUND_SETTLEMENT_DEADLINE: '4s',
    REFUND_ESCALATION_PRINCIPALS: 'head-of-support',
  });
  service = running.service;
});

afterAll(async () => {
  await running?.stop();
});

type Key = Exclude<ApiKeyName, null | 'unknown-key'>;

function call(method: string, path: string, key: Key, body?: unknown, headers: Record<string, string> = {}) {
  return running.call(method, path, { key, body, headers });
}

async function refundOf(amount: number, options: { account?: string; paymentAmount?: number; requestedBy?: string; key?: Key } = {}) {
  const payment = paymentRegistration({ amount: options.paymentAmount ?? 5_000_000, payerAccount: options.account ?? '6222020200112345678' });
  expect((await call('POST', '/v1/payments', 'dev-service', payment)).status).toBe(201);
  const created = await call(
    'POST',
    '/v1/refunds',
    options.key ?? 'dev-service',
    { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective', ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}) },
    { 'Idempotency-Key': uniqueId('k') },
  );
  expect(created.status).toBe(201);
  return { payment, refund: created.body };
}

async function untilStatus(refundId: string, status: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const { body } = await call('GET', `/v1/refunds/${refundId}`, 'dev-support');
    return body.status === status && body;
  }, timeoutMs, `refund ${refundId} to be ${status}`);
}

const decide = (refundId: string, action: string, key: Key, body: unknown = {}) => call('POST', `/v1/refunds/${refundId}/${action}`, key, body);

describe('approval over HTTP', () => {
  it('refuses the maker as checker, and a supervisor approving twice; two others approve and it is paid', async () => {
    const { refund } = await refundOf(2_500_000, { key: 'dev-supervisor-a' });
    expect(refund).toMatchObject({ status: 'pending_approval', requiredApprovals: 2 });
    expect(refund.deadlines.approvalDueAt).not.toBeNull();

    const byCreator = await decide(refund.id, 'approve', 'dev-supervisor-a');
    expect(byCreator.status).toBe(403);
    expect(byCreator.body.code).toBe('maker_checker_violation');
    const bySupport = await decide(refund.id, 'approve', 'dev-support');
    expect(bySupport.status).toBe(403);

    const first = await decide(refund.id, 'approve', 'dev-supervisor-b', { comment: 'ok' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'pending_approval', approvals: [{ principal: 'supervisor-b', decision: 'approved', comment: 'ok' }] });
    const twice = await decide(refund.id, 'approve', 'dev-supervisor-b');
    expect(twice.status).toBe(403);
    expect(twice.body.code).toBe('maker_checker_violation');
    // Nobody else is a supervisor among the development keys: a third one comes from the till.
  });

  it('approves with one supervisor when the till person is not one, and the API answers with the workflow’s result', async () => {
    const { refund } = await refundOf(60_000, { requestedBy: 'supervisor-b' });
    expect((await decide(refund.id, 'approve', 'dev-supervisor-b')).body.code).toBe('maker_checker_violation');
    const approved = await decide(refund.id, 'approve', 'dev-supervisor-a');
    expect(approved.status).toBe(200);
    expect(approved.body.approvals).toHaveLength(1);
    expect(approved.body.timeline.map((e: { type: string }) => e.type)).toContain('approved');
    await untilStatus(refund.id, 'succeeded');
    const late = await decide(refund.id, 'approve', 'dev-supervisor-b');
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('invalid_state');
  });

  it('rejects: the customer is told why and the amount is released', async () => {
    const { refund, payment } = await refundOf(60_000);
    expect((await decide(refund.id, 'reject', 'dev-supervisor-a', {})).status).toBe(400);
    const rejected = await decide(refund.id, 'reject', 'dev-supervisor-a', { reason: 'outside policy' });
    expect(rejected.body).toMatchObject({ status: 'rejected', approvals: [{ decision: 'rejected', comment: 'outside policy' }] });
    expect((await call('GET', `/v1/payments/${payment.id}`, 'dev-service')).body).toMatchObject({ reservedAmount: 0, refundableAmount: payment.amount });
  });

  it('expires when nobody approves in time, after a reminder and an escalation', async () => {
    const { refund, payment } = await refundOf(60_000);
    const expired = await untilStatus(refund.id, 'expired');
    expect(expired.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'approval_reminder', 'approval_escalated', 'approval_expired']);
    expect(expired.timeline[2].detail).toMatchObject({ escalatedTo: ['head-of-support'] });
    expect((await call('GET', `/v1/payments/${payment.id}`, 'dev-service')).body.reservedAmount).toBe(0);
    const late = await decide(refund.id, 'approve', 'dev-supervisor-a');
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('invalid_state');
  });
});

describe('bank-side delays and people acting on them', () => {
  it('delayed → requires_action → rerouted by a supervisor: the old payout canceled at its provider, one payout on the new route', async () => {
    const { refund, payment } = await refundOf(20_000, { account: '6222020200110009' });
    const delayed = await untilStatus(refund.id, 'delayed');
    expect(delayed.needsAttention).toBe(true);
    const attention = await call('GET', `/v1/refunds?needsAttention=true&paymentId=${payment.id}`, 'dev-support');
    expect(attention.body.data.map((r: { id: string }) => r.id)).toEqual([refund.id]);

    const stuck = await untilStatus(refund.id, 'requires_action');
    expect(stuck.provider.state).toBe('accepted');
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of service.temporal.workflow.list({ query: `RefundStatus="requires_action" AND NeedsAttention=true AND MerchantId="${payment.merchantId}"` })) ids.push(wf.workflowId);
      return ids.includes(`refund-${refund.id}`);
    }, 15_000, 'visibility');
    expect(found).toBe(true);

    // Support proposes the bank transfer (202); it moves no money until a supervisor approves it.
    const proposed = await decide(refund.id, 'retry', 'dev-support', { destination: { type: 'bank_transfer', account: '6217000010009876', accountName: 'Li Wei' }, reason: 'card closed' });
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({ status: 'requires_action', proposal: { kind: 'reroute', destination: { account: '****9876' }, proposedBy: 'support-1', requiredApprovals: 1 } });
    const inbox = await call('GET', `/v1/refunds?awaitingApproval=true&paymentId=${payment.id}`, 'dev-supervisor-a');
    expect(inbox.body.data.map((r: { id: string }) => r.id)).toEqual([refund.id]);
    expect((await decide(refund.id, 'proposal/approve', 'dev-support')).status).toBe(403);
    const rerouted = await decide(refund.id, 'proposal/approve', 'dev-supervisor-a');
    expect(rerouted.status).toBe(200);
    expect(rerouted.body).toMatchObject({ status: 'processing', proposal: null, destination: { type: 'bank_transfer', account: '****9876', accountName: 'Li Wei' }, provider: { name: 'bank_transfer' } });
    await untilStatus(refund.id, 'succeeded');

    const card = (await call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${payment.id}`, 'dev-service')).body.data;
    const bank = (await call('GET', `/v1/sandbox/providers/bank_transfer/refunds?paymentId=${payment.id}`, 'dev-service')).body.data;
    expect(card.map((op: { status: string }) => op.status)).toEqual(['canceled']);
    expect(bank.map((op: { status: string }) => op.status)).toEqual(['settled']);
    expect((await call('GET', `/v1/payments/${payment.id}`, 'dev-service')).body).toMatchObject({ refundedAmount: 20_000, reservedAmount: 0 });
  });

  it('a decline is canceled: the amount released, and cancel then refused', async () => {
    const { refund, payment } = await refundOf(20_000, { account: '6222020200110002' });
    const declined = await untilStatus(refund.id, 'requires_action');
    expect(declined.provider.state).toBe('failed');
    const canceled = await decide(refund.id, 'cancel', 'dev-service', { reason: 'paid in cash' });
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    expect((await call('GET', `/v1/payments/${payment.id}`, 'dev-service')).body).toMatchObject({ reservedAmount: 0, refundedAmount: 0 });
    const again = await decide(refund.id, 'cancel', 'dev-service');
    expect(again.status).toBe(409);
  });

  it('serves the support lists from the read model by status', async () => {
    const { refund, payment } = await refundOf(20_000, { account: '6222020200110002' });
    await untilStatus(refund.id, 'requires_action');
    const list = await call('GET', `/v1/refunds?status=requires_action,delayed&merchantId=${payment.merchantId}`, 'dev-support');
    expect(list.body.data.map((r: { id: string }) => r.id)).toContain(refund.id);
    expect(list.body.data.every((r: { status: string }) => ['requires_action', 'delayed'].includes(r.status))).toBe(true);
  });
});
