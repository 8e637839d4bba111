/**
 * Support staff's lists and supervisors' reports must stay fast on a large refunds table. Timings belong in benchmarks;
 * this checks the cause instead: on 200,000 refunds of 2,000 payments, PostgreSQL's plans for the list queries use
 * the indexes and never scan the table.
 */
import { sql } from 'drizzle-orm';
import { merchantEventsFeed } from '../../src/db/queries/merchant-events';
import { reportStatements } from '../../src/db/queries/reports';
import { awaitingApprovalOldestFirst, listRefundsQuery, stuckOldestFirst, type RefundListFilter } from '../../src/db/queries/refunds';
import { createTestDatabase, type TestDatabase } from '../support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.execute(sql`
    INSERT INTO payments (id, merchant_id, order_id, channel, amount, currency, status, captured_at, payer_account, payer_last4, request_hash, reserved_amount)
    SELECT 'pay_' || p, 'm_' || (p % 50), 'ord_' || p, 'card', 9000000000, 'CNY', 'captured', now(), 'sealed:v1:t:x:' || p, right(lpad(p::text, 8, '0'), 4), 'x', 100000000
    FROM generate_series(0, 1999) AS p`);
  // Loaded in one statement, with the rollup triggers off and the rollups counted once after: row by
  // row, 200,000 refunds of three days would update the same few rollup rows 200,000 times in one
  // transaction (production changes one refund per transaction).
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL session_replication_role = replica`);
    await tx.execute(sql`
      INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status,
                           requested_by, created_by, required_approvals, destination_account, payer_last4, provider, needs_attention, created_at)
      SELECT 'rf_' || lpad(n::text, 26, '0'), 'pay_' || (n % 2000), 'm_' || (n % 2000 % 50), 'ord_' || (n % 2000), 'card', 1000, 0, 1000, 'CNY', 'defective',
             (ARRAY['succeeded','succeeded','succeeded','succeeded','awaiting_settlement','delayed','requires_action','pending_approval'])[1 + n % 8]::refund_status,
             'pos', 'pos', (n % 6 = 0)::int, '6222020200112341234', right(lpad((n % 2000)::text, 8, '0'), 4), 'card', n % 97 = 0, now() - (n || ' seconds')::interval
      FROM generate_series(1, 200000) AS n`);
    // Their timelines: each created, one in six approved a minute later.
    await tx.execute(sql`
      INSERT INTO refund_events (refund_id, event_key, type, actor, actor_role, at)
      SELECT id, 'created', 'created', 'pos', 'service', created_at FROM refunds
      UNION ALL
      SELECT id, 'approved', 'approved', 'supervisor-a', 'supervisor', created_at + interval '1 minute' FROM refunds WHERE required_approvals > 0`);
  });
  await database.db.execute(sql`SELECT report_rollups_rebuild()`);
  await database.db.execute(sql`
    INSERT INTO merchant_events (id, refund_id, merchant_id, type, data, delivered_at)
    SELECT 'evt_' || id || '_created_created', id, merchant_id, 'refund.created', '{}', now() FROM refunds`);
  await database.db.execute(sql`ANALYZE payments`);
  await database.db.execute(sql`ANALYZE refunds`);
  await database.db.execute(sql`ANALYZE merchant_events`);
  await database.db.execute(sql`ANALYZE refund_events`);
  await database.db.execute(sql`ANALYZE refund_day_totals`);
  await database.db.execute(sql`ANALYZE refund_day_durations`);
}, 120_000);

afterAll(async () => {
  await database?.close();
});

async function planOf(filter: Omit<RefundListFilter, 'limit'>): Promise<string> {
  return planOfQuery(listRefundsQuery(database.db, { ...filter, limit: 51 }));
}

