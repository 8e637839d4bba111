/**
 * WeChat Pay's key modes (issue #19): a merchant on platform certificates, and one moving from them
 * to the WeChat Pay public key, when WeChat Pay signs answers and notifications with either for
 * days. Against the simulator over HTTP, through the adapter and the notification opener the
 * service uses; a platform certificate rotated while the adapter runs is fetched from WeChat Pay's
 * certificate list, no restart.
 */
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { ProviderTimeoutError, ProviderUnavailableError, type ProviderRefundRequest } from '../../src/providers/provider';
import { wechatPayKeys } from '../../src/providers/wechatpay/wechatpay-keys';
import { openWechatNotification } from '../../src/providers/wechatpay/wechatpay-notifications';
import { WechatPayProvider } from '../../src/providers/wechatpay/wechatpay-provider';
import { WechatPaySimulator } from '../simulators/wechatpay-simulator';
import { eventually, uniqueId } from '../support/refund-fixtures';
import type { WechatPaySettings } from '../../src/providers/wechatpay/wechatpay-settings';

const certificates = new WechatPaySimulator(100, 'platform_certificate');
const moving = new WechatPaySimulator(100, 'migrating');

beforeAll(async () => {
  await Promise.all([certificates.start(), moving.start()]);
});

afterAll(async () => {
  await Promise.all([certificates.stop(), moving.stop()]);
});

function request(): ProviderRefundRequest {
  return { idempotencyKey: `${uniqueId('rf').replace('_', '-')}-a1`, refundId: uniqueId('rf'), paymentId: uniqueId('pay'), paymentAmount: 10_000, amount: 1_500, currency: 'CNY', account: 'wx-openid-0001', accountName: null, sentAs: { method: 'refund', requestedAt: new Date() }, sale: { capturedAt: new Date(), acquirerReference: null, terminalId: null } };
}

