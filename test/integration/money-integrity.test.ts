/**
 * The money-integrity promises, black-box over HTTP on the real stack: four eyes on every decision
 * that moves money differently, bad input refused with nothing written and no payout, one refund
 * for a hundred identical requests, provider notices that do not match changing nothing, no full
 * account number in any log line, and problem bodies that keep RFC 9457's members.
 */
import '../support/quiet-temporal';
import { sql } from 'drizzle-orm';
import { createLogger } from '../../src/logger';
import { signPayload } from '../../src/webhook-signature';
import { expectBooksMatchMoney, operationsOfPayment } from '../support/ground-truth';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type ApiKeyName, type TestService } from '../support/test-service';

const logLines: string[] = [];
let running: TestService;

beforeAll(async () => {
  running = await startTestService({ SANDBOX_SETTLEMENT_DELAY: '100ms', LOG_LEVEL: 'debug' }, createLogger({ level: 'debug', write: (line) => logLines.push(line) }));
});

afterAll(async () => {
  await running?.stop();
});

type Key = Exclude<ApiKeyName, null | 'unknown-key'>;
const call = (method: string, path: string, key: Key = 'dev-service', body?: unknown, headers: Record<string, string> = {}) => running.call(method, path, { key, body, headers });
const decide = (refundId: string, action: string, key: Key, body: unknown = {}) => call('POST', `/v1/refunds/${refundId}/${action}`, key, body);

async function payment(overrides: Parameters<typeof paymentRegistration>[0] = {}) {
  const registration = paymentRegistration({ amount: 5_000_000, ...overrides });
  expect((await call('POST', '/v1/payments', 'dev-service', registration)).status).toBe(201);
  return registration;
}

async function refundOf(amount: number, options: { key?: Key; requestedBy?: string; account?: string } = {}) {
  const paid = await payment(options.account ? { payerAccount: options.account } : {});
  const created = await call('POST', '/v1/refunds', options.key ?? 'dev-service', { paymentId: paid.id, amount, currency: 'CNY', reason: 'wrong_amount', ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}) }, { 'Idempotency-Key': uniqueId('k') });
  expect(created.status).toBe(201);
  return { paymentId: paid.id, refundId: created.body.id as string };
}

async function untilStatus(refundId: string, status: string) {
  return eventually(async () => {
    const { body } = await call('GET', `/v1/refunds/${refundId}`);
    return body.status === status && body;
  }, 20_000, `refund ${refundId} to be ${status}`);
}

/** Every table a request could write, and the money held: what a refusal must leave as it was. */
async function written() {
  const [row] = await running.database.db.execute(sql`
    SELECT (SELECT count(*) FROM refunds)::int AS refunds, (SELECT count(*) FROM refund_events)::int AS events,
           (SELECT count(*) FROM provider_attempts)::int AS attempts, (SELECT count(*) FROM idempotency_keys)::int AS keys,
           (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM sandbox_operations)::int AS payouts,
           (SELECT coalesce(sum(reserved_amount), 0) FROM payments)::bigint::text AS reserved`);
  return row;
}

