/**
 * The real wallets' notifications, each at its own path with its own verification: WeChat Pay's
 * signed and encrypted JSON, Alipay's signed form. Both answer the way their sender expects
 * (WeChat Pay: 204; Alipay: the text `success`); a notification that does not verify is refused
 * with 401 and changes nothing, and the wallet delivers it again later.
 */
import type { AlipaySettings, WechatPaySettings } from '../../config';
import { openAlipayNotification } from '../../providers/alipay/alipay-notifications';
import { alipaySdk } from '../../providers/alipay/alipay-provider';
import { wechatPayKeys } from '../../providers/wechatpay/wechatpay-keys';
import { openWechatNotification } from '../../providers/wechatpay/wechatpay-notifications';
import { WechatPayProvider } from '../../providers/wechatpay/wechatpay-provider';
import { receiveProviderNotice } from '../../refunds/provider-notices';
import type { ApiDeps } from '../deps';
import { ApiProblem } from '../problems';
import { route, type RouteSpec } from '../route';
import { Problem } from '../schemas';

export function walletWebhookRoutes(deps: ApiDeps): RouteSpec[] {
  const { wechatpay, alipay } = deps.config.providers;
  return [...(wechatpay ? [wechatpayWebhook(deps, wechatpay)] : []), ...(alipay ? [alipayWebhook(deps, alipay)] : [])];
}

function refused(deps: ApiDeps, provider: 'wechat' | 'alipay', reason: string): ApiProblem {
  deps.metrics.providerNotices.inc({ provider, outcome: 'signature_invalid' });
  deps.logger.warn('wallet notification refused', { provider, reason });
  return new ApiProblem(401, 'invalid_signature', 'Notification not accepted', reason);
}

function wechatpayWebhook(deps: ApiDeps, settings: WechatPaySettings): RouteSpec {
  const keys = wechatPayKeys(settings);
  return route({
    method: 'post',
    path: '/v1/webhooks/wechatpay',
    tag: 'webhooks',
    summary: 'WeChat Pay refund notifications (退款结果通知): Wechatpay-Signature checked with the WeChat Pay key Wechatpay-Serial names (public key or platform certificate), resource decrypted with the APIv3 key',
    access: 'signed',
    responses: {
      204: { description: 'Taken in (or a duplicate, which changes nothing)' },
      401: { description: 'Signature, timestamp or ciphertext not accepted: nothing changed', schema: Problem },
      404: { description: 'The notification names no refund of ours', schema: Problem },
    },
    async handle({ headers, rawBody }) {
      const opened = openWechatNotification(settings, keys, headers as Record<string, string | undefined>, rawBody);
      if (!opened.ok) {
        // A platform certificate we do not know yet may be a rotation: fetched now, WeChat Pay's redelivery then verifies.
        if (opened.unknownSerial) keys.refreshSoon(() => new WechatPayProvider(settings).certificateList());
        throw refused(deps, 'wechat', opened.reason);
      }
      const { duplicate } = await receiveProviderNotice(deps, 'wechat', opened.notice);
      deps.metrics.providerNotices.inc({ provider: 'wechat', outcome: duplicate ? 'duplicate' : 'accepted' });
      return { status: 204 };
    },
  });
}

function alipayWebhook(deps: ApiDeps, settings: AlipaySettings): RouteSpec {
  const sdk = alipaySdk(settings);
  return route({
    method: 'post',
    path: '/v1/webhooks/alipay',
    tag: 'webhooks',
    summary: 'Alipay refund notifications (form-encoded, RSA2-signed with Alipay’s key); answered with the text `success`',
    access: 'signed',
    responses: {
      200: { description: 'Taken in: the body is the text `success`, which stops Alipay redelivering' },
      401: { description: 'Signature not accepted: nothing changed', schema: Problem },
      404: { description: 'The notification names no refund of ours', schema: Problem },
    },
    async handle({ rawBody }) {
      const form = Object.fromEntries(new URLSearchParams(rawBody));
      const opened = openAlipayNotification(sdk, settings.appId, form);
      if (!opened.ok) throw refused(deps, 'alipay', opened.reason);
      const { duplicate } = await receiveProviderNotice(deps, 'alipay', opened.notice);
      deps.metrics.providerNotices.inc({ provider: 'alipay', outcome: duplicate ? 'duplicate' : 'accepted' });
      return { status: 200, text: 'success', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
    },
  });
}
