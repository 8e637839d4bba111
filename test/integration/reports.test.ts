/**
 * The refund report over HTTP, checked against a data set whose every figure is known.
 */
import '../support/quiet-temporal';
import { sql } from 'drizzle-orm';
import { alignReportCalendar } from '../../src/db/queries/report-calendar';
import { expectRollupsMatchRecount } from '../support/report-rollups';
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
    needsAttentionShare: 0.2,
  });
  // Settled after 3600, 7200, 10800 s; approved after 600, 1200 s. Continuous percentiles, read from
  // 2%-wide buckets: within about 1% of 7200, 10080, 900 and 1140.
  const { timeToSettleSeconds: settle, approvalLeadTimeSeconds: approval } = report.body;
  expect(withinOnePercent([settle.p50, settle.p90, approval.p50, approval.p90], [7200, 10080, 900, 1140])).toBe(true);
});

function withinOnePercent(values: number[], exact: number[]): boolean {
  return values.every((value, i) => Math.abs(value - exact[i]!) <= (exact[i]! + 1) * 0.01006); // a bucket's middle: within e^0.01 − 1 of 1 + seconds
}

/** The report as the data set says it should be, for a period and a grouping: the figures by hand. */
function expected(from: string, to: string, groupBy: 'reason' | 'day') {
  const inside = DATA.filter(([, , , , , created]) => Date.parse(created) >= Date.parse(from) && Date.parse(created) < Date.parse(to));
  const groups = new Map<string, { count: number; amount: number }>();
  for (const [, reason, , , amount, created] of inside) {
    const key = groupBy === 'reason' ? reason : new Date(Date.parse(created) + 8 * 3_600_000).toISOString().slice(0, 10);
    const group = groups.get(key) ?? { count: 0, amount: 0 };
    groups.set(key, { count: group.count + 1, amount: group.amount + amount });
  }
  return {
    refunds: inside.length,
    groups: [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, group]) => ({ key, currency: 'CNY', ...group })),
  };
}

it('counts a period that starts or ends inside a business day the same as the refunds themselves', async () => {
  // Whole days from the rollups, the rest from the refunds: aligned, unaligned at either end or
  // both, inside one day, and empty.
  const periods: Array<[string, string]> = [
    ['2026-03-01T00:00:00+08:00', '2026-03-04T00:00:00+08:00'],
    ['2026-03-01T05:00:00+08:00', '2026-03-03T00:00:00+08:00'],
    ['2026-03-01T00:00:00+08:00', '2026-03-02T23:00:00+08:00'],
    ['2026-03-01T09:59:59+08:00', '2026-03-03T00:30:00+08:00'],
    ['2026-03-02T08:00:00+08:00', '2026-03-02T13:00:00+08:00'],
    ['2026-03-02T00:30:00+08:00', '2026-03-03T00:30:01+08:00'],
    ['2026-02-27T00:00:00+08:00', '2026-02-28T00:00:00+08:00'],
  ];
  for (const [from, to] of periods) {
    for (const groupBy of ['reason', 'day'] as const) {
      const report = await running.call('GET', `/v1/reports/refunds?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&groupBy=${groupBy}`, { key: 'dev-support' });
      expect({ from, to, groupBy, refunds: report.body.refunds, groups: report.body.groups }).toEqual({ from, to, groupBy, ...expected(from, to, groupBy) });
    }
  }
});

it('keeps the rollups as refunds change, equal to everything counted again', async () => {
  const { db } = running.database;
  const byStatus = async () =>
    (await running.call('GET', `/v1/reports/refunds?${range}&groupBy=status`, { key: 'dev-support' })).body.groups.map((g: { key: string; count: number; amount: number }) => [g.key, g.count, g.amount]);
  expect(await byStatus()).toEqual([
    ['rejected', 1, 3000],
    ['requires_action', 1, 5000],
    ['succeeded', 3, 7000],
  ]);
  // The refund that required action is settled after all; a second `approved` dated later changes no lead time.
  await db.execute(sql`UPDATE refunds SET status = 'succeeded', needs_attention = false, settled_at = created_at + interval '4 hours' WHERE id = 'rf_REPORT00000000000000000003'`);
  await db.execute(sql`
    INSERT INTO refund_events (refund_id, event_key, type, actor, actor_role, at)
    VALUES ('rf_REPORT00000000000000000006', 'step-9', 'approved', 'supervisor-b', 'supervisor', '2026-03-02T15:00:00+08:00')`);
  expect(await byStatus()).toEqual([
    ['rejected', 1, 3000],
    ['succeeded', 4, 12000],
  ]);
  const report = (await running.call('GET', `/v1/reports/refunds?${range}&groupBy=status`, { key: 'dev-support' })).body;
  expect(report.needsAttentionShare).toBe(0);
  // Settled after 3600, 7200, 10800, 14400 s; approvals unchanged (600, 1200 s).
  expect(withinOnePercent([report.timeToSettleSeconds.p50, report.approvalLeadTimeSeconds.p50], [9000, 900])).toBe(true);
  await expectRollupsMatchRecount(db);
  // Back as it was, for the other tests.
  await db.execute(sql`UPDATE refunds SET status = 'requires_action', needs_attention = true, settled_at = NULL WHERE id = 'rf_REPORT00000000000000000003'`);
  await expectRollupsMatchRecount(db);
});

it('counts on the configured business day: a changed offset rebuilds the rollups', async () => {
  const { db } = running.database;
  const dayOf = (body: { groups: Array<{ key: string; count: number }> }) => body.groups.map((g) => [g.key, g.count]);
  try {
    // UTC: 01:00 in Shanghai on 1 March is 28 February; 00:30 on 3 March is still 2 March.
    expect(await alignReportCalendar(db, 0)).toBe(true);
    expect(await alignReportCalendar(db, 0)).toBe(false);
    const [calendar] = await db.execute<{ utc_offset_minutes: number }>(sql`SELECT utc_offset_minutes FROM report_calendar`);
    expect(calendar!.utc_offset_minutes).toBe(0);
    const utc = await db.execute<{ day: string; refunds: number }>(sql`SELECT day::text, sum(refunds)::int AS refunds FROM refund_day_totals WHERE merchant_id = '*' GROUP BY 1 ORDER BY 1`);
    expect(utc.map((row) => [row.day, row.refunds])).toEqual([
      ['2026-02-28', 1],
      ['2026-03-01', 1],
      ['2026-03-02', 4],
    ]);
    await expectRollupsMatchRecount(db);
  } finally {
    await alignReportCalendar(db, 480);
  }
  const report = await running.call('GET', `/v1/reports/refunds?${range}&groupBy=day`, { key: 'dev-support' });
  expect(dayOf(report.body)).toEqual([
    ['2026-03-01', 2],
    ['2026-03-02', 3],
  ]);
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
