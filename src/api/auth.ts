/**
 * Bearer API keys, each mapped to a role and a principal (SPEC §5). The principal is who the audit
 * trail names and who maker-checker compares.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../config';
import type { Actor, Role } from '../../workflows/lifecycle';
import { forbidden, unauthorized } from './problems';

export type Caller = Actor & { role: Role };

export function authenticate(keys: Map<string, ApiKey>, authorization: string | undefined): Caller {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthorized('Send an API key as "Authorization: Bearer <key>"');
  const identity = holderOfKey(keys, match[1]!);
  if (!identity) throw unauthorized('The API key is not known');
  return { ...identity };
}

/** Who holds the key, compared in constant time (the API's bearer keys and the console's sign-in). */
export function holderOfKey(keys: Map<string, ApiKey>, given: string): ApiKey | undefined {
  const offered = Buffer.from(given);
  for (const [key, identity] of keys) {
    const candidate = Buffer.from(key);
    if (candidate.length === offered.length && timingSafeEqual(candidate, offered)) return identity;
  }
  return undefined;
}

export function requireRole(caller: Caller, roles: readonly Role[], action: string): void {
  if (!roles.includes(caller.role)) throw forbidden(`A ${caller.role} key may not ${action}`);
}
