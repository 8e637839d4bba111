/**
 * The console's transport and sessions (issue #20), through HTTP as a browser speaks it: behind a
 * TLS proxy it trusts, its cookies are Secure and HSTS is sent; the sign-in form's CSRF token is one
 * only the service can make, so one an attacker picks (in the form and a planted cookie alike)
 * fails; and a session lives only as long as the API key it was opened with.
 */
import '../support/quiet-temporal';
import type { Request } from 'express';
import type { ApiKey } from '../../src/config';
import { openSession, SESSION_COOKIE, sessionOf } from '../../src/console/sessions';
import { keyRing } from '../../src/api/auth';
import { sha256Hex } from '../../src/api/key-hash';
import { postSignIn, signInForm as signInFormAt } from '../support/console-session';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;

beforeAll(async () => {
  running = await startTestService({ TRUST_PROXY: 'loopback' }, undefined, { worker: false });
});

afterAll(async () => {
  await running?.stop();
});

const url = (path: string) => `${running.service.apiUrl}${path}`;

const signInForm = (headers: Record<string, string> = {}) => signInFormAt(running.service.apiUrl!, headers);
const signIn = (token: string, key: string, headers: Record<string, string> = {}) => postSignIn(running.service.apiUrl!, token, key, headers);

it('behind a TLS proxy it trusts (X-Forwarded-Proto: https), cookies are Secure and HSTS is sent; over plain HTTP on this machine, neither', async () => {
  const proxied = await signInForm({ 'x-forwarded-proto': 'https' });
  expect(proxied.cookie).toMatch(/; Secure/);
  expect(proxied.page.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  const signedIn = await signIn(proxied.token, 'dev-supervisor-a', { 'x-forwarded-proto': 'https' });
  expect(signedIn.status).toBe(303);
  expect(signedIn.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/HttpOnly.*Secure|Secure.*HttpOnly/);
  expect(signedIn.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');

  const plain = await signInForm();
  expect(plain.cookie).not.toMatch(/Secure/);
  expect(plain.page.headers.get('strict-transport-security')).toBeNull();
});

it('refuses a sign-in whose CSRF token the client made up, even when its cookie says the same', async () => {
  for (const forged of ['abc', `${'A'.repeat(24)}.${Date.now() + 60_000}.${'B'.repeat(43)}`]) {
    const answer = await signIn(forged, 'dev-supervisor-a');
    expect(answer.status).toBe(403);
    expect(answer.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
  }
  const { token } = await signInForm();
  expect((await signIn(token, 'dev-supervisor-a')).status).toBe(303);
});

it('a session opens nothing once its key is gone from API_KEYS, or names someone else', async () => {
  const key = 'key-of-ann-0123456789abcdef0123456789';
  const ring = (entries: [string, ApiKey][]) => keyRing(running.database.db, new Map(entries.map(([k, holder]) => [sha256Hex(k), holder])));
  const { id } = await openSession(running.database.db, { role: 'supervisor', principal: 'ann' }, key, 3_600_000);
  const request = { headers: { cookie: `${SESSION_COOKIE}=${id}` } } as Request;
  expect(await sessionOf(running.database.db, request, ring([[key, { role: 'supervisor', principal: 'ann', merchants: null }]]))).toMatchObject({ principal: 'ann' });
  // The key removed (a restart with a new API_KEYS): the cookie still names the session, which opens nothing.
  expect(await sessionOf(running.database.db, request, ring([]))).toBeUndefined();
  // The same key now given to someone else: not ann's session any more.
  expect(await sessionOf(running.database.db, request, ring([[key, { role: 'supervisor', principal: 'bob', merchants: null }]]))).toBeUndefined();
});

it('a session opened through the console ends when its key is removed: the next page asks to sign in', async () => {
  const { token } = await signInForm();
  const signedIn = await signIn(token, 'dev-supervisor-b');
  const session = signedIn.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!.split(';')[0]!;
  const inbox = () => fetch(url('/console/inbox'), { redirect: 'manual', headers: { cookie: session } });
  expect((await inbox()).status).toBe(200);
  running.config.apiKeys.delete(sha256Hex('dev-supervisor-b'));
  try {
    const after = await inbox();
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/console/sign-in');
  } finally {
    running.config.apiKeys.set(sha256Hex('dev-supervisor-b'), { role: 'supervisor', principal: 'supervisor-b', merchants: null });
  }
});

it('20 wrong sign-ins from one address: 429 with Retry-After once past the limit, even for a right key from there; a right key from another address still signs in (issue #17)', async () => {
  const attacker = { 'x-forwarded-for': '203.0.113.7' };
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { token } = await signInForm(attacker);
    const answer = await signIn(token, `guess-${i}-0123456789abcdef0123456789`, attacker);
    statuses.push(answer.status);
    if (answer.status === 429) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  }
  // The default limit: 10 wrong keys in 15 minutes; the tenth is answered 429 already.
  expect(statuses).toEqual([...Array(9).fill(401), ...Array(11).fill(429)]);
  const fromThere = await signIn((await signInForm(attacker)).token, 'dev-supervisor-a', attacker);
  expect(fromThere.status).toBe(429);
  expect(await fromThere.text()).toContain('Too many wrong keys from this address');
  const elsewhere = { 'x-forwarded-for': '198.51.100.9' };
  expect((await signIn((await signInForm(elsewhere)).token, 'dev-supervisor-a', elsewhere)).status).toBe(303);
});

it('an address sending unknown API keys gets 429 with Retry-After past the limit; known keys from it still work (issue #17)', async () => {
  const scanner = { 'x-forwarded-for': '203.0.113.8' };
  const statuses: number[] = [];
  for (let i = 0; i < 32; i++) {
    const answer = await fetch(url('/v1/refunds'), { headers: { ...scanner, authorization: `Bearer scan-${i}-0123456789abcdef` } });
    statuses.push(answer.status);
    if (answer.status === 429) {
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await answer.json()).toMatchObject({ code: 'too_many_attempts', status: 429 });
    }
  }
  expect(statuses).toEqual([...Array(29).fill(401), ...Array(3).fill(429)]);
  expect((await fetch(url('/v1/refunds'), { headers: { ...scanner, authorization: 'Bearer dev-support' } })).status).toBe(200);
});
