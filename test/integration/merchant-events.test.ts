/**
 * Merchant events delivered to a real local HTTP receiver that fails at first: every status
 * change arrives, in order per refund, validly signed, and a redelivery carries the same id.
 */
import '../support/quiet-temporal';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/webhook-signature';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const SECRET = 'merchant-secret-for-tests';
const MERCHANT = 'm_events';

interface Received {
  id: string;
  type: string;
  refundId: string;
  rawBody: string;
  signature: string | undefined;
  answered: number;
}

let running: TestService;
let receiver: http.Server;
const received: Received[] = [];
let failuresLeft = 2;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let rawBody = '';
    req.on('data', (chunk: Buffer) => (rawBody += chunk.toString('utf8')));
    req.on('end', () => {
      const event = JSON.parse(rawBody) as { id: string; type: string; data: { refundId: string } };
      const answered = failuresLeft > 0 ? 503 : 204;
      if (failuresLeft > 0) failuresLeft -= 1;
      received.push({ id: event.id, type: event.type, refundId: event.data.refundId, rawBody, signature: req.headers['x-signature'] as string | undefined, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  running = await startTestService({
    MERCHANT_WEBHOOKS: `${MERCHANT}=http://127.0.0.1:${(receiver.address() as AddressInfo).port}/refund-events`,
    MERCHANT_WEBHOOK_SECRET: SECRET,
  });
});

afterAll(async () => {
  await running?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return running.call(method, path, { body, headers });
}

it('delivers every status change in order per refund, signed, at least once with stable ids', async () => {
  const refundIds: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const payment = paymentRegistration({ merchantId: MERCHANT });
    expect((await call('POST', '/v1/payments', payment)).status).toBe(201);
    const created = await call('POST', '/v1/refunds', { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'defective' }, { 'Idempotency-Key': uniqueId('k') });
    refundIds.push(created.body.id);
  }

  const expected = ['refund.created', 'refund.processing', 'refund.succeeded'];
  await eventually(
    async () => refundIds.every((id) => received.filter((r) => r.refundId === id && r.answered === 204).length === expected.length),
    30_000,
    'every event acknowledged',
  );

  for (const refundId of refundIds) {
    const acknowledged = received.filter((r) => r.refundId === refundId && r.answered === 204);
    expect(acknowledged.map((r) => r.type)).toEqual(expected);
    // Nothing of a refund was accepted before an earlier event of it had been.
    const firstAcceptance = new Map<string, number>();
    received.forEach((r, index) => r.answered === 204 && r.refundId === refundId && firstAcceptance.set(r.id, index));
    const order = acknowledged.map((r) => firstAcceptance.get(r.id)!);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }
  for (const delivery of received) expect(verifySignature(SECRET, delivery.signature, delivery.rawBody)).toEqual({ ok: true });

  // The refused first deliveries came again: same id, same body.
  const refused = received.filter((r) => r.answered === 503);
  expect(refused).toHaveLength(2);
  for (const attempt of refused) {
    const redelivered = received.find((r) => r.id === attempt.id && r.answered === 204)!;
    expect(redelivered.rawBody).toBe(attempt.rawBody);
  }

  // A backend that missed them can read the same events back. The feed shows an event once no
  // transaction older than its own can still commit (anywhere on the server: other tests' too), so
  // that a reader paging by cursor never skips one: it may trail the deliveries by a moment.
  type FeedEvent = { id: string; type: string; data: { refundId: string } };
  let all: FeedEvent[] = [];
  const delivered = new Set(received.map((r) => r.id));
  await eventually(
    async () => {
      all = (await call('GET', '/v1/events?limit=500')).body.data as FeedEvent[];
      return all.filter((event) => delivered.has(event.id)).length === delivered.size;
    },
    30_000,
    'every delivered event in the feed',
  );
  const ours = all.filter((event) => refundIds.includes(event.data.refundId));
  expect(new Set(ours.map((e) => e.id))).toEqual(delivered);
  const after = (await call('GET', `/v1/events?after=${ours[0]!.id}&limit=500`)).body.data as Array<{ id: string }>;
  expect(after.map((e) => e.id)).toEqual(all.slice(all.findIndex((e) => e.id === ours[0]!.id) + 1).map((e) => e.id));
  expect((await call('GET', '/v1/events?after=evt_unknown')).status).toBe(404);
});
