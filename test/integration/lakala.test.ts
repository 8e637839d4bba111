/**
 * The card rail through Lakala (issue #21): the unified return (统一退货, trade_refund) and its
 * query, by the adapter against a simulator of Lakala's open platform on localhost (its own
 * certificates, made here; LKLAPI-SHA256withRSA both ways), for codes it does not document for us,
 * a lost answer, answers signed by a certificate that is not Lakala's; then inside the whole
 * service, where every card attempt is a return and the refund says why.
 */
import '../support/quiet-temporal';
import { loadConfig } from '../../src/config';
import { ProviderTimeoutError, ProviderUnavailableError, type ProviderRefundRequest } from '../../src/providers/provider';
import { LAKALA_TRADE_STATES } from '../../src/providers/lakala/lakala-protocol';
import { LakalaProvider } from '../../src/providers/lakala/lakala-provider';
import type { LakalaSettings } from '../../src/providers/lakala/lakala-settings';
import { LAKALA_CODES, LakalaSimulator, type LakalaCode } from '../simulators/lakala-simulator';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const lakala = new LakalaSimulator();
const CARD = '6222020200112345678';
let running: TestService;
let settings: LakalaSettings;

beforeAll(async () => {
  await lakala.start();
  settings = loadConfig({ NODE_ENV: 'development', ...lakala.env() }).providers.modules!.lakala as LakalaSettings;
  running = await startTestService({ ...lakala.env(), PROVIDER_POLL_INTERVAL: '1s' });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await lakala.stop();
});

const adapter = (overrides: Partial<LakalaSettings> = {}) => new LakalaProvider({ ...settings, ...overrides }, { timeoutMs: 10_000 });

function request(saleAmount: number, overrides: Partial<ProviderRefundRequest> = {}): ProviderRefundRequest {
  const sale = lakala.addSale(saleAmount, CARD);
  const refundId = `rf_${uniqueId('x').slice(2).toUpperCase()}`;
  return {
    idempotencyKey: `${refundId}-a1`,
    refundId,
    paymentId: uniqueId('pay'),
    paymentAmount: saleAmount,
    amount: saleAmount,
    currency: 'CNY',
    account: CARD,
    accountName: null,
    sentAs: { method: 'refund', requestedAt: new Date() },
    sale: { capturedAt: new Date(), acquirerReference: sale.logNo, terminalId: null },
    ...overrides,
  };
}

describe('the adapter, against the simulated open platform', () => {
  it('returns part of a sale: taken (PROCESSING), then SUCCESS in the query; sent again, the duplicate is found, not paid twice', async () => {
    const sent = request(10_000, { amount: 4_000 });
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'pending', traceReference: expect.stringMatching(/^\d{14}$/) });
    expect(await eventually(async () => (await adapter().findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs))?.status === 'settled' || undefined, 10_000)).toBe(true);
    expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'settled' });
    expect(lakala.returnsOf(sent.sale.acquirerReference!).map((r) => r.amount)).toEqual([4_000]);
    expect(await adapter().findRefund('rf_NEVERSENT-a1', sent.paymentId, sent.sentAs)).toBeNull();
  });

  it('reads every trade state Lakala documents, and no state it does not as a result', () => {
    expect(Object.keys(LAKALA_TRADE_STATES).sort()).toEqual(['DEAL', 'EXCEPTION', 'FAIL', 'INIT', 'PROCESSING', 'SUCCESS', 'TIMEOUT']);
  });

  it.each(Object.keys(LAKALA_CODES) as LakalaCode[])('a signed %s it did not act on: in doubt (its query holds nothing), nothing moved', async (code) => {
    const sent = request(5_000, { amount: 500 });
    lakala.plan(sent.sale.acquirerReference!, { answers: [code] });
    await expect(adapter().submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(lakala.returnsOf(sent.sale.acquirerReference!)).toHaveLength(0);
  });

  it('a refusal it did not mean (taken, answered with an error code) and a lost answer: the query finds the one return', async () => {
    const refused = request(5_000, { amount: 700 });
    lakala.plan(refused.sale.acquirerReference!, { takeButAnswer: 'BBS99999' });
    expect(await adapter().submitRefund(refused)).toMatchObject({ status: 'pending' });
    const lost = request(5_000, { amount: 800 });
    lakala.plan(lost.sale.acquirerReference!, { loseAnswer: true });
    await expect(adapter().submitRefund(lost)).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(await adapter().findRefund(lost.idempotencyKey, lost.paymentId, lost.sentAs)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
    expect([lakala.returnsOf(refused.sale.acquirerReference!).length, lakala.returnsOf(lost.sale.acquirerReference!).length]).toEqual([1, 1]);
  });

  it('believes no answer signed by a certificate that is not Lakala’s; Lakala refuses a request not signed with our key', async () => {
    const sent = request(6_000, { amount: 600 });
    const fooled = adapter({ lakalaCertificate: new (await import('node:crypto')).X509Certificate(lakala.stranger.certificatePem) });
    await expect(fooled.submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    await expect(fooled.findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(await adapter().findRefund(sent.idempotencyKey, sent.paymentId, sent.sentAs)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
    const impostor = adapter({ privateKey: (await import('node:crypto')).createPrivateKey(lakala.stranger.keyPem) });
    const other = request(6_000, { amount: 600 });
    await expect(impostor.submitRefund(other)).rejects.toBeInstanceOf(ProviderTimeoutError); // Lakala's 401 is no answer of its
    expect(lakala.returnsOf(other.sale.acquirerReference!)).toHaveLength(0);
  });

  it('declines, sending nothing, a refund in another currency or of a sale without its log number; settings name their variable', async () => {
    expect(await adapter().submitRefund(request(1_000, { currency: 'USD' }))).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('CNY') });
    const unnamed = request(1_000);
    expect(await adapter().submitRefund({ ...unnamed, sale: { ...unnamed.sale, acquirerReference: null } })).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('origin_log_no') });
    expect(() => loadConfig({ NODE_ENV: 'development', ...lakala.env(), LAKALA_CERTIFICATE: 'nope' })).toThrow(/LAKALA_CERTIFICATE must be Lakala’s platform certificate/);
    expect(() => loadConfig({ NODE_ENV: 'development', ...lakala.env(), LAKALA_REQUEST_IP: 'somewhere' })).toThrow(/LAKALA_REQUEST_IP/);
  });
});

describe('inside the service', () => {
  beforeAll(() => {
    lakala.settleAfterMs = 300;
  });

  it('a card refund is a return, whole or part, today or later: paid once, and the refund says why it was not voided', async () => {
    for (const [amount, capturedAt] of [[9_000, new Date()], [3_000, new Date(Date.now() - 2 * 86_400_000)]] as const) {
      const sale = lakala.addSale(9_000, CARD, capturedAt);
      const payment = paymentRegistration({ channel: 'card', amount: 9_000, payerAccount: CARD, capturedAt: capturedAt.toISOString(), card: { acquirerReference: sale.logNo } });
      expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
      const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
      expect(created.status).toBe(201);
      const view = await eventually(async () => {
        const { body } = await running.call('GET', `/v1/refunds/${created.body.id}`);
        return body.status === 'succeeded' ? body : undefined;
      }, 30_000);
      expect(view.provider).toMatchObject({ method: 'refund', methodReason: expect.stringContaining('not the whole of a sale its acquirer can void'), traceReference: lakala.returnsOf(sale.logNo)[0]!.logNo });
      expect(lakala.returnsOf(sale.logNo).map((r) => r.amount)).toEqual([amount]);
    }
  }, 60_000);
});
