import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sha256Hex } from '../../src/api/key-hash';
import { ConfigError, loadConfig, parseApiKeys } from '../../src/config';
import { DAY_MS } from '../../workflows/durations';
import type { AlipaySettings } from '../../src/providers/alipay/alipay-settings';
import type { WechatPaySettings } from '../../src/providers/wechatpay/wechatpay-settings';

const SEAL_KEY = Buffer.alloc(32, 7).toString('base64');
/** API keys and secrets of production strength: 32 characters or more, none of the published development values. */
const PRODUCTION_KEYS = `${'k'.repeat(40)}=service:pos`;
const WEBHOOK_SECRET = 'w'.repeat(32);
/** A production deployment that pays out along no route: enough for the settings under test. */
const ROUTES_OFF = { PROVIDER_CARD: 'off', PROVIDER_WECHAT: 'off', PROVIDER_ALIPAY: 'off', PROVIDER_BANK_TRANSFER: 'off' };

describe('configuration', () => {
  it('has the development keys outside production', () => {
    const config = loadConfig({});
    // Known by their hashes, as every key is; each sees every merchant (a single merchant's deployment).
    expect(config.apiKeys.get(sha256Hex('dev-supervisor-a'))).toEqual({ role: 'supervisor', principal: 'supervisor-a', merchants: null });
    expect(config.apiKeys.size).toBe(5);
    expect(config.apiKeys.get(sha256Hex('dev-supervisor-c'))).toEqual({ role: 'supervisor', principal: 'supervisor-c', merchants: null });
  });

  it('takes admin keys, keys for some merchants, and keys given by their hash only (issue #17)', () => {
    const hash = sha256Hex('a-key-nobody-writes-down-0123456789abcdef');
    const keys = parseApiKeys(`root-key=admin:ops,shop-key=support:li@m_shanghai+m_beijing,sha256:${hash}=service:pos`);
    expect(keys.get(sha256Hex('root-key'))).toEqual({ role: 'admin', principal: 'ops', merchants: null });
    expect(keys.get(sha256Hex('shop-key'))).toEqual({ role: 'support', principal: 'li', merchants: ['m_shanghai', 'm_beijing'] });
    expect(keys.get(hash)).toEqual({ role: 'service', principal: 'pos', merchants: null });
    expect(() => parseApiKeys('k=owner:me')).toThrow(/API_KEYS: "k=…" is not key=role:principal\[@merchant\+merchant\]/);
    // A hash is no key to check for length: production takes it as it is.
    const production = { NODE_ENV: 'production', ...ROUTES_OFF, DESTINATION_SEAL_KEY: SEAL_KEY };
    expect(loadConfig({ ...production, API_KEYS: `sha256:${hash}=admin:ops` }).apiKeys.get(hash)).toMatchObject({ role: 'admin' });
  });

  it('wants a 32-byte destination seal key in production, shared by API and worker', () => {
    const production = { NODE_ENV: 'production', API_KEYS: PRODUCTION_KEYS, ...ROUTES_OFF };
    expect(() => loadConfig(production)).toThrow(/DESTINATION_SEAL_KEY/);
    expect(() => loadConfig({ ...production, DESTINATION_SEAL_KEY: 'short' })).toThrow(/DESTINATION_SEAL_KEY must be 32 bytes/);
    expect(loadConfig({ ...production, DESTINATION_SEAL_KEY: SEAL_KEY }).destinationSealKey).toBe(SEAL_KEY);
  });

  it('keeps the development keys to this machine, and takes only strong keys where others can reach the API (issue #20)', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/HOST=0\.0\.0\.0 reaches beyond this machine, where the development API keys must not work: set API_KEYS/);
    expect(() => loadConfig({ HOST: '0.0.0.0', API_KEYS: 'short=service:pos' })).toThrow(/API_KEYS holds a key shorter than 32 characters/);
    expect(loadConfig({ HOST: '0.0.0.0', API_KEYS: PRODUCTION_KEYS }).host).toBe('0.0.0.0');
    expect(loadConfig({ API_KEYS: 'short=service:pos' }).apiKeys.size).toBe(1); // loopback: a developer's own keys
    const production = { NODE_ENV: 'production', ...ROUTES_OFF, DESTINATION_SEAL_KEY: SEAL_KEY };
    expect(loadConfig({ ...production, API_KEYS: PRODUCTION_KEYS }).host).toBe('0.0.0.0');
    for (const key of ['dev-service', 'dev-supervisor-a']) {
      expect(() => loadConfig({ ...production, API_KEYS: `${key}=service:pos` })).toThrow(/API_KEYS holds a development value, published in the README/);
    }
    expect(() => loadConfig({ ...production, API_KEYS: `${'x'.repeat(31)}=service:pos` })).toThrow(/API_KEYS holds a key shorter than 32 characters/);
    expect(() => loadConfig({ ...production, API_KEYS: PRODUCTION_KEYS, PROVIDER_CARD: 'sandbox', SANDBOX_ENABLED: 'true', PROVIDER_WEBHOOK_SECRET: 'dev-provider-webhook-secret' })).toThrow(/PROVIDER_WEBHOOK_SECRET holds a development value/);
    expect(() => loadConfig({ ...production, API_KEYS: PRODUCTION_KEYS, MERCHANT_WEBHOOKS: 'm1=https://pos.example/h', MERCHANT_WEBHOOK_SECRET: 'short' })).toThrow(/MERCHANT_WEBHOOK_SECRET holds a key shorter than 32/);
  });

  it('refuses to start in production without API_KEYS, or with the sandbox but no webhook secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', PROVIDER_WEBHOOK_SECRET: WEBHOOK_SECRET })).toThrow(/API_KEYS/);
    expect(() => loadConfig({ NODE_ENV: 'production', API_KEYS: PRODUCTION_KEYS, SANDBOX_ENABLED: 'true' })).toThrow(/PROVIDER_WEBHOOK_SECRET/);
  });

  it('reads policy settings, one SLA for every channel included', () => {
    const { policy } = loadConfig({ REFUND_AUTO_APPROVE_MAX: '100', REFUND_SETTLEMENT_SLA: '1d', REFUND_WINDOW_CARD: '30d', REFUND_FEE_BPS_CUSTOMER_REQUEST: '150', REFUND_HOLIDAYS: '2026-10-01,2026-10-02' });
    expect(policy.autoApproveMax).toBe(100);
    expect(policy.settlementSlaMs).toEqual({ card: DAY_MS, wechat: DAY_MS, alipay: DAY_MS, bank_transfer: DAY_MS });
    expect(policy.windowMs.card).toBe(30 * DAY_MS);
    expect(policy.feeBps).toEqual({ customer_request: 150 });
    expect(policy.holidays).toEqual(['2026-10-01', '2026-10-02']);
  });

  it('names the variable when a value is wrong', () => {
    expect(() => loadConfig({ REFUND_APPROVAL_TIMEOUT: 'soon' })).toThrow(/REFUND_APPROVAL_TIMEOUT/);
    expect(() => loadConfig({ REFUND_AUTO_APPROVE_MAX: '5.5' })).toThrow(ConfigError);
    expect(() => loadConfig({ REFUND_HOLIDAYS: '1 Oct' })).toThrow(/REFUND_HOLIDAYS/);
    expect(() => loadConfig({ REFUND_APPROVAL_REMINDER: '30h' })).toThrow(/in order/);
    expect(() => parseApiKeys('k=root:me')).toThrow(/API_KEYS/);
  });
});

