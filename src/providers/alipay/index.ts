/**
 * Alipay as a provider module: the Alipay route, its settings, and its refund notifications (a
 * signed form) at /v1/webhooks/alipay — and, per merchant, /v1/webhooks/alipay/{merchant}, checked
 * with the app (and, acting for the merchant, its token) that merchant's refunds go out with.
 * Alipay stops redelivering when it reads the text `success`.
 */
import type { ProviderModule } from '../provider-module';
import { openAlipayNotification } from './alipay-notifications';
import { AlipayProvider } from './alipay-provider';
import { ALIPAY_ENV, type AlipaySettings } from './alipay-settings';

export const alipay: ProviderModule<AlipaySettings, AlipayProvider> = {
  adapter: 'alipay',
  routes: ['alipay'],
  label: 'Alipay',
  settings: ALIPAY_ENV,
  secretSettings: ['ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY', 'ALIPAY_APP_CERT', 'ALIPAY_PUBLIC_CERT', 'ALIPAY_ROOT_CERT'],
  create: (settings) => new AlipayProvider(settings),
  notices: {
    path: 'alipay',
    body: 'form',
    perMerchant: true,
    summary: 'Alipay refund notifications (form-encoded, RSA2-signed with Alipay’s key); answered with the text `success`',
    open(provider, { rawBody }) {
      if (!(provider instanceof AlipayProvider)) return { ok: false, reason: 'this merchant does not refund through Alipay' };
      return openAlipayNotification(provider.sdk, provider.settings.appId, Object.fromEntries(new URLSearchParams(rawBody)));
    },
    taken: { status: 200, text: 'success' },
  },
};
