/**
 * The refund workflow on Temporal's time-skipping test server, with its real activities against a
 * real database and the real sandbox providers. Days of timers pass in milliseconds.
 */
import '../support/quiet-temporal';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { createActivities } from '../../activities';
import { findPayment, findOrderStatus } from '../../src/db/queries/payments';
import { findRefund, refundTimeline, findProviderAttempt } from '../../src/db/queries/refunds';
import { notificationsOfRefund } from '../../src/db/queries/notifications';
import { sandboxOperations, sandboxSubmissionCounts } from '../../src/db/schema';
import { createLogger } from '../../src/logger';
import { createSandboxProviders } from '../../src/providers/registry';
import { SandboxBank, type ProviderNoticePayload } from '../../src/providers/sandbox/sandbox-bank';
import { receiveProviderNotice } from '../../src/refunds/provider-notices';
import { refundHandle } from '../../src/temporal/refund-workflows';
import { registerRefundSearchAttributes } from '../../src/temporal/search-attribute-registration';
import { WORKFLOWS_ENTRY } from '../../src/temporal/workflow-bundle';
import { refundStateQuery, type RefundWorkflowState } from '../../workflows/messages';
import { RefundStatusKey, NeedsAttentionKey } from '../../workflows/search-attributes';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually, startRefund } from '../support/refund-fixtures';

const TASK_QUEUE = 'refunds-workflow-tests';
const timing = { settlementDelayMs: 0, returnDelayMs: 200 };
/** Off: sandbox webhooks are dropped, as if the network lost them, so only polling can tell. */
let deliverWebhooks = true;

let env: TestWorkflowEnvironment;
let database: TestDatabase;
let worker: Worker;
let workerRun: Promise<void>;
let bank: SandboxBank;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH! } },
  });
  await registerRefundSearchAttributes(env.connection, env.namespace ?? 'default');
  database = await createTestDatabase();
  const logger = createLogger({ level: 'error' });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    activities: createActivities({ db: database.db, providers: createSandboxProviders(database.db, timing), utcOffsetMinutes: 480 }),
    // Bundled from source here, so these tests always run the workflow code as it is now.
    workflowsPath: WORKFLOWS_ENTRY,
  });
  workerRun = worker.run();
  bank = new SandboxBank({
    db: database.db,
    timing,
    webhookSecret: 'unused: notices go straight to the receiving function',
    logger,
    tickMs: 20,
    transport: async (provider, rawBody) => {
      if (!deliverWebhooks) return false;
      await receiveProviderNotice({ db: database.db, temporal: env.client }, provider, JSON.parse(rawBody) as ProviderNoticePayload);
      return true;
    },
  });
  bank.start();
});

afterAll(async () => {
  await bank?.stop();
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  await database?.close();
});

beforeEach(() => {
  timing.settlementDelayMs = 0;
  deliverWebhooks = true;
});

const starter = () => ({ db: database.db, temporal: env.client, taskQueue: TASK_QUEUE });

async function stateOf(handle: WorkflowHandle): Promise<RefundWorkflowState> {
  return handle.query(refundStateQuery);
}

/** Waits until the workflow and the read model both say `status`. */
async function untilStatus(refundId: string, status: RefundWorkflowState['status']): Promise<RefundWorkflowState> {
  const handle = refundHandle(env.client, refundId);
  return eventually(async () => {
    const state = await stateOf(handle);
    const row = await findRefund(database.db, refundId);
    return state.status === status && row?.status === status && state;
  }, 20_000, `refund ${refundId} to reach ${status}`);
}

/**
 * With RECORD_HISTORIES=1 the test writes the workflow's history for the replay tests
 * (test/replay/histories): recorded once per workflow change that must stay compatible.
 */
async function keepHistory(name: string, refundId: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const history = await refundHandle(env.client, refundId).fetchHistory();
  writeFileSync(path.join(__dirname, '..', 'replay', 'histories', `${name}.json`), `${historyToJSON(history)}\n`);
}

async function operationsOf(refundId: string) {
  return database.db.select().from(sandboxOperations).where(eq(sandboxOperations.refundId, refundId));
}

async function eventTypes(refundId: string): Promise<string[]> {
  return (await refundTimeline(database.db, refundId)).map((event) => event.type);
}

async function templatesSent(refundId: string): Promise<string[]> {
  return (await notificationsOfRefund(database.db, refundId)).map((n) => n.template);
}

