/**
 * The service as it runs: HTTP API, worker, a real Temporal dev server and a real PostgreSQL,
 * with the sandbox providers settling through the signed webhook endpoint.
 */
import '../support/quiet-temporal';
import { sql } from 'drizzle-orm';
import { createLogger } from '../../src/logger';
import type { RunningService } from '../../src/service';
import { signPayload } from '../../src/webhook-signature';
import type { TestDatabase } from '../support/database';
import { startTestService, type ApiCall, type ApiKeyName, type TestService } from '../support/test-service';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { purgeExpiredIdempotencyKeys } from '../../src/db/queries/refunds';

const PAYER_ACCOUNT = '6222020200112345678';
const logLines: string[] = [];
let running: TestService;
let database: TestDatabase;
let service: RunningService;
let call: ApiCall;

beforeAll(async () => {
  running = await startTestService({ LOG_LEVEL: 'debug' }, createLogger({ level: 'debug', write: (line) => logLines.push(line) }));
  ({ database, service, call } = running);
});

afterAll(async () => {
  await running?.stop();
});

type Key = ApiKeyName;

async function registerPayment(overrides: Parameters<typeof paymentRegistration>[0] = {}) {
  const registration = paymentRegistration({ payerAccount: PAYER_ACCOUNT, ...overrides });
  const response = await call('POST', '/v1/payments', { body: registration });
  expect(response.status).toBe(201);
  return registration;
}

function requestRefund(body: Record<string, unknown>, key = uniqueId('idem'), apiKey: Key = 'dev-service') {
  return call('POST', '/v1/refunds', { body, headers: { 'Idempotency-Key': key }, key: apiKey });
}

async function untilRefundStatus(refundId: string, status: string) {
  return eventually(async () => {
    const response = await call('GET', `/v1/refunds/${refundId}`);
    return response.body.status === status && response.body;
  }, 20_000, `refund ${refundId} to be ${status}`);
}

/** What a refusal must leave untouched: every table a refund request writes. */
async function writtenRows() {
  const [row] = await database.db.execute<{ refunds: number; keys: number; events: number; reserved: number; attempts: number }>(sql`
    SELECT (SELECT count(*) FROM refunds)::int AS refunds, (SELECT count(*) FROM idempotency_keys)::int AS keys,
           (SELECT count(*) FROM refund_events)::int AS events, (SELECT count(*) FROM provider_attempts)::int AS attempts,
           (SELECT coalesce(sum(reserved_amount), 0) FROM payments)::int AS reserved`);
  return row;
}

