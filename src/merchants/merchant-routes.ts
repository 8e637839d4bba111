/**
 * A merchant's own way along a wallet route (issue #17), and the adapter settings it makes with
 * the deployment's. WeChat Pay: `partner` — the deployment is the service provider (服务商) and
 * refunds as `sp_mchid` for the merchant's `sub_mchid`, with its own keys; `direct` — the merchant's
 * own `mchid` and keys. Alipay: `authorized` — the deployment's app acting on the merchant's
 * `app_auth_token`; `own` — the merchant's own app and keys. Keys and tokens are sealed at rest, to
 * the merchant's row (field-seal.ts), and never shown again.
 */
import type { AlipaySettings } from '../providers/alipay/alipay-settings';
import { WECHAT_REFUNDS_PER_SECOND, type WechatPaySettings } from '../providers/wechatpay/wechatpay-settings';
import { place, type FieldSeal } from '../field-seal';
import type { MerchantRouteRow } from '../db/schema';

export type MerchantRouteOrder =
  | { route: 'wechat'; mode: 'partner'; subMchid: string; requestsPerSecond?: number }
  | { route: 'wechat'; mode: 'direct'; mchid: string; merchantSerial: string; privateKey: string; publicKeyId: string; publicKey: string; apiV3Key: string; requestsPerSecond?: number }
  | { route: 'alipay'; mode: 'authorized'; appAuthToken: string }
  | { route: 'alipay'; mode: 'own'; appId: string; privateKey: string; alipayPublicKey: string };

/** The fields nobody reads back: sealed in `secrets`. */
const SECRET_FIELDS = new Set(['privateKey', 'apiV3Key', 'appAuthToken']);

/** A route order as it is stored: what may be shown, and the rest sealed to its row. */
export function storedRoute(fields: FieldSeal, merchantId: string, order: MerchantRouteOrder): Pick<MerchantRouteRow, 'settings' | 'secrets'> {
  const settings: Record<string, string | number> = {};
  const secrets: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(order)) {
    if (name === 'route') continue;
    (SECRET_FIELDS.has(name) ? secrets : settings)[name] = value;
  }
  return { settings, secrets: Object.keys(secrets).length ? fields.seal(JSON.stringify(secrets), place.merchantRoute(merchantId, order.route)) : null };
}

/** The stored route as it was ordered, its secrets opened. */
export function routeOrderOf(fields: FieldSeal, row: MerchantRouteRow): MerchantRouteOrder {
  const secrets = row.secrets ? (JSON.parse(fields.open(row.secrets, place.merchantRoute(row.merchantId, row.route))) as Record<string, string>) : {};
  return { route: row.route, ...row.settings, ...secrets } as MerchantRouteOrder;
}

/** What the API shows of a stored route: its settings, and the names of the secrets it holds. */
export function routeView(row: MerchantRouteRow, fields: FieldSeal) {
  const order = routeOrderOf(fields, row);
  return {
    merchantId: row.merchantId,
    route: row.route,
    ...row.settings,
    secrets: Object.keys(order).filter((name) => SECRET_FIELDS.has(name)).sort(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** WeChat Pay as this merchant refunds through it; notices come to its own address. */
export function wechatSettingsFor(merchantId: string, order: Extract<MerchantRouteOrder, { route: 'wechat' }>, deployment: WechatPaySettings): WechatPaySettings {
  const notifyUrl = `${deployment.notifyUrl.replace(/\/+$/, '')}/${encodeURIComponent(merchantId)}`;
  if (order.mode === 'partner') return { ...deployment, subMchid: order.subMchid, notifyUrl, requestsPerSecond: order.requestsPerSecond ?? deployment.requestsPerSecond };
  return {
    mchid: order.mchid,
    merchantSerial: order.merchantSerial,
    privateKey: order.privateKey,
    publicKeyId: order.publicKeyId,
    publicKey: order.publicKey,
    platformCertificates: [],
    apiV3Key: order.apiV3Key,
    baseUrl: deployment.baseUrl,
    notifyUrl,
    requestsPerSecond: order.requestsPerSecond ?? WECHAT_REFUNDS_PER_SECOND,
  };
}

/** Alipay as this merchant refunds through it. */
export function alipaySettingsFor(order: Extract<MerchantRouteOrder, { route: 'alipay' }>, deployment: AlipaySettings): AlipaySettings {
  if (order.mode === 'authorized') return { ...deployment, appAuthToken: order.appAuthToken };
  return { appId: order.appId, privateKey: order.privateKey, alipayPublicKey: order.alipayPublicKey, gateway: deployment.gateway };
}
