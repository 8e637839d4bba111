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
import { WECHAT_REFUND_ERRORS } from '../../src/providers/wechatpay/wechatpay-protocol';
import { WechatPayProvider } from '../../src/providers/wechatpay/wechatpay-provider';
import { reconciliationScheduleId } from '../../src/temporal/reconciliation-schedule';
import type { ReconciliationSummary } from '../../workflows/reconciliation-workflow';
import { WECHAT_ERRORS, WechatPaySimulator, type RefundPlan, type Spoiled, type WechatError } from '../simulators/wechatpay-simulator';
import { operationsOfPayment } from '../support/ground-truth';
import { oneWon, rounds } from '../support/races';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { expectHandledAs } from '../support/provider-errors';
import { startTestService, type TestService } from '../support/test-service';
import { launchBrowser, rowOf, screenshots, signIn as signInAs } from '../support/browser';

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
}, 120_000);

afterAll(async () => {
  await running?.stop();
  await wechat.stop();
});

function request(overrides: Partial<ProviderRefundRequest> = {}): ProviderRefundRequest {
  return { idempotencyKey: uniqueId('rf').replace('_', '-') + '-a1', refundId: uniqueId('rf'), paymentId: uniqueId('pay'), paymentAmount: 10_000, amount: 2_500, currency: 'CNY', account: 'wx-openid-0001', accountName: null, sentAs: { method: 'refund', requestedAt: new Date() }, sale: { capturedAt: new Date(), acquirerReference: null, terminalId: null }, ...overrides };
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

  /**
   * What each documented code means, from WeChat Pay's 申请退款 page (written here, not taken from the
   * adapter's table): SYSTEM_ERROR and FREQUENCY_LIMITED ask for the same out_refund_no again — and
   * may have taken the refund; NOT_ENOUGH waits for the balance; the rest are wrong requests.
   */
  const DOCUMENTED: Record<WechatError, 'resend' | 'wait_for_balance' | 'decline'> = {
    SYSTEM_ERROR: 'resend',
    FREQUENCY_LIMITED: 'resend',
    NOT_ENOUGH: 'wait_for_balance',
    NO_AUTH: 'decline',
    USER_ACCOUNT_ABNORMAL: 'decline',
    PARAM_ERROR: 'decline',
    INVALID_REQUEST: 'decline',
    SIGN_ERROR: 'decline',
    MCH_NOT_EXISTS: 'decline',
    RESOURCE_NOT_EXISTS: 'decline',
  };

  it('knows every code WeChat Pay documents, and no other', () => {
    expect(Object.keys(WECHAT_REFUND_ERRORS).sort()).toEqual(Object.keys(WECHAT_ERRORS).sort());
  });

  it.each(Object.keys(WECHAT_ERRORS) as WechatError[])('reads a signed %s as WeChat Pay documents it', async (code) => {
    const sent = request();
    wechat.plan(sent.paymentId, { errors: [code] });
    await expectHandledAs(adapter().submitRefund(sent), DOCUMENTED[code], code);
    expect(wechat.requests.at(-1)).toMatchObject({ status: WECHAT_ERRORS[code], signedWith: wechat.publicKeyId });
    // Nothing was taken: the next try with the same key is the refund.
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(0);
    expect((await adapter().submitRefund(sent)).status).toBe('pending');
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it('a request WeChat Pay cannot authenticate gets an unsigned SIGN_ERROR: not believed, so in doubt, never a decline', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const forged = new WechatPayProvider({ ...wechat.settings('https://shop.example/n'), privateKey: stranger.privateKey });
    const sent = request();
    await expect(forged.submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(wechat.requests.at(-1)).toMatchObject({ status: 401, signedWith: '' });
    await expect(forged.findRefund(sent.idempotencyKey, sent.paymentId)).rejects.toBeInstanceOf(ProviderUnavailableError);
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

  const spoilings: [string, Spoiled][] = [
    ['an unsigned 400 PARAM_ERROR', { status: 400, body: 'json', signature: 'none' }],
    ['a 500 signed by someone else', { status: 500, body: 'json', signature: 'forged' }],
    ['a gateway’s unsigned HTML 404', { status: 404, body: 'html', signature: 'none' }],
    ['a gateway’s unsigned HTML 502', { status: 502, body: 'html', signature: 'none' }],
  ];

  it.each(spoilings)('%s to a submission it took moves nothing: in doubt, and the query finds the refund', async (_what, answer) => {
    const sent = request();
    wechat.plan(sent.paymentId, { takenButSpoiled: answer });
    await expect(adapter().submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it.each(spoilings)('%s to a query is no answer, never "not found"', async (_what, answer) => {
    const sent = request();
    wechat.plan(sent.paymentId, { spoiledQueries: { count: 1, answer } });
    await adapter().submitRefund(sent);
    await expect(adapter().findRefund(sent.idempotencyKey, sent.paymentId)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
  });

  it('only WeChat Pay’s signed RESOURCE_NOT_EXISTS means no refund: a signed MCH_NOT_EXISTS (404 too) says nothing about it', async () => {
    expect(await adapter().findRefund('never-sent-a1', 'pay_x')).toBeNull();
    const strangerMerchant = new WechatPayProvider({ ...wechat.settings('https://shop.example/n'), mchid: '1900000999' });
    await expect(strangerMerchant.findRefund('never-sent-a1', 'pay_x')).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('sends an ABNORMAL refund on to a debit card (发起异常退款): card and name encrypted for WeChat Pay, the same refund, then SUCCESS', async () => {
    const sent = request();
    wechat.plan(sent.paymentId, { ends: 'ABNORMAL' });
    const { reference } = await adapter().submitRefund(sent);
    const abnormal = await eventually(async () => {
      const found = await adapter().findRefund(sent.idempotencyKey, sent.paymentId);
      return found?.status === 'failed' ? found : undefined;
    });
    expect(abnormal).toMatchObject({ redirectable: true, failureReason: expect.stringContaining('ABNORMAL') });

    const redirected = await adapter().submitRefund({ ...sent, account: '6222 0212 3456 7890', accountName: '李伟', redirect: { reference, bankType: 'ICBC_DEBIT' } });
    expect(redirected).toMatchObject({ reference, status: 'pending', redirectable: false });
    const [held] = wechat.refundsOf(sent.paymentId);
    // WeChat Pay, holding its own private key, reads what only it could: the card and the holder.
    expect(held!.redirectedTo).toEqual({ bankType: 'ICBC_DEBIT', account: '6222021234567890', name: '李伟' });
    expect(await eventually(async () => (await adapter().findRefund(sent.idempotencyKey, sent.paymentId))?.status === 'settled' || undefined)).toBe(true);
    expect(wechat.refundsOf(sent.paymentId)).toHaveLength(1);
  });

  it('a card transfer of a refund WeChat Pay does not hold as abnormal is refused (INVALID_REQUEST): the answer is the refund as WeChat holds it; SYSTEM_ERROR is retried', async () => {
    const sent = request();
    const { reference } = await adapter().submitRefund(sent);
    const toCard = { ...sent, account: '6222021234567890', accountName: '李伟', redirect: { reference, bankType: 'CMB_DEBIT' } };
    expect(await adapter().submitRefund(toCard)).toMatchObject({ reference, status: expect.stringMatching(/^(pending|settled)$/) });
    expect(wechat.requests.at(-2)).toMatchObject({ path: `/v3/refund/domestic/refunds/${reference}/apply-abnormal-refund`, status: 400 });
    expect(wechat.refundsOf(sent.paymentId).map((r) => r.redirectedTo)).toEqual([undefined]);

    const stuck = request();
    wechat.plan(stuck.paymentId, { ends: 'ABNORMAL', redirectErrors: ['SYSTEM_ERROR'] });
    const taken = await adapter().submitRefund(stuck);
    await eventually(async () => (await adapter().findRefund(stuck.idempotencyKey, stuck.paymentId))?.redirectable || undefined);
    const again = { ...stuck, account: '6222021234567890', accountName: '李伟', redirect: { reference: taken.reference, bankType: 'CMB_DEBIT' } };
    await expectHandledAs(adapter().submitRefund(again), 'resend', 'SYSTEM_ERROR');
    expect(await adapter().submitRefund(again)).toMatchObject({ status: 'pending' });
  });

  it('a card WeChat Pay refuses (PARAM_ERROR) leaves the refund as WeChat holds it: abnormal, still its reference, still redirectable', async () => {
    const sent = request();
    wechat.plan(sent.paymentId, { ends: 'ABNORMAL', redirectErrors: ['PARAM_ERROR'] });
    const { reference } = await adapter().submitRefund(sent);
    await eventually(async () => (await adapter().findRefund(sent.idempotencyKey, sent.paymentId))?.redirectable || undefined);
    const refused = await adapter().submitRefund({ ...sent, account: '6222021234567890', accountName: '李伟', redirect: { reference, bankType: 'ICBC_DEBIT' } });
    expect(refused).toMatchObject({ reference, status: 'failed', redirectable: true, failureReason: expect.stringMatching(/^card transfer refused: PARAM_ERROR: .*; ABNORMAL/) });
    expect(wechat.refundsOf(sent.paymentId).map((r) => r.status)).toEqual(['ABNORMAL']);
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

  /** A WeChat refund of `amount`; the simulator's plan for its payment is set before anything reaches WeChat Pay. */
  async function wechatRefund(amount = 2_500, plan?: RefundPlan) {
    const payment = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 });
    if (plan) wechat.plan(payment.id, plan);
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
    const { paymentId, refundId } = await wechatRefund(1_000, { notify: false });
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

  /** A WeChat refund of `amount` that WeChat Pay ends ABNORMAL: the refund waits for a person, redirectable. */
  async function abnormalRefund(amount = 3_000) {
    const { paymentId, refundId } = await wechatRefund(amount, { ends: 'ABNORMAL' });
    const stuck = await untilStatus(refundId, 'requires_action');
    expect(stuck.provider).toMatchObject({ state: 'failed', redirectable: true });
    return { paymentId, refundId };
  }

  const toCard = (account: string, bankType = 'ICBC_DEBIT') => ({ destination: { type: 'wechat_bank_card', account, accountName: '李伟', bankType }, reason: 'the card on file is closed' });
  const applications = (paymentId: string) => {
    const refund = wechat.refundsOf(paymentId)[0]!;
    return wechat.requests.filter((r) => r.path.endsWith(`/${refund.refund_id}/apply-abnormal-refund`) && r.status === 200).length;
  };
  const paymentOf = async (paymentId: string) => (await call('GET', `/v1/payments/${paymentId}`)).body;

  it('an ABNORMAL refund sent on by WeChat Pay to the payer’s debit card: proposed, approved, paid once by the same WeChat refund', async () => {
    const { paymentId, refundId } = await abnormalRefund();
    const proposed = await call('POST', `/v1/refunds/${refundId}/retry`, { key: 'dev-support', body: toCard('6222 0212 3456 7890') });
    expect(proposed.status).toBe(202);
    // The holder masked while proposed (the name itself is sealed until the payout), as the card is.
    expect(proposed.body.proposal.destination).toEqual({ type: 'wechat_bank_card', account: '****7890', accountName: '李*', bankType: 'ICBC_DEBIT' });
    // Nothing reaches WeChat Pay before a second person approves.
    expect(applications(paymentId)).toBe(0);
    expect((await call('POST', `/v1/refunds/${refundId}/proposal/approve`, { key: 'dev-supervisor-a', body: {} })).status).toBe(200);

    const paid = await untilStatus(refundId, 'succeeded');
    expect(paid.destination).toMatchObject({ type: 'wechat_bank_card', account: '****7890', accountName: '李伟' });
    expect(paid.provider).toMatchObject({ name: 'wechat', state: 'settled', redirectable: false });
    expect(paid.timeline.find((e: { type: string }) => e.type === 'proposal_approved').detail.redirectedTo).toEqual({ type: 'wechat_bank_card', account: '****7890', bankType: 'ICBC_DEBIT' });
    // WeChat Pay's books: one refund, the same one, paid to the card; ours: one attempt, the payment refunded once.
    const held = wechat.refundsOf(paymentId);
    expect(held.map((r) => [r.out_refund_no, r.status, r.amount.refund, r.redirectedTo])).toEqual([[`${refundId}-a1`, 'SUCCESS', 3_000, { bankType: 'ICBC_DEBIT', account: '6222021234567890', name: '李伟' }]]);
    expect(applications(paymentId)).toBe(1);
    const attempts = await running.database.db.execute<{ attempt: number; destination_type: string; destination_bank_type: string; state: string }>(
      sql`SELECT attempt, destination_type, destination_bank_type, state FROM provider_attempts WHERE refund_id = ${refundId}`,
    );
    expect([...attempts]).toEqual([{ attempt: 1, destination_type: 'wechat_bank_card', destination_bank_type: 'ICBC_DEBIT', state: 'settled' }]);
    expect(await paymentOf(paymentId)).toMatchObject({ refundedAmount: 3_000, reservedAmount: 0 });
  });

  it('WeChat Pay’s card transfer is refused where WeChat Pay does not hold the refund as abnormal, and nothing changes', async () => {
    const { refundId } = await wechatRefund(1_500, { errors: ['PARAM_ERROR'] });
    const declined = await untilStatus(refundId, 'requires_action');
    expect(declined.provider.redirectable).toBe(false);
    const refused = await call('POST', `/v1/refunds/${refundId}/retry`, { key: 'dev-support', body: toCard('6222021234567890') });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'route_unavailable', rule: 'not_redirectable' });
    const after = (await call('GET', `/v1/refunds/${refundId}`)).body;
    expect(after.timeline).toEqual(declined.timeline);
    expect(after.proposal).toBeNull();
    // A bank WeChat Pay's abnormal refund cannot pay, or a card number that is none: the schema refuses first.
    for (const body of [toCard('6222021234567890', 'HXB_DEBIT'), toCard('not-a-card')]) {
      expect((await call('POST', `/v1/refunds/${refundId}/retry`, { key: 'dev-support', body })).status).toBe(400);
    }
  });

  it('in the console: support proposes WeChat Pay’s card transfer from the desk (offered only where WeChat Pay can), a supervisor approves, paid once', async () => {
    const { paymentId, refundId } = await abnormalRefund(4_000);
    const { refundId: declinedId } = await wechatRefund(1_200, { errors: ['PARAM_ERROR'] });
    await untilStatus(declinedId, 'requires_action');
    const browser = await launchBrowser();
    try {
      const signIn = (key: string) => signInAs(browser, running.service.apiUrl!, key);
      const support = await signIn('dev-support');
      await support.goto('/console/desk');
      const offer = "Propose WeChat Pay's transfer to the payer's debit card";
      // A refund WeChat Pay declined is not abnormal there: only our bank transfer is offered.
      await expect(rowOf(support, declinedId).getByRole('button', { name: offer }).count()).resolves.toBe(0);
      const row = rowOf(support, refundId);
      await row.getByLabel('Debit card number').fill('6225 8812 3456 4321');
      await row.getByLabel('Card holder').fill('李伟');
      await row.getByLabel('Bank', { exact: true }).selectOption({ label: 'China Merchants Bank' });
      await row.getByLabel('Why this card').fill('the WeChat balance account is frozen');
      await screenshots(support, 'desk-wechat-card');
      await row.getByRole('button', { name: offer }).click();
      await support.waitForURL(`**/console/refunds/${refundId}?done=proposed`);
      expect(await support.content()).not.toContain('3456 4321');

      const supervisor = await signIn('dev-supervisor-a');
      await supervisor.goto(`/console/refunds/${refundId}`);
      await supervisor.getByRole('button', { name: 'Approve proposal' }).click();
      await supervisor.waitForURL(`**/console/refunds/${refundId}?done=approved`);
    } finally {
      await browser.close();
    }
    await untilStatus(refundId, 'succeeded');
    expect(wechat.refundsOf(paymentId).map((r) => [r.status, r.redirectedTo])).toEqual([['SUCCESS', { bankType: 'CMB_DEBIT', account: '6225881234564321', name: '李伟' }]]);
    expect(applications(paymentId)).toBe(1);
  }, 60_000);

  describe('decided twice at once (20 rounds each, WeChat Pay’s refunds as the ground truth)', () => {
    const decide = (refundId: string, action: string, key: 'dev-support' | 'dev-supervisor-a' | 'dev-supervisor-b' | 'dev-service', body: unknown = {}) =>
      call('POST', `/v1/refunds/${refundId}/${action}`, { key, body });

    it('the card transfer approved racing cancel: paid once to the card, or canceled with the refund still abnormal at WeChat Pay', async () => {
      await rounds(async (i) => {
        const { paymentId, refundId } = await abnormalRefund(1_000 + i);
        expect((await decide(refundId, 'retry', 'dev-support', toCard(`62220212345${String(10_000 + i)}`))).status).toBe(202);
        const winner = oneWon((await Promise.all([decide(refundId, 'proposal/approve', 'dev-supervisor-a'), decide(refundId, 'cancel', 'dev-service', { reason: 'paid in cash' })])).map((a) => a.status));
        await untilStatus(refundId, winner === 0 ? 'succeeded' : 'canceled');
        const [held] = wechat.refundsOf(paymentId);
        expect(wechat.refundsOf(paymentId)).toHaveLength(1);
        expect(applications(paymentId)).toBe(winner === 0 ? 1 : 0);
        expect(held!.status).toBe(winner === 0 ? 'SUCCESS' : 'ABNORMAL');
        expect(await paymentOf(paymentId)).toMatchObject(winner === 0 ? { refundedAmount: 1_000 + i, reservedAmount: 0 } : { refundedAmount: 0, reservedAmount: 0 });
      });
    }, 120_000);

    it('two card transfers proposed at once, then approved and rejected at once: one application at most, to the winning card', async () => {
      await rounds(async (i) => {
        const { paymentId, refundId } = await abnormalRefund(2_000 + i);
        const cards = [`62220212345${String(20_000 + i)}`, `62258812345${String(30_000 + i)}`];
        const proposed = oneWon((await Promise.all([decide(refundId, 'retry', 'dev-support', toCard(cards[0]!)), decide(refundId, 'retry', 'dev-supervisor-b', toCard(cards[1]!, 'CMB_DEBIT'))])).map((a) => a.status));
        const decided = oneWon((await Promise.all([decide(refundId, 'proposal/approve', 'dev-supervisor-a'), decide(refundId, 'proposal/reject', 'dev-supervisor-b', { reason: 'ask the customer first' })])).map((a) => a.status));
        const [held] = wechat.refundsOf(paymentId);
        if (decided === 0) {
          await untilStatus(refundId, 'succeeded');
          expect(applications(paymentId)).toBe(1);
          expect(held!.redirectedTo?.account).toBe(cards[proposed]);
          expect(await paymentOf(paymentId)).toMatchObject({ refundedAmount: 2_000 + i, reservedAmount: 0 });
        } else {
          const still = await untilStatus(refundId, 'requires_action');
          expect(still.proposal).toBeNull();
          expect(applications(paymentId)).toBe(0);
          expect(held!.status).toBe('ABNORMAL');
          expect(await paymentOf(paymentId)).toMatchObject({ refundedAmount: 0, reservedAmount: 2_000 + i });
        }
      });
    }, 120_000);
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
    ['a signature by another key under WeChat Pay’s serial', 'stranger'],
  ] as const)('a notification with %s is refused with 401 and changes nothing', async (_what, spoil) => {
    const { paymentId, refundId } = await wechatRefund(1_500);
    const refund = await untilStatus(refundId, 'succeeded');
    const [taken] = wechat.refundsOf(paymentId);
    const before = (await noticesOf(refundId))[0]!.n;
    const { headers, body } = wechat.notification(taken!, { spoil });
    const answer = await fetch(`${running.service.apiUrl}/v1/webhooks/wechatpay`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    expect(answer.status).toBe(401);
    expect((await noticesOf(refundId))[0]!.n).toBe(before);
    expect((await call('GET', `/v1/refunds/${refundId}`)).body.timeline).toHaveLength(refund.timeline.length);
  });

  it('the daily reconciliation lists a refund WeChat Pay gives no signed answer about as unanswered and still checks the rest (issue #20)', async () => {
    const unsigned: Spoiled = { status: 502, body: 'html', signature: 'none' };
    const silent = await wechatRefund(1_100, { notify: false, spoiledQueries: { count: 1_000_000, answer: unsigned } });
    const disputed = await wechatRefund(1_200);
    await untilStatus(silent.refundId, 'awaiting_settlement');
    await untilStatus(disputed.refundId, 'succeeded');
    // WeChat Pay's books say the second one is still on its way: a disagreement to flag.
    wechat.refundsOf(disputed.paymentId)[0]!.status = 'PROCESSING';

    const schedule = running.service.temporal.schedule.getHandle(reconciliationScheduleId(running.config.taskQueue));
    await schedule.trigger();
    const started = await eventually(async () => (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.workflowId, 20_000, 'the sweep started');
    const summary = (await running.service.temporal.workflow.getHandle(started).result()) as ReconciliationSummary;
    expect(summary.unanswered).toContainEqual(expect.objectContaining({ refundId: silent.refundId, attempt: 1, provider: 'wechat' }));
    expect(summary.findings).toContainEqual(expect.objectContaining({ refundId: disputed.refundId, ours: 'settled', theirs: 'accepted' }));
    expect(summary.findings.map((f) => f.refundId)).not.toContain(silent.refundId);
    await eventually(async () => (await call('GET', `/v1/refunds/${disputed.refundId}`)).body.needsAttention === true || undefined, 20_000, 'the disagreement flagged');
    // The unanswered one is as it was: still followed by its own workflow.
    expect((await call('GET', `/v1/refunds/${silent.refundId}`)).body).toMatchObject({ status: 'awaiting_settlement', needsAttention: false });
  }, 60_000);

  it('the sandbox webhook no longer speaks for WeChat: /v1/webhooks/providers/wechat is 404', async () => {
    const answer = await call('POST', '/v1/webhooks/providers/wechat', { key: null, body: {} });
    expect(answer.status).toBe(404);
  });
});
