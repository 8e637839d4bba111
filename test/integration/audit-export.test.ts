/**
 * The audit export (issue #21): a day of 10,000 refund events streamed through the API as CSV and
 * JSON Lines with a running hash chain; `npm run audit:verify` (the built command, as an auditor
 * runs it) passes on the file, and fails once one row is changed in the database by hand — which
 * takes the owner switching the append-only trigger off.
 */
import '../support/quiet-temporal';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { verifyAuditFile } from '../../src/audit/audit-export';
import { DEVELOPMENT_API_KEYS } from '../../src/config';
import { PROJECT_ROOT } from '../../src/project-root';
import { consoleSession } from '../support/console-session';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const run = promisify(execFile);
const OTHER_SHOP = 'other-shop-supervisor-key-0123456789abcdef';
let running: TestService;
let folder: string;
const day = { from: '2026-11-11T00:00:00.000Z', to: '2026-11-12T00:00:00.000Z' };

beforeAll(async () => {
  running = await startTestService({ SANDBOX_SETTLEMENT_DELAY: '100ms', API_KEYS: `${DEVELOPMENT_API_KEYS},${OTHER_SHOP}=supervisor:li@m_other` });
  folder = mkdtempSync(path.join(tmpdir(), 'audit-'));
  const payment = paymentRegistration();
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  await eventually(async () => (await running.call('GET', `/v1/refunds/${created.body.id}`)).body.status === 'succeeded' || undefined, 20_000, 'the refund paid');
  // A sales day's trail: 10,000 events on 11 November, with text that needs quoting in CSV.
  await running.database.db.execute(sql`
    INSERT INTO refund_events (refund_id, event_key, type, actor, actor_role, detail, at)
    SELECT ${created.body.id}, 'audit-seed-' || n, 'note_added', 'support-1', 'support',
           jsonb_build_object('n', n, 'note', 'customer said "yes", twice' || chr(10) || 'then hung up'),
           ${day.from}::timestamptz + n * interval '8 seconds'
    FROM generate_series(1, 10000) AS n`);
}, 60_000);

afterAll(async () => {
  await running?.stop();
  rmSync(folder, { recursive: true, force: true });
});

async function exported(format: 'csv' | 'jsonl') {
  const response = await fetch(`${running.service.apiUrl}/v1/audit?from=${day.from}&to=${day.to}&format=${format}`, { headers: { authorization: 'Bearer dev-supervisor-a' } });
  expect(response.status).toBe(200);
  // Streamed as it is read: no length known up front, many pieces.
  expect(response.headers.get('content-length')).toBeNull();
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let pieces = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    pieces += 1;
    text += decoder.decode(next.value, { stream: true });
  }
  return { text, pieces, type: response.headers.get('content-type') };
}

async function verify(file: string) {
  const command = path.join(PROJECT_ROOT, 'dist', 'src', 'audit-verify-main.js');
  try {
    const { stdout } = await run(process.execPath, [command, '--from', day.from, '--to', day.to, file], { env: { ...process.env, DATABASE_URL: running.database.url } });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, output: failed.stderr };
  }
}

it('streams the day’s 10,000 events as CSV, each row chained; the verify command passes on it, and fails after one row is changed in the database', async () => {
  const csv = await exported('csv');
  expect(csv.type).toContain('text/csv');
  expect(csv.pieces).toBeGreaterThan(10);
  const lines = csv.text.split('\r\n').filter(Boolean);
  expect(lines[0]).toBe('id,refund_id,merchant_id,type,actor,actor_role,at,detail,chain');
  const file = path.join(folder, 'day.csv');
  writeFileSync(file, csv.text);
  const passed = await verify(file);
  expect(passed).toEqual({ code: 0, output: expect.stringContaining('audit export verified: 10000 events') });

  // A change by hand: possible only for the owner, who must switch the trail's trigger off first.
  await running.database.db.execute(sql.raw('ALTER TABLE refund_events DISABLE TRIGGER refund_events_no_update_or_delete'));
  try {
    await running.database.db.execute(sql`UPDATE refund_events SET actor = 'someone-else' WHERE event_key = 'audit-seed-5000'`);
  } finally {
    await running.database.db.execute(sql.raw('ALTER TABLE refund_events ENABLE TRIGGER refund_events_no_update_or_delete'));
  }
  const failed = await verify(file);
  expect(failed.code).toBe(1);
  expect(failed.output).toMatch(/does not match the database at row 5000: event \d+ differs/);
});

it('as JSON Lines the same: a row removed from the file, or a link altered, shows where', async () => {
  const jsonl = await exported('jsonl');
  const range = { from: new Date(day.from), to: new Date(day.to), merchants: null };
  expect(await verifyAuditFile(running.database.db, range, jsonl.text)).toMatchObject({ ok: true, rows: 10_000 });
  const lines = jsonl.text.trim().split('\n');
  const removed = [...lines.slice(0, 99), ...lines.slice(100)].join('\n');
  expect(await verifyAuditFile(running.database.db, range, removed)).toMatchObject({ ok: false, row: 100 });
  const relinked = lines.map((line, i) => (i === 20 ? line.replace(/"chain":"[0-9a-f]{4}/, '"chain":"0000') : line)).join('\n');
  expect(await verifyAuditFile(running.database.db, range, relinked)).toMatchObject({ ok: false, row: 21, why: expect.stringContaining('chain breaks') });
  // Another period's file never verifies for this one.
  expect(await verifyAuditFile(running.database.db, { ...range, to: new Date('2026-11-13T00:00:00Z') }, jsonl.text)).toMatchObject({ ok: false });
});

it('a key for other merchants exports none of these events; support may not export', async () => {
  const as = (key: string) => fetch(`${running.service.apiUrl}/v1/audit?from=${day.from}&to=${day.to}&format=csv`, { headers: { authorization: `Bearer ${key}` } });
  const other = await as(OTHER_SHOP);
  expect(other.status).toBe(200);
  expect(await other.text()).toBe('id,refund_id,merchant_id,type,actor,actor_role,at,detail,chain\r\n');
  expect((await as('dev-support')).status).toBe(403);
});

it('in the console, a supervisor downloads the same trail for the report’s days; support is not offered it', async () => {
  const cookie = await consoleSession(running.service.apiUrl!, 'dev-supervisor-a');
  const page = await (await fetch(`${running.service.apiUrl}/console/reports?from=2026-11-11&to=2026-11-11`, { headers: { cookie } })).text();
  expect(page).toContain('/console/audit.csv?');
  const download = await fetch(`${running.service.apiUrl}/console/audit.csv?from=2026-11-11&to=2026-11-11`, { headers: { cookie } });
  expect(download.status).toBe(200);
  const text = await download.text();
  // The business day in the deployment's time zone: its own range, which the file names.
  const range = { from: new Date(download.headers.get('x-audit-from')!), to: new Date(download.headers.get('x-audit-to')!), merchants: null };
  expect(await verifyAuditFile(running.database.db, range, text)).toMatchObject({ ok: true });
  const support = await consoleSession(running.service.apiUrl!, 'dev-support');
  expect(await (await fetch(`${running.service.apiUrl}/console/reports`, { headers: { cookie: support } })).text()).not.toContain('/console/audit.csv');
  expect((await fetch(`${running.service.apiUrl}/console/audit.csv?from=2026-11-11&to=2026-11-11`, { headers: { cookie: support } })).status).toBe(403);
});
