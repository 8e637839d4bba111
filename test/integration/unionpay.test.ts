/**
 * The card rail for real (issue #21): UnionPay ACP's refund (退货) and void (消费撤销), by the
 * adapter against a simulator of UnionPay's gateway on localhost (its own certificate chain, made
 * here), for each response code, a lost answer, answers and notices it did not sign; then inside
 * the whole service, where the workflow chooses void or refund by the batch's cutoff, and a void
 * racing the batch's settlement moves the money exactly once.
 */
import '../support/quiet-temporal';
import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config';
import { ProviderTimeoutError, ProviderUnavailableError, type ProviderRefundRequest } from '../../src/providers/provider';
import { openUnionPayNotice } from '../../src/providers/unionpay/unionpay-notices';
import { ACP_RESPONSE_CODES } from '../../src/providers/unionpay/unionpay-protocol';
import { UnionPayProvider } from '../../src/providers/unionpay/unionpay-provider';
import type { UnionPaySettings } from '../../src/providers/unionpay/unionpay-settings';
import { ACP_CODES, UnionPaySimulator, type AcpCode } from '../simulators/unionpay-simulator';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const unionpay = new UnionPaySimulator();
let running: TestService;
let settings: UnionPaySettings;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  await unionpay.start();
  const port = await freePort();
  const env = { ...unionpay.env(`http://127.0.0.1:${port}/v1/webhooks/unionpay`), PORT: String(port) };
  settings = loadConfig({ NODE_ENV: 'development', ...env }).providers.modules!.unionpay as UnionPaySettings;
  running = await startTestService(env);
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await unionpay.stop();
});

const adapter = (overrides: Partial<UnionPaySettings> = {}) => new UnionPayProvider({ ...settings, ...overrides }, { timeoutMs: 10_000 });

function request(saleAmount: number, overrides: Partial<ProviderRefundRequest> = {}): ProviderRefundRequest {
  const sale = unionpay.addSale(saleAmount);
  const refundId = `rf_${uniqueId('x').slice(2).toUpperCase()}`;
  return {
    idempotencyKey: `${refundId}-a1`,
    refundId,
    paymentId: uniqueId('pay'),
    paymentAmount: saleAmount,
    amount: saleAmount,
    currency: 'CNY',
    account: '6222020200112341234',
    accountName: null,
    sentAs: { method: 'refund', requestedAt: new Date() },
    sale: { capturedAt: new Date(), acquirerReference: sale.queryId, terminalId: 'T0001234' },
    ...overrides,
  };
}

