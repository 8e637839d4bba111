/**
 * `npm run bench -- --scale`: the read side at a chain's scale (issue #18). Starts the embedded
 * stack in a scratch folder, loads 50 merchants, 5,000 payments and 1,000,000 refunds over 90 days
 * with their timelines and merchant events (PostgreSQL COPY, streamed), then measures p50/p99 of
 * what support staff and merchants' back offices read — the list with each filter, search by the
 * payer's last four and by order, the desks' queries, a 30-day report, the events feed from the
 * start and from a cursor, a refund's page — first on a quiet database, then with 100 refunds a
 * second arriving (written as the service writes a new refund: the refund, its event, its
 * merchant event). Prints one table, and each query's plan estimate.
 *
 *   BENCH_SCALE_REFUNDS (default 1000000)  BENCH_SCALE_SAMPLES (default 200)
 *   BENCH_SCALE_READS (only the reads whose name contains it, e.g. `report`)
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../config';
import type postgres from 'postgres';
import { connectDatabase, openPostgres, type Database } from '../db/client';
import { awaitingApprovalOldestFirst, listRefundsQuery, stuckOldestFirst } from '../db/queries/refunds';
import { ulid } from '../ids';
import { createLogger } from '../logger';
import { startService } from '../service';

const TOTAL = Number(process.env.BENCH_SCALE_REFUNDS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 200);
const MERCHANTS = 50;
const PAYMENTS = 5_000;
const DAYS = 90;
const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'awaiting_settlement', 'delayed', 'requires_action', 'pending_approval', 'rejected', 'canceled'] as const;
const REASONS = ['defective', 'not_received', 'duplicate_charge', 'wrong_amount', 'order_canceled', 'customer_request'] as const;
const CHANNELS = ['card', 'wechat', 'alipay'] as const;

interface Measured {
  name: string;
  quiet?: number[];
  busy?: number[];
}

export async function runScaleBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'refundflow-scale-'));
  chmodSync(dataDir, 0o755);
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, PORT: '0' });
  const service = await startService(config, createLogger({ level: 'error' }), { api: true, worker: false, embedded: true });
  const sql = openPostgres(service.databaseUrl, { max: 4 });
  const connection = connectDatabase(service.databaseUrl, { max: 4 });
  const { db } = connection;
  try {
    const began = Date.now();
    const now = Date.now();
    const ids = await seed(sql, now);
    process.stdout.write(`loaded ${TOTAL.toLocaleString('en')} refunds (${PAYMENTS} payments, ${MERCHANTS} merchants) in ${((Date.now() - began) / 1000).toFixed(0)} s\n`);

    const api = service.apiUrl!;
    const get = async (route: string, key = 'dev-support') => {
      const response = await fetch(`${api}${route}`, { headers: { authorization: `Bearer ${key}` } });
      if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<{ data?: Array<{ id: string }> }>;
    };
    const pick = <T>(values: readonly T[]) => values[Math.floor(Math.random() * values.length)]!;
    const day = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
    const middleEvent = `evt_${ids[Math.floor(ids.length / 2)]}_created_created`;

    const reads: Array<[string, () => Promise<unknown>]> = [
      ['list: newest first', () => get('/v1/refunds')],
      ['list: by status (requires_action, delayed)', () => get('/v1/refunds?status=requires_action,delayed')],
      ['list: by merchant', () => get(`/v1/refunds?merchantId=m_${String(Math.floor(Math.random() * MERCHANTS)).padStart(3, '0')}`)],
      ['list: needing attention', () => get('/v1/refunds?needsAttention=true')],
      ['list: awaiting approval', () => get('/v1/refunds?awaitingApproval=true', 'dev-supervisor-a')],
      ['list: by payment', () => get(`/v1/refunds?paymentId=p_${String(Math.floor(Math.random() * PAYMENTS)).padStart(5, '0')}`)],
      ['list: created in a week, 30 days ago', () => get(`/v1/refunds?createdFrom=${day(37)}&createdTo=${day(30)}`)],
      ['list: a deep page (cursor)', async () => {
        const first = (await get('/v1/refunds?createdTo=' + day(60))) as { nextCursor?: string };
        return first.nextCursor ? get(`/v1/refunds?createdTo=${day(60)}&cursor=${first.nextCursor}`) : first;
      }],
      ['search: payer’s last four', () => get(`/v1/refunds?payerLast4=${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`)],
      ['search: order id', () => get(`/v1/refunds?orderId=o_${String(Math.floor(Math.random() * PAYMENTS)).padStart(5, '0')}`)],
      ['desk: awaiting approval, oldest first', () => awaitingApprovalOldestFirst(db, 50, null)],
      ['desk: stuck, oldest first', () => stuckOldestFirst(db, 50, null)],
      ['report: 30 days by day', () => get(`/v1/reports/refunds?from=${day(30)}&to=${day(0)}&groupBy=day`, 'dev-supervisor-a')],
      ['report: 30 days by reason', () => get(`/v1/reports/refunds?from=${day(30)}&to=${day(0)}&groupBy=reason`, 'dev-supervisor-a')],
      ['events: from the start', () => get('/v1/events?limit=100', 'dev-service')],
      ['events: from a cursor', () => get(`/v1/events?after=${middleEvent}&limit=100`, 'dev-service')],
      ['a refund’s page', () => get(`/v1/refunds/${pick(ids)}`)],
    ];

    const only = process.env.BENCH_SCALE_READS;
    if (only) reads.splice(0, reads.length, ...reads.filter(([name]) => name.includes(only)));
    const results: Measured[] = reads.map(([name]) => ({ name }));
    for (const [index, [, read]] of reads.entries()) results[index]!.quiet = await sample(read);
    // The same with 100 refunds a second arriving, written as the service writes a new one.
    const arrivals = arrive(sql, 100);
    for (const [index, [, read]] of reads.entries()) results[index]!.busy = await sample(read);
    const arrived = await arrivals.stop();

    const pad = (text: string, width: number) => text.padEnd(width);
    const cell = (values?: number[]) => (values ? `${percentile(values, 0.5).toFixed(1).padStart(7)} ${percentile(values, 0.99).toFixed(1).padStart(7)}` : '');
    process.stdout.write(`\n${TOTAL.toLocaleString('en')} refunds; up to ${SAMPLES} samples each (20 s at most, 20 at least); milliseconds\n`);
    process.stdout.write(`${pad('read', 44)}${'quiet p50'.padStart(9)} ${'p99'.padStart(7)}   ${'100/s p50'.padStart(9)} ${'p99'.padStart(7)}\n`);
    for (const result of results) process.stdout.write(`${pad(result.name, 44)}  ${cell(result.quiet)}     ${cell(result.busy)}\n`);
    const worst = Math.max(...results.flatMap((r) => [percentile(r.quiet!, 0.99), percentile(r.busy!, 0.99)]));
    process.stdout.write(`\nworst p99: ${worst.toFixed(1)} ms (target ≤ 100 ms); ${arrived} refunds arrived during the busy pass\n`);

    process.stdout.write('\nplans (estimated rows at the top node):\n');
    for (const [name, query] of planQueries(db, now)) {
      const [{ 'QUERY PLAN': plan }] = (await sql.unsafe(`EXPLAIN (FORMAT JSON) ${query}`)) as unknown as [{ 'QUERY PLAN': Array<{ Plan: { 'Node Type': string; 'Plan Rows': number; 'Total Cost': number } }> }];
      const top = plan[0]!.Plan;
      process.stdout.write(`  ${pad(name, 42)} ${top['Node Type']}, ~${top['Plan Rows']} rows, cost ${top['Total Cost']}\n`);
    }
  } finally {
    await sql.end();
    await connection.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs `read` SAMPLES times one after another (a slow read: as many as 20 s allow, 20 at least); milliseconds each. */
