/**
 * The provider behind each refund route, as configuration names it (PROVIDER_CARD, PROVIDER_WECHAT,
 * PROVIDER_ALIPAY, PROVIDER_BANK_TRANSFER; see config.ts): a real adapter, the sandbox, or `off`.
 */
import type { ProviderSettings } from '../config';
import type { Database } from '../db/client';
import { PROVIDER_NAMES, type ProviderName } from '../../workflows/lifecycle';
import { providerModule } from './adapters';
import { OffRoute } from './off-route';
import type { ProviderRegistry, RefundProvider } from './provider';
import { SandboxProvider, type SandboxTiming } from './sandbox/sandbox-provider';

export function createProviders(settings: ProviderSettings, db: Database, sandbox: SandboxTiming): ProviderRegistry {
  const providerOf = (route: ProviderName): RefundProvider => {
    const adapter = settings.routes[route];
    switch (adapter) {
      case 'sandbox':
        return new SandboxProvider(route, db, sandbox);
      case 'off':
        return new OffRoute(route);
      default: {
        // A provider module's adapter, built from the settings its own schema read.
        const module = providerModule(adapter);
        if (!module || !settings.modules || !(adapter in settings.modules)) throw new Error(`no settings for adapter ${adapter} of the ${route} route`);
        return module.create(settings.modules[adapter]);
      }
    }
  };
  return Object.fromEntries(PROVIDER_NAMES.map((route) => [route, providerOf(route)])) as ProviderRegistry;
}
