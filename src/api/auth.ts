/**
 * Bearer API keys (SPEC §5, issue #17): each names a role, a principal — who the audit trail names
 * and who maker-checker compares — and the merchants it acts for. Keys are known by their SHA-256
 * only: those issued through the API live in `api_keys` (revocable, with their last use); those of
 * API_KEYS (a single merchant's deployment, and the first admin) in configuration.
 */
import type { ApiKey } from '../config';
import type { Database } from '../db/client';
import { liveApiKeyByHash, touchApiKey } from '../db/queries/api-keys';
import type { MerchantScope, RefundCaller } from '../merchants/merchant-scope';
import type { Role } from '../../workflows/lifecycle';
import { sha256Hex } from './key-hash';
import { forbidden, tooManyAttempts, unauthorized } from './problems';

/** The refund roles, and the admin who manages merchants and keys (and touches no refund). */
export type KeyRole = Role | 'admin';
export const KEY_ROLES = ['service', 'support', 'supervisor', 'admin'] as const satisfies readonly KeyRole[];

export interface Caller {
  principal: string;
  role: KeyRole;
  merchants: MerchantScope;
  /** The key's hash: what a console session is bound to. */
  keyHash: string;
}

/** Who holds a key, by the key's hash. */
export interface KeyRing {
  holderOf(keyHash: string): Promise<Caller | undefined>;
}

/** Configured keys first (by hash, so no key is compared character by character), then issued ones. */
export function keyRing(db: Database, configured: Map<string, ApiKey>): KeyRing {
  return {
    async holderOf(keyHash) {
      const fixed = configured.get(keyHash);
      if (fixed) return { ...fixed, keyHash };
      const issued = await liveApiKeyByHash(db, keyHash);
      if (!issued) return undefined;
      if (!issued.lastUsedAt || Date.now() - issued.lastUsedAt.getTime() > 60_000) await touchApiKey(db, issued.id);
      return { principal: issued.principal, role: issued.role, merchants: issued.merchantIds, keyHash };
    },
  };
}

/**
 * The caller a request's bearer key names. An unknown key is counted against its source first
 * (`unknownKey` answers how long the source must wait, 0 while within its limit): past the limit
 * the answer is 429 with Retry-After, so nobody can try keys at the API's speed.
 */
export async function authenticate(keys: KeyRing, authorization: string | undefined, unknownKey: () => Promise<number>): Promise<Caller> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthorized('Send an API key as "Authorization: Bearer <key>"');
  const caller = await keys.holderOf(sha256Hex(match[1]!));
  if (caller) return caller;
  const wait = await unknownKey();
  throw wait > 0 ? tooManyAttempts(wait) : unauthorized('The API key is not known');
}

export function requireRole(caller: Caller, roles: readonly KeyRole[], action: string): void {
  if (!roles.includes(caller.role)) throw forbidden(`A ${caller.role} key may not ${action}`);
}

/** The caller as a refund role (the routes that take refunds admit no other; an admin key touches none). */
export function refundCallerOf(caller: Caller): RefundCaller {
  if (caller.role === 'admin') throw forbidden('An admin key manages merchants and keys, not refunds');
  return { principal: caller.principal, role: caller.role, merchants: caller.merchants };
}
