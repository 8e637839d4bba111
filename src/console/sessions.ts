/**
 * Console sessions: who signed in, for how long, and the CSRF token their forms carry. A person
 * signs in with their API key (SPEC §5: the key names the principal and the role); service keys
 * belong to machines and cannot sign in. The cookie is HttpOnly, SameSite=Strict, Secure in
 * production and whenever the console is served over TLS (directly, or behind a trusted proxy),
 * and holds a random id whose hash alone is stored. A session lives only as long as the key it was
 * opened with: removed from API_KEYS, revoked, or given to someone else, its sessions open nothing
 * more; and it sees the merchants that key sees, as the key sees them now.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Request, Response } from 'express';
import type { KeyRing } from '../api/auth';
import { sha256Hex } from '../api/key-hash';
import type { Database } from '../db/client';
import { consoleSessions, type ConsoleSessionRow } from '../db/schema';
import type { MerchantScope } from '../merchants/merchant-scope';

export const SESSION_COOKIE = 'rf_session';
/** Before sign-in there is no session: the sign-in form's token is checked against this cookie (double submit). */
export const SIGN_IN_COOKIE = 'rf_sign_in';

export type ConsoleSession = Pick<ConsoleSessionRow, 'principal' | 'role' | 'csrfToken' | 'expiresAt'> & { merchants: MerchantScope };

/** A person who may sign in: support or a supervisor (service keys are machines', admin keys manage keys, not refunds). */
export interface ConsolePerson {
  principal: string;
  role: 'support' | 'supervisor';
}

export type SignInRefusal = 'unknown_key' | 'service_key';

/** The person behind an API key, or why they cannot sign in. */
export async function personOfKey(keys: KeyRing, given: string): Promise<ConsolePerson | SignInRefusal> {
  const holder = given ? await keys.holderOf(sha256Hex(given)) : undefined;
  if (!holder) return 'unknown_key';
  return holder.role === 'support' || holder.role === 'supervisor' ? { principal: holder.principal, role: holder.role } : 'service_key';
}

export async function openSession(db: Database, person: ConsolePerson, key: string, ttlMs: number): Promise<{ id: string }> {
  const id = token();
  await db
    .insert(consoleSessions)
    .values({ idHash: sha256Hex(id), principal: person.principal, role: person.role, keyHash: sha256Hex(key), csrfToken: token(), expiresAt: new Date(Date.now() + ttlMs) });
  // Sessions long expired go with the next sign-in: the table stays the size of the people using it.
  await db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, new Date(Date.now() - 86_400_000)));
  return { id };
}

/** The live session the request's cookie names, if any, and only while its key still names the same person. */
export async function sessionOf(db: Database, request: Request, keys: KeyRing): Promise<ConsoleSession | undefined> {
  const id = cookiesOf(request)[SESSION_COOKIE];
  if (!id) return undefined;
  const [row] = await db
    .select()
    .from(consoleSessions)
    .where(and(eq(consoleSessions.idHash, sha256Hex(id)), gt(consoleSessions.expiresAt, new Date())));
  if (!row) return undefined;
  // Asked of the keys as they are now, on every request: a session never outlives its key.
  const holder = await keys.holderOf(row.keyHash);
  if (!holder || holder.principal !== row.principal || holder.role !== row.role) return undefined;
  return { ...row, merchants: holder.merchants };
}

export async function closeSession(db: Database, request: Request): Promise<void> {
  const id = cookiesOf(request)[SESSION_COOKIE];
  if (id) await db.delete(consoleSessions).where(eq(consoleSessions.idHash, sha256Hex(id)));
}

/** Cookies go over TLS only in production, whatever a proxy says, and whenever the request came over TLS. */
export function setCookie(request: Request, response: Response, name: string, value: string, maxAgeMs: number, production: boolean): void {
  response.cookie(name, value, { httpOnly: true, sameSite: 'strict', secure: production || request.secure, path: '/console', maxAge: maxAgeMs });
}

export function clearCookie(request: Request, response: Response, name: string, production: boolean): void {
  response.clearCookie(name, { httpOnly: true, sameSite: 'strict', secure: production || request.secure, path: '/console' });
}

/**
 * The sign-in form's CSRF token, before there is a session: random, stamped with when it lapses and
 * signed with a key only the service holds, so a token an attacker makes up (or plants in a cookie)
 * never passes; the form must also send back the same one its cookie holds.
 */
export function signInToken(secret: string, nowMs = Date.now()): string {
  const body = `${randomBytes(18).toString('base64url')}.${nowMs + SIGN_IN_TOKEN_TTL_MS}`;
  return `${body}.${signatureOf(secret, body)}`;
}

export function signInTokenValid(secret: string, cookie: string | undefined, given: unknown, nowMs = Date.now()): boolean {
  if (!tokenMatches(cookie, given)) return false;
  const [nonce, lapses, signature] = (given as string).split('.');
  if (!nonce || !lapses || !signature || !/^\d+$/.test(lapses) || Number(lapses) < nowMs) return false;
  return tokenMatches(signatureOf(secret, `${nonce}.${lapses}`), signature);
}

export const SIGN_IN_TOKEN_TTL_MS = 3_600_000;

function signatureOf(secret: string, body: string): string {
  const key = Buffer.from(hkdfSync('sha256', secret, 'refundflow', 'console sign-in CSRF', 32));
  return createHmac('sha256', key).update(body).digest('base64url');
}

/** True when the form's token is the one expected (constant time). */
export function tokenMatches(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function token(): string {
  return randomBytes(32).toString('base64url');
}

export function cookiesOf(request: Request): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    try {
      cookies[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      // a cookie that is not ours (or mangled) is no cookie at all
    }
  }
  return cookies;
}