describe('merchant webhooks', () => {
  it('reads merchantId=url pairs and wants a secret in production', () => {
    const config = loadConfig({ MERCHANT_WEBHOOKS: 'm1=https://pos.example/hooks,m2=http://10.0.0.5:8080/refunds' });
    expect([...config.merchantWebhooks]).toEqual([
      ['m1', 'https://pos.example/hooks'],
      ['m2', 'http://10.0.0.5:8080/refunds'],
    ]);
    expect(() => loadConfig({ MERCHANT_WEBHOOKS: 'm1=ftp://x' })).toThrow(/MERCHANT_WEBHOOKS/);
    const production = { NODE_ENV: 'production', API_KEYS: PRODUCTION_KEYS, ...ROUTES_OFF, DESTINATION_SEAL_KEY: SEAL_KEY, MERCHANT_WEBHOOKS: 'm1=https://pos.example/hooks' };
    expect(() => loadConfig({ ...production, MERCHANT_WEBHOOK_SECRET: '' })).toThrow(/MERCHANT_WEBHOOK_SECRET/);
    expect(loadConfig({ ...production, MERCHANT_WEBHOOK_SECRET: WEBHOOK_SECRET }).merchantWebhookSecret).toBe(WEBHOOK_SECRET);
  });
});

describe('secrets from files and the Temporal connection', () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'refundflow-config-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(folder, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads NAME_FILE into NAME, without the trailing newline, and refuses both at once or an unreadable file', () => {
    const keys = write('api_keys', 'k1=supervisor:ann\n');
    expect([...loadConfig({ API_KEYS_FILE: keys }).apiKeys]).toEqual([[sha256Hex('k1'), { role: 'supervisor', principal: 'ann', merchants: null }]]);
    expect(() => loadConfig({ API_KEYS_FILE: keys, API_KEYS: 'k2=support:bo' })).toThrow(/API_KEYS and API_KEYS_FILE are both set/);
    expect(() => loadConfig({ DATABASE_URL_FILE: path.join(folder, 'missing') })).toThrow(/DATABASE_URL_FILE: cannot read .*ENOENT/);
  });

  it('connects plainly by default, over TLS when a certificate, a CA or an API key says so', () => {
    expect(loadConfig({}).temporalSecurity).toEqual({ tls: null, apiKey: undefined });
    expect(loadConfig({ TEMPORAL_API_KEY: 'k' }).temporalSecurity).toEqual({ tls: { serverCa: undefined, clientCert: undefined, serverName: undefined }, apiKey: 'k' });
    expect(loadConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).temporalSecurity.tls).toBeNull();
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporalSecurity.tls).toEqual({ serverCa: undefined, clientCert: undefined, serverName: undefined });
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(() => loadConfig({ TEMPORAL_TLS_CERT: pem })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
    expect(() => loadConfig({ TEMPORAL_TLS_CA: '/etc/ssl/ca.pem' })).toThrow(/TEMPORAL_TLS_CA must be PEM .* use TEMPORAL_TLS_CA_FILE/);
    expect(() => loadConfig({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: pem })).toThrow(/TEMPORAL_TLS=false/);
  });
});

