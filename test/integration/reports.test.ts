/**
 * The refund report over HTTP, checked against a data set whose every figure is known.
 */
import '../support/quiet-temporal';
import { sql } from 'drizzle-orm';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;

/** [id, reason, channel, status, amount, created (+08:00), seconds to settle, seconds to approval, needs attention] */
const DATA: Array<[string, string, string, string, number, string, number | null, number | null, boolean]> = [
  ['rf_REPORT00000000000000000001', 'defective', 'card', 'succeeded', 1000, '2026-03-01T01:00:00+08:00', 3600, null, false],
  ['rf_REPORT00000000000000000002', 'defective', 'wechat', 'succeeded', 2000, '2026-03-01T10:00:00+08:00', 7200, null, false],
  ['rf_REPORT00000000000000000003', 'fraud', 'card', 'requires_action', 5000, '2026-03-02T09:00:00+08:00', null, 600, true],
  ['rf_REPORT00000000000000000004', 'other', 'alipay', 'rejected', 3000, '2026-03-02T23:30:00+08:00', null, null, false],
  ['rf_REPORT00000000000000000005', 'defective', 'card', 'succeeded', 9000, '2026-03-03T00:30:00+08:00', 60, null, false],
  ['rf_REPORT00000000000000000006', 'customer_request', 'card', 'succeeded', 4000, '2026-03-02T12:00:00+08:00', 10800, 1200, false],
];

beforeAll(async () => {
  running = await startTestService();
  const { db } = running.database;
  await db.execute(sql`
    INSERT INTO payments (id, merchant_id, order_id, channel, amount, currency, status, captured_at, payer_account, request_hash)
    VALUES ('pay_report', 'm_report', 'ord_report', 'card', 1000000, 'CNY', 'captured', '2026-02-01T00:00:00Z', '6222020200112341234', 'x')`);
  for (const [id, reason, channel, status, amount, created, settleSeconds, approvalSeconds, attention] of DATA) {
    await db.execute(sql`
      INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status, requested_by,
                           created_by, required_approvals, destination_account, provider, needs_attention, created_at, settled_at)
      VALUES (${id}, 'pay_report', 'm_report', 'ord_report', ${channel}::payment_channel, ${amount}, 0, ${amount}, 'CNY', ${reason}::refund_reason,
              ${status}::refund_status, 'pos', 'pos', ${approvalSeconds === null ? 0 : 1}, '6222020200112341234', ${channel}::provider_name, ${attention},
              ${created}::timestamptz, ${settleSeconds === null ? null : sql`${created}::timestamptz + make_interval(secs => ${settleSeconds})`})`);
    if (approvalSeconds !== null) {
      await db.execute(sql`
        INSERT INTO refund_events (refund_id, event_key, type, actor, actor_role, at)
        VALUES (${id}, 'step-1', 'approved', 'supervisor-a', 'supervisor', ${created}::timestamptz + make_interval(secs => ${approvalSeconds}))`);
    }
  }
});

afterAll(async () => {
  await running?.stop();
});

const range = 'from=2026-03-01T00:00:00%2B08:00&to=2026-03-03T00:00:00%2B08:00';

it('counts and sums by reason, with settlement and approval percentiles and the attention share', async () => {
  const report = await running.call('GET', `/v1/reports/refunds?${range}&groupBy=reason`, { key: 'dev-supervisor-a' });
  expect(report.status).toBe(200);
  expect(report.body).toMatchObject({
    refunds: 5,
    groups: [
      { key: 'customer_request', currency: 'CNY', count: 1, amount: 4000 },
      { key: 'defective', currency: 'CNY', count: 2, amount: 3000 },
      { key: 'fraud', currency: 'CNY', count: 1, amount: 5000 },
      { key: 'other', currency: 'CNY', count: 1, amount: 3000 },
    ],
    // settled after 3600, 7200, 10800 s; approved after 600, 1200 s (continuous percentiles)
    timeToSettleSeconds: { p50: 7200, p90: 10080 },
    approvalLeadTimeSeconds: { p50: 900, p90: 1140 },
    needsAttentionShare: 0.2,
  });
});

it('groups by business day, not by UTC day', async () => {
  const report = await running.call('GET', `/v1/reports/refunds?${range}&groupBy=day`, { key: 'dev-support' });
  // 01:00 in Shanghai on 1 March is still 28 February in UTC.
  expect(report.body.groups).toEqual([
    { key: '2026-03-01', currency: 'CNY', count: 2, amount: 3000 },
    { key: '2026-03-02', currency: 'CNY', count: 3, amount: 12000 },
  ]);
});

it('groups by channel and status, and refuses a backwards range or the service role', async () => {
  const byChannel = await running.call('GET', `/v1/reports/refunds?${range}&groupBy=channel`, { key: 'dev-support' });
  expect(byChannel.body.groups.map((g: { key: string; count: number }) => [g.key, g.count])).toEqual([
    ['alipay', 1],
    ['card', 3],
    ['wechat', 1],
  ]);
  const byStatus = await running.call('GET', `/v1/reports/refunds?${range}&groupBy=status`, { key: 'dev-support' });
  expect(byStatus.body.groups.map((g: { key: string; count: number }) => [g.key, g.count])).toEqual([
    ['rejected', 1],
    ['requires_action', 1],
    ['succeeded', 3],
  ]);
  expect((await running.call('GET', '/v1/reports/refunds?from=2026-03-03T00:00:00Z&to=2026-03-01T00:00:00Z', { key: 'dev-support' })).status).toBe(400);
  // A period is at most a year and a day: 0001 to 9999 is refused before anything is scanned (issue #20).
  const ages = await running.call('GET', '/v1/reports/refunds?from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z', { key: 'dev-support' });
  expect(ages.status).toBe(400);
  expect(JSON.stringify(ages.body)).toContain('at most 367 days after from');
  expect((await running.call('GET', '/v1/reports/refunds?from=2025-03-01T00:00:00Z&to=2026-03-03T00:00:00Z', { key: 'dev-support' })).status).toBe(200);
  expect((await running.call('GET', `/v1/reports/refunds?${range}`, { key: 'dev-service' })).status).toBe(403);
});
