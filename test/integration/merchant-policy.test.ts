/**
 * Each merchant's own policy and event endpoint (issue #17): where a merchant sets its own
 * automatic-approval ceiling, dual-approval threshold or refund window, its refunds are judged by
 * them (through the API and in the refund's workflow); where it does not, by the deployment's. Its
 * refund events go to its own endpoint, signed with its own secret, which is sealed at rest and
 * never shown.
 */
import '../support/quiet-temporal';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { DEVELOPMENT_API_KEYS } from '../../src/config';
import { verifySignature } from '../../src/webhook-signature';
import { callAs } from '../support/call-as';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const ADMIN = 'policy-admin-key-0123456789abcdef0123456789';
const SECRET = 'strict-shop-webhook-secret-0123456789abcdef';
let running: TestService;
let receiver: Server;
const received: { body: string; signature: string | undefined }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-signature'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  running = await startTestService({ API_KEYS: `${DEVELOPMENT_API_KEYS},${ADMIN}=admin:ops`, SANDBOX_SETTLEMENT_DELAY: '100ms' });
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/refund-events`;
  const strict = { id: 'm_strict', name: 'Strict shop', policy: { autoApproveMax: 100, dualApprovalMin: 1_000, windowDays: { card: 1 } }, webhookUrl, webhookSecret: SECRET };
  expect((await admin('POST', '/v1/merchants', strict)).status).toBe(201);
  expect((await admin('POST', '/v1/merchants', { id: 'm_usual', name: 'Usual shop' })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const admin = (method: string, path: string, body?: unknown) => callAs(running.service.apiUrl!, ADMIN, method, path, body);

async function refund(merchantId: string, amount: number, capturedDaysAgo = 0) {
  const payment = paymentRegistration({ merchantId, amount: 100_000, capturedAt: new Date(Date.now() - capturedDaysAgo * 86_400_000 - 60_000).toISOString() });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  return running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
}

it('shows the merchant’s policy and endpoint, never its secret, which is sealed at rest', async () => {
  const shown = await admin('GET', '/v1/merchants/m_strict');
  expect(shown.body).toMatchObject({ policy: { autoApproveMax: 100, dualApprovalMin: 1_000, windowDays: { card: 1 } }, webhookSecretSet: true });
  expect(shown.text).not.toContain(SECRET);
  const [row] = await running.database.db.execute<{ webhook_secret: string }>(sql`SELECT webhook_secret FROM merchants WHERE id = 'm_strict'`);
  expect(row!.webhook_secret).toMatch(/^sealed:v1:/);
  expect((await admin('PATCH', '/v1/merchants/m_usual', { webhookUrl: 'https://shop.example/events' })).status).toBe(400); // an endpoint needs its secret
});

it('judges each merchant’s refunds by its own ceiling and threshold, the others’ by the deployment’s', async () => {
  const [small, large, usual] = await Promise.all([refund('m_strict', 500), refund('m_strict', 1_500), refund('m_usual', 1_500)]);
  expect([small.body.status, small.body.requiredApprovals]).toEqual(['pending_approval', 1]);
  expect([large.body.status, large.body.requiredApprovals]).toEqual(['pending_approval', 2]);
  expect([usual.body.status, usual.body.requiredApprovals]).toEqual(['processing', 0]);
  // Two supervisors, as the merchant's threshold asks: the first approval leaves it waiting.
  expect((await running.call('POST', `/v1/refunds/${large.body.id}/approve`, { key: 'dev-supervisor-a', body: {} })).body).toMatchObject({ status: 'pending_approval', approvals: [expect.objectContaining({ principal: 'supervisor-a' })] });
  expect((await running.call('POST', `/v1/refunds/${large.body.id}/approve`, { key: 'dev-supervisor-b', body: {} })).body.status).toBe('processing');
});

it('keeps each merchant’s refund window: a card payment of two days ago is past the strict shop’s one day, not the deployment’s 180', async () => {
  const late = await refund('m_strict', 50, 2);
  expect(late.status).toBe(422);
  expect(late.body.code).toBe('refund_window_closed');
  expect((await refund('m_usual', 50, 2)).status).toBe(201);
});

it('delivers the merchant’s refund events to its own endpoint, signed with its own secret', async () => {
  const { body } = await refund('m_strict', 80);
  const events = await eventually(async () => {
    const mine = received.filter((r) => r.body.includes(body.id));
    return mine.some((r) => r.body.includes('refund.succeeded')) ? mine : undefined;
  }, 20_000, 'the strict shop’s events delivered');
  for (const event of events) expect(verifySignature(SECRET, event.signature, event.body)).toEqual({ ok: true });
  // The usual shop has no endpoint: nothing of its refunds arrives here.
  const usual = await refund('m_usual', 80);
  await eventually(async () => (await running.call('GET', `/v1/refunds/${usual.body.id}`)).body.status === 'succeeded' || undefined, 20_000, 'the usual refund paid');
  expect(received.some((r) => r.body.includes(usual.body.id))).toBe(false);
});
