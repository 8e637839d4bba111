/**
 * The refund path's statements built once (src/db/prepared.ts): each call runs on the handle it is
 * given — inside a transaction on that transaction's connection, seeing its uncommitted rows and
 * rolled back with it — as a named prepared statement, its rows mapped as drizzle maps them.
 */
import { eq, sql } from 'drizzle-orm';
import { databaseErrorMessage, type Executor } from '../../src/db/client';
import { placeholders, prepared, preparedByShape, shapeOf } from '../../src/db/prepared';
import { payments } from '../../src/db/schema';
import { findPayment, lockPayment } from '../../src/db/queries/payments';
import { applyWorkflowStep, findAttemptWithRefund, findRefund } from '../../src/db/queries/refunds';
import { createTestDatabase, type TestDatabase } from '../support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.close();
});

async function insertPayment(db: Executor, id: string): Promise<void> {
  await db.execute(sql`
    INSERT INTO payments (id, merchant_id, order_id, channel, amount, currency, status, captured_at, payer_account, request_hash)
    VALUES (${id}, 'm_prepared', ${id}, 'card', 12345, 'CNY', 'captured', '2026-12-01T08:00:00Z', 'x', 'x')`);
}

it('runs inside the caller’s transaction: it sees the transaction’s own rows, and its writes roll back with it', async () => {
  const renamed = prepared('test_payment_note', (db) =>
    db
      .update(payments)
      .set({ orderId: sql`${sql.placeholder('orderId')}` })
      .where(eq(payments.id, sql.placeholder('id')))
      .returning({ orderId: payments.orderId }),
  );
  await insertPayment(database.db, 'pay_prepared_committed');
  await database.db
    .transaction(async (tx) => {
      await insertPayment(tx, 'pay_prepared_uncommitted');
      // The pool does not see it yet; the transaction's own connection does.
      expect(await findPayment(database.db, 'pay_prepared_uncommitted')).toBeUndefined();
      expect((await findPayment(tx, 'pay_prepared_uncommitted'))?.amount).toBe(12345);
      expect(await renamed(tx, { id: 'pay_prepared_committed', orderId: 'renamed' })).toEqual([{ orderId: 'renamed' }]);
      tx.rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Error && /rollback/i.test(error.message))) throw error;
    });
  expect(await findPayment(database.db, 'pay_prepared_uncommitted')).toBeUndefined();
  expect((await findPayment(database.db, 'pay_prepared_committed'))?.orderId).toBe('pay_prepared_committed');
});

it('maps rows as drizzle does: instants as Dates, numbers as numbers', async () => {
  await insertPayment(database.db, 'pay_prepared_types');
  const payment = await findPayment(database.db, 'pay_prepared_types');
  expect(payment?.capturedAt).toEqual(new Date('2026-12-01T08:00:00Z'));
  expect(payment?.amount).toBe(12345);
  expect(payment?.refundedAmount).toBe(0);
});

it('is sent as a named prepared statement of the connection, once however often it runs', async () => {
  await insertPayment(database.db, 'pay_prepared_named');
  const statements = await database.db.transaction(async (tx) => {
    for (let n = 0; n < 3; n += 1) expect((await lockPayment(tx, 'pay_prepared_named'))?.id).toBe('pay_prepared_named');
    return tx.execute<{ statement: string }>(sql`SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%from "payments"%for update%'`);
  });
  expect(statements.length).toBe(1);
});

