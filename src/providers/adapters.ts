/**
 * The provider modules this service ships (provider-module.ts): one line each. Configuration, the
 * API's notification routes and the worker's registry are built from this list.
 */
import type { ProviderSettings } from '../config';
import type { RefundProvider } from './provider';
import type { ProviderModule } from './provider-module';
import { alipay } from './alipay';
import { lakala } from './lakala';
import { unionpay } from './unionpay';
import { wechatpay } from './wechatpay';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module's settings are its own; they meet only their own `create`
export const PROVIDER_MODULES: readonly ProviderModule<any, any>[] = [wechatpay, alipay, unionpay, lakala];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export function providerModule(adapter: string): ProviderModule<any, any> | undefined {
  return PROVIDER_MODULES.find((module) => module.adapter === adapter);
}

/** The settings a module's schema read for this deployment; undefined when no route uses it. */
export function settingsOf<S>(providers: ProviderSettings, module: Pick<ProviderModule<S, RefundProvider>, 'adapter' | 'create'>): S | undefined {
  return providers.modules?.[module.adapter] as S | undefined;
}
