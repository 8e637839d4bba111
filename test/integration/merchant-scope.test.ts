/**
 * Many merchants in one deployment (issue #17): merchants and keys made through the API by an
 * admin key, keys kept as hashes and scoped to merchants. Merchant A's service, support and
 * supervisor keys find nothing of merchant B's — payment, refund, proposal, list and search rows,
 * events, report rows, console pages — each answered as if it did not exist, and no answer holds
 * a field of B's. A revoked key opens nothing from the next request on, its console sessions included.
 */
import '../support/quiet-temporal';
import { sql } from 'drizzle-orm';
import { DEVELOPMENT_API_KEYS } from '../../src/config';
import { callAs, type RawAnswer } from '../support/call-as';
import { consoleSession } from '../support/console-session';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const ADMIN = 'test-admin-key-0123456789abcdef0123456789';
let running: TestService;

beforeAll(async () => {
  running = await startTestService({ API_KEYS: `${DEVELOPMENT_API_KEYS},${ADMIN}=admin:ops`, SANDBOX_SETTLEMENT_DELAY: '100ms' });
}, 60_000);

afterAll(async () => {
  await running?.stop();
});

type Answer = RawAnswer;
const as = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callAs(running.service.apiUrl!, key, method, path, body, headers);

async function issue(role: string, principal: string, merchants: string[] | null): Promise<string> {
  const issued = await as(ADMIN, 'POST', '/v1/api-keys', { role, principal, merchants, label: `${principal} test key` });
  expect(issued.status).toBe(201);
  expect(issued.body.key).toMatch(/^rfk_[A-Za-z0-9_-]{43}$/);
  return issued.body.key;
}

/** A merchant's payment and refund (paid, or waiting for a supervisor), made with that merchant's service key. */
async function refundOf(serviceKey: string, merchantId: string, amount: number, reason = 'defective') {
  const payment = paymentRegistration({ merchantId, amount: 2_000_000, payerAccount: '6222020200118887777' });
  expect((await as(serviceKey, 'POST', '/v1/payments', payment)).status).toBe(201);
  const created = await as(serviceKey, 'POST', '/v1/refunds', { paymentId: payment.id, amount, currency: 'CNY', reason }, { 'Idempotency-Key': uniqueId('k') });
  expect(created.status).toBe(201);
  return { payment, refundId: created.body.id as string };
}

