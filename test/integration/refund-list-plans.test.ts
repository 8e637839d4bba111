/**
 * Support staff's lists and supervisors' reports must stay fast on a large refunds table. Timings belong in benchmarks;
 * this checks the cause instead: on 200,000 refunds of 2,000 payments, PostgreSQL's plans for the list queries use
 * the indexes and never scan the table.
 */
import { sql } from 'drizzle-orm';
import { merchantEventsFeed } from '../../src/db/queries/merchant-events';
import { awaitingApprovalOldestFirst, listRefundsQuery, stuckOldestFirst, type RefundListFilter } from '../../src/db/queries/refunds';
import { createTestDatabase, type TestDatabase } from '../support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.execute(sql`
    INSERT INTO payments (id, merchant_id, order_id, channel, amount, currency, status, captured_at, payer_account, payer_last4, request_hash, reserved_amount)
    SELECT 'pay_' || p, 'm_' || (p % 50), 'ord_' || p, 'card', 9000000000, 'CNY', 'captured', now(), 'sealed:v1:t:x:' || p, right(lpad(p::text, 8, '0'), 4), 'x', 100000000
    FROM generate_series(0, 1999) AS p`);
  await database.db.execute(sql`
    INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status,
                         requested_by, created_by, required_approvals, destination_account, payer_last4, provider, needs_attention, created_at)
    SELECT 'rf_' || lpad(n::text, 26, '0'), 'pay_' || (n % 2000), 'm_' || (n % 2000 % 50), 'ord_' || (n % 2000), 'card', 1000, 0, 1000, 'CNY', 'defective',
           (ARRAY['succeeded','succeeded','succeeded','succeeded','awaiting_settlement','delayed','requires_action','pending_approval'])[1 + n % 8]::refund_status,
           'pos', 'pos', 0, '6222020200112341234', right(lpad((n % 2000)::text, 8, '0'), 4), 'card', n % 97 = 0, now() - (n || ' seconds')::interval
    FROM generate_series(1, 200000) AS n`);
  await database.db.execute(sql`
    INSERT INTO merchant_events (id, refund_id, merchant_id, type, data, delivered_at)
    SELECT 'evt_' || id || '_created_created', id, merchant_id, 'refund.created', '{}', now() FROM refunds`);
  await database.db.execute(sql`ANALYZE payments`);
  await database.db.execute(sql`ANALYZE refunds`);
  await database.db.execute(sql`ANALYZE merchant_events`);
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
  it('reads a short range of a long history by the created_at index', async () => {
    // One hour of the 55 hours in the table: like a day's report out of two months.
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date().toISOString();
    const rows = await database.db.execute<{ 'QUERY PLAN': string }>(
      sql.raw(`EXPLAIN SELECT r.reason, r.currency, count(*), sum(r.amount) FROM refunds r WHERE r.created_at >= '${from}' AND r.created_at < '${to}' GROUP BY 1, 2`),
    );
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index/);
    expect(plan).not.toMatch(/Seq Scan on refunds/);
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
