/**
 * WeChat Pay, for real (issue #10): the adapter against a simulator that speaks API v3 on
 * localhost (signatures checked both ways, notifications signed and encrypted), first on its own
 * for every documented error code, then inside the whole service: HTTP API, Temporal, worker,
 * PostgreSQL and the notification path /v1/webhooks/wechatpay. The simulator's refunds are the
 * ground truth of what WeChat Pay would have paid.
 */
import '../support/quiet-temporal';
import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { freePort } from '../../src/dev/ports';
import { ProviderTimeoutError, ProviderUnavailableError, type ProviderRefundRequest } from '../../src/providers/provider';
import { WECHAT_REFUND_ERRORS, type WechatErrorCode } from '../../src/providers/wechatpay/wechatpay-protocol';
import { WechatPayProvider } from '../../src/providers/wechatpay/wechatpay-provider';
import { ERROR_STATUS, WechatPaySimulator } from '../simulators/wechatpay-simulator';
import { operationsOfPayment } from '../support/ground-truth';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { expectHandledAs } from '../support/provider-errors';
import { startTestService, type TestService } from '../support/test-service';

const wechat = new WechatPaySimulator(300);
let running: TestService;

beforeAll(async () => {
  await wechat.start();
  const port = await freePort();
  running = await startTestService({
    PORT: String(port),
    ...wechat.env(`http://127.0.0.1:${port}/v1/webhooks/wechatpay`),
    PROVIDER_POLL_INTERVAL: '1s',
  });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await wechat.stop();
});

function request(overrides: Partial<ProviderRefundRequest> = {}): ProviderRefundRequest {
  return { idempotencyKey: uniqueId('rf').replace('_', '-') + '-a1', refundId: uniqueId('rf'), paymentId: uniqueId('pay'), paymentAmount: 10_000, amount: 2_500, currency: 'CNY', account: 'wx-openid-0001', accountName: null, ...overrides };
}