/** What the service's notification route does with a notification: open it with the merchant's keys. */
function open(simulator: WechatPaySimulator, adapter: WechatPayProvider, notice: { headers: Record<string, string>; body: string }) {
  const headers = Object.fromEntries(Object.entries(notice.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return openWechatNotification(simulator.settings(''), adapter.keys, headers, notice.body);
}

describe('platform-certificate mode', () => {
  it('configured from WECHATPAY_PLATFORM_CERTIFICATES alone: answers signed by the certificate are believed, and Wechatpay-Serial names it', async () => {
    const config = loadConfig({ ...certificates.env('https://shop.example/n'), NODE_ENV: 'development' });
    const settings = config.providers.modules!.wechatpay as WechatPaySettings;
    expect(settings.publicKeyId).toBeUndefined();
    expect(settings.platformCertificates).toHaveLength(1);
    const adapter = new WechatPayProvider(settings);
    const sent = request();
    expect(await adapter.submitRefund(sent)).toMatchObject({ status: 'pending' });
    expect(certificates.requests.at(-1)).toMatchObject({ status: 200, signedWith: certificates.currentCertificate!.serial });
    expect(adapter.keys.preferredSerial).toBe(certificates.currentCertificate!.serial);
  });

  it('a rotated certificate is fetched from WeChat Pay’s list while running: the first answer under it is not believed, the next is', async () => {
    const adapter = new WechatPayProvider(certificates.settings('https://shop.example/n'));
    const before = request();
    await adapter.submitRefund(before);
    const old = certificates.currentCertificate!.serial;
    const rotated = certificates.rotatePlatformCertificate();

    // Signed by a certificate we do not know yet: in doubt, never believed, and the list is fetched.
    const sent = request();
    await expect(adapter.submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    const found = await eventually(async () => (await adapter.findRefund(sent.idempotencyKey).catch(() => null)) ?? undefined, 5_000);
    expect(found).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
    expect(certificates.requests.filter((r) => r.path === '/v3/certificates')).toHaveLength(1);
    expect(adapter.keys.get(rotated.serial)).toBeDefined();
    // The old certificate is still trusted: WeChat Pay may still sign with it for a while.
    expect(adapter.keys.get(old)).toBeDefined();
    expect(certificates.refundsOf(sent.paymentId)).toHaveLength(1);

    // A notification under the new certificate opens too (once the refund settled: only endings are notified).
    const held = await eventually(async () => certificates.refundsOf(sent.paymentId).find((r) => r.status === 'SUCCESS'), 5_000);
    expect(open(certificates, adapter, certificates.notification(held))).toMatchObject({ ok: true });
  });

  it('a certificate list not sealed with our APIv3 key adds nothing', async () => {
    const keys = wechatPayKeys({ ...certificates.settings(''), apiV3Key: 'x'.repeat(32) });
    const size = Object.keys(keys.all()).length;
    const listing = await new WechatPayProvider(certificates.settings('')).certificateList();
    await expect(keys.refresh(async () => listing)).rejects.toThrow();
    expect(Object.keys(keys.all())).toHaveLength(size);
  });
});

describe('moving from platform certificates to the WeChat Pay public key (both trusted)', () => {
  const adapter = () => new WechatPayProvider(moving.settings('https://shop.example/n'));

  it('sends Wechatpay-Serial naming the public key on every request, and believes answers signed by either key', async () => {
    expect(adapter().keys.preferredSerial).toBe(moving.publicKeyId);
    for (const signer of ['public_key', 'certificate', 'request'] as const) {
      moving.answersSignedBy = signer;
      const sent = request();
      expect(await adapter().submitRefund(sent)).toMatchObject({ status: 'pending' });
      expect(await adapter().findRefund(sent.idempotencyKey)).toMatchObject({ status: expect.stringMatching(/pending|settled/) });
      expect(moving.requests.at(-1)!.signedWith).toBe(signer === 'certificate' ? moving.currentCertificate!.serial : moving.publicKeyId);
    }
    moving.answersSignedBy = 'request';
  });

  it('opens notifications signed by either key, and refuses one signed by anyone else or under a serial we do not know', async () => {
    const sent = request();
    await adapter().submitRefund(sent);
    const held = await eventually(async () => moving.refundsOf(sent.paymentId).find((r) => r.status === 'SUCCESS'), 5_000);
    const provider = adapter();
    expect(open(moving, provider, moving.notification(held!, { signedBy: 'public_key' }))).toMatchObject({ ok: true, notice: { idempotencyKey: sent.idempotencyKey } });
    expect(open(moving, provider, moving.notification(held!, { signedBy: 'certificate' }))).toMatchObject({ ok: true, notice: { idempotencyKey: sent.idempotencyKey } });
    expect(open(moving, provider, moving.notification(held!, { signedBy: 'public_key', spoil: 'stranger' }))).toMatchObject({ ok: false, reason: 'signature does not verify' });
    expect(open(moving, provider, moving.notification(held!, { signedBy: 'certificate', spoil: 'stranger' }))).toMatchObject({ ok: false, reason: 'signature does not verify' });
    const unknown = moving.notification(held!, { signedBy: 'public_key' });
    unknown.headers['Wechatpay-Serial'] = 'PUB_KEY_ID_0000000000000000000000000000000000';
    expect(open(moving, provider, unknown)).toMatchObject({ ok: false, unknownSerial: true });
  });

  it('the simulator’s own notifications come signed by both keys in turn, and each opens', async () => {
    const sent = request();
    await adapter().submitRefund(sent);
    const held = await eventually(async () => moving.refundsOf(sent.paymentId).find((r) => r.status === 'SUCCESS'), 5_000);
    const serials = new Set<string>();
    for (let i = 0; i < 4; i += 1) {
      const notice = moving.notification(held!);
      serials.add(notice.headers['Wechatpay-Serial']!);
      expect(open(moving, adapter(), notice)).toMatchObject({ ok: true });
    }
    expect(serials).toEqual(new Set([moving.publicKeyId, moving.currentCertificate!.serial]));
  });

  it('a key that is neither is never trusted: answers signed by it leave the submission in doubt and the query unanswered', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const fooled = new WechatPayProvider({ ...moving.settings('https://shop.example/n'), publicKey: stranger.publicKey, platformCertificates: [] });
    moving.answersSignedBy = 'public_key';
    const sent = request();
    await expect(fooled.submitRefund(sent)).rejects.toBeInstanceOf(ProviderTimeoutError);
    await expect(fooled.findRefund(sent.idempotencyKey)).rejects.toBeInstanceOf(ProviderUnavailableError);
    moving.answersSignedBy = 'request';
  });
});
