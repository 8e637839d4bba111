/**
 * Each merchant's refunds through its own wallet account (issue #17), end to end against the
 * protocol simulators: one merchant a WeChat Pay sub-merchant of this deployment's service provider
 * account (partner mode: sp_mchid + sub_mchid), one a WeChat Pay merchant with its own account and
 * keys (direct mode), one an Alipay merchant that authorised this deployment's app
 * (app_auth_token). The simulators check every request's ids and signature; each merchant's
 * notices come to its own address and are taken only for its own refunds; its secrets are sealed
 * at rest, and a seal key rotation leaves everything working with the new key alone.
 */
import '../support/quiet-temporal';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { DEVELOPMENT_API_KEYS } from '../../src/config';
import { sealAccountsAtRest } from '../../src/db/queries/sealed-accounts';
import { freePort } from '../../src/dev/ports';
import { fieldSeal } from '../../src/field-seal';
import { AlipaySimulator } from '../simulators/alipay-simulator';
import { WechatPaySimulator, type MerchantAccount } from '../simulators/wechatpay-simulator';
import { callAs } from '../support/call-as';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const ADMIN = 'wallets-admin-key-0123456789abcdef0123456789';
const oldKey = { id: 'k1', key: randomBytes(32) };
const newKey = { id: 'k2', key: randomBytes(32) };
const sealKeys = (...keys: { id: string; key: Buffer }[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

const wechat = new WechatPaySimulator(200);
const alipay = new AlipaySimulator();
let running: TestService;
let env: Record<string, string>;
let direct: MerchantAccount;
let subMchid: string;
let appAuthToken: string;

beforeAll(async () => {
  await Promise.all([wechat.start(), alipay.start()]);
  const port = await freePort();
  env = {
    PORT: String(port),
    ...wechat.env(`http://127.0.0.1:${port}/v1/webhooks/wechatpay`),
    ...alipay.env(),
    API_KEYS: `${DEVELOPMENT_API_KEYS},${ADMIN}=admin:ops`,
    PROVIDER_POLL_INTERVAL: '1s',
  };
  running = await startTestService({ ...env, ACCOUNT_SEAL_KEYS: sealKeys(oldKey) });
  direct = wechat.addMerchant();
  subMchid = wechat.addSubMerchant();
  appAuthToken = alipay.authorise('m_alipay');
  for (const id of ['m_partner', 'm_direct', 'm_alipay']) expect((await admin('POST', '/v1/merchants', { id, name: `Shop ${id}` })).status).toBe(201);
  const routes = [
    ['m_partner', 'wechat', { mode: 'partner', subMchid }],
    ['m_direct', 'wechat', { mode: 'direct', mchid: direct.mchid, merchantSerial: direct.merchantSerial, privateKey: direct.merchant.privateKey, publicKeyId: direct.publicKey.serial, publicKey: direct.publicKey.publicKey, apiV3Key: direct.apiV3Key }],
    ['m_alipay', 'alipay', { mode: 'authorized', appAuthToken }],
  ] as const;
  for (const [merchant, route, body] of routes) expect((await admin('PUT', `/v1/merchants/${merchant}/routes/${route}`, body)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await running?.stop();
  await Promise.all([wechat.stop(), alipay.stop()]);
});

const admin = (method: string, path: string, body?: unknown) => callAs(running.service.apiUrl!, ADMIN, method, path, body);

/** A paid refund of the merchant's: its payment's id and the refund's. */
async function paidRefund(merchantId: string, channel: 'wechat' | 'alipay', amount: number) {
  const payment = paymentRegistration({ merchantId, channel, payerAccount: channel === 'wechat' ? 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' : '2088102146225135', amount: 10_000 });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(created.status).toBe(201);
  const refundId = created.body.id as string;
  const refund = await eventually(async () => {
    const { body } = await running.call('GET', `/v1/refunds/${refundId}`, { key: 'dev-support' });
    return body.status === 'succeeded' ? body : undefined;
  }, 30_000, `${merchantId}'s refund paid`);
  return { paymentId: payment.id, refundId, refund };
}

it('keeps each merchant’s keys and tokens sealed, and shows only their names', async () => {
  const shown = await admin('GET', '/v1/merchants/m_direct/routes');
  expect(shown.body.data).toEqual([expect.objectContaining({ route: 'wechat', mode: 'direct', mchid: direct.mchid, secrets: ['apiV3Key', 'privateKey'] })]);
  for (const secret of [direct.apiV3Key, 'PRIVATE KEY']) expect(shown.text).not.toContain(secret);
  const stored = await running.database.db.execute<{ settings: unknown; secrets: string | null }>(sql`SELECT settings, secrets FROM merchant_routes`);
  expect(stored.every((row) => row.secrets === null || row.secrets.startsWith('sealed:v1:k1:'))).toBe(true);
  expect(JSON.stringify(stored)).not.toContain(direct.apiV3Key);
  expect(JSON.stringify(stored)).not.toContain(appAuthToken);
  // A wallet's mode on the other wallet's route is refused, and changes nothing.
  expect((await admin('PUT', '/v1/merchants/m_alipay/routes/alipay', { mode: 'partner', subMchid })).status).toBe(400);
});

it('a WeChat Pay sub-merchant: every request as the service provider for its sub_mchid, signed with the provider’s key; its notice at its own address', async () => {
  const { refundId } = await paidRefund('m_partner', 'wechat', 1_100);
  const key = `${refundId}-a1`;
  const held = wechat.refunds.get(key)!;
  expect(held).toMatchObject({ mchid: wechat.mchid, sub_mchid: subMchid, status: 'SUCCESS' });
  // Every request naming the sub-merchant came from the service provider's account, verified with its key.
  const forIt = wechat.requests.filter((r) => r.subMchid === subMchid);
  expect(forIt.some((r) => r.method === 'POST')).toBe(true);
  expect(forIt.every((r) => r.mchid === wechat.mchid && r.signedWith === wechat.publicKeyId)).toBe(true);
  expect(wechat.requests.filter((r) => r.path.includes(key)).every((r) => r.subMchid === subMchid)).toBe(true);
  await eventually(async () => wechat.deliveries.some((d) => d.outRefundNo === key && d.status === 204) || undefined, 10_000, 'the notice taken');
  expect(held.notifyUrl).toMatch(/\/v1\/webhooks\/wechatpay\/m_partner$/);
});

it('a WeChat Pay merchant of its own: every request under its mchid, signed with its key and answered with its WeChat Pay key; its notice at its own address', async () => {
  const { refundId } = await paidRefund('m_direct', 'wechat', 1_200);
  const key = `${refundId}-a1`;
  const held = wechat.refunds.get(key)!;
  expect(held).toMatchObject({ mchid: direct.mchid, status: 'SUCCESS' });
  expect(held.sub_mchid).toBeUndefined();
  const mine = wechat.requests.filter((r) => r.mchid === direct.mchid);
  expect(mine.length).toBeGreaterThan(0);
  expect(mine.every((r) => r.signedWith === direct.publicKey.serial && r.subMchid === undefined)).toBe(true);
  await eventually(async () => wechat.deliveries.some((d) => d.outRefundNo === key && d.status === 204) || undefined, 10_000, 'the notice taken');
  expect(held.notifyUrl).toMatch(/\/v1\/webhooks\/wechatpay\/m_direct$/);
});

it('an Alipay merchant that authorised the app: every call carries its app_auth_token, and the refund is of its trade', async () => {
  const { paymentId } = await paidRefund('m_alipay', 'alipay', 1_300);
  const calls = alipay.requests.filter((r) => r.outTradeNo === paymentId);
  expect(calls.length).toBeGreaterThan(0);
  expect(calls.every((r) => r.appAuthToken === appAuthToken)).toBe(true);
  expect(alipay.refundsOf(paymentId)).toEqual([expect.objectContaining({ seller: 'm_alipay', amount: 1_300 })]);
});

it('a notice signed with one merchant’s key for another merchant’s refund is refused and changes nothing', async () => {
  const { refundId, refund } = await paidRefund('m_partner', 'wechat', 1_400);
  const held = wechat.refunds.get(`${refundId}-a1`)!;
  const notices = async () => (await running.database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM provider_notices WHERE refund_id = ${refundId}`))[0]!.n;
  const before = await notices();
  // Signed and sealed by the direct merchant's keys, naming the sub-merchant's refund.
  const forged = wechat.notification(held, { as: direct });
  const post = (merchant: string) =>
    fetch(`${running.service.apiUrl}/v1/webhooks/wechatpay/${merchant}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...forged.headers }, body: forged.body });
  // At the signer's own address it verifies, but names a refund that is not that merchant's.
  const atSigner = await post('m_direct');
  expect([atSigner.status, await atSigner.text()]).toEqual([404, expect.stringContaining('names no refund of that merchant')]);
  // At the refund's merchant's address, the key is not that merchant's.
  expect((await post('m_partner')).status).toBe(401);
  expect((await post('m_nowhere')).status).toBe(404);
  expect(await notices()).toBe(before);
  expect((await running.call('GET', `/v1/refunds/${refundId}`, { key: 'dev-support' })).body.timeline).toHaveLength(refund.timeline.length);
});

/**
 * WeChat Pay's limit is 150 refund requests a second per merchant. This machine's two cores take
 * refunds at about 20 a second, so the burst is scaled down to what shows the limit held: the
 * simulator enforces 6 a second (FREQUENCY_LIMITED beyond), the merchant is set to 4, and 80 refunds
 * arrive at once — four times what the simulator allows in the seconds they take.
 */
it('a burst of refunds for one merchant beyond its wallet’s rate waits its turn: no FREQUENCY_LIMITED reaches WeChat Pay, each paid once', async () => {
  const burstSub = wechat.addSubMerchant();
  expect((await admin('POST', '/v1/merchants', { id: 'm_burst', name: 'Flagship store' })).status).toBe(201);
  expect((await admin('PUT', '/v1/merchants/m_burst/routes/wechat', { mode: 'partner', subMchid: burstSub, requestsPerSecond: 4 })).status).toBe(200);
  wechat.refundsPerSecond = 6;
  try {
    const payments = Array.from({ length: 80 }, () => paymentRegistration({ merchantId: 'm_burst', channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', amount: 10_000 }));
    await Promise.all(payments.map(async (payment) => expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201)));
    const created = await Promise.all(
      payments.map((payment) => running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } })),
    );
    expect(created.map((c) => c.status)).toEqual(created.map(() => 201));
    await eventually(async () => {
      const rows = await running.database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM refunds WHERE merchant_id = 'm_burst' AND status = 'succeeded'`);
      return rows[0]!.n === payments.length || undefined;
    }, 90_000, 'every refund of the burst paid');
    const limited = wechat.requests.filter((r) => r.subMchid === burstSub && r.status === 429);
    expect(limited).toEqual([]);
    for (const payment of payments) expect(wechat.refundsOf(payment.id).map((r) => r.status)).toEqual(['SUCCESS']);
    const perSecond = [...wechat.refundRequestsPerSecond].filter(([second]) => second.startsWith(`${wechat.mchid}/${burstSub}@`)).map(([, n]) => n);
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(6);
    expect(perSecond.length).toBeGreaterThanOrEqual(80 / 6);
  } finally {
    wechat.refundsPerSecond = undefined;
  }
}, 120_000);

it('rotating the seal key: old secrets still open, all sealed again, then with the old key gone every merchant still refunds', async () => {
  await running.service.stop();
  const resealed = await sealAccountsAtRest(running.database.db, fieldSeal([newKey, oldKey]));
  expect(resealed).toBeGreaterThan(0);
  const stored = await running.database.db.execute<{ secrets: string | null }>(sql`SELECT secrets FROM merchant_routes WHERE secrets IS NOT NULL`);
  expect(stored.length).toBe(2);
  expect(stored.every((row) => row.secrets!.startsWith('sealed:v1:k2:'))).toBe(true);
  // The same deployment started again with the new key alone.
  const restarted = await startTestService({ ...env, DATABASE_URL: running.database.url, ACCOUNT_SEAL_KEYS: sealKeys(newKey) });
  const first = running;
  running = { ...restarted, database: first.database, stop: async () => {
    await restarted.service.stop();
    await Promise.all([restarted.database.close(), first.database.close()]);
  } };
  for (const [merchant, channel] of [['m_partner', 'wechat'], ['m_direct', 'wechat'], ['m_alipay', 'alipay']] as const) {
    const { refund } = await paidRefund(merchant, channel, 1_500);
    expect(refund.status).toBe('succeeded');
  }
}, 120_000);
