/**
 * Alipay, for real (issue #10): the adapter (official alipay-sdk) against a simulator of Alipay's
 * gateway on localhost (RSA2 both ways), for each documented error code, forged keys, a lost
 * answer; then inside the whole service, with notifications at /v1/webhooks/alipay.
 */
import '../support/quiet-temporal';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { ALIPAY_REFUND_ERRORS } from '../../src/providers/alipay/alipay-protocol';
import { loadConfig } from '../../src/config';
import { openAlipayNotification } from '../../src/providers/alipay/alipay-notifications';
import { AlipayProvider, alipaySdk } from '../../src/providers/alipay/alipay-provider';
import { ProviderTimeoutError, ProviderUnavailableError, type ProviderRefundRequest } from '../../src/providers/provider';
import { ALIPAY_ERRORS, AlipaySimulator, type AlipayError } from '../simulators/alipay-simulator';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { expectHandledAs } from '../support/provider-errors';
import { startTestService, type TestService } from '../support/test-service';
import type { AlipaySettings } from '../../src/providers/alipay/alipay-settings';

const alipay = new AlipaySimulator();
let running: TestService;

beforeAll(async () => {
  await alipay.start();
  // The app's key as Alipay's key tool hands it out: PKCS#1, bare base64, no PEM lines.
  const pkcs1 = createPrivateKey(alipay.app.privateKey).export({ type: 'pkcs1', format: 'der' }).toString('base64');
  running = await startTestService({ ...alipay.env(), ALIPAY_PRIVATE_KEY: pkcs1 });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await alipay.stop();
});

const adapter = () => new AlipayProvider(alipay.settings(), { timeoutMs: 2_000 });
const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

function request(overrides: Partial<ProviderRefundRequest> = {}): ProviderRefundRequest {
  return { idempotencyKey: `${uniqueId('rf')}-a1`, refundId: uniqueId('rf'), paymentId: uniqueId('pay'), paymentAmount: 10_000, amount: 1_234, currency: 'CNY', account: '138****0002', accountName: null, sentAs: { method: 'refund', requestedAt: new Date() }, sale: { capturedAt: new Date(), acquirerReference: null, terminalId: null }, ...overrides };
}

describe('the adapter, against the simulated gateway', () => {
  it('refunds at once (fund_change Y) in yuan; the same out_request_no again moves nothing', async () => {
    const sent = request();
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'settled', failureReason: null });
    expect(alipay.refundsOf(sent.paymentId).map((r) => r.amount)).toEqual([1_234]);
    // fund_change N: the query says it was refunded, once.
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'settled' });
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(1);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId)).toMatchObject({ status: 'settled' });
    expect(await adapter().findRefund('never-sent-a1', sent.paymentId)).toBeNull();
  });

  /**
   * What each documented code means, from Alipay's alipay.trade.refund page (written here, not taken
   * from the adapter's table): a system error asks for the same out_request_no again, and may have
   * refunded already; a short balance waits; the rest are requests Alipay will refuse again.
   */
  const DOCUMENTED: Record<AlipayError, 'resend' | 'wait_for_balance' | 'decline'> = {
    'ACQ.SYSTEM_ERROR': 'resend',
    'ACQ.REFUND_CHARGE_ERROR': 'resend',
    'ACQ.SELLER_BALANCE_NOT_ENOUGH': 'wait_for_balance',
    'ACQ.INVALID_PARAMETER': 'decline',
    'ACQ.TRADE_NOT_EXIST': 'decline',
    'ACQ.TRADE_STATUS_ERROR': 'decline',
    'ACQ.TRADE_HAS_FINISHED': 'decline',
    'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL': 'decline',
    'ACQ.REASON_TRADE_REFUND_FEE_ERR': 'decline',
    'ACQ.REASON_TRADE_BEEN_FREEZEN': 'decline',
    'ACQ.DISCORDANT_REPEAT_REQUEST': 'decline',
    'ACQ.BUYER_ERROR': 'decline',
    'ACQ.CHECK_PARTNER_ERROR': 'decline',
  };

  it('knows every code Alipay documents, and no other', () => {
    expect(Object.keys(ALIPAY_REFUND_ERRORS).sort()).toEqual(Object.keys(ALIPAY_ERRORS).sort());
  });

  it.each(Object.keys(ALIPAY_ERRORS) as AlipayError[])('reads a signed %s as Alipay documents it', async (code) => {
    const sent = request();
    alipay.plan(sent.paymentId, { errors: [code] });
    await expectHandledAs(adapter().submitRefund(sent), DOCUMENTED[code], code);
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(0);
    expect((await adapter().submitRefund(sent)).status).toBe('settled');
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it('signs with the app key: another key is refused by Alipay (isv.invalid-signature), a decline', async () => {
    const sent = request();
    const forged = new AlipayProvider({ ...alipay.settings(), privateKey: keyPair().privateKey });
    expect(await forged.submitRefund(sent)).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('isv.invalid-signature') });
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(0);
  });

  it('does not believe an answer Alipay did not sign: in doubt, and the real query settles it', async () => {
    const sent = request();
    const fooled = new AlipayProvider({ ...alipay.settings(), alipayPublicKey: keyPair().publicKey });
    await expect(fooled.submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId)).toMatchObject({ status: 'settled' });
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it('survives a lost answer: the same out_request_no again (the SDK’s socket retry) is the same refund, one payout', async () => {
    const sent = request();
    alipay.plan(sent.paymentId, { loseAnswer: true });
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'settled' });
    expect(alipay.requests.slice(-3).map((r) => r.answer)).toEqual(['lost', '10000', '10000']);
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it('fund_change N with nothing in the query yet is in doubt (to be asked again), never a refund nor "none"; the later query finds it', async () => {
    const sent = request();
    alipay.plan(sent.paymentId, { processAfterMs: 1_500 });
    await expect(adapter().submitRefund(sent)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(adapter().absentIsFinalAfterMs).toBeGreaterThanOrEqual(10_000);
    expect(await eventually(async () => (await adapter().findRefund(sent.idempotencyKey, sent.paymentId)) ?? undefined, 10_000)).toMatchObject({ status: 'settled' });
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it('declines a refund Alipay cannot take in its currency, sending nothing', async () => {
    const sent = request({ currency: 'USD' });
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('CNY') });
    expect(alipay.refundsOf(sent.paymentId)).toHaveLength(0);
  });
});