describe('four eyes on money', () => {
  it('a correction needs a second supervisor — two more once the new total needs two — and never the proposer, requester or creator', async () => {
    // Requested at the till by supervisor-c, created with supervisor-b's key: both are out as checkers.
    const { paymentId, refundId } = await refundOf(10_000, { key: 'dev-supervisor-b', requestedBy: 'supervisor-c' });
    await untilStatus(refundId, 'succeeded');
    // 30,000.00 CNY: a new refund of that total would need two supervisors, so the correction does too.
    const proposed = await decide(refundId, 'corrections', 'dev-supervisor-a', { amount: 3_000_000, reason: 'the whole order' });
    expect(proposed.status).toBe(202);
    expect(proposed.body.proposal).toMatchObject({ requiredApprovals: 2, proposedBy: 'supervisor-a', amount: 3_000_000 });
    for (const key of ['dev-supervisor-a', 'dev-supervisor-b', 'dev-supervisor-c'] as const) {
      const refused = await decide(refundId, 'proposal/approve', key);
      expect({ key, status: refused.status, code: refused.body.code }).toEqual({ key, status: 403, code: 'maker_checker_violation' });
    }
    expect((await call('GET', `/v1/refunds/${refundId}`)).body).toMatchObject({ status: 'succeeded', amount: 10_000, proposal: { approvals: [] } });
    expect((await operationsOfPayment(running.call, paymentId)).filter((op) => op.status === 'settled')).toHaveLength(1);
    // Nobody left among the development keys to approve it: rejected, and the held shortfall goes back.
    expect((await decide(refundId, 'proposal/reject', 'dev-supervisor-b', { reason: 'needs a manager' })).status).toBe(200);
    const after = await expectBooksMatchMoney(running.call, paymentId, refundId);
    expect(after.payment).toMatchObject({ refundedAmount: 10_000, reservedAmount: 0 });
    expect(after.refund.proposal).toBeNull();
  });

  it('a support proposal for another account is approved by a supervisor, and support can never approve one', async () => {
    const { refundId } = await refundOf(5_000, { account: '6222020200110002' });
    await untilStatus(refundId, 'requires_action');
    const proposed = await decide(refundId, 'retry', 'dev-support', { destination: { type: 'bank_transfer', account: '6217000010001234', accountName: 'Li Wei' } });
    expect(proposed.status).toBe(202);
    expect((await decide(refundId, 'proposal/approve', 'dev-support')).status).toBe(403);
    expect((await decide(refundId, 'retry', 'dev-supervisor-a', {})).body.code).toBe('invalid_state'); // one decision at a time
    expect((await decide(refundId, 'proposal/approve', 'dev-supervisor-a')).status).toBe(200);
    expect((await untilStatus(refundId, 'succeeded')).destination).toMatchObject({ type: 'bank_transfer', account: '****1234' });
  });
});

describe('text that cannot be stored', () => {
  const bad = { nul: 'ok\u0000', control: 'a\u0007b', lone: 'x\uD800y', c1: 'a\u0085b' };

  it.each(Object.entries(bad))('an approval comment with %s: 400 naming the field, nothing written, no payout', async (_kind, comment) => {
    const { paymentId, refundId } = await refundOf(100_000); // 1,000.00: held for a supervisor
    const before = await written();
    const response = await decide(refundId, 'approve', 'dev-supervisor-a', { comment });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'comment' })] });
    expect(await written()).toEqual(before);
    expect((await call('GET', `/v1/refunds/${refundId}`)).body).toMatchObject({ status: 'pending_approval', approvals: [] });
    expect(await operationsOfPayment(running.call, paymentId)).toEqual([]);
  });

  it.each([
    ['note', (p: string) => ({ paymentId: p, amount: 100, currency: 'CNY', reason: 'defective', note: 'a\u0000' })],
    ['requestedBy', (p: string) => ({ paymentId: p, amount: 100, currency: 'CNY', reason: 'defective', requestedBy: 'till\uDC00' })],
  ])('a refund request with a bad %s: 400 naming it, nothing written', async (field, body) => {
    const paid = await payment();
    const before = await written();
    const response = await call('POST', '/v1/refunds', 'dev-service', body(paid.id), { 'Idempotency-Key': uniqueId('k') });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await written()).toEqual(before);
  });

  it('a payment with a control character in its order id or customer name: 400, nothing written', async () => {
    const before = await written();
    for (const registration of [paymentRegistration({ orderId: 'ord\u001b[31m' }), paymentRegistration({ customer: { name: 'Li\u0000Wei', locale: 'en' } })]) {
      const response = await call('POST', '/v1/payments', 'dev-service', registration);
      expect(response.status).toBe(400);
    }
    expect(await written()).toEqual(before);
  });

  it('free text keeps tabs and newlines', async () => {
    const paid = await payment();
    const response = await call('POST', '/v1/refunds', 'dev-service', { paymentId: paid.id, amount: 100, currency: 'CNY', reason: 'defective', note: 'line one\n\tline two' }, { 'Idempotency-Key': uniqueId('k') });
    expect(response.status).toBe(201);
    expect(response.body.note).toBe('line one\n\tline two');
  });
});

