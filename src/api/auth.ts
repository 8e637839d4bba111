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
  const given = Buffer.from(match[1]!);
  for (const [key, identity] of keys) {
    const candidate = Buffer.from(key);
    if (candidate.length === given.length && timingSafeEqual(candidate, given)) return { ...identity };
  }
  throw unauthorized('The API key is not known');
}

export function requireRole(caller: Caller, roles: readonly Role[], action: string): void {
  if (!roles.includes(caller.role)) throw forbidden(`A ${caller.role} key may not ${action}`);
}
