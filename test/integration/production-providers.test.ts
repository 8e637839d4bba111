/**
 * A production deployment without the sandbox (issue #10): NODE_ENV=production, SANDBOX_ENABLED
 * unset, WeChat Pay the only rail and every other route `off`. The sandbox's routes answer 404, its
 * tables do not exist, refunds along a route that is off are refused at the door, and a WeChat
 * refund is paid through the real adapter (against the simulator).
 */
import '../support/quiet-temporal';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { freePort } from '../../src/dev/ports';
import { WechatPaySimulator } from '../simulators/wechatpay-simulator';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { productionKeys, startTestService, type TestService } from '../support/test-service';

const wechat = new WechatPaySimulator(200);
let running: TestService;

beforeAll(async () => {
  await wechat.start();
  const port = await freePort();
  const keys = productionKeys();
  running = await startTestService({
    NODE_ENV: 'production',
    PORT: String(port),
    API_KEYS: keys.API_KEYS,
    DESTINATION_SEAL_KEY: randomBytes(32).toString('base64'),
    PROVIDER_CARD: 'off',
    PROVIDER_ALIPAY: 'off',
    PROVIDER_BANK_TRANSFER: 'off',
    ...wechat.env(`http://127.0.0.1:${port}/v1/webhooks/wechatpay`),
  }, undefined, { worker: true, keyValues: keys.values });
}, 60_000);

it('takes only its own keys: the development ones published in the README are unknown here', async () => {
  expect((await running.call('GET', '/v1/refunds', { key: 'dev-support' })).status).toBe(200);
  const published = await fetch(`${running.service.apiUrl}/v1/refunds`, { headers: { authorization: 'Bearer dev-support' } });
  expect(published.status).toBe(401);
});

afterAll(async () => {
  await running?.stop();
  await wechat.stop();
});

it('has no sandbox: its routes are 404 and its tables absent', async () => {
  expect((await running.call('GET', '/v1/sandbox/providers/card/refunds')).status).toBe(404);
  expect((await running.call('POST', '/v1/webhooks/providers/card', { key: null, body: {} })).status).toBe(404);
  const tables = await running.database.db.execute<{ name: string }>(sql`SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'sandbox%'`);
  expect(tables.map((t) => t.name)).toEqual([]);
  const spec = (await running.call('GET', '/openapi.json', { key: null })).body as { paths: Record<string, unknown> };
  expect(Object.keys(spec.paths).filter((p) => p.includes('sandbox') || p.includes('/providers/'))).toEqual([]);
  expect(Object.keys(spec.paths)).toContain('/v1/webhooks/wechatpay');
});

it('refuses a refund along a route that is off, writing nothing', async () => {
  const payment = paymentRegistration({ channel: 'card' });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const refused = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(refused.status).toBe(422);
  expect(refused.body).toMatchObject({ code: 'route_unavailable', route: 'card' });
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 0, reservedAmount: 0 });
});

it('pays a WeChat refund through the real adapter; a reroute to a bank transfer that is off is refused', async () => {
  const payment = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 4_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(created.status).toBe(201);
  await eventually(async () => (await running.call('GET', `/v1/refunds/${created.body.id}`)).body.status === 'succeeded' || undefined, 20_000);
  expect(wechat.refundsOf(payment.id).map((r) => [r.amount.refund, r.status])).toEqual([[4_000, 'SUCCESS']]);

  const abnormal = paymentRegistration({ channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 });
  wechat.plan(abnormal.id, { ends: 'ABNORMAL' });
  expect((await running.call('POST', '/v1/payments', { body: abnormal })).status).toBe(201);
  const stuck = await running.call('POST', '/v1/refunds', { body: { paymentId: abnormal.id, amount: 4_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  await eventually(async () => (await running.call('GET', `/v1/refunds/${stuck.body.id}`)).body.status === 'requires_action' || undefined, 20_000);
  const reroute = await running.call('POST', `/v1/refunds/${stuck.body.id}/retry`, { key: 'dev-support', body: { destination: { type: 'bank_transfer', account: '6217000010001234', accountName: 'Li Wei' } } });
  expect(reroute.status).toBe(422);
  expect(reroute.body).toMatchObject({ code: 'route_unavailable', route: 'bank_transfer' });
  expect((await running.call('GET', `/v1/refunds/${stuck.body.id}`)).body).toMatchObject({ status: 'requires_action', proposal: null });
});