describe('automatic path', () => {
  it('submits, learns of settlement by webhook, settles the payment, tells the customer and follows up a week later', async () => {
    timing.settlementDelayMs = 300;
    const { refund, payment } = await startRefund(starter(), { amount: 25_000 });
    const handle = refundHandle(env.client, refund.id);

    const settled = await untilStatus(refund.id, 'succeeded');
    expect(settled).toMatchObject({ providerState: 'settled', needsAttention: false, attempt: 1 });
    expect(settled.traceReference).toMatch(/^7\d{22}$/);

    const row = (await findRefund(database.db, refund.id))!;
    expect(row).toMatchObject({ status: 'succeeded', providerState: 'settled', reservation: 'settled' });
    expect(row.expectedArrivalAt!.getTime()).toBeGreaterThan(row.createdAt.getTime());
    const paid = (await findPayment(database.db, payment.id))!;
    expect(paid).toMatchObject({ refundedAmount: 25_000, reservedAmount: 0 });
    expect(await findOrderStatus(database.db, payment.merchantId, payment.orderId)).toBe('partially_refunded');

    const timeline = await refundTimeline(database.db, refund.id);
    expect(timeline.map((e) => e.type)).toEqual(['created', 'submitted', 'settled']);
    expect(timeline[2]!.detail).toMatchObject({ reportedBy: 'webhook', status: 'succeeded' });
    expect(await templatesSent(refund.id)).toEqual(['refund_sent', 'refund_succeeded']);

    const notices = await notificationsOfRefund(database.db, refund.id);
    expect(notices[1]!.body).toContain('****1234');
    expect(notices[1]!.body).toContain(settled.traceReference);
    expect(notices[1]!.body).not.toContain('6222020200112341234');
    expect(notices[0]!.subject).toBe('您的退款 ¥250.00 已提交');

    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(RefundStatusKey)).toBe('succeeded');
    expect(described.typedSearchAttributes.get(NeedsAttentionKey)).toBe(false);

    // Six days on, no follow-up yet; a day later, there is one.
    await env.sleep('6d');
    expect(await templatesSent(refund.id)).toEqual(['refund_sent', 'refund_succeeded']);
    await env.sleep('1d');
    await eventually(async () => (await templatesSent(refund.id)).includes('refund_follow_up'), 10_000, 'follow-up');
    expect(await eventTypes(refund.id)).toEqual(['created', 'submitted', 'settled', 'followed_up']);

    expect((await handle.result()).status).toBe('succeeded');
    await keepHistory('automatic-webhook-follow-up', refund.id);
  });

  it('runs the whole automatic path in a bounded, known number of history events', async () => {
    const { refund } = await startRefund(starter());
    const handle = refundHandle(env.client, refund.id);
    await handle.result();
    const { events } = await handle.fetchHistory();
    // Settled at submission: started, submit, step `submitted`, step `settled`, follow-up timer,
    // step `followed_up`, aftercare timer, completed; each step one activity and one upsert.
    expect(events!.length).toBe(AUTOMATIC_PATH_HISTORY_EVENTS);
    await keepHistory('automatic-settled-at-submission', refund.id);
  });

  it('falls back to asking the provider when no webhook arrives', async () => {
    timing.settlementDelayMs = 100;
    deliverWebhooks = false;
    const { refund } = await startRefund(starter());
    await untilStatus(refund.id, 'awaiting_settlement');
    await new Promise((resolve) => setTimeout(resolve, 300)); // the sandbox bank settles it meanwhile
    await env.sleep('1m'); // the first status check is due
    await untilStatus(refund.id, 'succeeded');
    const settledEvent = (await refundTimeline(database.db, refund.id)).find((e) => e.type === 'settled')!;
    expect(settledEvent.detail).toMatchObject({ reportedBy: 'status_check' });
    await keepHistory('automatic-status-check', refund.id);
  });

  it('takes a duplicated settlement notice once', async () => {
    timing.settlementDelayMs = 100;
    deliverWebhooks = false;
    const { refund } = await startRefund(starter());
    await untilStatus(refund.id, 'awaiting_settlement');
    const attempt = (await findProviderAttempt(database.db, refund.id, 1))!;
    const notice: ProviderNoticePayload = {
      id: 'ntc_duplicate_test',
      type: 'refund.settled',
      reference: attempt.reference!,
      idempotencyKey: attempt.idempotencyKey,
      amount: refund.netAmount,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    };
    const deps = { db: database.db, temporal: env.client };
    expect(await receiveProviderNotice(deps, 'card', notice)).toEqual({ duplicate: false });
    expect(await receiveProviderNotice(deps, 'card', notice)).toEqual({ duplicate: true });
    await untilStatus(refund.id, 'succeeded');
    await eventually(async () => (await eventTypes(refund.id)).includes('settled'), 10_000, 'settled event');
    expect((await eventTypes(refund.id)).filter((type) => type === 'settled')).toHaveLength(1);
  });
});