describe('a refund end to end over HTTP', () => {
  it('goes from request to succeeded with exactly one payout at the provider', async () => {
    const payment = await registerPayment({ amount: 120_000, customer: { name: 'Li Wei', email: 'li.wei@example.com', phone: '13800138000', locale: 'en' } });
    const created = await requestRefund({ paymentId: payment.id, amount: 30_000, currency: 'CNY', reason: 'defective', note: 'cracked screen' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/refunds/${created.body.id}`);
    expect(created.body).toMatchObject({
      paymentId: payment.id,
      amount: 30_000,
      fee: 0,
      netAmount: 30_000,
      currency: 'CNY',
      status: 'processing',
      requiredApprovals: 0,
      requestedBy: 'pos-backend',
      createdBy: 'pos-backend',
      destination: { type: 'original', account: '****5678' },
    });

    const refund = await untilRefundStatus(created.body.id, 'succeeded');
    expect(refund.provider).toMatchObject({ name: 'card', state: 'settled' });
    expect(refund.provider.traceReference).toMatch(/^7\d{22}$/);
    expect(refund.deadlines.expectedArrivalAt).not.toBeNull();
    expect(refund.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'submitted', 'settled']);
    expect(refund.timeline[2].detail.reportedBy).toBe('webhook');

    const operations = await call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${payment.id}`);
    expect(operations.body.data).toHaveLength(1);
    expect(operations.body.data[0]).toMatchObject({ refundId: refund.id, kind: 'refund', amount: 30_000, status: 'settled' });

    const paymentAfter = await call('GET', `/v1/payments/${payment.id}`, { key: 'dev-support' });
    expect(paymentAfter.body).toMatchObject({
      refundedAmount: 30_000,
      reservedAmount: 0,
      refundableAmount: 90_000,
      refunds: [refund.id],
      orderStatus: 'partially_refunded',
      payerAccount: '****5678',
      customer: { email: 'l***@e***.com', phone: '****8000' },
    });

    // Temporal's visibility finds it the way support staff would.
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const workflow of service.temporal.workflow.list({ query: `RefundStatus="succeeded" AND MerchantId="${payment.merchantId}"` })) {
        ids.push(workflow.workflowId);
      }
      return ids.includes(`refund-${refund.id}`) && ids;
    }, 15_000, 'visibility');
    expect(found).toContain(`refund-${refund.id}`);
    // And its Web UI shows a refund: summary and details from the start, where it stands now.
    const handle = service.temporal.workflow.getHandle(`refund-${refund.id}`);
    const described = await handle.describe();
    expect(await described.staticSummary()).toBe(`Refund 300.00 CNY · ${payment.id} · defective`);
    expect(await described.staticDetails()).toContain(`payment: \`${payment.id}\` (card)`);
    const { currentDetails } = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(currentDetails).toMatch(/^\*\*succeeded\*\* — money arrived /);
    expect(currentDetails).toContain(`trace ${refund.provider.traceReference}`);
    for (const text of [await described.staticDetails(), currentDetails]) expect(text).not.toContain(PAYER_ACCOUNT);

    const logs = logLines.join('\n');
    expect(logs).toContain('"path":"/v1/refunds"');
    expect(logs).not.toContain(PAYER_ACCOUNT);
    expect(logs).not.toContain('li.wei@example.com');
    expect(logs).not.toContain('13800138000');
  });

  it('replays an idempotent request, and refuses the key with another body', async () => {
    const payment = await registerPayment();
    const key = uniqueId('idem');
    const body = { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'duplicate_charge' };
    const first = await requestRefund(body, key);
    expect(first.status).toBe(201);
    const replay = await requestRefund({ reason: 'duplicate_charge', currency: 'CNY', amount: 1_000, paymentId: payment.id }, key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);

    const before = await writtenRows();
    const reused = await requestRefund({ ...body, amount: 2_000 }, key);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    expect(reused.contentType).toContain('application/problem+json');
    expect(await writtenRows()).toEqual(before);
    expect((await call('GET', `/v1/payments/${payment.id}`)).body.refunds).toEqual([first.body.id]);
  });

  it('forgets an Idempotency-Key after 24 hours: the same key then starts a new request (issue #20)', async () => {
    const payment = await registerPayment();
    const key = uniqueId('idem');
    const body = { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'duplicate_charge' };
    const first = await requestRefund(body, key);
    expect(first.status).toBe(201);
    // A day and a bit later, as far as the key's record knows.
    await database.db.execute(sql`UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute' WHERE key = ${key}`);
    const later = await requestRefund({ ...body, amount: 2_000 }, key);
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
    // And from then on the key answers for the new request.
    const replay = await requestRefund({ ...body, amount: 2_000 }, key);
    expect([replay.status, replay.body.id]).toEqual([200, later.body.id]);
  });

  it('purges Idempotency-Key records past their 24 hours and keeps the day’s (issue #20)', async () => {
    const payment = await registerPayment();
    const [old, fresh] = [uniqueId('idem'), uniqueId('idem')];
    const body = { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'duplicate_charge' };
    expect((await requestRefund(body, old)).status).toBe(201);
    expect((await requestRefund({ ...body, amount: 1_500 }, fresh)).status).toBe(201);
    await database.db.execute(sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = ${old}`);
    const keys = async () => (await database.db.execute<{ key: string }>(sql`SELECT key FROM idempotency_keys WHERE key IN (${old}, ${fresh})`)).map((r) => r.key);
    // A batch of one: the oldest goes first, and a second pass finds nothing more to remove.
    expect(await purgeExpiredIdempotencyKeys(database.db, 1)).toBe(1);
    expect(await keys()).toEqual([fresh]);
    expect(await purgeExpiredIdempotencyKeys(database.db, 1)).toBe(0);
    expect(await keys()).toEqual([fresh]);
  });

  it('never lets 20 concurrent refunds together exceed the payment', async () => {
    const payment = await registerPayment({ amount: 100_000 });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => requestRefund({ paymentId: payment.id, amount: 7_000, currency: 'CNY', reason: 'order_canceled' })),
    );
    const accepted = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status === 422);
    expect(accepted).toHaveLength(14); // 14 × 7,000 = 98,000 ≤ 100,000 < 15 × 7,000
    expect(refused).toHaveLength(6);
    for (const response of refused) expect(response.body.code).toBe('amount_exceeds_refundable');

    const during = (await call('GET', `/v1/payments/${payment.id}`)).body;
    expect(during.refundedAmount + during.reservedAmount).toBe(98_000);
    expect(during.refundableAmount).toBe(2_000);

    // The approval policy counts the payment's running total (7 × 7,000 = 49,000 ≤ 50,000): the rest wait for a supervisor.
    const held = accepted.filter((r) => r.body.status === 'pending_approval');
    expect(accepted.map((r) => r.body.requiredApprovals).sort()).toEqual([...Array(7).fill(0), ...Array(7).fill(1)]);
    expect(held).toHaveLength(7);
    for (const r of held) expect((await call('POST', `/v1/refunds/${r.body.id}/approve`, { key: 'dev-supervisor-a', body: {} })).status).toBe(200);
    await Promise.all(accepted.map((r) => untilRefundStatus(r.body.id, 'succeeded')));
    const after = (await call('GET', `/v1/payments/${payment.id}`)).body;
    expect(after).toMatchObject({ refundedAmount: 98_000, reservedAmount: 0, refundableAmount: 2_000 });
    const operations = (await call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${payment.id}`)).body.data;
    expect(operations).toHaveLength(14);
    expect(new Set(operations.map((op: { refundId: string }) => op.refundId)).size).toBe(14);
  });

  it('finds the one payout of a submission that timed out (0007) by asking, through the whole stack', async () => {
    const payment = await registerPayment({ payerAccount: '6222020200110007' });
    const created = await requestRefund({ paymentId: payment.id, amount: 5_000, currency: 'CNY', reason: 'defective' });
    await untilRefundStatus(created.body.id, 'succeeded');
    const operations = (await call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${payment.id}`)).body.data;
    expect(operations).toHaveLength(1);
  });
});

describe('refusals: a problem response, and nothing written', () => {
  const refusals: Array<[string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, string]> = [];
  let captured: Awaited<ReturnType<typeof registerPayment>>;
  let pending: Awaited<ReturnType<typeof registerPayment>>;
  let old: Awaited<ReturnType<typeof registerPayment>>;

  beforeAll(async () => {
    captured = await registerPayment({ amount: 10_000 });
    pending = await registerPayment({ status: 'pending' });
    old = await registerPayment({ capturedAt: new Date(Date.now() - 200 * 86_400_000).toISOString() });
  });

  const valid = () => ({ paymentId: captured.id, amount: 1_000, currency: 'CNY', reason: 'defective' });

  refusals.push(
    ['no Idempotency-Key', () => call('POST', '/v1/refunds', { body: valid() }), 400, 'validation_failed'],
    ['amount with a fraction', () => requestRefund({ ...valid(), amount: 12.5 }), 400, 'validation_failed'],
    ['amount as a string', () => requestRefund({ ...valid(), amount: '1000' }), 400, 'validation_failed'],
    ['zero amount', () => requestRefund({ ...valid(), amount: 0 }), 400, 'validation_failed'],
    ['unknown reason', () => requestRefund({ ...valid(), reason: 'because' }), 400, 'validation_failed'],
    ['no reason', () => requestRefund({ paymentId: captured.id, amount: 1_000, currency: 'CNY' }), 400, 'validation_failed'],
    ['unknown field', () => requestRefund({ ...valid(), amountCents: 5 }), 400, 'validation_failed'],
    ['lower-case currency', () => requestRefund({ ...valid(), currency: 'cny' }), 400, 'validation_failed'],
    ['malformed JSON', () => call('POST', '/v1/refunds', { raw: '{"paymentId":', headers: { 'Idempotency-Key': 'x' } }), 400, 'malformed_json'],
    ['unknown payment', () => requestRefund({ ...valid(), paymentId: 'pay_nope' }), 404, 'payment_not_found'],
    ['payment not captured', () => requestRefund({ ...valid(), paymentId: pending.id }), 422, 'payment_not_refundable'],
    ['more than refundable', () => requestRefund({ ...valid(), amount: 10_001 }), 422, 'amount_exceeds_refundable'],
    ['outside the refund window', () => requestRefund({ ...valid(), paymentId: old.id }), 422, 'refund_window_closed'],
    ['another currency', () => requestRefund({ ...valid(), currency: 'USD' }), 422, 'currency_mismatch'],
    ['refunded total not as expected', () => requestRefund({ ...valid(), expectedRefundedTotal: 500 }), 409, 'refunded_total_mismatch'],
    ['no API key', () => requestRefund(valid(), uniqueId('k'), null), 401, 'unauthorized'],
    ['unknown API key', () => requestRefund(valid(), uniqueId('k'), 'unknown-key'), 401, 'unauthorized'],
    ['support may not register payments', () => call('POST', '/v1/payments', { key: 'dev-support', body: paymentRegistration() }), 403, 'forbidden'],
    ['service may not list refunds', () => call('GET', '/v1/refunds'), 403, 'forbidden'],
    ['invalid list filter', () => call('GET', '/v1/refunds?status=lost&limit=500', { key: 'dev-support' }), 400, 'validation_failed'],
    ['invalid cursor', () => call('GET', '/v1/refunds?cursor=bm9wZQ', { key: 'dev-support' }), 400, 'validation_failed'],
    ['invalid refund id', () => call('GET', '/v1/refunds/123'), 400, 'validation_failed'],
    ['unknown refund', () => call('GET', '/v1/refunds/rf_00000000000000000000000000'), 404, 'refund_not_found'],
    ['payment with a float amount', () => call('POST', '/v1/payments', { body: { ...paymentRegistration(), amount: 99.99 } }), 400, 'validation_failed'],
    ['payment with a bad id', () => call('POST', '/v1/payments', { body: paymentRegistration({ id: 'has spaces' }) }), 400, 'validation_failed'],
    [
      'payment id reused with another body',
      () => call('POST', '/v1/payments', { body: paymentRegistration({ id: captured.id, amount: 1 }) }),
      409,
      'payment_conflict',
    ],
    ['unknown route', () => call('GET', '/v1/nothing'), 404, 'not_found'],
  );

  it.each(refusals)('%s', async (_name, request, status, code) => {
    const before = await writtenRows();
    const response = await request();
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ status, code, type: expect.stringContaining(code), title: expect.any(String), detail: expect.any(String) });
    if (code === 'validation_failed') expect((response.body.errors as unknown[]).length).toBeGreaterThan(0);
    expect(await writtenRows()).toEqual(before);
  });

  it('lists each bad field', async () => {
    const response = await requestRefund({ paymentId: '', amount: -5, currency: 'XXX', reason: 'whim' });
    const fields = (response.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
    expect(fields).toEqual(['amount', 'currency', 'paymentId', 'reason']);
  });

  it('takes the same payment registration again as a no-op', async () => {
    const registration = paymentRegistration();
    expect((await call('POST', '/v1/payments', { body: registration })).status).toBe(201);
    const again = await call('POST', '/v1/payments', { body: registration });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(registration.id);
  });
});

describe('provider webhooks', () => {
  async function signedNotice(refundId: string) {
    const refund = (await call('GET', `/v1/refunds/${refundId}`)).body;
    const body = JSON.stringify({
      id: uniqueId('ntc'),
      type: 'refund.settled',
      reference: refund.provider.reference,
      idempotencyKey: `${refundId}-a1`,
      amount: refund.netAmount,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    });
    return { body, refund };
  }

  it('refuses bad and stale signatures without changing anything', async () => {
    const payment = await registerPayment({ payerAccount: '6222020200110009' }); // never settles by itself
    const created = await requestRefund({ paymentId: payment.id, amount: 2_000, currency: 'CNY', reason: 'defective' });
    await untilRefundStatus(created.body.id, 'awaiting_settlement');
    const { body } = await signedNotice(created.body.id);
    const post = (signature: string) => call('POST', '/v1/webhooks/providers/card', { key: null, raw: body, headers: { 'X-Signature': signature } });

    const before = await writtenRows();
    const forged = await post(signPayload('not-the-secret', body));
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('invalid_signature');
    const stale = await post(signPayload('dev-provider-webhook-secret', body, Math.floor(Date.now() / 1000) - 600));
    expect(stale.status).toBe(401);
    const unsigned = await call('POST', '/v1/webhooks/providers/card', { key: null, raw: body });
    expect(unsigned.status).toBe(401);
    expect(await writtenRows()).toEqual(before);
    expect((await call('GET', `/v1/refunds/${created.body.id}`)).body.status).toBe('awaiting_settlement');

    // The money arrives at last; the same notice, properly signed, settles it (the provider confirms); sent again, it changes nothing.
    await database.db.execute(sql`UPDATE sandbox_operations SET status = 'settled', settled_at = now() WHERE refund_id = ${created.body.id}`);
    const good = await post(signPayload('dev-provider-webhook-secret', body));
    expect(good.body).toEqual({ received: true, duplicate: false });
    await untilRefundStatus(created.body.id, 'succeeded');
    const again = await post(signPayload('dev-provider-webhook-secret', body));
    expect(again.body).toEqual({ received: true, duplicate: true });
  });
});

describe('listing for support staff', () => {
  it('filters and pages newest first with an opaque cursor', async () => {
    const payment = await registerPayment({ amount: 50_000 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await requestRefund({ paymentId: payment.id, amount: 1_000 + i, currency: 'CNY', reason: 'other' })).body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ id: string }>; nextCursor: string | null } } = await call(
        'GET',
        `/v1/refunds?paymentId=${payment.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { key: 'dev-supervisor-a' },
      );
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((r) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const byStatus = await call('GET', `/v1/refunds?paymentId=${payment.id}&status=processing,awaiting_settlement,succeeded`, { key: 'dev-support' });
    expect(byStatus.body.data.length).toBe(5);
    const attention = await call('GET', `/v1/refunds?paymentId=${payment.id}&needsAttention=true`, { key: 'dev-support' });
    expect(attention.body.data).toEqual([]);
    // By the order, and by the last four characters of the payer account (what a masked account shows).
    const byOrder = await call('GET', `/v1/refunds?orderId=${payment.orderId}`, { key: 'dev-support' });
    expect(byOrder.body.data.map((r: { id: string }) => r.id)).toEqual([...ids].reverse());
    const byPayer = await call('GET', `/v1/refunds?payerLast4=5678&paymentId=${payment.id}&limit=1`, { key: 'dev-support' });
    expect(byPayer.body.data.map((r: { id: string }) => r.id)).toEqual([ids[4]]);
    const otherPayer = await call('GET', `/v1/refunds?payerLast4=9999&paymentId=${payment.id}`, { key: 'dev-support' });
    expect(otherPayer.body.data).toEqual([]);
    const odd = await call('GET', '/v1/refunds?payerLast4=12345', { key: 'dev-support' });
    expect(odd.status).toBe(400);
  });
});