describe('the adapter, against the simulator over HTTP', () => {
  const adapter = () => new WechatPayProvider(wechat.settings('https://shop.example/v1/webhooks/wechatpay'), { timeoutMs: 2_000 });

  it('sends a signed refund keyed by out_refund_no and reads PROCESSING, then SUCCESS by query', async () => {
    const sent = request();
    const taken = await adapter().submitRefund(sent);
    expect(taken).toMatchObject({ status: 'pending', failureReason: null });
    expect(taken.reference).toMatch(/^50\d+/);
    expect(await eventually(async () => (await adapter().findRefund(sent.idempotencyKey, sent.paymentId))?.status === 'settled' || undefined)).toBe(true);
    // The same key again is the same refund, never a second one.
    expect((await adapter().submitRefund(sent)).reference).toBe(taken.reference);
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(1);
    expect(await adapter().findRefund('never-sent-a1', sent.paymentId)).toBeNull();
  });

  it.each(Object.keys(WECHAT_REFUND_ERRORS) as WechatErrorCode[])('maps %s as the one table says', async (code) => {
    const sent = request();
    wechat.plan(sent.paymentId, { errors: [code] });
    await expectHandledAs(adapter().submitRefund(sent), WECHAT_REFUND_ERRORS[code], code);
    expect(wechat.requests.at(-1)?.status).toBe(ERROR_STATUS[code]);
    // Nothing was taken: the next try with the same key is the refund.
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(0);
    expect((await adapter().submitRefund(sent)).status).toBe('pending');
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it('signs with the merchant key: another key is refused by WeChat Pay (SIGN_ERROR), a decline', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const forged = new WechatPayProvider({ ...wechat.settings('https://shop.example/n'), privateKey: stranger.privateKey });
    const sent = request();
    expect(await forged.submitRefund(sent)).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('SIGN_ERROR') });
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(0);
  });

  it('does not believe an answer signed by anyone but WeChat Pay', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const fooled = new WechatPayProvider({ ...wechat.settings('https://shop.example/n'), publicKey: stranger.publicKey });
    const sent = request();
    // Taken by WeChat Pay, but the answer cannot be trusted: in doubt, to be settled by a query.
    await expect(fooled.submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    await expect(fooled.findRefund(sent.idempotencyKey, sent.paymentId)).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('calls a lost answer in doubt, and the query finds the refund WeChat Pay took', async () => {
    const sent = request();
    wechat.plan(sent.paymentId, { loseAnswer: true });
    await expect(adapter().submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
  });
});

describe('inside the service', () => {
  const call = (...args: Parameters<TestService['call']>) => running.call(...args);

  async function wechatRefund(amount = 2_500, paymentOverrides: Parameters<typeof paymentRegistration>[0] = {}) {
    const payment = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000, ...paymentOverrides });
    expect((await call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    expect(created.status).toBe(201);
    return { paymentId: payment.id, refundId: created.body.id as string };
  }

  async function untilStatus(refundId: string, status: string, timeoutMs = 20_000) {
    return eventually(async () => {
      const { body } = await call('GET', `/v1/refunds/${refundId}`);
      return body.status === status ? body : undefined;
    }, timeoutMs, `refund ${refundId} ${status}`);
  }

  async function noticesOf(refundId: string) {
    return running.database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM provider_notices WHERE refund_id = ${refundId}`);
  }

  it('pays once: PROCESSING, then the signed, encrypted notification settles it', async () => {
    const { paymentId, refundId } = await wechatRefund();
    const refund = await untilStatus(refundId, 'succeeded');
    const settled = refund.timeline.find((e: { type: string }) => e.type === 'settled');
    expect(settled.detail.reportedBy).toBe('webhook');
    const [taken] = wechat.refundsOf(paymentId);
    expect(wechat.refundsOf(paymentId)).toHaveLength(1);
    expect(taken).toMatchObject({ out_refund_no: `${refundId}-a1`, status: 'SUCCESS', amount: { refund: 2_500, total: 10_000 } });
    expect(refund.provider).toMatchObject({ name: 'wechat', reference: taken!.refund_id, traceReference: taken!.refund_id, state: 'settled' });
    expect(wechat.deliveries.filter((d) => d.outRefundNo === taken!.out_refund_no).map((d) => d.status)).toEqual([204]);
  });

  it('without a notification, the query finds the end', async () => {
    const { paymentId, refundId } = await wechatRefund(1_000, {});
    wechat.plan(paymentId, { notify: false });
    const refund = await untilStatus(refundId, 'succeeded');
    expect(refund.timeline.find((e: { type: string }) => e.type === 'settled').detail.reportedBy).toMatch(/status_check|submission/);
    expect(wechat.refundsOf(paymentId)).toHaveLength(1);
  });

  it('an ABNORMAL refund requires action; rerouted to a bank transfer and approved, it pays once', async () => {
    const payment = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 });
    wechat.plan(payment.id, { ends: 'ABNORMAL' });
    expect((await call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 3_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    const refundId = created.body.id as string;
    const stuck = await untilStatus(refundId, 'requires_action');
    expect(JSON.stringify(stuck.timeline)).toContain('ABNORMAL');
    const proposed = await call('POST', `/v1/refunds/${refundId}/retry`, { key: 'dev-support', body: { destination: { type: 'bank_transfer', account: '6217000010001234', accountName: 'Li Wei' }, reason: 'WeChat could not pay the card' } });
    expect(proposed.status).toBe(202);
    expect((await call('POST', `/v1/refunds/${refundId}/proposal/approve`, { key: 'dev-supervisor-a', body: {} })).status).toBe(200);
    const paid = await untilStatus(refundId, 'succeeded');
    expect(paid.destination).toMatchObject({ type: 'bank_transfer', account: '****1234' });
    expect(wechat.refundsOf(payment.id).map((r) => r.status)).toEqual(['ABNORMAL']);
    expect((await operationsOfPayment(running.call, payment.id)).map((p) => [p.provider, p.amount, p.status])).toEqual([['bank_transfer', 3_000, 'settled']]);
  });

  it('retries SYSTEM_ERROR and FREQUENCY_LIMITED with the same out_refund_no, waits out NOT_ENOUGH, pays once', async () => {
    const payment = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 });
    wechat.plan(payment.id, { errors: ['SYSTEM_ERROR', 'FREQUENCY_LIMITED', 'NOT_ENOUGH'] });
    expect((await call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 2_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    await untilStatus(created.body.id, 'succeeded', 40_000);
    expect(wechat.refundsOf(payment.id)).toHaveLength(1);
    const tries = wechat.requests.filter((r) => r.method === 'POST').slice(-4).map((r) => r.status);
    expect(tries).toEqual([500, 429, 403, 200]);
  }, 60_000);

  it('a request WeChat Pay refuses (PARAM_ERROR) is a decline a person acts on', async () => {
    const payment = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 });
    wechat.plan(payment.id, { errors: ['PARAM_ERROR'] });
    expect((await call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 2_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    const stuck = await untilStatus(created.body.id, 'requires_action');
    expect(JSON.stringify(stuck.timeline)).toContain('PARAM_ERROR');
    expect(wechat.refundsOf(payment.id)).toHaveLength(0);
  });

  it('an answer lost after WeChat Pay took the refund is resolved by the query: one payout', async () => {
    const payment = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 });
    wechat.plan(payment.id, { loseAnswer: true });
    expect((await call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 2_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    await untilStatus(created.body.id, 'succeeded', 30_000);
    expect(wechat.refundsOf(payment.id)).toHaveLength(1);
    // Found by asking, not sent again: still the first attempt, under its first key.
    const attempts = await running.database.db.execute<{ attempt: number; state: string }>(sql`SELECT attempt, state FROM provider_attempts WHERE refund_id = ${created.body.id}`);
    expect(attempts.map((a) => [a.attempt, a.state])).toEqual([[1, 'settled']]);
  }, 40_000);

  it.each([
    ['a forged signature', 'signature'],
    ['a ciphertext sealed with another APIv3 key', 'ciphertext'],
    ['an hour-old timestamp (a replay)', 'stale'],
  ] as const)('a notification with %s is refused with 401 and changes nothing', async (_what, spoil) => {
    const { paymentId, refundId } = await wechatRefund(1_500);
    const refund = await untilStatus(refundId, 'succeeded');
    const [taken] = wechat.refundsOf(paymentId);
    const before = (await noticesOf(refundId))[0]!.n;
    const { headers, body } = wechat.notification(taken!, spoil);
    const answer = await fetch(`${running.service.apiUrl}/v1/webhooks/wechatpay`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    expect(answer.status).toBe(401);
    expect((await noticesOf(refundId))[0]!.n).toBe(before);
    expect((await call('GET', `/v1/refunds/${refundId}`)).body.timeline).toHaveLength(refund.timeline.length);
  });

  it('the sandbox webhook no longer speaks for WeChat: /v1/webhooks/providers/wechat is 404', async () => {
    const answer = await call('POST', '/v1/webhooks/providers/wechat', { key: null, body: {} });
    expect(answer.status).toBe(404);
  });
});