describe('customer message delivery', () => {
  it('takes an smtp:// or smtps:// URL, and says so when given anything else', () => {
    expect(loadConfig({ SMTP_URL: 'smtps://user:pw@mail.example:465' }).smtpUrl).toBe('smtps://user:pw@mail.example:465');
    expect(loadConfig({}).smtpUrl).toBeUndefined();
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example' })).toThrow(/SMTP_URL must start with smtp:\/\/ or smtps:\/\//);
    expect(() => loadConfig({ SMTP_URL: 'not a url' })).toThrow(/SMTP_URL must be a URL/);
    expect(() => loadConfig({ SMS_GATEWAY_URL: 'smtp://x' })).toThrow(/SMS_GATEWAY_URL/);
  });
});

describe('providers per route', () => {
  const production = { NODE_ENV: 'production', API_KEYS: PRODUCTION_KEYS, DESTINATION_SEAL_KEY: SEAL_KEY };
  const merchantKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const wechat = {
    PROVIDER_WECHAT: 'wechatpay',
    WECHATPAY_MCHID: '1900000109',
    WECHATPAY_MERCHANT_SERIAL: '3775B6A45ACD588826D15E583A95F5DD',
    WECHATPAY_PRIVATE_KEY: merchantKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0114232134912410000000000000',
    WECHATPAY_PUBLIC_KEY: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA',
    WECHATPAY_APIV3_KEY: 'a'.repeat(32),
    WECHATPAY_NOTIFY_URL: 'https://refunds.shop.example/v1/webhooks/wechatpay',
  };

  it('serves every route from the sandbox outside production', () => {
    const config = loadConfig({});
    expect(config.providers.routes).toEqual({ card: 'sandbox', wechat: 'sandbox', alipay: 'sandbox', bank_transfer: 'sandbox' });
    expect(config.sandbox.enabled).toBe(true);
  });

  it('in production, wants every route named, the sandbox only when enabled, and each adapter’s credentials', () => {
    expect(() => loadConfig(production)).toThrow(/PROVIDER_CARD must be set in production: no adapter serves card refunds \(one of unionpay, lakala, sandbox, off\)/);
    const allOff = { ...production, PROVIDER_CARD: 'off', PROVIDER_WECHAT: 'off', PROVIDER_ALIPAY: 'off', PROVIDER_BANK_TRANSFER: 'off' };
    expect(loadConfig(allOff).sandbox.enabled).toBe(false);
    expect(() => loadConfig({ ...allOff, PROVIDER_CARD: 'sandbox' })).toThrow(/PROVIDER_CARD=sandbox needs SANDBOX_ENABLED=true/);
    expect(() => loadConfig({ ...allOff, PROVIDER_CARD: 'sandbox', SANDBOX_ENABLED: 'true' })).toThrow(/PROVIDER_WEBHOOK_SECRET must be set/);
    expect(loadConfig({ ...allOff, PROVIDER_CARD: 'sandbox', SANDBOX_ENABLED: 'true', PROVIDER_WEBHOOK_SECRET: WEBHOOK_SECRET }).providers.routes.card).toBe('sandbox');
    expect(() => loadConfig({ ...allOff, PROVIDER_CARD: 'wechatpay' })).toThrow(/PROVIDER_CARD: "wechatpay" is not one of unionpay, lakala, sandbox, off/);
    for (const name of Object.keys(wechat).filter((n) => n.startsWith('WECHATPAY_'))) {
      expect(() => loadConfig({ ...allOff, ...wechat, [name]: '' })).toThrow(new RegExp(`${name} must`));
    }
    const settings = loadConfig({ ...allOff, ...wechat }).providers.modules!.wechatpay as WechatPaySettings;
    // A bare base64 key (as WeChat's console shows it) becomes PEM.
    expect(settings.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\nMIIBIjAN/);
    expect(settings.baseUrl).toBe('https://api.mch.weixin.qq.com/');
    expect(() => loadConfig({ ...allOff, ...wechat, WECHATPAY_APIV3_KEY: 'short' })).toThrow(/WECHATPAY_APIV3_KEY must be the 32-character APIv3 key/);
    expect(() => loadConfig({ ...allOff, PROVIDER_ALIPAY: 'alipay' })).toThrow(/ALIPAY_APP_ID must be set/);
  });

  it('takes a private key as PEM or bare base64, PKCS#8 or PKCS#1 (Alipay’s key tool), and keeps it as PKCS#8', () => {
    const allOff = { ...production, PROVIDER_CARD: 'off', PROVIDER_WECHAT: 'off', PROVIDER_BANK_TRANSFER: 'off' };
    const alipay = { ...allOff, PROVIDER_ALIPAY: 'alipay', ALIPAY_APP_ID: '2021000000000000', ALIPAY_PUBLIC_KEY: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' };
    const pkcs8Pem = merchantKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const given of [
      pkcs8Pem,
      merchantKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      merchantKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
      merchantKey.export({ type: 'pkcs1', format: 'der' }).toString('base64'),
    ]) {
      const key = (loadConfig({ ...alipay, ALIPAY_PRIVATE_KEY: given }).providers.modules!.alipay as AlipaySettings).privateKey;
      expect(key).toBe(pkcs8Pem);
      expect(createPrivateKey(key).asymmetricKeyType).toBe('rsa');
    }
    expect(() => loadConfig({ ...alipay, ALIPAY_PRIVATE_KEY: 'bm90IGEga2V5' })).toThrow(/ALIPAY_PRIVATE_KEY must be an RSA private key/);
  });

  it('trusts the WeChat Pay public key, platform certificates, or both while moving between them', () => {
    const allOff = { ...production, PROVIDER_CARD: 'off', PROVIDER_ALIPAY: 'off', PROVIDER_BANK_TRANSFER: 'off' };
    const { WECHATPAY_PUBLIC_KEY_ID: _id, WECHATPAY_PUBLIC_KEY: _key, ...withoutPublicKey } = wechat;
    expect(() => loadConfig({ ...allOff, ...withoutPublicKey })).toThrow(/WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY must be set \(the WeChat Pay public key\), or WECHATPAY_PLATFORM_CERTIFICATES/);
    expect(() => loadConfig({ ...allOff, ...withoutPublicKey, WECHATPAY_PLATFORM_CERTIFICATES: 'not a certificate' })).toThrow(/WECHATPAY_PLATFORM_CERTIFICATES must hold PEM certificates/);
    expect(() => loadConfig({ ...allOff, ...withoutPublicKey, WECHATPAY_PLATFORM_CERTIFICATES: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' })).toThrow(/does not parse/);
  });
});
