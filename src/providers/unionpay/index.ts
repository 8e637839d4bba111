/**
 * UnionPay ACP as a provider module: the card route, its settings, and its notices at
 * /v1/webhooks/unionpay (posted as a form to the backUrl each request names; UnionPay redelivers
 * until it gets HTTP 200).
 */
import type { ProviderModule } from '../provider-module';
import { openUnionPayNotice } from './unionpay-notices';
import { UnionPayProvider } from './unionpay-provider';
import { UNIONPAY_ENV, type UnionPaySettings } from './unionpay-settings';

export const unionpay: ProviderModule<UnionPaySettings, UnionPayProvider> = {
  adapter: 'unionpay',
  routes: ['card'],
  label: 'UnionPay',
  settings: UNIONPAY_ENV,
  secretSettings: ['UNIONPAY_SIGN_CERT', 'UNIONPAY_SIGN_CERT_PASSWORD', 'UNIONPAY_ROOT_CERT', 'UNIONPAY_MIDDLE_CERT'],
  binarySecretSettings: ['UNIONPAY_SIGN_CERT'],
  create: (settings) => new UnionPayProvider(settings),
  notices: {
    path: 'unionpay',
    body: 'form',
    summary: 'UnionPay refund and void results (backUrl, form-encoded): believed when UnionPay’s certificate chains to its root and the signature verifies; answered 200 `ok`',
    open: (provider, { rawBody }) =>
      provider instanceof UnionPayProvider ? openUnionPayNotice(provider.settings, Object.fromEntries(new URLSearchParams(rawBody))) : { ok: false, reason: 'the card route does not go through UnionPay' },
    taken: { status: 200, text: 'ok' },
  },
};