describe('sandbox behaviours', () => {
  it('0002: a decline leaves the refund needing a person, the amount still held', async () => {
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110002' });
    const state = await untilStatus(refund.id, 'requires_action');
    expect(state).toMatchObject({ providerState: 'failed', needsAttention: true });
    expect(await findRefund(database.db, refund.id)).toMatchObject({ status: 'requires_action', needsAttention: true, reservation: 'reserved' });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: refund.amount });
    expect((await operationsOf(refund.id)).map((op) => op.status)).toEqual(['failed']);
    const described = await refundHandle(env.client, refund.id).describe();
    expect(described.typedSearchAttributes.get(RefundStatusKey)).toBe('requires_action');
    expect(described.typedSearchAttributes.get(NeedsAttentionKey)).toBe(true);
    await keepHistory('declined-0002', refund.id);
  });

  it('0003: accepted and settles like any other (its refusal comes with reversals)', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110003' });
    await untilStatus(refund.id, 'succeeded');
    expect(await operationsOf(refund.id)).toHaveLength(1);
  });

  it('0005: three transient failures are retried, then exactly one payout', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110005' });
    const handle = refundHandle(env.client, refund.id);
    expect((await handle.result()).status).toBe('succeeded');
    const [count] = await database.db.select().from(sandboxSubmissionCounts).where(eq(sandboxSubmissionCounts.idempotencyKey, `${refund.id}-a1`));
    expect(count!.submissions).toBe(4);
    expect(await operationsOf(refund.id)).toHaveLength(1);
    await keepHistory('transient-failures-0005', refund.id);
  });

  it('0007: a submission that timed out after the provider took it is found by asking, never sent twice', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110007' });
    const handle = refundHandle(env.client, refund.id);
    expect((await handle.result()).status).toBe('succeeded');
    const operations = await operationsOf(refund.id);
    expect(operations).toHaveLength(1);
    expect(operations[0]).toMatchObject({ kind: 'refund', amount: refund.netAmount, idempotencyKey: `${refund.id}-a1` });
    const [count] = await database.db
      .select()
      .from(sandboxSubmissionCounts)
      .where(and(eq(sandboxSubmissionCounts.provider, 'card'), eq(sandboxSubmissionCounts.idempotencyKey, `${refund.id}-a1`)));
    expect(count!.submissions).toBe(1);
    await keepHistory('timed-out-after-taking-0007', refund.id);
  });

  it('0009: never settles, so delayed past the SLA (customer told a new date), then requires action at the deadline', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110009' });
    const before = await untilStatus(refund.id, 'awaiting_settlement');
    await env.sleep('6d');
    expect((await stateOf(refundHandle(env.client, refund.id))).status).toBe('awaiting_settlement');
    await env.sleep('1d'); // card SLA: 7 days
    const delayed = await untilStatus(refund.id, 'delayed');
    expect(delayed.needsAttention).toBe(true);
    expect(Date.parse(delayed.deadlines.expectedArrivalAt!)).toBeGreaterThan(Date.parse(before.deadlines.expectedArrivalAt!));
    await eventually(async () => (await templatesSent(refund.id)).includes('refund_delayed'), 10_000, 'delay notice');
    expect(await findRefund(database.db, refund.id)).toMatchObject({ status: 'delayed', needsAttention: true });

    await env.sleep('23d'); // hard deadline: 30 days
    const stuck = await untilStatus(refund.id, 'requires_action');
    expect(stuck).toMatchObject({ needsAttention: true, providerState: 'accepted' });
    expect(await eventTypes(refund.id)).toEqual(['created', 'submitted', 'settlement_delayed', 'settlement_deadline_passed']);
    expect(await operationsOf(refund.id)).toHaveLength(1);
    await keepHistory('delayed-then-deadline-0009', refund.id);
  });

  it('0004: money returned after success reopens the refund, the order and the customer message', async () => {
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110004', amount: payment100k() });
    await untilStatus(refund.id, 'succeeded');
    const reopened = await untilStatus(refund.id, 'requires_action');
    expect(reopened).toMatchObject({ providerState: 'returned', needsAttention: true });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: refund.amount });
    expect(await findOrderStatus(database.db, payment.merchantId, payment.orderId)).toBe('paid');
    await eventually(async () => (await templatesSent(refund.id)).includes('refund_returned'), 10_000, 'correction notice');
    expect(await templatesSent(refund.id)).toEqual(['refund_sent', 'refund_succeeded', 'refund_returned']);
    await keepHistory('returned-after-success-0004', refund.id);
  });
});

/** The whole payment: after the return the order must read `paid` again, not partially refunded. */
function payment100k(): number {
  return 100_000;
}

/** Measured on the settled-at-submission path; a change here is a change in what every refund records. */
const AUTOMATIC_PATH_HISTORY_EVENTS = 42;
