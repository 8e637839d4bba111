/**
 * The provider behind each refund route. Only sandbox providers exist until real adapters are
 * configured; they are the routes in every environment without provider credentials (SPEC §7).
 */
import type { Database } from '../db/client';
import type { ProviderRegistry } from './provider';
import { SandboxProvider, type SandboxTiming } from './sandbox/sandbox-provider';

export function createSandboxProviders(db: Database, timing: SandboxTiming): ProviderRegistry {
  return {
    card: new SandboxProvider('card', db, timing),
    wechat: new SandboxProvider('wechat', db, timing),
    alipay: new SandboxProvider('alipay', db, timing),
    bank_transfer: new SandboxProvider('bank_transfer', db, timing),
  };
}