/** The plan PostgreSQL makes for a query as the service builds it. */
async function planOfQuery(builder: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const query = builder.toSQL();
  const rows = await database.db.execute<{ 'QUERY PLAN': string }>(sql.raw(`EXPLAIN ${inline(query.sql, query.params)}`));
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

/** Parameters written into the statement (they are our own test values) so EXPLAIN sees real constants. */
function inline(statement: string, params: unknown[]): string {
  return statement.replace(/\$(\d+)/g, (_m, index: string) => {
    const value = params[Number(index) - 1];
    if (typeof value === 'number') return String(value);
    if (value instanceof Date) return `'${value.toISOString()}'`;
    return `'${String(value).replace(/'/g, "''")}'`;
  });
}

describe('refund list plans on 200,000 refunds', () => {
  it.each<[string, Omit<RefundListFilter, 'limit'>]>([
    ['newest first', {}],
    ['needing attention', { needsAttention: true }],
    ['awaiting approval', { awaitingApproval: true }],
    ['created in a week, 30 days ago', { createdFrom: new Date(Date.now() - 30 * 86_400_000), createdTo: new Date(Date.now() - 23 * 86_400_000) }],
    ['by status', { statuses: ['requires_action', 'delayed'] }],
    ['by merchant', { merchantId: 'm_7' }],
    ['by payment', { paymentId: 'pay_7' }],
    ['by order', { orderId: 'ord_7' }],
    ['by the payer’s last four', { payerLast4: '0007' }],
    ['a deep page', { after: { createdAt: new Date(Date.now() - 150_000_000), id: 'rf_x' } }],
  ])('%s: an index, no sequential scan', async (_name, filter) => {
    const plan = await planOf(filter);
    expect(plan).toMatch(/Index/);
    expect(plan).not.toMatch(/Seq Scan on (refunds|payments)/);
  });
});

describe('report plans on 200,000 refunds', () => {
  // 30 days up to now, from 20:00 or 08:00 (whole days from the rollups, plus or less a part of a day
  // from the refunds), for every merchant and for one.
  it.each<[string, number, string[] | null]>([
    ['every merchant, from 20:00', 20, null],
    ['every merchant, from 08:00', 8, null],
    ['one merchant, from 20:00', 20, ['m_7']],
  ])('%s: the created_at index, no sequential scan of the refunds or their events', async (_name, hour, scope) => {
    const today = Date.parse(`${new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10)}T00:00:00+08:00`);
    const from = new Date(today - 30 * 86_400_000 + hour * 3_600_000);
    const statements = reportStatements({ from, to: new Date(), utcOffsetMinutes: 480, scope });
    for (const statement of [statements.groups('reason'), statements.counted, statements.durations]) {
      const rows = await database.db.execute<{ 'QUERY PLAN': string }>(sql`EXPLAIN ${statement}`);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index/);
      // The rollups grow with days and merchants, not refunds: small here, a scan of them can be the better plan.
      expect(plan).not.toMatch(/Seq Scan on (refunds|refund_events)/);
    }
  });
});

describe('desk and events feed plans on 200,000 refunds', () => {
  it.each<[string, () => { toSQL(): { sql: string; params: unknown[] } }]>([
    ['supervisors’ desk: awaiting approval, oldest first', () => awaitingApprovalOldestFirst(database.db, 50, null)],
    ['support’s desk: stuck, oldest first', () => stuckOldestFirst(database.db, 50, null)],
    ['one merchant’s desk', () => stuckOldestFirst(database.db, 50, ['m_7'])],
    ['events feed from the start', () => merchantEventsFeed(database.db, null, 100, null)],
    ['events feed from a position', () => merchantEventsFeed(database.db, { txId: '1000', seq: 100_000 }, 100, null)],
    ['one merchant’s events feed', () => merchantEventsFeed(database.db, { txId: '1000', seq: 100_000 }, 100, ['m_7'])],
  ])('%s: an index, no sequential scan', async (_name, query) => {
    const plan = await planOfQuery(query());
    expect(plan).toMatch(/Index/);
    expect(plan).not.toMatch(/Seq Scan on (refunds|payments|merchant_events)/);
  });
});