describe('operations', () => {
  it('answers health, readiness and metrics', async () => {
    expect((await call('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz', { key: null })).body).toEqual({ status: 'ready' });
    const metrics = await call('GET', '/metrics', { key: null });
    expect(metrics.body).toContain('refundflow_http_requests_total');
    expect(metrics.body).toContain('refundflow_refunds_created_total');
  });

  it('documents exactly the routes it serves, in OpenAPI 3.1', async () => {
    const doc = (await call('GET', '/openapi.json', { key: null })).body;
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      [
        'POST /v1/payments',
        'GET /v1/payments/{id}',
        'POST /v1/refunds',
        'GET /v1/refunds/{id}',
        'GET /v1/refunds/{id}/voucher',
        'POST /v1/refunds/{id}/approve',
        'POST /v1/refunds/{id}/reject',
        'POST /v1/refunds/{id}/cancel',
        'POST /v1/refunds/{id}/retry',
        'POST /v1/refunds/{id}/corrections',
        'POST /v1/refunds/{id}/proposal/approve',
        'POST /v1/refunds/{id}/proposal/reject',
        'GET /v1/events',
        'GET /v1/reports/refunds',
        'POST /v1/merchants',
        'GET /v1/merchants',
        'GET /v1/merchants/{id}',
        'PATCH /v1/merchants/{id}',
        'PUT /v1/merchants/{id}/routes/{route}',
        'GET /v1/merchants/{id}/routes',
        'POST /v1/api-keys',
        'GET /v1/api-keys',
        'DELETE /v1/api-keys/{id}',
        'GET /v1/audit',
        'GET /v1/refunds',
        'POST /v1/webhooks/providers/{provider}',
        'GET /v1/sandbox/providers/{provider}/refunds',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /openapi.json',
      ].sort(),
    );
    // Every documented operation is served: none answers 404 for want of a route.
    for (const operation of documented) {
      const [method, path] = operation.split(' ') as [string, string];
      const concrete = path.replace('{id}', 'rf_00000000000000000000000000').replace('{provider}', 'card');
      const response = await call(method, concrete, { key: null, body: method === 'POST' ? {} : undefined });
      expect(response.body?.code).not.toBe('not_found');
    }
    const createRefund = doc.paths['/v1/refunds'].post;
    expect(createRefund.requestBody.content['application/json'].schema.required).toEqual(['paymentId', 'amount', 'currency', 'reason']);
    expect(createRefund.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true })]));
  });
});