describe('the adapter, against the simulated gateway', () => {
  it('refunds part of a sale (退货, 04): accepted, pending, then settled as the query finds it; the same order again moves nothing', async () => {
    const sent = request(10_000, { amount: 2_500 });
    const taken = await adapter().submitRefund(sent);
    expect(taken).toMatchObject({ status: 'pending', failureReason: null, traceReference: expect.stringMatching(/^\d{21}$/) });
    const origQryId = sent.sale.acquirerReference!;
    expect(unionpay.movementsOf(origQryId).map((m) => [m.kind, m.amount])).toEqual([['refund', 2_500]]);
    expect(await eventually(async () => (await adapter().findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs))?.status === 'settled' || undefined, 10_000)).toBe(true);
    // Sent again (a retry that never heard its answer): UnionPay says duplicate, the query says what it holds.
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'settled' });
    expect(unionpay.movementsOf(origQryId)).toHaveLength(1);
    expect(await adapter().findRefund('rf_NEVERSENT0000-a1', sent.paymentId, sent.sentAs)).toBeNull();
  });

  it('voids a whole sale in its open batch (消费撤销, 31); once the batch settles a void is refused as not voidable, nothing moved', async () => {
    const sent = request(8_800, { sentAs: { method: 'void', requestedAt: new Date() } });
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'pending' });
    expect(await eventually(async () => (await adapter().findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs))?.status === 'settled' || undefined, 10_000)).toBe(true);
    expect(unionpay.movementsOf(sent.sale.acquirerReference!).map((m) => m.kind)).toEqual(['void']);

    const late = request(8_800, { sentAs: { method: 'void', requestedAt: new Date() } });
    unionpay.settleBatch();
    expect(await adapter().submitRefund(late)).toMatchObject({ status: 'failed', voidRefused: expect.stringContaining('35') });
    expect(unionpay.movementsOf(late.sale.acquirerReference!)).toHaveLength(0);
    // The same attempt as a refund is another order number: taken.
    expect(await adapter().submitRefund({ ...late, sentAs: { method: 'refund', requestedAt: late.sentAs.requestedAt } })).toMatchObject({ status: 'pending' });
    expect(unionpay.movementsOf(late.sale.acquirerReference!).map((m) => m.kind)).toEqual(['refund']);
  });

  /**
   * What each code of ACP's appendix means for a refund, written here from UnionPay's documents
   * (not from the adapter's table): only 00 is taken; 03, 04, 05 are unknown and asked about; 12 is
   * a duplicate, asked about; closed, busy, too frequent or outside hours is tried again later; 35
   * on a refund is a decline; every other code is a refusal.
   */
  const DOCUMENTED: Record<AcpCode, 'ask' | 'try_later' | 'declined'> = {
    '01': 'declined',
    '02': 'try_later',
    '03': 'ask',
    '04': 'ask',
    '05': 'ask',
    '06': 'try_later',
    '10': 'declined',
    '11': 'declined',
    '12': 'ask',
    '13': 'declined',
    '30': 'declined',
    '31': 'declined',
    '32': 'declined',
    '33': 'declined',
    '34': 'declined',
    '35': 'declined',
    '36': 'declined',
    '37': 'try_later',
    '38': 'declined',
    '39': 'try_later',
  };

  it('knows every code the simulator answers, and no other', () => {
    expect(Object.keys(ACP_RESPONSE_CODES).filter((code) => code !== '00').sort()).toEqual(Object.keys(ACP_CODES).sort());
  });

  it.each(Object.keys(ACP_CODES) as AcpCode[])('reads a signed %s as UnionPay documents it', async (code) => {
    const sent = request(5_000, { amount: 1_000 });
    unionpay.plan(sent.sale.acquirerReference!, { answers: [code] });
    const submission = adapter().submitRefund(sent);
    const taken = ['03', '04', '05'].includes(code); // unknown, but real: taken, and the query finds it
    switch (DOCUMENTED[code]) {
      case 'declined':
        await expect(submission).resolves.toMatchObject({ status: 'failed', failureReason: expect.stringContaining(code) });
        break;
      case 'try_later':
        await expect(submission).rejects.toBeInstanceOf(ProviderUnavailableError);
        break;
      case 'ask':
        if (taken) await expect(submission).resolves.toMatchObject({ status: expect.stringMatching(/pending|settled/) });
        else await expect(submission).rejects.toBeInstanceOf(ProviderTimeoutError); // 12 for an order it never took: nothing to find, in doubt
        break;
    }
    expect(unionpay.movementsOf(sent.sale.acquirerReference!)).toHaveLength(taken ? 1 : 0);
  });

  it('survives a lost answer: in doubt, the query finds the one refund it took', async () => {
    const sent = request(6_000, { amount: 6_000 });
    unionpay.plan(sent.sale.acquirerReference!, { loseAnswer: true });
    await expect(adapter().submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
    expect(unionpay.movementsOf(sent.sale.acquirerReference!)).toHaveLength(1);
  });

  it('believes no answer signed outside UnionPay’s chain: in doubt, and the real query settles it', async () => {
    const sent = request(7_000, { amount: 700 });
    const stranger = loadConfig({ NODE_ENV: 'development', ...unionpay.env(), UNIONPAY_ROOT_CERT: unionpay.strangerChain.rootPem, UNIONPAY_MIDDLE_CERT: unionpay.strangerChain.middlePem }).providers.modules!.unionpay as UnionPaySettings;
    await expect(adapter({ trust: stranger.trust }).submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    await expect(adapter({ trust: stranger.trust }).findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
    expect(unionpay.movementsOf(sent.sale.acquirerReference!)).toHaveLength(1);
  });

  it('declines, sending nothing, what UnionPay could not take: another currency, a sale without its queryId', async () => {
    expect(await adapter().submitRefund(request(1_000, { currency: 'USD' }))).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('CNY') });
    const unnamed = request(1_000);
    expect(await adapter().submitRefund({ ...unnamed, sale: { ...unnamed.sale, acquirerReference: null } })).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('queryId') });
    expect(unionpay.movementsOf(unnamed.sale.acquirerReference!)).toHaveLength(0);
  });

  it('is configured from its own settings: a wrong keystore password or a certificate that is none stops the start, naming the variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'development', ...unionpay.env(), UNIONPAY_SIGN_CERT_PASSWORD: 'wrong' })).toThrow(/UNIONPAY_SIGN_CERT: the keystore does not open/);
    expect(() => loadConfig({ NODE_ENV: 'development', ...unionpay.env(), UNIONPAY_ROOT_CERT: 'not a certificate' })).toThrow(/UNIONPAY_ROOT_CERT must be UnionPay’s root certificate/);
    expect(() => loadConfig({ NODE_ENV: 'development', ...unionpay.env(), UNIONPAY_MER_ID: '' })).toThrow(/UNIONPAY_MER_ID/);
  });

  it('opens a notice UnionPay signed; one with a broken signature or from a certificate outside its chain is refused', () => {
    const movement = { kind: 'refund' as const, origQryId: '1'.repeat(21), orderId: 'rfABCDEFa1R', txnTime: '20261207100000', queryId: '2'.repeat(21), amount: 1_234, state: 'succeeded' as const };
    const open = (body: string) => openUnionPayNotice(settings, Object.fromEntries(new URLSearchParams(body)));
    expect(open(unionpay.noticeFor(movement, 'rf_ABCDEF-a1'))).toMatchObject({ ok: true, notice: { type: 'refund.settled', idempotencyKey: 'rf_ABCDEF-a1', amount: 1_234, reference: '2'.repeat(21) } });
    expect(open(unionpay.noticeFor(movement, 'rf_ABCDEF-a1', 'bad_signature'))).toEqual({ ok: false, reason: 'signature does not verify' });
    expect(open(unionpay.noticeFor(movement, 'rf_ABCDEF-a1', 'untrusted_certificate'))).toMatchObject({ ok: false, reason: expect.stringContaining('chain') });
  });
});

