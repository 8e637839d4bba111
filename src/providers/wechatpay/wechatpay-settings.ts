/**
 * WeChat Pay's settings (API v3), read from the environment by their own schema: the merchant, its
 * API key and certificate serial, the keys WeChat Pay signs with in the merchant's mode, the APIv3
 * key, the base URL, where notifications go, and the request rate.
 */
import { z } from 'zod';
import { certificatesSetting, optionalText, privateKeySetting, publicKeySetting, requiredText, urlSetting } from '../settings-fields';

/** WeChat Pay's limit on refund requests (申请退款), per merchant: 150 a second. */
export const WECHAT_REFUNDS_PER_SECOND = 150;

/**
 * WeChat Pay API v3: "WeChat Pay public key" mode (the mode WeChat gives new merchants),
 * platform-certificate mode, or both while a merchant moves from certificates to the public key.
 */
export interface WechatPaySettings {
  mchid: string;
  /** Serial number of the merchant API certificate: says which key signed our requests. */
  merchantSerial: string;
  /** The merchant API private key (PEM): signs our requests. */
  privateKey: string;
  /** The WeChat Pay public key and its id (PUB_KEY_ID_…): verify WeChat's answers and notifications. */
  publicKeyId?: string;
  publicKey?: string;
  /** WeChat Pay platform certificates (PEM), for a merchant on them or moving off them; newer ones are fetched as they come. */
  platformCertificates: string[];
  /** APIv3 key (32 characters): decrypts notifications. */
  apiV3Key: string;
  baseUrl: string;
  /** As a service provider (服务商) refunding for this sub-merchant: `mchid` is then the sp_mchid. */
  subMchid?: string;
  /** Refund requests a second this merchant may send: WeChat Pay answers FREQUENCY_LIMITED beyond its limit. */
  requestsPerSecond: number;
  /** Where WeChat Pay posts refund notifications: this API's /v1/webhooks/wechatpay as the internet reaches it. */
  notifyUrl: string;
}

export const WECHATPAY_ENV = z
  .object({
    WECHATPAY_MCHID: requiredText('the merchant id'),
    WECHATPAY_MERCHANT_SERIAL: requiredText('the serial number of the merchant API certificate'),
    WECHATPAY_PRIVATE_KEY: privateKeySetting('WECHATPAY_PRIVATE_KEY'),
    WECHATPAY_PUBLIC_KEY_ID: optionalText(),
    WECHATPAY_PUBLIC_KEY: optionalText(),
    WECHATPAY_PLATFORM_CERTIFICATES: optionalText(),
    // AES-256: the key is its 32 characters' bytes.
    WECHATPAY_APIV3_KEY: requiredText('the APIv3 key').refine((key) => Buffer.byteLength(key) === 32, 'must be the 32-character APIv3 key'),
    WECHATPAY_BASE_URL: urlSetting('WeChat Pay’s API base').default('https://api.mch.weixin.qq.com/'),
    WECHATPAY_NOTIFY_URL: urlSetting('where WeChat Pay posts notifications: https://<this API>/v1/webhooks/wechatpay'),
    WECHATPAY_REQUESTS_PER_SECOND: z.coerce.number().int('must be a whole number').min(1).max(10_000).default(WECHAT_REFUNDS_PER_SECOND),
  })
  .transform((env, context): WechatPaySettings => {
    // Which keys answers and notifications are checked with: the public key, platform certificates, or both while moving.
    const hasPublicKey = Boolean(env.WECHATPAY_PUBLIC_KEY_ID || env.WECHATPAY_PUBLIC_KEY);
    if (!hasPublicKey && !env.WECHATPAY_PLATFORM_CERTIFICATES) {
      context.addIssue({
        code: 'custom',
        path: [],
        message: 'WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY must be set (the WeChat Pay public key), or WECHATPAY_PLATFORM_CERTIFICATES (platform certificates), or both while moving to the public key',
      });
      return z.NEVER;
    }
    const parsed = <T>(name: string, schema: z.ZodType<T>, value: unknown): T | typeof z.NEVER => {
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      context.addIssue({ code: 'custom', path: [name], message: result.error.issues[0]!.message });
      return z.NEVER;
    };
    const certificates = env.WECHATPAY_PLATFORM_CERTIFICATES ? parsed('WECHATPAY_PLATFORM_CERTIFICATES', certificatesSetting('WECHATPAY_PLATFORM_CERTIFICATES'), env.WECHATPAY_PLATFORM_CERTIFICATES) : [];
    const publicKeyId = hasPublicKey ? parsed('WECHATPAY_PUBLIC_KEY_ID', requiredText('the WeChat Pay public key id, PUB_KEY_ID_…'), env.WECHATPAY_PUBLIC_KEY_ID) : undefined;
    const publicKey = hasPublicKey ? parsed('WECHATPAY_PUBLIC_KEY', publicKeySetting('WECHATPAY_PUBLIC_KEY'), env.WECHATPAY_PUBLIC_KEY) : undefined;
    return {
      mchid: env.WECHATPAY_MCHID,
      merchantSerial: env.WECHATPAY_MERCHANT_SERIAL,
      privateKey: env.WECHATPAY_PRIVATE_KEY,
      publicKeyId,
      publicKey,
      platformCertificates: certificates,
      apiV3Key: env.WECHATPAY_APIV3_KEY,
      baseUrl: env.WECHATPAY_BASE_URL,
      notifyUrl: env.WECHATPAY_NOTIFY_URL,
      requestsPerSecond: env.WECHATPAY_REQUESTS_PER_SECOND,
    };
  });