async function sample(read: () => Promise<unknown>): Promise<number[]> {
  await read(); // warm: the first call pays for plans and caches
  const times: number[] = [];
  const until = Date.now() + 20_000;
  for (let i = 0; i < SAMPLES && (i < 20 || Date.now() < until); i += 1) {
    const t0 = performance.now();
    await read();
    times.push(performance.now() - t0);
  }
  return times;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Streams rows as CSV into COPY: the table loads in one statement, never row by row. */
async function copy(sql: postgres.Sql, table: string, columns: string[], rows: Iterable<unknown[]>): Promise<void> {
  const lines = function* () {
    let chunk: string[] = [];
    for (const row of rows) {
      chunk.push(row.map((value) => (value === null ? '' : `"${String(value).replace(/"/g, '""')}"`)).join(','));
      if (chunk.length === 5_000) {
        yield `${chunk.join('\n')}\n`;
        chunk = [];
      }
    }
    if (chunk.length) yield `${chunk.join('\n')}\n`;
  };
  const writable = await sql.unsafe(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv)`).writable();
  await pipeline(Readable.from(lines()), writable);
}

/** The merchants, payments, refunds (newest last), their events and merchant events; the refunds' ids. */
async function seed(sql: postgres.Sql, now: number): Promise<string[]> {
  const merchant = (n: number) => `m_${String(n % MERCHANTS).padStart(3, '0')}`;
  await copy(sql, 'merchants', ['id', 'name'], Array.from({ length: MERCHANTS }, (_, n) => [merchant(n), `Store ${n}`]));
  await copy(
    sql,
    'payments',
    ['id', 'merchant_id', 'order_id', 'channel', 'amount', 'currency', 'status', 'captured_at', 'payer_account', 'payer_last4', 'request_hash', 'reserved_amount'],
    Array.from({ length: PAYMENTS }, (_, n) => [`p_${String(n).padStart(5, '0')}`, merchant(n), `o_${String(n).padStart(5, '0')}`, CHANNELS[n % 3], 900_000_000_000, 'CNY', 'captured', new Date(now - DAYS * 86_400_000 - 86_400_000).toISOString(), `sealed:bench:${n}`, String(n % 10_000).padStart(4, '0'), 'bench', 0]),
  );
  const span = DAYS * 86_400_000;
  const ids: string[] = [];
  const refunds = function* () {
    for (let n = 0; n < TOTAL; n += 1) {
      const at = now - span + Math.floor((n / TOTAL) * span);
      const id = `rf_${ulid(at)}`;
      ids.push(id);
      const payment = n % PAYMENTS;
      const status = STATUSES[n % STATUSES.length]!;
      const settled = status === 'succeeded';
      yield [
        id, `p_${String(payment).padStart(5, '0')}`, merchant(payment), `o_${String(payment).padStart(5, '0')}`, CHANNELS[payment % 3], 1_000 + (n % 50_000), 0, 1_000 + (n % 50_000), 'CNY', REASONS[n % REASONS.length],
        status, 'pos', 'pos', status === 'pending_approval' || approvedAfter(n) !== null ? 1 : 0, `sealed:bench:${payment}`, String(payment % 10_000).padStart(4, '0'), String(payment % 10_000).padStart(4, '0'), CHANNELS[payment % 3],
        settled ? 'settled' : status === 'awaiting_settlement' || status === 'delayed' ? 'accepted' : 'not_sent', status === 'requires_action' || status === 'delayed', settled ? 'settled' : 'reserved',
        new Date(at).toISOString(), new Date(at).toISOString(), settled ? new Date(at + settleSeconds(n) * 1000).toISOString() : null, status === 'pending_approval' ? new Date(at + 72 * 3_600_000).toISOString() : null,
      ];
    }
  };
  await copy(
    sql,
    'refunds',
    ['id', 'payment_id', 'merchant_id', 'order_id', 'channel', 'amount', 'fee', 'net_amount', 'currency', 'reason', 'status', 'requested_by', 'created_by', 'required_approvals', 'destination_account', 'destination_last4', 'payer_last4', 'provider', 'provider_state', 'needs_attention', 'reservation', 'created_at', 'updated_at', 'settled_at', 'approval_due_at'],
    refunds(),
  );
  const events = function* () {
    for (const [n, id] of ids.entries()) {
      const at = new Date(Date.parse(decodeTime(id))).toISOString();
      yield [id, 'created', 'created', 'pos', 'service', '{}', at];
      if (STATUSES[n % STATUSES.length] === 'succeeded') {
        const approved = approvedAfter(n);
        if (approved !== null) yield [id, 'approval-1', 'approved', 'supervisor-a', 'supervisor', '{}', new Date(Date.parse(at) + approved * 1000).toISOString()];
        yield [id, 'sent-a1', 'submitted', 'refundflow', 'system', '{"attempt":1,"provider":"card"}', at];
        yield [id, 'settled', 'settled', 'refundflow', 'system', '{"reportedBy":"webhook"}', new Date(Date.parse(at) + settleSeconds(n) * 1000).toISOString()];
      }
    }
  };
  await copy(sql, 'refund_events', ['refund_id', 'event_key', 'type', 'actor', 'actor_role', 'detail', 'at'], events());
  const merchantEvents = function* () {
    for (const [n, id] of ids.entries()) {
      const at = new Date(Date.parse(decodeTime(id))).toISOString();
      const m = merchant(n % PAYMENTS);
      yield [`evt_${id}_created_created`, id, m, 'refund.created', `{"refundId":"${id}"}`, at, at];
      if (STATUSES[n % STATUSES.length] === 'succeeded') yield [`evt_${id}_settled_succeeded`, id, m, 'refund.succeeded', `{"refundId":"${id}"}`, at, at];
    }
  };
  await copy(sql, 'merchant_events', ['id', 'refund_id', 'merchant_id', 'type', 'data', 'created_at', 'delivered_at'], merchantEvents());
  await sql`ANALYZE`;
  return ids;
}

/** Seconds from request to money arrived: a minute to three days, spread as a chain's wallets and cards spread them. */
function settleSeconds(n: number): number {
  return 60 + ((n * 7_919) % 259_140);
}

/** Every fourth refund that succeeded needed an approval, given 5 minutes to 2 hours after the request. */
function approvedAfter(n: number): number | null {
  return STATUSES[n % STATUSES.length] === 'succeeded' && n % 4 === 0 ? 300 + ((n * 104_729) % 7_200) : null;
}

/** A ULID's time, as ISO (the refunds' ids carry their creation time). */
function decodeTime(id: string): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let ms = 0;
  for (const char of id.slice(3, 13)) ms = ms * 32 + alphabet.indexOf(char);
  return new Date(ms).toISOString();
}

/** New refunds at `perSecond`, each with its created event and merchant event, in one transaction as the API writes them. */
function arrive(sql: postgres.Sql, perSecond: number): { stop(): Promise<number> } {
  let running = true;
  let count = 0;
  const loop = (async () => {
    while (running) {
      const tick = Date.now();
      await Promise.all(
        Array.from({ length: perSecond / 10 }, async () => {
          const id = `rf_${ulid()}`;
          const payment = `p_${String(count % PAYMENTS).padStart(5, '0')}`;
          count += 1;
          await sql.begin(async (tx) => {
            await tx`INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status, requested_by, created_by, required_approvals, destination_account, destination_last4, payer_last4, provider)
                     SELECT ${id}, id, merchant_id, order_id, channel, 1000, 0, 1000, 'CNY', 'defective', 'processing', 'pos', 'pos', 0, payer_account, payer_last4, payer_last4, channel::text::provider_name FROM payments WHERE id = ${payment}`;
            await tx`INSERT INTO refund_events (refund_id, event_key, type, actor, actor_role) VALUES (${id}, 'created', 'created', 'pos', 'service')`;
            await tx`INSERT INTO merchant_events (id, refund_id, merchant_id, type, data) SELECT ${`evt_${id}_created_created`}, ${id}, merchant_id, 'refund.created', '{}'::jsonb FROM refunds WHERE id = ${id}`;
          });
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tick))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return count;
    },
  };
}

/** The list's queries as the API builds them, written out for EXPLAIN. */
function planQueries(db: Database, now: number): Array<[string, string]> {
  const filters: Array<[string, Parameters<typeof listRefundsQuery>[1]]> = [
    ['list: newest first', { limit: 51 }],
    ['list: by status', { statuses: ['requires_action', 'delayed'], limit: 51 }],
    ['list: by merchant', { merchantId: 'm_007', limit: 51 }],
    ['list: needing attention', { needsAttention: true, limit: 51 }],
    ['list: awaiting approval', { awaitingApproval: true, limit: 51 }],
    ['list: by payment', { paymentId: 'p_00007', limit: 51 }],
    ['search: payer’s last four', { payerLast4: '0007', limit: 51 }],
    ['search: order id', { orderId: 'o_00007', limit: 51 }],
    ['list: a week, 30 days ago', { createdFrom: new Date(now - 37 * 86_400_000), createdTo: new Date(now - 30 * 86_400_000), limit: 51 }],
  ];
  return filters.map(([name, filter]) => {
    const query = listRefundsQuery(db, filter).toSQL();
    return [name, query.sql.replace(/\$(\d+)/g, (_m, index: string) => literal(query.params[Number(index) - 1]))];
  });
}

function literal(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return `'${value.toISOString()}'`;
  return `'${String(value).replace(/'/g, "''")}'`;
}