describe('public-key-certificate mode (公钥证书模式)', () => {
  const certified = new AlipaySimulator({ certificates: true });
  beforeAll(() => certified.start());
  afterAll(() => certified.stop());

  it('configured from ALIPAY_APP_CERT, ALIPAY_PUBLIC_CERT and ALIPAY_ROOT_CERT: each request names the app and root certificates, each answer is checked with the key in Alipay’s', async () => {
    const settings = loadConfig({ NODE_ENV: 'development', ...certified.env() }).providers.modules!.alipay as AlipaySettings;
    expect(settings.alipayPublicKey).toBeUndefined();
    expect(settings.certificates?.app).toBe(certified.certificates!.app.trim());
    const sent = request();
    expect(await new AlipayProvider(settings).submitRefund(sent)).toMatchObject({ status: 'settled' });
    expect(await new AlipayProvider(settings).findRefund(sent.idempotencyKey, sent.paymentId)).toMatchObject({ status: 'settled' });
    expect(certified.refundsOf(sent.paymentId)).toHaveLength(1);
    expect(() => loadConfig({ NODE_ENV: 'development', ...certified.env(), ALIPAY_PUBLIC_KEY: certified.settings().certificates!.alipay })).toThrow(/two modes: give one/);
  });

  it('a request naming another app certificate is refused by Alipay; an answer signed by a key outside Alipay’s certificate is not believed', async () => {
    const other = new AlipaySimulator({ certificates: true });
    const sent = request();
    const wrongCert = new AlipayProvider({ ...certified.settings(), certificates: { ...certified.settings().certificates!, app: other.certificates!.app } });
    expect(await wrongCert.submitRefund(sent)).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('isv.invalid-cert-sn') });
    const fooled = new AlipayProvider({ ...certified.settings(), certificates: { ...certified.settings().certificates!, alipay: other.certificates!.alipay } });
    await expect(fooled.submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(await new AlipayProvider(certified.settings()).findRefund(sent.idempotencyKey, sent.paymentId)).toMatchObject({ status: 'settled' });
  });

  it('opens a notification signed with the key in Alipay’s certificate', () => {
    const refund = { seller: 'self', outTradeNo: 'pay_1', outRequestNo: 'rf_1-a1', tradeNo: '2026000000000001', amount: 500, refundedAt: '2026-12-07 10:00:00' };
    certified.refunds.push(refund);
    const form = (forged: boolean) => Object.fromEntries(new URLSearchParams(certified.notification(refund, forged)));
    expect(openAlipayNotification(alipaySdk(certified.settings()), certified.appId, form(false))).toMatchObject({ ok: true, notice: { idempotencyKey: 'rf_1-a1', amount: 500 } });
    expect(openAlipayNotification(alipaySdk(certified.settings()), certified.appId, form(true))).toMatchObject({ ok: false });
  });
});

