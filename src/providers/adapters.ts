/**
 * The provider modules this service ships (provider-module.ts): one line each. Configuration, the
 * API's notification routes and the worker's registry are built from this list.
 */
import type { ProviderModule } from './provider-module';
import { lakala } from './lakala';
import { unionpay } from './unionpay';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module's settings are its own; they meet only their own `create`
export const PROVIDER_MODULES: readonly ProviderModule<any, any>[] = [unionpay, lakala];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export function providerModule(adapter: string): ProviderModule<any, any> | undefined {
  return PROVIDER_MODULES.find((module) => module.adapter === adapter);
}