describe('inside the service: void or refund is the workflow’s choice', () => {
  beforeAll(() => {
    unionpay.settleAfterMs = 200;
  });

  async function cardSale(amount: number, capturedAt = new Date()) {
    const sale = unionpay.addSale(amount);
    const payment = paymentRegistration({ channel: 'card', amount, capturedAt: capturedAt.toISOString(), card: { acquirerReference: sale.queryId, terminalId: 'T0001234' } });
    expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
    return { sale, payment };
  }

  async function refund(paymentId: string, amount: number): Promise<string> {
    const created = await running.call('POST', '/v1/refunds', { body: { paymentId, amount, currency: 'CNY', reason: 'customer_request' }, headers: { 'Idempotency-Key': uniqueId('k') } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  }

  async function finished(refundId: string) {
    return eventually(async () => {
      const { body } = await running.call('GET', `/v1/refunds/${refundId}`);
      return ['succeeded', 'requires_action'].includes(body.status) ? body : undefined;
    }, 30_000, `refund ${refundId} to finish`);
  }

  const submitted = (view: { timeline: { type: string; detail: Record<string, unknown> }[] }) => view.timeline.find((event) => event.type === 'submitted')!.detail;

  it('voids the whole of a sale taken today, before the cutoff: the money never leaves the card, and the refund says so', async () => {
    const { sale, payment } = await cardSale(12_800);
    const view = await finished(await refund(payment.id, 12_800));
    expect(view).toMatchObject({ status: 'succeeded', provider: { name: 'card', method: 'void', methodReason: expect.stringContaining('open batch until') } });
    expect(submitted(view)).toMatchObject({ method: 'void' });
    expect(unionpay.movementsOf(sale.queryId).map((m) => [m.kind, m.amount])).toEqual([['void', 12_800]]);
    expect(view.provider.traceReference).toBe(unionpay.movementsOf(sale.queryId)[0]!.queryId);
  }, 60_000);

  it('refunds a sale whose batch has settled (captured before the last cutoff), and a part of today’s sale', async () => {
    const older = await cardSale(9_900, new Date(Date.now() - 2 * 86_400_000));
    const settled = await finished(await refund(older.payment.id, 9_900));
    expect(settled.provider).toMatchObject({ method: 'refund', methodReason: expect.stringContaining('batch settled at') });
    expect(unionpay.movementsOf(older.sale.queryId).map((m) => m.kind)).toEqual(['refund']);

    const today = await cardSale(9_900);
    const part = await finished(await refund(today.payment.id, 2_000));
    expect(part).toMatchObject({ status: 'succeeded', provider: { method: 'refund', methodReason: expect.stringContaining('not the whole of a sale') } });
    expect(unionpay.movementsOf(today.sale.queryId).map((m) => [m.kind, m.amount])).toEqual([['refund', 2_000]]);
  }, 60_000);

  it('a void refused because the batch has just settled goes again as a refund, under the same attempt, once', async () => {
    const { sale, payment } = await cardSale(15_000);
    unionpay.settleBatch();
    const view = await finished(await refund(payment.id, 15_000));
    expect(view).toMatchObject({ status: 'succeeded', provider: { method: 'refund', methodReason: expect.stringMatching(/sent as a void .*35.*refunded under the same attempt/) } });
    expect(unionpay.movementsOf(sale.queryId).map((m) => m.kind)).toEqual(['refund']);
    const attempts = await running.database.db.execute<{ attempt: number; method: string }>(sql`SELECT attempt, method FROM provider_attempts WHERE refund_id = ${view.id}`);
    expect(attempts.map((a) => [a.attempt, a.method])).toEqual([[1, 'refund']]);
  }, 60_000);

  it('refuses a notice with a broken signature or from a certificate outside UnionPay’s chain, changing nothing', async () => {
    const { sale, payment } = await cardSale(3_000, new Date(Date.now() - 2 * 86_400_000));
    const view = await finished(await refund(payment.id, 3_000));
    const [movement] = unionpay.movementsOf(sale.queryId);
    const notices = async () => (await running.database.db.execute(sql`SELECT notice_id FROM provider_notices WHERE refund_id = ${view.id}`)).length;
    const before = await notices();
    for (const forgery of ['bad_signature', 'untrusted_certificate'] as const) {
      const posted = await fetch(`${running.service.apiUrl}/v1/webhooks/unionpay`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: unionpay.noticeFor({ ...movement!, state: 'succeeded' }, `${view.id}-a1`, forgery) });
      expect(posted.status).toBe(401);
    }
    expect(await notices()).toBe(before);
    expect((await running.call('GET', `/v1/refunds/${view.id}`)).body.timeline).toHaveLength(view.timeline.length);
    // UnionPay's own notice of it was taken and answered as UnionPay expects.
    expect(unionpay.notices.filter((n) => n.body.includes(movement!.orderId)).map((n) => n.status)).toContain(200);
  }, 60_000);

  it('a void racing the batch’s settlement moves the money exactly once, 20 rounds', async () => {
    const kinds: string[] = [];
    for (let round = 0; round < 20; round += 1) {
      const { sale, payment } = await cardSale(20_000 + round);
      const settling = new Promise<void>((resolve) => setTimeout(() => resolve(unionpay.settleBatch()), Math.floor(Math.random() * 400)));
      const [refundId] = await Promise.all([refund(payment.id, 20_000 + round), settling]);
      const view = await finished(refundId);
      const movements = unionpay.movementsOf(sale.queryId);
      expect(view.status).toBe('succeeded');
      expect(movements).toHaveLength(1);
      expect(movements[0]).toMatchObject({ amount: 20_000 + round, kind: view.provider.method });
      const { body: books } = await running.call('GET', `/v1/payments/${payment.id}`);
      expect(books).toMatchObject({ refundedAmount: 20_000 + round, reservedAmount: 0 });
      kinds.push(movements[0]!.kind);
    }
    // Which way each round went is the race's; that each moved the money once is the point.
    expect(kinds).toHaveLength(20);
  }, 240_000);
});
