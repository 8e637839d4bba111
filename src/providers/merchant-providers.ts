/**
 * The provider that pays a merchant's refunds along a route (issue #17): built from the merchant's
 * own route (merchant-routes.ts) where it has one — its WeChat Pay sub-merchant or own merchant
 * account, its Alipay authorisation or own app — and the deployment's adapter for the route
 * otherwise. Built once per route as stored, and again when the route changes.
 */
import type { ProviderSettings } from '../config';
import type { Database } from '../db/client';
import { findMerchantRoute } from '../db/queries/merchants';
import type { FieldSeal } from '../field-seal';
import { alipaySettingsFor, routeOrderOf, wechatSettingsFor, type MerchantRouteOrder } from '../merchants/merchant-routes';
import type { ProviderName } from '../../workflows/lifecycle';
import { settingsOf } from './adapters';
import { alipay } from './alipay';
import { AlipayProvider } from './alipay/alipay-provider';
import { wechatpay } from './wechatpay';
import type { ProviderRegistry, RefundProvider } from './provider';
import { WechatPayProvider } from './wechatpay/wechatpay-provider';

export interface ProviderDirectory {
  forMerchant(merchantId: string, route: ProviderName): Promise<RefundProvider>;
  /** The deployment's own adapter for a route (its own account): what pays a merchant with none of its own, and opens the notices sent to the deployment. */
  deployment(route: ProviderName): RefundProvider;
}

/** A deployment whose merchants all refund the same way: its adapters, whoever the merchant. */
export function sameForEveryMerchant(registry: ProviderRegistry): ProviderDirectory {
  return { forMerchant: async (_merchantId, route) => registry[route], deployment: (route) => registry[route] };
}

export function merchantProviders(db: Database, fields: FieldSeal, settings: ProviderSettings, deployment: ProviderRegistry): ProviderDirectory {
  const built = new Map<string, { updatedAt: number; provider: RefundProvider }>();
  return {
    async forMerchant(merchantId, route) {
      if (route !== 'wechat' && route !== 'alipay') return deployment[route];
      const row = await findMerchantRoute(db, merchantId, route);
      if (!row) return deployment[route];
      const cacheKey = `${merchantId}\n${route}`;
      const cached = built.get(cacheKey);
      if (cached?.updatedAt === row.updatedAt.getTime()) return cached.provider;
      const provider = providerOf(merchantId, routeOrderOf(fields, row), settings);
      built.set(cacheKey, { updatedAt: row.updatedAt.getTime(), provider });
      return provider;
    },
    deployment: (route) => deployment[route],
  };
}

/** The adapter a merchant's own route makes: the deployment's settings for the route are its base (its gateway, its notify address). */
export function providerOf(merchantId: string, order: MerchantRouteOrder, settings: ProviderSettings): WechatPayProvider | AlipayProvider {
  if (order.route === 'wechat') {
    const deployment = settingsOf(settings, wechatpay);
    if (!deployment) throw new Error(`merchant ${merchantId} refunds through WeChat Pay, which this deployment does not (PROVIDER_WECHAT=wechatpay)`);
    return new WechatPayProvider(wechatSettingsFor(merchantId, order, deployment));
  }
  const deployment = settingsOf(settings, alipay);
  if (!deployment) throw new Error(`merchant ${merchantId} refunds through Alipay, which this deployment does not (PROVIDER_ALIPAY=alipay)`);
  return new AlipayProvider(alipaySettingsFor(order, deployment));
}