it('two handles at once each run on their own connection', async () => {
  await insertPayment(database.db, 'pay_prepared_locked');
  let release!: () => void;
  const holding = database.db.transaction(async (tx) => {
    await lockPayment(tx, 'pay_prepared_locked');
    await new Promise<void>((resolve) => (release = resolve));
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  // A second transaction queues behind the first one's lock, as two refunds of one payment do.
  let second = false;
  const queued = database.db.transaction(async (tx) => {
    await lockPayment(tx, 'pay_prepared_locked');
    second = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(second).toBe(false);
  release();
  await Promise.all([holding, queued]);
  expect(second).toBe(true);
});

it('a family by shape: each set of columns built once, values encoded by their column (instants, nulls)', async () => {
  await insertPayment(database.db, 'pay_prepared_shape');
  let builds = 0;
  const change = preparedByShape('test_payment_change', (db, columns) => {
    builds += 1;
    return db
      .update(payments)
      .set(placeholders<Partial<typeof payments.$inferInsert>>(columns))
      .where(eq(payments.id, sql.placeholder('id')))
      .returning();
  });
  const run = (values: Partial<typeof payments.$inferInsert>) => change(database.db, shapeOf(values), { ...values, id: 'pay_prepared_shape' });
  const [moved] = await run({ capturedAt: new Date('2026-12-02T09:30:00Z'), customerEmail: 'a@example.com', customerPhone: undefined });
  expect(moved).toMatchObject({ capturedAt: new Date('2026-12-02T09:30:00Z'), customerEmail: 'a@example.com' });
  const [cleared] = await run({ customerEmail: null });
  expect(cleared).toMatchObject({ capturedAt: new Date('2026-12-02T09:30:00Z'), customerEmail: null });
  const [again] = await run({ customerEmail: 'b@example.com', capturedAt: new Date('2026-12-03T00:00:00Z') });
  expect(again).toMatchObject({ capturedAt: new Date('2026-12-03T00:00:00Z'), customerEmail: 'b@example.com' });
  // Two shapes (the columns in the same order however the values were written), two builds.
  expect(builds).toBe(2);
});

it('a refund’s steps, built once per set of fields: instants, nulls and JSON written as drizzle writes them', async () => {
  await insertPayment(database.db, 'pay_prepared_steps');
  await database.db.execute(sql`INSERT INTO orders (merchant_id, order_id) VALUES ('m_prepared', 'pay_prepared_steps')`);
  await database.db.execute(sql`
    INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status, requested_by, created_by, destination_account, provider, required_approvals, approval_due_at)
    VALUES ('rf_prepared_steps', 'pay_prepared_steps', 'm_prepared', 'pay_prepared_steps', 'card', 1000, 0, 1000, 'CNY', 'defective', 'pending_approval', 'clerk', 'clerk', 'x', 'card', 1, now())`);
  const system = { principal: 'system', role: 'system' } as const;
  const approval = { principal: 'sup', decision: 'approved' as const, at: '2026-12-07T10:00:00.000Z', comment: 'ok' };
  const due = new Date('2026-12-08T10:00:00.000Z');
  await database.db.transaction(async (tx) => {
    await applyWorkflowStep(tx, 'rf_prepared_steps', 1, { status: 'processing', approvals: [approval], approvalDueAt: null }, { eventKey: 'step-1', type: 'approved', actor: system });
    await applyWorkflowStep(tx, 'rf_prepared_steps', 2, { status: 'awaiting_settlement', providerReference: 'ref-1', traceReference: null, settlementDueAt: due }, { eventKey: 'step-2', type: 'submitted', actor: system });
    // Written again (a retried activity): nothing changes.
    await applyWorkflowStep(tx, 'rf_prepared_steps', 2, { status: 'awaiting_settlement', providerReference: 'ref-1', traceReference: null, settlementDueAt: due }, { eventKey: 'step-2', type: 'submitted', actor: system });
  });
  const refund = await findRefund(database.db, 'rf_prepared_steps');
  expect(refund).toMatchObject({ status: 'awaiting_settlement', approvals: [approval], approvalDueAt: null, providerReference: 'ref-1', traceReference: null, settlementDueAt: due, workflowSeq: 2 });
});

it('a step’s event and its change are sent together: a retry writes neither, an older step landing late writes its event only', async () => {
  await insertPayment(database.db, 'pay_prepared_late');
  await database.db.execute(sql`INSERT INTO orders (merchant_id, order_id) VALUES ('m_prepared', 'pay_prepared_late')`);
  await database.db.execute(sql`
    INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status, requested_by, created_by, destination_account, provider, required_approvals)
    VALUES ('rf_prepared_late', 'pay_prepared_late', 'm_prepared', 'pay_prepared_late', 'card', 1000, 0, 1000, 'CNY', 'defective', 'processing', 'clerk', 'clerk', 'x', 'card', 0)`);
  const system = { principal: 'system', role: 'system' } as const;
  const timeline = async () => (await database.db.execute<{ event_key: string }>(sql`SELECT event_key FROM refund_events WHERE refund_id = 'rf_prepared_late' ORDER BY id`)).map((row) => row.event_key);
  await database.db.transaction((tx) => applyWorkflowStep(tx, 'rf_prepared_late', 2, { status: 'awaiting_settlement', providerReference: 'ref-2' }, { eventKey: 'step-2', type: 'submitted', actor: system }));
  // The same step again, even carrying other fields (a retry's are the same; these show nothing is written).
  await database.db.transaction((tx) => applyWorkflowStep(tx, 'rf_prepared_late', 2, { status: 'succeeded', providerReference: 'ref-other' }, { eventKey: 'step-2', type: 'submitted', actor: system }));
  // An older step, never written before, landing after the newer one: on the timeline, but the refund keeps the newer fields.
  await database.db.transaction((tx) => applyWorkflowStep(tx, 'rf_prepared_late', 1, { status: 'requires_action', needsAttention: true }, { eventKey: 'step-1', type: 'provider_declined', actor: system }));
  expect(await findRefund(database.db, 'rf_prepared_late')).toMatchObject({ status: 'awaiting_settlement', providerReference: 'ref-2', needsAttention: false, workflowSeq: 2 });
  expect(await timeline()).toEqual(['step-2', 'step-1']);
});

it('a provider attempt with its refund and payment, in one read: each row mapped as drizzle maps it', async () => {
  await insertPayment(database.db, 'pay_prepared_attempt');
  await database.db.execute(sql`
    INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status, requested_by, created_by, destination_account, provider, required_approvals)
    VALUES ('rf_prepared_attempt', 'pay_prepared_attempt', 'm_prepared', 'pay_prepared_attempt', 'card', 1000, 0, 1000, 'CNY', 'defective', 'processing', 'clerk', 'clerk', 'x', 'card', 0)`);
  await database.db.execute(sql`INSERT INTO provider_attempts (refund_id, attempt, provider, idempotency_key, destination_account) VALUES ('rf_prepared_attempt', 1, 'card', 'rf_prepared_attempt-a1', 'x')`);
  const found = await findAttemptWithRefund(database.db, 'rf_prepared_attempt', 1);
  expect(found).toMatchObject({
    attempt: { refundId: 'rf_prepared_attempt', attempt: 1, idempotencyKey: 'rf_prepared_attempt-a1', state: 'not_sent' },
    refund: { id: 'rf_prepared_attempt', netAmount: 1000, status: 'processing' },
    payment: { id: 'pay_prepared_attempt', amount: 12345, capturedAt: new Date('2026-12-01T08:00:00Z') },
  });
  expect(found!.attempt.createdAt).toBeInstanceOf(Date);
  expect(await findAttemptWithRefund(database.db, 'rf_prepared_attempt', 2)).toBeUndefined();
});

it('a step the database refuses fails with the database’s reason, not with a statement sent beside it that the refusal aborted', async () => {
  await insertPayment(database.db, 'pay_prepared_refused');
  await database.db.execute(sql`
    INSERT INTO refunds (id, payment_id, merchant_id, order_id, channel, amount, fee, net_amount, currency, reason, status, requested_by, created_by, destination_account, provider, required_approvals)
    VALUES ('rf_prepared_refused', 'pay_prepared_refused', 'm_prepared', 'pay_prepared_refused', 'card', 1000, 0, 1000, 'CNY', 'defective', 'processing', 'clerk', 'clerk', 'x', 'card', 0)`);
  await database.db.execute(sql.raw(`
    CREATE OR REPLACE FUNCTION refuse_prepared_event() RETURNS trigger AS $$ BEGIN
      IF NEW.refund_id = 'rf_prepared_refused' THEN RAISE EXCEPTION 'the disk is full'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER refuse_prepared_event BEFORE INSERT ON refund_events FOR EACH ROW EXECUTE FUNCTION refuse_prepared_event();`));
  const system = { principal: 'system', role: 'system' } as const;
  try {
    // The event and the refund's change go out together; the change then fails only because the
    // refused event aborted the transaction. Whichever answer settles first, the refusal is reported.
    for (let round = 1; round <= 20; round += 1) {
      const failure = await database.db
        .transaction((tx) => applyWorkflowStep(tx, 'rf_prepared_refused', round, { status: 'succeeded' }, { eventKey: `step-${round}`, type: 'succeeded', actor: system }))
        .then(() => undefined, (error: unknown) => error);
      expect(databaseErrorMessage(failure)).toBe('the disk is full (SQLSTATE P0001)');
    }
  } finally {
    await database.db.execute(sql.raw('DROP TRIGGER refuse_prepared_event ON refund_events'));
  }
  expect(await findRefund(database.db, 'rf_prepared_refused')).toMatchObject({ status: 'processing', workflowSeq: 0 });
});

it('a transaction that fails reports the statement that aborted it, whichever failure the code met first', async () => {
  // Two statements sent together; the code meets the second one's failure first: only an abort
  // ("current transaction is aborted", 25P02), which the first one's failure caused.
  const failure = await database.db
    .transaction(async (tx) => {
      const refused = tx.execute(sql`SELECT 1 / 0`);
      refused.catch(() => undefined);
      await tx.execute(sql`SELECT 1`);
    })
    .then(() => undefined, (error: unknown) => error);
  expect(databaseErrorMessage(failure)).toBe('division by zero (SQLSTATE 22012)');
});