describe('idempotency under concurrency', () => {
  it('100 identical requests with one key at once: one 201, 99 replays of the same refund, one payout', async () => {
    // The whole refundable amount, so any duplicate not seen as a replay would be a 422.
    const paid = await payment({ amount: 50_000 });
    const key = uniqueId('storm');
    const body = { paymentId: paid.id, amount: 50_000, currency: 'CNY', reason: 'order_canceled' };
    const responses = await Promise.all(Array.from({ length: 100 }, () => call('POST', '/v1/refunds', 'dev-service', body, { 'Idempotency-Key': key })));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(99);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(responses.filter((r) => r.status === 200).every((r) => r.headers.get('idempotent-replayed') === 'true')).toBe(true);
    await untilStatus(responses[0]!.body.id, 'succeeded');
    await expectBooksMatchMoney(running.call, paid.id, responses[0]!.body.id);
    expect(await operationsOfPayment(running.call, paid.id)).toHaveLength(1);
  });
});

describe('provider notices are checked, not believed', () => {
  async function pendingAtProvider() {
    const { paymentId, refundId } = await refundOf(30_000, { account: '6222020200110009' }); // accepted, never settles
    const refund = await untilStatus(refundId, 'awaiting_settlement');
    return { paymentId, refundId, refund };
  }

  const post = (body: Record<string, unknown>) => {
    const raw = JSON.stringify(body);
    return running.call('POST', '/v1/webhooks/providers/card', { key: null, raw, headers: { 'X-Signature': signPayload('dev-provider-webhook-secret', raw) } });
  };

  it.each([
    ['another reference', { reference: 'sbx_card_forged' }],
    ['another amount', { amount: 1 }],
    ['another currency', { currency: 'USD' }],
    ['the right details, but the provider still has it pending', {}],
  ])('a signed settlement notice with %s moves no money and flags the refund', async (_what, change) => {
    const { paymentId, refundId, refund } = await pendingAtProvider();
    const notice = { id: uniqueId('ntc'), type: 'refund.settled', reference: refund.provider.reference, idempotencyKey: `${refundId}-a1`, amount: 30_000, currency: 'CNY', occurredAt: new Date().toISOString(), ...change };
    expect((await post(notice)).status).toBe(200);
    const flagged = await eventually(async () => {
      const { body } = await call('GET', `/v1/refunds/${refundId}`);
      return body.needsAttention && body;
    }, 15_000, 'the flag');
    expect(flagged).toMatchObject({ status: 'awaiting_settlement', provider: { state: 'accepted' } });
    expect(flagged.timeline.find((e: { type: string }) => e.type === 'provider_notice_mismatch').detail).toMatchObject({ noticeId: notice.id });
    const { payment } = await expectBooksMatchMoney(running.call, paymentId, refundId);
    expect(payment).toMatchObject({ refundedAmount: 0, reservedAmount: 30_000 });
  });
});