describe('merchants and keys, managed by an admin key', () => {
  it('creates merchants and issues keys shown once and stored as hashes; only an admin key does', async () => {
    const created = await as(ADMIN, 'POST', '/v1/merchants', { id: 'm_keys', name: '静安店', timeZone: 'Asia/Shanghai', locale: 'zh-CN' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'm_keys', name: '静安店', timeZone: 'Asia/Shanghai', locale: 'zh-CN' });
    expect((await as(ADMIN, 'POST', '/v1/merchants', { id: 'm_keys', name: 'again' })).body.code).toBe('merchant_exists');
    expect((await as(ADMIN, 'POST', '/v1/merchants', { id: 'm_bad', name: 'x', timeZone: 'Mars/Olympus' })).status).toBe(400);
    expect((await as('dev-supervisor-a', 'POST', '/v1/merchants', { id: 'm_x', name: 'x' })).status).toBe(403);
    expect((await as(ADMIN, 'GET', '/v1/refunds')).status).toBe(403); // an admin key touches no refund

    const key = await issue('support', 'li-na', ['m_keys']);
    const stored = await running.database.db.execute<{ key_hash: string }>(sql`SELECT key_hash FROM api_keys WHERE principal = 'li-na'`);
    expect(stored.map((r) => r.key_hash)).toHaveLength(1);
    expect(JSON.stringify(await running.database.db.execute(sql`SELECT * FROM api_keys`))).not.toContain(key);
    expect((await as(key, 'GET', '/v1/merchants')).body.data.map((m: { id: string }) => m.id)).toEqual(['m_keys']);
    const listed = await as(ADMIN, 'GET', '/v1/api-keys');
    const mine = listed.body.data.find((k: { principal: string }) => k.principal === 'li-na');
    expect(mine).toMatchObject({ role: 'support', merchants: ['m_keys'], revokedAt: null });
    expect(mine.lastUsedAt).not.toBeNull();
    expect(listed.text).not.toContain(key);
    // A key for a merchant that does not exist is not issued.
    expect((await as(ADMIN, 'POST', '/v1/api-keys', { role: 'support', principal: 'x', merchants: ['m_nowhere'] })).body.code).toBe('merchant_not_found');
  });

  it('a revoked key opens nothing from the next request on, its console session included', async () => {
    await as(ADMIN, 'POST', '/v1/merchants', { id: 'm_revoke', name: 'Revoked shop' });
    const key = await issue('supervisor', 'wang-fang', ['m_revoke']);
    const session = await consoleSession(running.service.apiUrl!, key);
    const inbox = () => fetch(`${running.service.apiUrl}/console/inbox`, { redirect: 'manual', headers: { cookie: session } });
    expect((await inbox()).status).toBe(200);
    expect((await as(key, 'GET', '/v1/refunds')).status).toBe(200);
    const id = (await as(ADMIN, 'GET', '/v1/api-keys')).body.data.find((k: { principal: string }) => k.principal === 'wang-fang').id;
    const revoked = await as(ADMIN, 'DELETE', `/v1/api-keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await as(key, 'GET', '/v1/refunds')).status).toBe(401);
    expect((await inbox()).status).toBe(303);
  });
});

describe('merchant A’s keys and merchant B’s records', () => {
  const keysOfA: Record<'service' | 'support' | 'supervisor', string> = { service: '', support: '', supervisor: '' };
  let serviceOfB = '';
  let ofB: { payment: ReturnType<typeof paymentRegistration>; refundId: string; waiting: string; eventId: string };
  let paidOfA = '';

  beforeAll(async () => {
    for (const id of ['m_a', 'm_b']) expect((await as(ADMIN, 'POST', '/v1/merchants', { id, name: `Shop ${id}` })).status).toBe(201);
    keysOfA.service = await issue('service', 'pos-a', ['m_a']);
    keysOfA.support = await issue('support', 'support-a', ['m_a']);
    keysOfA.supervisor = await issue('supervisor', 'supervisor-of-a', ['m_a']);
    serviceOfB = await issue('service', 'pos-b', ['m_b']);
    const paid = await refundOf(serviceOfB, 'm_b', 1_000);
    const waiting = await refundOf(serviceOfB, 'm_b', 900_000); // needs a supervisor: in B's inbox
    paidOfA = (await refundOf(keysOfA.service, 'm_a', 1_500)).refundId;
    await eventually(async () => (await as('dev-support', 'GET', `/v1/refunds/${paid.refundId}`)).body.status === 'succeeded' || undefined, 20_000, 'B’s refund paid');
    await eventually(async () => (await as('dev-support', 'GET', `/v1/refunds/${paidOfA}`)).body.status === 'succeeded' || undefined, 20_000, 'A’s refund paid');
    const events = await eventually(async () => {
      const feed = (await as('dev-service', 'GET', '/v1/events?limit=500')).body.data as Array<{ id: string; data: { refundId?: string } }>;
      return feed.find((e) => e.data.refundId === paid.refundId);
    }, 20_000, 'B’s events in the feed');
    ofB = { ...paid, waiting: waiting.refundId, eventId: events.id };
  }, 60_000);

  /** What of B's no answer to A may hold: its ids (beyond the one a request names), its order, its payer. */
  const leaks = (answer: Answer, named: string[] = []) => {
    const secrets = [ofB.payment.id, ofB.refundId, ofB.waiting, ofB.payment.orderId, ofB.eventId, '8887777', 'm_b'].filter((s) => !named.includes(s));
    return secrets.filter((s) => answer.text.includes(s));
  };

  it('each request of A’s for something of B’s is answered as for nothing at all, and holds nothing of B’s: 50 random ones', async () => {
    const requests: Array<(key: string) => Promise<[Answer, number[], string[]]>> = [
      async (k) => [await as(k, 'GET', `/v1/payments/${ofB.payment.id}`), [404], [ofB.payment.id]],
      async (k) => [await as(k, 'GET', `/v1/refunds/${ofB.refundId}`), [404], [ofB.refundId]],
      async (k) => [await as(k, 'GET', `/v1/refunds/${ofB.waiting}`), [404], [ofB.waiting]],
      async (k) => [await as(k, 'POST', '/v1/refunds', { paymentId: ofB.payment.id, amount: 100, currency: 'CNY', reason: 'defective' }, { 'Idempotency-Key': uniqueId('k') }), [403, 404], [ofB.payment.id]],
      async (k) => [await as(k, 'POST', '/v1/payments', { ...paymentRegistration({ merchantId: 'm_b' }) }), [403, 404], ['m_b']],
      async (k) => [await as(k, 'POST', `/v1/refunds/${ofB.waiting}/approve`, {}), [403, 404], [ofB.waiting]],
      async (k) => [await as(k, 'POST', `/v1/refunds/${ofB.waiting}/reject`, { reason: 'not ours' }), [403, 404], [ofB.waiting]],
      async (k) => [await as(k, 'POST', `/v1/refunds/${ofB.waiting}/cancel`, { reason: 'not ours' }), [403, 404], [ofB.waiting]],
      async (k) => [await as(k, 'POST', `/v1/refunds/${ofB.refundId}/corrections`, { amount: 2_000, reason: 'more' }), [403, 404], [ofB.refundId]],
      async (k) => [await as(k, 'POST', `/v1/refunds/${ofB.refundId}/proposal/approve`, {}), [403, 404], [ofB.refundId]],
      async (k) => [await as(k, 'GET', `/v1/refunds?merchantId=m_b`), [200, 403], ['m_b']],
      async (k) => [await as(k, 'GET', `/v1/refunds?paymentId=${ofB.payment.id}`), [200, 403], [ofB.payment.id]],
      async (k) => [await as(k, 'GET', `/v1/refunds?orderId=${ofB.payment.orderId}`), [200, 403], [ofB.payment.orderId]],
      async (k) => [await as(k, 'GET', '/v1/refunds?payerLast4=7777'), [200, 403], []],
      async (k) => [await as(k, 'GET', '/v1/refunds?awaitingApproval=true'), [200, 403], []],
      async (k) => [await as(k, 'GET', '/v1/events?limit=500'), [200], []],
      // An event's id names its refund: the request itself does, and the answer echoes only that.
      async (k) => [await as(k, 'GET', `/v1/events?after=${ofB.eventId}`), [404], [ofB.eventId, ofB.refundId]],
      async (k) => [await as(k, 'GET', `/v1/reports/refunds?from=2000-01-01T00:00:00Z&to=2000-12-31T00:00:00Z`), [200, 403], []],
      async (k) => [await as(k, 'GET', `/v1/merchants/m_b`), [404], ['m_b']],
      async (k) => [await as(k, 'GET', '/v1/merchants'), [200], []],
      async (k) => [await as(k, 'GET', `/v1/sandbox/providers/card/refunds?paymentId=${ofB.payment.id}`), [200], [ofB.payment.id]],
    ];
    const keys = Object.values(keysOfA);
    for (let round = 0; round < 50; round++) {
      const key = keys[Math.floor(Math.random() * keys.length)]!;
      const ask = requests[Math.floor(Math.random() * requests.length)]!;
      const [answer, statuses, named] = await ask(key);
      const what = `${ask.toString().slice(0, 120)} → ${answer.status} ${answer.text.slice(0, 200)}`;
      expect([what, statuses.includes(answer.status)]).toEqual([what, true]);
      expect([what, leaks(answer, named)]).toEqual([what, []]);
      if (answer.status === 404) expect(answer.body.code).toMatch(/_not_found$/);
      if (answer.status === 200 && Array.isArray(answer.body.data)) expect(answer.body.data.some((row: { merchantId?: string }) => row.merchantId === 'm_b')).toBe(false);
    }
  });

  it('lists, the event feed and reports hold A’s own refunds and none of B’s', async () => {
    const list = await as(keysOfA.support, 'GET', '/v1/refunds?limit=100');
    expect(list.body.data.map((r: { id: string }) => r.id)).toContain(paidOfA);
    expect(leaks(list)).toEqual([]);
    const feed = await as(keysOfA.service, 'GET', '/v1/events?limit=500');
    expect(feed.body.data.some((e: { data: { refundId?: string } }) => e.data.refundId === paidOfA)).toBe(true);
    expect(leaks(feed)).toEqual([]);
    const today = new Date();
    const range = `from=${new Date(today.getTime() - 86_400_000).toISOString()}&to=${new Date(today.getTime() + 86_400_000).toISOString()}`;
    const [ofA, ofEveryone] = await Promise.all([as(keysOfA.support, 'GET', `/v1/reports/refunds?${range}&groupBy=status`), as('dev-support', 'GET', `/v1/reports/refunds?${range}&groupBy=status`)]);
    const count = (report: Answer) => report.body.groups.reduce((sum: number, g: { count: number }) => sum + g.count, 0);
    expect(count(ofA)).toBe(1);
    expect(count(ofEveryone)).toBeGreaterThanOrEqual(3);
  });

  it('in the console, A’s supervisor finds none of B’s: refund page 404, inbox, desk, search and reports without it', async () => {
    const session = await consoleSession(running.service.apiUrl!, keysOfA.supervisor);
    const page = async (path: string) => {
      const response = await fetch(`${running.service.apiUrl}${path}`, { redirect: 'manual', headers: { cookie: session } });
      return { status: response.status, text: await response.text(), body: null };
    };
    expect((await page(`/console/refunds/${ofB.refundId}`)).status).toBe(404);
    expect((await page(`/console/refunds/${paidOfA}`)).status).toBe(200);
    for (const path of ['/console/inbox', '/console/desk', `/console/search?paymentId=${ofB.payment.id}`, `/console/search?refundId=${ofB.refundId}`, '/console/search?payerLast4=7777', '/console/reports', '/console/reports.csv']) {
      const answer = await page(path);
      expect([path, answer.status]).toEqual([path, 200]);
      expect([path, leaks(answer, [ofB.payment.id, ofB.refundId])]).toEqual([path, []]);
    }
    // B's supervisor-needing refund is in the inbox of a supervisor for every merchant, not in A's.
    const everyone = await consoleSession(running.service.apiUrl!, 'dev-supervisor-a');
    const inboxOfAll = await (await fetch(`${running.service.apiUrl}/console/inbox`, { headers: { cookie: everyone } })).text();
    expect(inboxOfAll).toContain(ofB.waiting);
  });
});
