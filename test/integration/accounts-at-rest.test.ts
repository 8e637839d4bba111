/**
 * Account numbers and names at rest (issue #20): after refunds paid, declined, rerouted to a bank
 * account a person gave and paid there, no table holds a full account number or a customer's or
 * holder's name in any column — each is sealed to its row (a sealed value copied to another row does
 * not open), the last four kept for search, the names opened for the staff who read them. A key
 * rotation seals everything again under the new key, after which the old key can go.
 */
import '../support/quiet-temporal';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { fieldSeal, place } from '../../src/field-seal';
import { sealAccountsAtRest } from '../../src/db/queries/sealed-accounts';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const oldKey = { id: 'k1', key: randomBytes(32) };
const newKey = { id: 'k2', key: randomBytes(32) };
let running: TestService;

beforeAll(async () => {
  running = await startTestService({ SANDBOX_SETTLEMENT_DELAY: '100ms', ACCOUNT_SEAL_KEYS: `k1:${oldKey.key.toString('base64')}` });
}, 60_000);

afterAll(async () => {
  await running?.stop();
});

const PAID = '6222020200112345678';
const DECLINED = '6222020200114440002';
const BANK_ACCOUNT = '6217000010009876543';
const CUSTOMER = 'Wang Xiaoming';
const HOLDER = 'Zhao Lihua';

async function refundOf(payerAccount: string, amount: number) {
  const payment = paymentRegistration({ payerAccount, customer: { name: CUSTOMER, email: 'wang.xm@example.com', locale: 'en' } });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

async function until(refundId: string, status: string) {
  return eventually(async () => {
    const { body } = await running.call('GET', `/v1/refunds/${refundId}`, { key: 'dev-support' });
    return body.status === status ? body : undefined;
  }, 30_000, `refund ${refundId} ${status}`);
}

/** Every column of every table, as text, that holds `needle`: `table.column`. */
async function columnsHolding(needle: string): Promise<string[]> {
  const columns = await running.database.db.execute<{ table_name: string; column_name: string }>(
    sql`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  const found: string[] = [];
  for (const { table_name, column_name } of columns) {
    const [row] = await running.database.db.execute<{ n: number }>(sql.raw(`SELECT count(*)::int AS n FROM "${table_name}" WHERE "${column_name}"::text LIKE '%${needle}%'`));
    if (row!.n > 0) found.push(`${table_name}.${column_name}`);
  }
  return found;
}

it('after refunds paid, declined and rerouted to a bank account, no column of any table holds a full account number or a name', async () => {
  const paid = await refundOf(PAID, 1_000);
  const declined = await refundOf(DECLINED, 2_000);
  await until(paid, 'succeeded');
  await until(declined, 'requires_action');
  const proposed = await running.call('POST', `/v1/refunds/${declined}/retry`, { key: 'dev-support', body: { destination: { type: 'bank_transfer', account: BANK_ACCOUNT, accountName: HOLDER }, reason: 'card closed' } });
  expect(proposed.status).toBe(202);
  expect(proposed.body.proposal.destination).toMatchObject({ account: '****6543', accountName: 'Z*********' });
  expect((await running.call('POST', `/v1/refunds/${declined}/proposal/approve`, { key: 'dev-supervisor-a', body: {} })).status).toBe(200);
  const rerouted = await until(declined, 'succeeded');
  expect(rerouted.destination).toMatchObject({ type: 'bank_transfer', account: '****6543', accountName: HOLDER });
  const payment = await running.call('GET', `/v1/payments/${rerouted.paymentId}`, { key: 'dev-support' });
  expect(payment.body.customer).toMatchObject({ name: CUSTOMER, email: 'w***@e***.com' });
  // Every message queued so far greeted the customer by name.
  await eventually(async () => {
    const [row] = await running.database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM notifications WHERE refund_id = ${paid} AND status = 'sent'`);
    return row!.n >= 2 || undefined;
  }, 20_000, 'the paid refund’s messages sent');

  for (const needle of [PAID, DECLINED, BANK_ACCOUNT, CUSTOMER, HOLDER, 'Xiaoming', 'Lihua']) expect([needle, await columnsHolding(needle)]).toEqual([needle, []]);
  // Still found by its last four, as support searches.
  const found = await running.call('GET', '/v1/refunds?payerLast4=5678', { key: 'dev-support' });
  expect(found.body.data.map((r: { id: string }) => r.id)).toContain(paid);
});

it('a sealed account copied into another row does not open there', async () => {
  const seal = fieldSeal([oldKey]);
  const sealed = seal.seal(PAID, place.payment('pay_a'));
  expect(seal.open(sealed, place.payment('pay_a'))).toBe(PAID);
  expect(() => seal.open(sealed, place.payment('pay_b'))).toThrow();
  expect(() => seal.open(sealed, place.attempt('pay_a', 1))).toThrow();
});

it('rotating the key: old values still open, all are sealed again under the new key, then the old key can go', async () => {
  const payments = async () => running.database.db.execute<{ id: string; payer_account: string }>(sql`SELECT id, payer_account FROM payments`);
  expect((await payments()).every((p) => p.payer_account.startsWith('sealed:v1:k1:'))).toBe(true);
  const rotating = fieldSeal([newKey, oldKey]);
  expect(await sealAccountsAtRest(running.database.db, rotating)).toBeGreaterThan(0);
  const after = await payments();
  expect(after.every((p) => p.payer_account.startsWith('sealed:v1:k2:'))).toBe(true);
  const attempts = await running.database.db.execute<{ refund_id: string; attempt: number; destination_account: string; destination_account_name: string | null }>(
    sql`SELECT refund_id, attempt, destination_account, destination_account_name FROM provider_attempts`,
  );
  const refunds = await running.database.db.execute<{ destination_account: string; destination_account_name: string | null }>(sql`SELECT destination_account, destination_account_name FROM refunds`);
  const names = await running.database.db.execute<{ value: string }>(
    sql`SELECT customer_name AS value FROM payments WHERE customer_name IS NOT NULL
        UNION ALL SELECT body FROM notifications WHERE channel <> 'staff'
        UNION ALL SELECT destination_account_name FROM provider_attempts WHERE destination_account_name IS NOT NULL`,
  );
  expect(names.length).toBeGreaterThan(3);
  expect([...attempts, ...refunds].every((r) => r.destination_account.startsWith('sealed:v1:k2:'))).toBe(true);
  expect(names.every((r) => r.value.startsWith('sealed:v1:k2:'))).toBe(true);
  // The old key gone: everything still opens with the new one alone.
  const onlyNew = fieldSeal([newKey]);
  for (const p of after) expect(onlyNew.open(p.payer_account, place.payment(p.id))).toMatch(/^\d{16,19}$/);
  for (const a of attempts) expect(onlyNew.open(a.destination_account, place.attempt(a.refund_id, a.attempt))).toMatch(/^\d{16,19}$/);
  for (const a of attempts.filter((row) => row.destination_account_name)) expect(onlyNew.open(a.destination_account_name!, place.holder(a.refund_id, a.attempt))).toBe(HOLDER);
  // Nothing left to do the second time.
  expect(await sealAccountsAtRest(running.database.db, onlyNew)).toBe(0);
});
