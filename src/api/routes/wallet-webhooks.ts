/**
 * The real wallets' notifications, each at its own path with its own verification: WeChat Pay's
 * signed and encrypted JSON, Alipay's signed form. Both answer the way their sender expects
 * (WeChat Pay: 204; Alipay: the text `success`); a notification that does not verify is refused
 * with 401 and changes nothing, and the wallet delivers it again later.
 */
import type { AlipaySettings, WechatPaySettings } from '../../config';
import { openAlipayNotification } from '../../providers/alipay/alipay-notifications';
import { AlipayProvider } from '../../providers/alipay/alipay-provider';
import { openWechatNotification } from '../../providers/wechatpay/wechatpay-notifications';
import { WechatPayProvider } from '../../providers/wechatpay/wechatpay-provider';
import { receiveProviderNotice } from '../../refunds/provider-notices';
import type { ApiDeps } from '../deps';
import { ApiProblem, merchantNotFound } from '../problems';
import { findMerchant } from '../../db/queries/merchants';
import { route, type RouteSpec } from '../route';
import { MerchantNoticeParams, Problem } from '../schemas';

export function walletWebhookRoutes(deps: ApiDeps): RouteSpec[] {
  const { wechatpay, alipay } = deps.config.providers;
  return [
    ...(wechatpay ? [wechatpayWebhook(deps, wechatpay), merchantWechatpayWebhook(deps)] : []),
    ...(alipay ? [alipayWebhook(deps, alipay), merchantAlipayWebhook(deps)] : []),
  ];
}

function refused(deps: ApiDeps, provider: 'wechat' | 'alipay', reason: string): ApiProblem {
  deps.metrics.providerNotices.inc({ provider, outcome: 'signature_invalid' });
  deps.logger.warn('wallet notification refused', { provider, reason });
  return new ApiProblem(401, 'invalid_signature', 'Notification not accepted', reason);
}

function wechatpayWebhook(deps: ApiDeps, settings: WechatPaySettings): RouteSpec {
  const deployment = new WechatPayProvider(settings);
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
    handle: ({ headers, rawBody }) => takeWechatNotice(deps, deployment, headers, rawBody),
  });
}

function alipayWebhook(deps: ApiDeps, settings: AlipaySettings): RouteSpec {
  const deployment = new AlipayProvider(settings);
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
    handle: ({ rawBody }) => takeAlipayNotice(deps, deployment, rawBody),
  });
}

/**
 * A merchant's own notification address (issue #17): verified with the keys that merchant's refunds
 * go out with (its sub-merchant id under our service provider account, or its own account), and
 * taken only for a refund of that merchant.
 */
function merchantWechatpayWebhook(deps: ApiDeps): RouteSpec {
  return route({
    method: 'post',
    path: '/v1/webhooks/wechatpay/:merchant',
    tag: 'webhooks',
    summary: 'WeChat Pay refund notifications for one merchant: checked with that merchant’s WeChat Pay keys and ids, taken only for its own refunds',
    access: 'signed',
    params: MerchantNoticeParams,
    responses: {
      204: { description: 'Taken in (or a duplicate, which changes nothing)' },
      401: { description: 'Signature, timestamp, ciphertext or merchant not accepted: nothing changed', schema: Problem },
      404: { description: 'No such merchant, or the notification names no refund of this merchant', schema: Problem },
    },
    async handle({ params, headers, rawBody }) {
      const provider = await providerOfMerchant(deps, params.merchant, 'wechat');
      if (!(provider instanceof WechatPayProvider)) throw refused(deps, 'wechat', `merchant ${params.merchant} does not refund through WeChat Pay`);
      return takeWechatNotice(deps, provider, headers, rawBody, params.merchant);
    },
  });
}

/** The same for Alipay: the app (and, acting for the merchant, its token) that merchant's refunds go out with. */
function merchantAlipayWebhook(deps: ApiDeps): RouteSpec {
  return route({
    method: 'post',
    path: '/v1/webhooks/alipay/:merchant',
    tag: 'webhooks',
    summary: 'Alipay refund notifications for one merchant: checked with the app its refunds go out with, taken only for its own refunds',
    access: 'signed',
    params: MerchantNoticeParams,
    responses: {
      200: { description: 'Taken in: the body is the text `success`' },
      401: { description: 'Signature or app not accepted: nothing changed', schema: Problem },
      404: { description: 'No such merchant, or the notification names no refund of this merchant', schema: Problem },
    },
    async handle({ params, rawBody }) {
      const provider = await providerOfMerchant(deps, params.merchant, 'alipay');
      if (!(provider instanceof AlipayProvider)) throw refused(deps, 'alipay', `merchant ${params.merchant} does not refund through Alipay`);
      return takeAlipayNotice(deps, provider, rawBody, params.merchant);
    },
  });
}

async function providerOfMerchant(deps: ApiDeps, merchantId: string, route: 'wechat' | 'alipay') {
  if (!(await findMerchant(deps.db, merchantId))) throw merchantNotFound(merchantId);
  return deps.providers.forMerchant(merchantId, route);
}

/** A WeChat Pay notice opened with the keys of the account it should come from, and passed to its refund. */
async function takeWechatNotice(deps: ApiDeps, provider: WechatPayProvider, headers: unknown, rawBody: string, merchantId?: string) {
  const opened = openWechatNotification(provider.settings, provider.keys, headers as Record<string, string | undefined>, rawBody);
  if (!opened.ok) {
    // A platform certificate we do not know yet may be a rotation: fetched now, WeChat Pay's redelivery then verifies.
    if (opened.unknownSerial) provider.keys.refreshSoon(() => provider.certificateList());
    throw refused(deps, 'wechat', opened.reason);
  }
  const { duplicate } = await receiveProviderNotice(deps, 'wechat', opened.notice, merchantId);
  deps.metrics.providerNotices.inc({ provider: 'wechat', outcome: duplicate ? 'duplicate' : 'accepted' });
  return { status: 204 };
}

/** An Alipay notice checked with the app it should come from; answered `success`, which stops Alipay redelivering. */
async function takeAlipayNotice(deps: ApiDeps, provider: AlipayProvider, rawBody: string, merchantId?: string) {
  const opened = openAlipayNotification(provider.sdk, provider.settings.appId, Object.fromEntries(new URLSearchParams(rawBody)));
  if (!opened.ok) throw refused(deps, 'alipay', opened.reason);
  const { duplicate } = await receiveProviderNotice(deps, 'alipay', opened.notice, merchantId);
  deps.metrics.providerNotices.inc({ provider: 'alipay', outcome: duplicate ? 'duplicate' : 'accepted' });
  return { status: 200, text: 'success', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
}
