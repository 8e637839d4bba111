/**
 * WeChat Pay (API v3) as a provider module: the WeChat route, its settings, and its refund
 * notifications at /v1/webhooks/wechatpay — and, per merchant, /v1/webhooks/wechatpay/{merchant},
 * checked with the keys that merchant's refunds go out with (its sub-merchant id under our service
 * provider account, or its own account). WeChat Pay expects 204 once one is taken.
 */
import type { ProviderModule } from '../provider-module';
import { openWechatNotification } from './wechatpay-notifications';
import { WechatPayProvider } from './wechatpay-provider';
import { WECHATPAY_ENV, type WechatPaySettings } from './wechatpay-settings';

export const wechatpay: ProviderModule<WechatPaySettings, WechatPayProvider> = {
  adapter: 'wechatpay',
  routes: ['wechat'],
  label: 'WeChat Pay',
  settings: WECHATPAY_ENV,
  secretSettings: ['WECHATPAY_PRIVATE_KEY', 'WECHATPAY_PUBLIC_KEY', 'WECHATPAY_PLATFORM_CERTIFICATES', 'WECHATPAY_APIV3_KEY'],
  create: (settings) => new WechatPayProvider(settings),
  notices: {
    path: 'wechatpay',
    body: 'json',
    perMerchant: true,
    summary:
      'WeChat Pay refund notifications (退款结果通知): Wechatpay-Signature checked with the WeChat Pay key Wechatpay-Serial names (public key or platform certificate), resource decrypted with the APIv3 key',
    open(provider, { headers, rawBody }) {
      if (!(provider instanceof WechatPayProvider)) return { ok: false, reason: 'this merchant does not refund through WeChat Pay' };
      const opened = openWechatNotification(provider.settings, provider.keys, headers, rawBody);
      if (opened.ok) return opened;
      // A platform certificate we do not know yet may be a rotation: fetched now, WeChat Pay's redelivery then verifies.
      if (opened.unknownSerial) provider.keys.refreshSoon(() => provider.certificateList());
      return { ok: false, reason: opened.reason };
    },
    taken: { status: 204 },
  },
};