describe('what leaves the service', () => {
  it('never logs a full account number, whatever its type or field', async () => {
    const pan = '4111111111111111';
    await call('POST', '/v1/payments', 'dev-service', { ...paymentRegistration(), payerAccount: Number(pan) });
    await call('POST', '/v1/payments', 'dev-service', { ...paymentRegistration(), orderId: `paid with card ${pan} at the till` });
    await call('POST', '/v1/payments', 'dev-service', { ...paymentRegistration(), cardNo: Number(pan), [pan]: 'as a field name' });
    // A person's name, where a request carries one (and a bad request is logged with what it carried).
    await call('POST', '/v1/payments', 'dev-service', { ...paymentRegistration(), customer: { name: 'Zhang Xiaoming', email: 'zx@example.com' } });
    await call('POST', '/v1/payments', 'dev-service', { ...paymentRegistration(), customer: { name: 'Zhang Xiaoming', email: 'not an email' } });
    const paid = await payment();
    await call('POST', '/v1/refunds', 'dev-service', { paymentId: paid.id, amount: 100, currency: 'CNY', reason: 'other', note: `card 4111 1111 1111 1111, call 13800138000` }, { 'Idempotency-Key': uniqueId('k') });
    const logs = logLines.join('\n');
    expect(logs).toContain('"path":"/v1/payments"');
    for (const secret of [pan, '4111 1111 1111 1111', '13800138000', 'Zhang Xiaoming', 'zx@example.com']) expect(logs).not.toContain(secret);
  });

  it('keeps the problem body’s status the HTTP status; the refund’s status has its own member', async () => {
    const { refundId } = await refundOf(1_000);
    await untilStatus(refundId, 'succeeded');
    const refused = await decide(refundId, 'approve', 'dev-supervisor-a');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ status: 409, code: 'invalid_state', refundStatus: 'succeeded' });
  });

  it('answers a method a path does not have with 405 and Allow', async () => {
    const response = await running.call('DELETE', '/v1/refunds', { key: 'dev-support' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, GET, HEAD');
    expect(response.body.code).toBe('method_not_allowed');
  });

  it.each([
    ['a forged cursor', `/v1/refunds?cursor=${Buffer.from(JSON.stringify(['0000-01-01T00:00:00.000Z', 'rf_00000000000000000000000000', 'x'])).toString('base64url')}`, 'cursor'],
    ['a cursor of another list', '', 'cursor'],
    ['year 0000', '/v1/refunds?createdFrom=0000-01-01T00:00:00Z', 'createdFrom'],
    ['beyond 9999', '/v1/refunds?createdTo=9999-12-31T23:59:59-14:00', 'createdTo'],
  ])('refuses %s with a 400 naming the field', async (_what, given, field) => {
    let path = given;
    if (!path) {
      const first = await call('GET', '/v1/refunds?limit=1', 'dev-support');
      path = `/v1/refunds?limit=1&status=succeeded&cursor=${first.body.nextCursor}`;
    }
    const response = await call('GET', path, 'dev-support');
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
  });
});

describe('the events feed', () => {
  it('never lets a follower pass an event that commits late', async () => {
    const { refundId } = await refundOf(1_000);
    await untilStatus(refundId, 'succeeded');
    const feed = async (after?: string) => (await call('GET', `/v1/events?limit=500${after ? `&after=${after}` : ''}`)).body.data as Array<{ id: string }>;
    let seen = await feed();
    const last = seen[seen.length - 1]!.id;
    // A transaction takes a sequence number now and commits later, after another one that took a later number.
    const db = running.database.db;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO merchant_events (id, refund_id, merchant_id, type, data) VALUES ('evt_slow', ${refundId}, 'm', 'refund.test', '{}')`);
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await db.execute(sql`INSERT INTO merchant_events (id, refund_id, merchant_id, type, data) VALUES ('evt_fast', ${refundId}, 'm', 'refund.test', '{}')`);
    seen = await feed(last);
    expect(seen.map((e) => e.id)).not.toContain('evt_fast'); // not yet: something older may still commit
    release();
    await slow;
    // Once nothing older is still running, both appear, in commit order.
    await eventually(async () => (await feed(last)).some((e) => e.id === 'evt_fast'), 10_000, 'the events');
    expect((await feed(last)).map((e) => e.id).filter((id) => id.startsWith('evt_slow') || id.startsWith('evt_fast'))).toEqual(['evt_slow', 'evt_fast']);
  });
});