describe('inside the service', () => {
  async function alipayRefund(plan: Parameters<AlipaySimulator['plan']>[1] = {}) {
    const payment = paymentRegistration({ channel: 'alipay', payerAccount: '2088102146225135', amount: 10_000 });
    alipay.plan(payment.id, plan);
    expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 2_050, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    expect(created.status).toBe(201);
    const refund = await eventually(async () => {
      const { body } = await running.call('GET', `/v1/refunds/${created.body.id}`);
      return body.status === 'succeeded' ? body : undefined;
    }, 30_000);
    return { paymentId: payment.id, refund };
  }

  it('pays once, settled by the answer itself; a retried system error and a lost answer change nothing', async () => {
    const plain = await alipayRefund();
    expect(plain.refund.timeline.find((e: { type: string }) => e.type === 'settled').detail.reportedBy).toBe('submission');
    expect(alipay.refundsOf(plain.paymentId).map((r) => [r.amount, r.outRequestNo])).toEqual([[2_050, `${plain.refund.id}-a1`]]);
    const retried = await alipayRefund({ errors: ['ACQ.SYSTEM_ERROR'] });
    expect(alipay.refundsOf(retried.paymentId)).toHaveLength(1);
    const lost = await alipayRefund({ loseAnswer: true });
    expect(alipay.refundsOf(lost.paymentId)).toHaveLength(1);
  }, 60_000);

  it('fund_change N and an empty query right after: the attempt stays in doubt, and the query after Alipay’s wait settles it, one payout', async () => {
    const payment = paymentRegistration({ channel: 'alipay', payerAccount: '2088102146225135', amount: 10_000 });
    alipay.plan(payment.id, { processAfterMs: 3_000 });
    expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    const attempt = async () => (await running.database.db.execute<{ state: string }>(sql`SELECT state FROM provider_attempts WHERE refund_id = ${created.body.id}`))[0]?.state;
    expect(await eventually(async () => ((await attempt()) === 'in_doubt' ? true : undefined), 5_000)).toBe(true);
    const refund = await eventually(async () => {
      const { body } = await running.call('GET', `/v1/refunds/${created.body.id}`);
      return body.status === 'succeeded' ? body : undefined;
    }, 30_000);
    expect(refund.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'submitted', 'settled']);
    expect(await attempt()).toBe('settled');
    expect(alipay.refundsOf(payment.id)).toHaveLength(1);
    // Never sent again while Alipay's query could still be catching up.
    expect(alipay.requests.filter((r) => r.method === 'alipay.trade.refund' && r.outTradeNo === payment.id)).toHaveLength(1);
  }, 60_000);

  it('a refund Alipay keeps answering fund_change N and never makes is asked about, then sent again under the same out_request_no, never taken as refunded', async () => {
    const payment = paymentRegistration({ channel: 'alipay', payerAccount: '2088102146225135', amount: 10_000 });
    alipay.plan(payment.id, { neverProcessed: true });
    expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    const sends = () => alipay.requests.filter((r) => r.method === 'alipay.trade.refund' && r.outTradeNo === payment.id);
    await eventually(async () => (sends().length >= 2 ? true : undefined), 30_000);
    expect(new Set(sends().map((r) => r.outRequestNo))).toEqual(new Set([`${created.body.id}-a1`]));
    const [row] = await running.database.db.execute<{ state: string; failure_reason: string }>(sql`SELECT state, failure_reason FROM provider_attempts WHERE refund_id = ${created.body.id}`);
    expect(row).toMatchObject({ state: 'in_doubt', failure_reason: expect.stringContaining('fund_change N') });
    expect((await running.call('GET', `/v1/refunds/${created.body.id}`)).body.status).toBe('processing');
    expect(alipay.refundsOf(payment.id)).toHaveLength(0);
  }, 60_000);

  it('takes a signed notification at /v1/webhooks/alipay with `success`, and refuses a forged one with 401', async () => {
    const { paymentId, refund } = await alipayRefund();
    const [taken] = alipay.refundsOf(paymentId);
    const post = (body: string) => fetch(`${running.service.apiUrl}/v1/webhooks/alipay`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });
    const notices = async () => (await running.database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM provider_notices WHERE refund_id = ${refund.id}`))[0]!.n;

    const forged = await post(alipay.notification(taken!, true));
    expect(forged.status).toBe(401);
    expect(await notices()).toBe(0);

    const genuine = await post(alipay.notification(taken!));
    expect([genuine.status, await genuine.text()]).toEqual([200, 'success']);
    expect(await notices()).toBe(1);
    expect((await running.call('GET', `/v1/refunds/${refund.id}`)).body.status).toBe('succeeded');
  });
});
