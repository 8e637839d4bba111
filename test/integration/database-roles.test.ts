/**
 * Least privilege in the database (issue #20): the service runs as a login of refundflow_service,
 * the owner only migrates. A whole refund goes through as that login — and that login can neither
 * change the schema, nor switch off the audit trail's trigger, nor change or remove an audit row,
 * against the real PostgreSQL.
 */
import '../support/quiet-temporal';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let database: TestDatabase;
let running: TestService;
let asService: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase({ sandbox: false });
  const serviceUrl = await database.serviceUrl();
  running = await startTestService({ DATABASE_URL: serviceUrl, DATABASE_OWNER_URL: database.url, SANDBOX_SETTLEMENT_DELAY: '100ms' });
  asService = postgres(serviceUrl, { max: 1, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  await asService?.end();
  await running?.stop();
  await database?.close();
});

/** PostgreSQL's error code for what the service's login tried, or 'allowed'. */
async function attempt(statement: string): Promise<string> {
  return asService.unsafe(statement).then(
    () => 'allowed',
    (error: { code?: string }) => error.code ?? String(error),
  );
}

it('a refund goes from request to succeeded with the service working as its own login', async () => {
  const payment = paymentRegistration({});
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 1_500, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(created.status).toBe(201);
  await eventually(async () => (await running.call('GET', `/v1/refunds/${created.body.id}`)).body.status === 'succeeded' || undefined, 30_000, 'the refund succeeded');
  const [events] = await asService`SELECT count(*)::int AS n FROM refund_events WHERE refund_id = ${created.body.id as string}`;
  expect(events!.n).toBeGreaterThanOrEqual(3);
});

it('the service’s login cannot switch off the audit trigger, change or remove an audit row, or change the schema', async () => {
  expect(await attempt('ALTER TABLE refund_events DISABLE TRIGGER refund_events_no_update_or_delete')).toBe('42501');
  expect(await attempt('ALTER TABLE refund_events DISABLE TRIGGER ALL')).toBe('42501');
  expect(await attempt("UPDATE refund_events SET type = 'rewritten'")).toBe('42501');
  expect(await attempt('DELETE FROM refund_events')).toBe('42501');
  expect(await attempt('TRUNCATE refund_events')).toBe('42501');
  expect(await attempt('DROP TRIGGER refund_events_no_update_or_delete ON refund_events')).toBe('42501');
  expect(await attempt('ALTER TABLE refunds ADD COLUMN rewritten int')).toBe('42501');
  expect(await attempt('CREATE TABLE shadow (id int)')).toBe('42501');
  expect(await attempt('SET session_replication_role = replica')).toBe('42501');
  // What it needs, it has: it reads and writes the data.
  expect(await attempt('SELECT count(*) FROM refunds')).toBe('allowed');
  // The owner's migrations ran; the owner itself is still refused by the trigger.
  const owner = postgres(database.url, { max: 1, onnotice: () => undefined });
  try {
    await expect(owner.unsafe("UPDATE refund_events SET type = 'rewritten'")).rejects.toMatchObject({ code: '42501' });
  } finally {
    await owner.end();
  }
});
