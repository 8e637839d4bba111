/**
 * The refund workflow on Temporal's time-skipping test server, with its real activities against a
 * real database and the real sandbox providers. Days of timers pass in milliseconds.
 */
import { loadConfig, SANDBOX_ROUTES } from '../../src/config';
import '../support/quiet-temporal';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { and, asc, eq, sql } from 'drizzle-orm';
import { createActivities } from '../../activities';
import { createProviderActivities } from '../../activities/provider-activities';
import { findPayment, findOrderStatus } from '../../src/db/queries/payments';
import { findRefund, refundTimeline, findProviderAttempt } from '../../src/db/queries/refunds';
import { notificationsOfRefund } from '../../src/db/queries/notifications';
import { providerAttempts, refunds } from '../../src/db/schema';
import { sandboxOperations, sandboxSubmissionCounts } from '../../src/providers/sandbox/sandbox-schema';
import { createLogger } from '../../src/logger';
import { sameForEveryMerchant } from '../../src/providers/merchant-providers';
import { createProviders } from '../../src/providers/registry';
import { SandboxBank } from '../../src/providers/sandbox/sandbox-bank';
import type { ProviderNoticePayload } from '../../src/providers/provider';
import { receiveProviderNotice } from '../../src/refunds/provider-notices';
import { destinationSeal } from '../../src/destination-seal';
import { decideRefund, type RefundDecision } from '../../src/refunds/refund-decisions';
import { RefundRequestError } from '../../src/refunds/refund-errors';
import { createRefund, recordRefundRequest, workflowInputOf } from '../../src/refunds/create-refund';
import { refundHandle, startRefundWorkflow } from '../../src/temporal/refund-workflows';
import { registerRefundSearchAttributes } from '../../src/temporal/search-attribute-registration';
import { WORKFLOWS_ENTRY } from '../../src/temporal/workflow-bundle';
import { proposeRerouteUpdate, reconciliationFindingSignal, refundStateQuery, type RefundWorkflowState } from '../../workflows/messages';
import { RefundStatusKey, NeedsAttentionKey } from '../../workflows/search-attributes';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { UnionPaySimulator } from '../simulators/unionpay-simulator';
import { WechatPaySimulator } from '../simulators/wechatpay-simulator';
import { DEFAULT_POLICY } from '../../workflows/policy';
import { place } from '../../src/field-seal';
import { openedNotice } from '../../src/notifications/step-notices';
import { createPayment, eventually, SERVICE_CALLER, startRefund, TEST_FIELDS, uniqueId } from '../support/refund-fixtures';

const TASK_QUEUE = 'refunds-workflow-tests';
const seal = destinationSeal('workflow-test-seal-key');
const timing = { settlementDelayMs: 0, returnDelayMs: 200 };
/** Off: sandbox webhooks are dropped, as if the network lost them, so only polling can tell. */
let deliverWebhooks = true;

let env: TestWorkflowEnvironment;
let database: TestDatabase;
let worker: Worker;
let workerRun: Promise<void>;
let bank: SandboxBank;
const wechat = new WechatPaySimulator(100);

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH! } },
  });
  await registerRefundSearchAttributes(env.connection, env.namespace ?? 'default');
  await wechat.start();
  database = await createTestDatabase();
  const logger = createLogger({ level: 'error' });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    activities: createActivities({
      db: database.db,
      // WeChat refunds through the real adapter against its simulator (WeChat Pay's own card transfer lives there); the rest on the sandbox.
      providers: sameForEveryMerchant(createProviders({ routes: { ...SANDBOX_ROUTES, wechat: 'wechatpay' }, modules: { wechatpay: wechat.settings('http://127.0.0.1:9/notifications-not-taken-here') } }, database.db, timing)),
      utcOffsetMinutes: 480,
      merchantWebhooks: new Map(),
      merchantWebhookSecret: 'unused',
      seal,
      fields: TEST_FIELDS,
    }),
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
  // No run may have failed: a failed run is money held with nobody told.
  const failed: string[] = [];
  for (const { id } of await database.db.select({ id: refunds.id }).from(refunds)) {
    // Refunds put on record without a workflow (to test the activities alone) have no run to fail.
    const status = await refundHandle(env.client, id)
      .describe()
      .then(
        (described) => (testServerCap(described) ? 'WAITING_PAST_TEST_SERVER_CAP' : described.status.name),
        (error: unknown) => (error instanceof WorkflowNotFoundError ? 'NOT_STARTED' : String(error)),
      );
    if (!['RUNNING', 'COMPLETED', 'NOT_STARTED', 'WAITING_PAST_TEST_SERVER_CAP'].includes(status)) failed.push(`${id}: ${status} ${JSON.stringify(await eventTypes(id))}`);
  }
  await bank?.stop();
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  await wechat.stop();
  await database?.close();
  expect(failed).toEqual([]);
});

/**
 * The time-skipping test server gives every run a ten-year execution timeout that production
 * Temporal does not (refunds set none), and this file's skipped clock passes decades: a refund
 * still waiting for a person when its ten years ran out has not failed.
 */
function testServerCap(described: Awaited<ReturnType<WorkflowHandle['describe']>>): boolean {
  const cap = Number(described.raw.executionConfig?.workflowExecutionTimeout?.seconds ?? 0);
  return described.status.name === 'TIMED_OUT' && cap === 10 * 365 * 86_400;
}

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

/** The webhook a provider sends when the refund's first attempt settles. */
async function settledNotice(refundId: string, noticeId: string): Promise<ProviderNoticePayload> {
  const attempt = (await findProviderAttempt(database.db, refundId, 1))!;
  const refund = (await findRefund(database.db, refundId))!;
  return {
    id: noticeId,
    type: 'refund.settled',
    reference: attempt.reference!,
    idempotencyKey: attempt.idempotencyKey,
    amount: refund.netAmount,
    currency: refund.currency,
    occurredAt: new Date().toISOString(),
  };
}

async function operationsOf(refundId: string) {
  return database.db
    .select()
    .from(sandboxOperations)
    .where(eq(sandboxOperations.refundId, refundId))
    .orderBy(asc(sandboxOperations.createdAt), asc(sandboxOperations.id));
}

async function eventTypes(refundId: string): Promise<string[]> {
  return (await refundTimeline(database.db, refundId)).map((event) => event.type);
}

/** The flag reaches the database in the step's activity, the search attribute once that workflow task completes. */
async function untilNeedsAttention(refundId: string): Promise<void> {
  await eventually(async () => (await refundHandle(env.client, refundId).describe()).typedSearchAttributes.get(NeedsAttentionKey) === true, 10_000, 'the NeedsAttention search attribute');
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

    const sealedNotices = await notificationsOfRefund(database.db, refund.id);
    // At rest a message's body is sealed (it greets the customer by name); it opens as sent.
    expect(sealedNotices[1]!.body).not.toContain('Li Wei');
    const notices = sealedNotices.map((n) => openedNotice(TEST_FIELDS, n));
    expect(notices[1]!.body).toMatch(/^Li Wei，您好！/);
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
    // Settled at submission: started, the submit activity, steps `submitted` and `settled` (one
    // local-activity marker each) and the search attributes, then the follow-up timer, step
    // `followed_up`, the aftercare timer, completed. No merchant-event deliveries (this merchant
    // has no endpoint), no timer started only to be canceled.
    expect(eventsUntilSucceeded(events!)).toBeLessThanOrEqual(AUTOMATIC_PATH_TO_SUCCEEDED);
    expectWithin(events!.length, AUTOMATIC_PATH_HISTORY_EVENTS);
    await keepHistory('automatic-with-merchant-events', refund.id);
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
    await eventually(async () => (await operationsOf(refund.id))[0]?.status === 'settled', 10_000, 'the sandbox settling');
    const notice = await settledNotice(refund.id, 'ntc_duplicate_test');
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
    // Thirty days of asking the provider, with a growing interval, cost the history almost nothing.
    const { events } = await refundHandle(env.client, refund.id).fetchHistory();
    expect(events!.length).toBeLessThanOrEqual(THIRTY_DAY_WAIT_HISTORY_EVENTS);
    await keepHistory('delayed-then-deadline-0009', refund.id);
  });

  it('0004: money returned after success reopens the refund, the order and the customer message', async () => {
    // The whole payment: after the return the order must read `paid` again, not partially refunded.
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110004', amount: 50_000, payment: { amount: 50_000 } });
    const reopened = await untilStatus(refund.id, 'requires_action');
    expect(reopened).toMatchObject({ providerState: 'returned', needsAttention: true });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: refund.amount });
    expect(await findOrderStatus(database.db, payment.merchantId, payment.orderId)).toBe('paid');
    await eventually(async () => (await templatesSent(refund.id)).includes('refund_returned'), 10_000, 'correction notice');
    expect(await templatesSent(refund.id)).toEqual(['refund_sent', 'refund_succeeded', 'refund_returned']);
    expect(await eventTypes(refund.id)).toEqual(['created', 'submitted', 'settled', 'money_returned']);
    await keepHistory('returned-after-success-0004', refund.id);
  });
});

/**
 * History events per refund, measured on the settled-at-submission path. Issue #8's bounds to
 * `succeeded`; the whole run as a range, because merchant-event deliveries run beside the main
 * flow and may complete inside or outside its workflow tasks: a change in what every refund
 * records moves the range, and this test fails until the numbers here are updated on purpose.
 */
const AUTOMATIC_PATH_TO_SUCCEEDED = 25;
const APPROVAL_PATH_TO_SUCCEEDED = 40;
const AUTOMATIC_PATH_HISTORY_EVENTS: [number, number] = [22, 26];
const APPROVAL_PATH_HISTORY_EVENTS: [number, number] = [31, 35];
/** Issue #8's bound for a refund that waits 30 days for its deadline (1,444 events when each poll was a timer and an activity). */
const THIRTY_DAY_WAIT_HISTORY_EVENTS = 150;

/** How many events it took the refund to show `succeeded`: up to the search-attribute upsert that says so. */
function eventsUntilSucceeded(events: NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>): number {
  const at = events.findIndex((event) => {
    const status = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[RefundStatusKey.name]?.data;
    return status && Buffer.from(status).toString('utf8') === '"succeeded"';
  });
  expect(at).toBeGreaterThanOrEqual(0);
  return at + 1;
}

function expectWithin(value: number, [low, high]: [number, number]): void {
  expect(value).toBeGreaterThanOrEqual(low);
  expect(value).toBeLessThanOrEqual(high);
}

const supervisorA = { principal: 'supervisor-a', role: 'supervisor' as const };
const supervisorB = { principal: 'supervisor-b', role: 'supervisor' as const };
const support = { principal: 'support-1', role: 'support' as const };

async function decide(caller: { principal: string; role: 'service' | 'support' | 'supervisor' }, refundId: string, decision: RefundDecision) {
  return (await decideRefund({ db: database.db, temporal: env.client, seal, routes: SANDBOX_ROUTES }, { ...caller, merchants: null }, refundId, decision)).refund;
}

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RefundRequestError);
  return (error as RefundRequestError).code;
}

describe('approval', () => {
  it('holds a refund above the automatic limit for one supervisor, who may not be its requester', async () => {
    const { refund, payment } = await startRefund(starter(), { amount: 60_000, request: { requestedBy: 'supervisor-b' } });
    expect(refund.status).toBe('pending_approval');
    expect(refund.requiredApprovals).toBe(1);
    // The decision arrives the instant after creation, before the workflow has run a single task.
    expect(await refusedWith(decide(supervisorB, refund.id, { kind: 'approve' }))).toBe('maker_checker_violation');
    expect(await refusedWith(decide(support, refund.id, { kind: 'approve' }))).toBe('decision_forbidden');
    const approved = await decide(supervisorA, refund.id, { kind: 'approve', comment: 'receipt checked' });
    expect(approved.approvals).toEqual([expect.objectContaining({ principal: 'supervisor-a', decision: 'approved', comment: 'receipt checked' })]);
    expect(['processing', 'awaiting_settlement', 'succeeded']).toContain(approved.status);
    await untilStatus(refund.id, 'succeeded');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 60_000, reservedAmount: 0 });
    expect(await eventTypes(refund.id)).toEqual(['created', 'approved', 'submitted', 'settled']);
    await keepHistory('approved-by-one', refund.id);
  });

  it('runs the whole one-approval path in a known number of history events', async () => {
    const { refund } = await startRefund(starter(), { amount: 60_000 });
    const handle = refundHandle(env.client, refund.id);
    // Approve once the workflow waits (its reminder timer started), as a supervisor would.
    await eventually(async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.timerStartedEventAttributes), 10_000, 'the approval wait');
    await decide(supervisorA, refund.id, { kind: 'approve' });
    await handle.result();
    const { events } = await handle.fetchHistory();
    // The automatic path plus the approval wait's timer, the Update (accepted, completed) and its `approved` step.
    expect(eventsUntilSucceeded(events!)).toBeLessThanOrEqual(APPROVAL_PATH_TO_SUCCEEDED);
    expectWithin(events!.length, APPROVAL_PATH_HISTORY_EVENTS);
  });

  it('needs two different supervisors from the dual-approval amount, and counts each once', async () => {
    const { refund } = await startRefund(starter(), { amount: 2_500_000, payment: { amount: 3_000_000 } });
    expect(refund.requiredApprovals).toBe(2);
    const first = await decide(supervisorA, refund.id, { kind: 'approve' });
    expect(first.status).toBe('pending_approval');
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'approve' }))).toBe('maker_checker_violation');
    const second = await decide(supervisorB, refund.id, { kind: 'approve' });
    expect(second.approvals.map((a) => a.principal)).toEqual(['supervisor-a', 'supervisor-b']);
    await untilStatus(refund.id, 'succeeded');
    expect(await eventTypes(refund.id)).toEqual(['created', 'approval_recorded', 'approved', 'submitted', 'settled']);
    await keepHistory('approved-by-two', refund.id);
  });

  it('takes two approvals sent at the same moment one at a time: one recorded, the other refused (409)', async () => {
    const dual = await startRefund(starter(), { amount: 2_500_000, payment: { amount: 3_000_000 } });
    const both = await Promise.allSettled([decide(supervisorA, dual.refund.id, { kind: 'approve' }), decide(supervisorB, dual.refund.id, { kind: 'approve' })]);
    const late = both.findIndex((r) => r.status === 'rejected');
    if (late >= 0) {
      expect(((both[late] as PromiseRejectedResult).reason as RefundRequestError).code).toBe('invalid_state');
      await decide(late === 0 ? supervisorA : supervisorB, dual.refund.id, { kind: 'approve' });
    }
    await untilStatus(dual.refund.id, 'succeeded');
    expect((await eventTypes(dual.refund.id)).filter((t) => t === 'approved')).toHaveLength(1);

    const single = await startRefund(starter(), { amount: 60_000 });
    const results = await Promise.allSettled([decide(supervisorA, single.refund.id, { kind: 'approve' }), decide(supervisorB, single.refund.id, { kind: 'approve' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as RefundRequestError).code).toBe('invalid_state');
    await untilStatus(single.refund.id, 'succeeded');
    expect((await findRefund(database.db, single.refund.id))!.approvals).toHaveLength(1);
  });

  it('rejects with a reason the customer is told, and gives the amount back to the payment', async () => {
    const { refund, payment } = await startRefund(starter(), { amount: 60_000 });
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'retry' }))).toBe('invalid_state');
    const rejected = await decide(supervisorA, refund.id, { kind: 'reject', reason: 'item not returned' });
    expect(rejected.status).toBe('rejected');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ reservedAmount: 0, refundedAmount: 0 });
    const [notice] = (await notificationsOfRefund(database.db, refund.id)).map((n) => openedNotice(TEST_FIELDS, n));
    expect(notice).toMatchObject({ template: 'refund_rejected' });
    expect(notice!.body).toContain('item not returned');
    expect(await refundHandle(env.client, refund.id).result()).toMatchObject({ status: 'rejected' });
    expect(await operationsOf(refund.id)).toEqual([]);
    await keepHistory('rejected', refund.id);
  });

  it('reminds supervisors, escalates, then expires: the amount released and the customer told; a late approval is refused', async () => {
    const { refund, payment } = await startRefund(starter(), { amount: 60_000, request: { reason: 'fraud' } });
    await env.sleep('4h');
    await eventually(async () => (await eventTypes(refund.id)).includes('approval_reminder'), 10_000, 'reminder');
    const staff = await notificationsOfRefund(database.db, refund.id);
    expect(staff[0]).toMatchObject({ template: 'approval_reminder', channel: 'staff', recipient: 'supervisors' });
    await env.sleep('20h');
    await eventually(async () => (await findRefund(database.db, refund.id))?.needsAttention === true, 10_000, 'escalation');
    await untilNeedsAttention(refund.id);
    await env.sleep('48h');
    await untilStatus(refund.id, 'expired');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ reservedAmount: 0 });
    expect(await templatesSent(refund.id)).toEqual(['approval_reminder', 'approval_escalated', 'refund_expired']);
    expect(await eventTypes(refund.id)).toEqual(['created', 'approval_reminder', 'approval_escalated', 'approval_expired']);
    await refundHandle(env.client, refund.id).result();
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'approve' }))).toBe('invalid_state');
    await keepHistory('approval-expired', refund.id);
  });

  it('can be canceled while pending approval', async () => {
    const { refund, payment } = await startRefund(starter(), { amount: 60_000 });
    const canceled = await decide({ principal: 'pos-backend', role: 'service' }, refund.id, { kind: 'cancel', reason: 'customer changed mind' });
    expect(canceled.status).toBe('canceled');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ reservedAmount: 0 });
    expect(await templatesSent(refund.id)).toEqual(['refund_canceled']);
  });
});

describe('requires action', () => {
  it('a decline canceled by support: the amount released and the customer told', async () => {
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110002' });
    await untilStatus(refund.id, 'requires_action');
    expect(await refusedWith(decide({ principal: 'another-backend', role: 'service' }, refund.id, { kind: 'cancel' }))).toBe('decision_forbidden');
    const canceled = await decide(support, refund.id, { kind: 'cancel', reason: 'customer will collect cash' });
    expect(canceled).toMatchObject({ status: 'canceled', needsAttention: false, reservation: 'released' });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ reservedAmount: 0, refundedAmount: 0 });
    expect(await templatesSent(refund.id)).toEqual(['refund_canceled']);
    expect((await refundHandle(env.client, refund.id).result()).status).toBe('canceled');
    await keepHistory('declined-then-canceled', refund.id);
  });

  it('a decline rerouted to a bank transfer: proposed by support, approved by a supervisor, one payout on the new route', async () => {
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110002' });
    await untilStatus(refund.id, 'requires_action');
    const destination = { type: 'bank_transfer' as const, account: '6217000010009876', accountName: 'Li Wei' };
    const proposed = await decide(support, refund.id, { kind: 'retry', destination });
    expect(proposed).toMatchObject({
      status: 'requires_action',
      providerAttempt: 1,
      proposal: { kind: 'reroute', destination: { type: 'bank_transfer', account: '****9876', accountName: 'L*****' }, proposedBy: 'support-1', requiredApprovals: 1 },
    });
    // The account and its holder are sealed on their way: workflow history never holds them.
    const history = JSON.stringify(await refundHandle(env.client, refund.id).fetchHistory());
    expect(history).not.toContain('6217000010009876');
    expect(history).not.toContain('Li Wei');
    expect(await refusedWith(decide(support, refund.id, { kind: 'approveProposal' }))).toBe('decision_forbidden');
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'retry' }))).toBe('invalid_state');
    const approved = await decide(supervisorA, refund.id, { kind: 'approveProposal', comment: 'customer called' });
    expect(approved).toMatchObject({ provider: 'bank_transfer', providerAttempt: 2, destinationType: 'bank_transfer', proposal: null });
    // At rest the holder is sealed to the attempt, as the account is.
    expect(TEST_FIELDS.open(approved.destinationAccountName!, place.holder(refund.id, 2))).toBe('Li Wei');
    await untilStatus(refund.id, 'succeeded');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: refund.amount, reservedAmount: 0 });
    const operations = await operationsOf(refund.id);
    expect(operations.map((op) => [op.provider, op.status, op.accountLast4])).toEqual([
      ['card', 'failed', '0002'],
      ['bank_transfer', 'settled', '9876'],
    ]);
    expect(await eventTypes(refund.id)).toEqual(['created', 'provider_declined', 'proposal_opened', 'proposal_approved', 'submitted', 'settled']);
    await keepHistory('declined-then-rerouted', refund.id);
  });

  it('a reroute proposal nobody decides lapses, and the refund stays as it was', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110002' });
    await untilStatus(refund.id, 'requires_action');
    await decide(supervisorA, refund.id, { kind: 'retry', destination: { type: 'bank_transfer', account: '6217000010009876', accountName: 'Li Wei' } });
    await env.sleep('72h');
    await eventually(async () => (await findRefund(database.db, refund.id))?.proposal === null, 10_000, 'the lapse');
    expect(await findRefund(database.db, refund.id)).toMatchObject({ status: 'requires_action', providerAttempt: 1, provider: 'card' });
    expect(await eventTypes(refund.id)).toEqual(['created', 'provider_declined', 'proposal_opened', 'proposal_lapsed']);
    expect(await refusedWith(decide(supervisorB, refund.id, { kind: 'approveProposal' }))).toBe('invalid_state');
    expect((await notificationsOfRefund(database.db, refund.id)).map((n) => [n.template, n.recipient])).toContainEqual(['proposal_lapsed', 'supervisor-a']);
    await keepHistory('reroute-proposal-lapsed', refund.id);
  });

  it('a refund stuck past its deadline is canceled at the old provider before it goes another way', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110009' });
    await untilStatus(refund.id, 'awaiting_settlement');
    await env.sleep('30d');
    await untilStatus(refund.id, 'requires_action');
    await decide(supervisorA, refund.id, { kind: 'retry', destination: { type: 'bank_transfer', account: '6217000010009876', accountName: 'Li Wei' } });
    await decide(supervisorB, refund.id, { kind: 'approveProposal' });
    await untilStatus(refund.id, 'succeeded');
    const operations = await operationsOf(refund.id);
    expect(operations.map((op) => [op.provider, op.status])).toEqual([
      ['card', 'canceled'],
      ['bank_transfer', 'settled'],
    ]);
  });

  it('refuses the reroute (409) when the old provider paid after all, and follows that payout instead: succeeded, one payout', async () => {
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110009' });
    await untilStatus(refund.id, 'awaiting_settlement');
    await env.sleep('30d');
    await untilStatus(refund.id, 'requires_action');
    // Meanwhile the provider paid out after all, without telling us yet.
    await database.db.update(sandboxOperations).set({ status: 'settled' }).where(eq(sandboxOperations.refundId, refund.id));
    await decide(supervisorA, refund.id, { kind: 'retry', destination: { type: 'bank_transfer', account: '6217000010009876', accountName: 'Li Wei' } });
    const code = await refusedWith(decide(supervisorB, refund.id, { kind: 'approveProposal' }));
    expect(code).toBe('provider_cannot_cancel');
    await untilStatus(refund.id, 'succeeded');
    expect(await findRefund(database.db, refund.id)).toMatchObject({ status: 'succeeded', providerAttempt: 1, provider: 'card', proposal: null });
    expect((await eventTypes(refund.id)).slice(-4)).toEqual(['proposal_opened', 'proposal_withdrawn', 'found_at_provider', 'settled']);
    expect((await operationsOf(refund.id)).map((op) => op.provider)).toEqual(['card']);
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: refund.amount, reservedAmount: 0 });
  });

  it('a retry on the original route by support after the deadline', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110009' });
    await untilStatus(refund.id, 'awaiting_settlement');
    await env.sleep('30d');
    await untilStatus(refund.id, 'requires_action');
    const retried = await decide(support, refund.id, { kind: 'retry' });
    expect(retried).toMatchObject({ providerAttempt: 2, provider: 'card', destinationType: 'original' });
    await untilStatus(refund.id, 'awaiting_settlement');
    expect((await operationsOf(refund.id)).map((op) => [op.idempotencyKey, op.status])).toEqual([
      [`${refund.id}-a1`, 'canceled'],
      [`${refund.id}-a2`, 'pending'],
    ]);
  });
});

describe('reconciliation findings', () => {
  it('flags a refund the reconciliation found disagreeing, with the evidence on record', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110009' });
    await untilStatus(refund.id, 'awaiting_settlement');
    const finding = { refundId: refund.id, attempt: 1, provider: 'card' as const, ours: 'accepted' as const, theirs: 'settled' as const, reference: 'sbx_x' };
    await refundHandle(env.client, refund.id).signal(reconciliationFindingSignal, finding);
    await eventually(async () => (await findRefund(database.db, refund.id))?.needsAttention === true, 10_000, 'flag');
    const evidence = (await refundTimeline(database.db, refund.id)).find((e) => e.type === 'reconciliation_mismatch')!;
    expect(evidence.detail).toMatchObject({ ours: 'accepted', theirs: 'settled' });
    await untilNeedsAttention(refund.id);
    await keepHistory('reconciliation-finding', refund.id);
  });
});

describe('late settlement', () => {
  it('a refund past its deadline whose money arrives after all succeeds without anyone acting', async () => {
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110009' });
    await untilStatus(refund.id, 'awaiting_settlement');
    await env.sleep('30d');
    await untilStatus(refund.id, 'requires_action');
    // The money did arrive, late: the provider's books say so when the workflow asks.
    await database.db.update(sandboxOperations).set({ status: 'settled', settledAt: new Date() }).where(eq(sandboxOperations.refundId, refund.id));
    await receiveProviderNotice({ db: database.db, temporal: env.client }, 'card', await settledNotice(refund.id, 'ntc_late_settlement'));
    await untilStatus(refund.id, 'succeeded');
    expect(await findRefund(database.db, refund.id)).toMatchObject({ needsAttention: false, reservation: 'settled' });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: refund.amount, reservedAmount: 0 });
    await keepHistory('settled-after-deadline', refund.id);
  });
});

describe('a provider that says it will not pay', () => {
  /** WeChat Pay's ABNORMAL: the provider's books say failed, and its notification says so too. */
  async function failAtProvider(refundId: string, noticeId: string) {
    await database.db
      .update(sandboxOperations)
      .set({ status: 'failed', failureReason: 'ABNORMAL: the payer’s card cannot take the refund' })
      .where(eq(sandboxOperations.refundId, refundId));
    await receiveProviderNotice({ db: database.db, temporal: env.client }, 'card', { ...(await settledNotice(refundId, noticeId)), type: 'refund.failed' });
  }

  it('a failure notice the provider confirms ends the wait at once: requires action, the amount still held', async () => {
    const { refund, payment } = await startRefund(starter(), { account: '6222020200110009' });
    await untilStatus(refund.id, 'awaiting_settlement');
    await failAtProvider(refund.id, 'ntc_abnormal');
    await untilStatus(refund.id, 'requires_action');
    const failed = (await refundTimeline(database.db, refund.id)).find((e) => e.type === 'provider_failed')!;
    expect(failed.detail).toMatchObject({ failureReason: expect.stringContaining('ABNORMAL'), noticeId: 'ntc_abnormal' });
    expect(await findRefund(database.db, refund.id)).toMatchObject({ needsAttention: true, providerState: 'failed' });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: refund.amount });
    await keepHistory('failed-by-notice', refund.id);
  });

  it('a failure notice the provider does not confirm is flagged, and the refund keeps waiting', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110009' });
    await untilStatus(refund.id, 'awaiting_settlement');
    await receiveProviderNotice({ db: database.db, temporal: env.client }, 'card', { ...(await settledNotice(refund.id, 'ntc_false_failure')), type: 'refund.failed' });
    await eventually(async () => (await refundTimeline(database.db, refund.id)).find((e) => e.type === 'provider_notice_mismatch'), 10_000, 'flag');
    expect(await findRefund(database.db, refund.id)).toMatchObject({ status: 'awaiting_settlement', needsAttention: true });
  });
});

describe('WeChat Pay’s own transfer of an abnormal refund to the payer’s debit card', () => {
  const card = { type: 'wechat_bank_card' as const, account: '6222021234567890', accountName: '李伟', bankType: 'ICBC_DEBIT' };

  async function abnormalWechatRefund() {
    const id = uniqueId('pay');
    wechat.plan(id, { ends: 'ABNORMAL', notify: false });
    const started = await startRefund({ ...starter(), providerPollIntervalMs: 1_000 }, { amount: 3_000, payment: { id, channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } });
    await untilStatus(started.refund.id, 'requires_action');
    return started;
  }

  it('proposed by support, approved by a supervisor: the same attempt is sent on to the card, settled once', async () => {
    const { refund, payment } = await abnormalWechatRefund();
    expect(await findRefund(database.db, refund.id)).toMatchObject({ providerState: 'failed', redirectable: true });
    const proposed = await decide(support, refund.id, { kind: 'retry', destination: card, reason: 'the card on file is closed' });
    expect(proposed.proposal).toMatchObject({ kind: 'reroute', destination: { type: 'wechat_bank_card', account: '****7890', bankType: 'ICBC_DEBIT' } });
    await decide(supervisorB, refund.id, { kind: 'approveProposal' });
    await untilStatus(refund.id, 'succeeded');

    const [held] = wechat.refundsOf(payment.id);
    expect(wechat.refundsOf(payment.id)).toHaveLength(1);
    expect(held).toMatchObject({ out_refund_no: `${refund.id}-a1`, status: 'SUCCESS', redirectedTo: { bankType: 'ICBC_DEBIT', account: card.account, name: '李伟' } });
    expect(await findProviderAttempt(database.db, refund.id, 1)).toMatchObject({ destinationType: 'wechat_bank_card', destinationBankType: 'ICBC_DEBIT', state: 'settled' });
    expect(await findProviderAttempt(database.db, refund.id, 2)).toBeUndefined();
    expect(await findRefund(database.db, refund.id)).toMatchObject({ redirectable: false, destinationType: 'wechat_bank_card' });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 3_000, reservedAmount: 0 });
    const state = await refundHandle(env.client, refund.id).query(refundStateQuery);
    expect(state.attempts).toEqual([expect.objectContaining({ attempt: 1, sent: 3_000, held: 3_000 })]);
    // The customer hears of both sends: the first, and the one to the card.
    expect((await templatesSent(refund.id)).filter((template) => template === 'refund_sent')).toHaveLength(2);
    await keepHistory('wechat-card-transfer', refund.id);
  });

  it('the workflow itself refuses it for a refund WeChat Pay does not hold as abnormal, whoever asks around the API', async () => {
    const { refund } = await startRefund(starter(), { account: '6222020200110002' }); // a sandbox card refund, declined
    await untilStatus(refund.id, 'requires_action');
    const sealed = seal.seal(card);
    const asked = refundHandle(env.client, refund.id).executeUpdate(proposeRerouteUpdate, { args: [{ ...support, destination: sealed, reason: 'around the API' }] });
    // The Update's validator refused it: nothing reached the workflow's history or the database.
    await expect(asked).rejects.toMatchObject({ cause: { type: 'route_unavailable', message: expect.stringContaining('abnormal') } });
    expect(await findRefund(database.db, refund.id)).toMatchObject({ status: 'requires_action', proposal: null });
  });
});

describe('wallet answers nobody can rely on (issue #19)', () => {
  const bankAccount = { type: 'bank_transfer' as const, account: '6217000010001234', accountName: 'Li Wei' };

  async function wechatRefund(amount: number, plan: Parameters<WechatPaySimulator['plan']>[1]) {
    const id = uniqueId('pay');
    wechat.plan(id, { notify: false, ...plan });
    return startRefund({ ...starter(), providerPollIntervalMs: 1_000 }, { amount, payment: { id, channel: 'wechat', payerAccount: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } });
  }

  /** Skips the test server's clock in steps until `done()`: provider calls retried over hours take real time between the steps. */
  async function skipUntil<T>(done: () => Promise<T | undefined | false>, what: string): Promise<T> {
    for (let i = 0; i < 200; i += 1) {
      const value = await done();
      if (value) return value;
      await env.sleep('10m');
    }
    throw new Error(`never: ${what}`);
  }

  it('FREQUENCY_LIMITED until the retries end while WeChat Pay had taken the first request: the reroute is refused with the evidence, the refund follows WeChat’s refund, one payout in total (20 rounds)', async () => {
    const plan = { takenButAnswered: 'FREQUENCY_LIMITED', queriesLimited: true } as const;
    const rounds = await Promise.all(Array.from({ length: 20 }, (_, i) => wechatRefund(1_000 + i, plan)));
    // Asked (FREQUENCY_LIMITED too) and never believed empty, for as long as the retries run.
    await skipUntil(async () => {
      const statuses = await Promise.all(rounds.map(async ({ refund }) => (await findRefund(database.db, refund.id))?.status));
      return statuses.every((status) => status === 'requires_action');
    }, 'every refund waiting for a person');

    await Promise.all(
      rounds.map(async ({ refund, payment }, i) => {
        wechat.plan(payment.id, { ...plan, queriesLimited: false });
        expect(await eventTypes(refund.id)).toEqual(['created', 'submission_in_doubt']);
        expect(await findProviderAttempt(database.db, refund.id, 1)).toMatchObject({ state: 'in_doubt', failureReason: expect.stringContaining('FREQUENCY_LIMITED') });
        await decide(support, refund.id, { kind: 'retry', destination: bankAccount, reason: 'WeChat Pay keeps refusing' });
        // Asked before the bank transfer may pay, and a cancel sent at the same moment: WeChat Pay holds
        // the refund, so neither sends the money another way nor lets it go.
        const [approval, cancelation] = await Promise.allSettled([decide(supervisorA, refund.id, { kind: 'approveProposal' }), decide(support, refund.id, { kind: 'cancel', reason: 'paid in cash' })]);
        expect([approval.status, cancelation.status]).toEqual(['rejected', 'rejected']);
        const refusals = [approval, cancelation].map((answer) => (answer as PromiseRejectedResult).reason as RefundRequestError);
        for (const refused of refusals) expect(refused).toBeInstanceOf(RefundRequestError);
        // Whichever asked WeChat Pay first is refused with its evidence; the other was refused too (held, or after).
        const refusal = refusals.find((refused) => refused.code === 'provider_cannot_cancel');
        expect(refusal).toMatchObject({ code: 'provider_cannot_cancel', facts: { attempt: 1, providerState: expect.stringMatching(/accepted|settled/) } });
        expect(refusal!.message).toMatch(/WeChat Pay|wechat/);
        await untilStatus(refund.id, 'succeeded');
        expect(wechat.refundsOf(payment.id).map((r) => [r.out_refund_no, r.amount.refund, r.status])).toEqual([[`${refund.id}-a1`, 1_000 + i, 'SUCCESS']]);
        expect(await operationsOf(refund.id)).toEqual([]);
        expect(await findProviderAttempt(database.db, refund.id, 2)).toBeUndefined();
        expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 1_000 + i, reservedAmount: 0 });
        const timeline = await eventTypes(refund.id);
        expect(timeline).toEqual(expect.arrayContaining(['proposal_opened', 'proposal_withdrawn', 'found_at_provider', 'settled']));
        expect(timeline.indexOf('found_at_provider')).toBeGreaterThan(timeline.indexOf('proposal_opened'));
      }),
    );
    await keepHistory('frequency-limited-found-at-provider', rounds[0]!.refund.id);
  }, 240_000);

  it('an unsigned HTML answer to the submission WeChat Pay took changes nothing; the verified query settles it, one payout', async () => {
    const { refund, payment } = await wechatRefund(2_200, { takenButSpoiled: { status: 502, body: 'html', signature: 'none' }, spoiledQueries: { count: 2, answer: { status: 400, body: 'json', signature: 'none' } } });
    await untilStatus(refund.id, 'succeeded');
    expect(await eventTypes(refund.id)).toEqual(['created', 'submitted', 'settled']);
    expect(wechat.refundsOf(payment.id)).toHaveLength(1);
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 2_200, reservedAmount: 0 });
  });

  it('a declined refund is asked again before a reroute pays: WeChat Pay’s signed "no such refund" lets the bank transfer go, once', async () => {
    const { refund, payment } = await wechatRefund(2_300, { errors: ['PARAM_ERROR'] });
    await untilStatus(refund.id, 'requires_action');
    const queries = () => wechat.requests.filter((r) => r.method === 'GET' && r.path === `/v3/refund/domestic/refunds/${refund.id}-a1`).length;
    const before = queries();
    await decide(support, refund.id, { kind: 'retry', destination: bankAccount, reason: 'pay by bank' });
    await decide(supervisorA, refund.id, { kind: 'approveProposal' });
    expect(queries()).toBe(before + 1);
    await untilStatus(refund.id, 'succeeded');
    expect(wechat.refundsOf(payment.id)).toHaveLength(0);
    expect((await operationsOf(refund.id)).map((o) => [o.provider, o.amount, o.status])).toEqual([['bank_transfer', 2_300, 'settled']]);
  });
});

describe('corrections', () => {
  type CorrectionOrder = { amount?: number; destination?: { type: 'bank_transfer'; account: string; accountName: string }; reason: string };
  /** Supervisor A proposes, supervisor B approves: what it takes for a correction to move money. */
  async function correct(refundId: string, order: CorrectionOrder) {
    const proposed = await decide(supervisorA, refundId, { kind: 'correct', ...order });
    expect(proposed.proposal).toMatchObject({ kind: 'correction', proposedBy: 'supervisor-a' });
    return decide(supervisorB, refundId, { kind: 'approveProposal' });
  }

  async function paidRefund(options: { account?: string } = {}) {
    const started = await startRefund(starter(), { amount: 30_000, account: options.account });
    await untilStatus(started.refund.id, 'succeeded');
    return started;
  }

  /** What actually moved at the provider: refunds out, reversals back. */
  async function netPaidOut(refundId: string): Promise<number> {
    const operations = await operationsOf(refundId);
    return operations.reduce((sum, op) => sum + (op.status !== 'settled' ? 0 : op.kind === 'refund' ? op.amount : -op.amount), 0);
  }

  it('an over-refund: the excess reversed at the provider and refundable again; the customer told', async () => {
    const { refund, payment } = await paidRefund();
    const proposed = await decide(supervisorA, refund.id, { kind: 'correct', amount: 20_000, reason: 'discount applied twice' });
    expect(proposed).toMatchObject({ status: 'succeeded', proposal: { correction: 'reversal', amount: 20_000, requiredApprovals: 1 } });
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'approveProposal' }))).toBe('maker_checker_violation');
    const accepted = await decide(supervisorB, refund.id, { kind: 'approveProposal' });
    expect(['correcting', 'corrected']).toContain(accepted.status);
    await untilStatus(refund.id, 'corrected');
    expect(await findRefund(database.db, refund.id)).toMatchObject({ amount: 20_000, netAmount: 20_000, needsAttention: false });
    expect((await findRefund(database.db, refund.id))!.corrections).toEqual([expect.objectContaining({ kind: 'reversal', amount: 10_000, previousTotal: 30_000, newTotal: 20_000, status: 'completed' })]);
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 20_000, reservedAmount: 0 });
    expect(await netPaidOut(refund.id)).toBe(20_000);
    expect(await templatesSent(refund.id)).toContain('refund_corrected');
    await keepHistory('corrected-over-refund', refund.id);
  });

  it('an under-refund: the shortfall paid as a supplementary refund, within what remains refundable', async () => {
    const { refund, payment } = await paidRefund();
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'correct', amount: 130_001, reason: 'too much' }))).toBe('amount_exceeds_refundable');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 30_000, reservedAmount: 0 });
    await correct(refund.id, { amount: 45_000, reason: 'shipping was not refunded' });
    await untilStatus(refund.id, 'corrected');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 45_000, reservedAmount: 0 });
    expect((await operationsOf(refund.id)).map((op) => [op.kind, op.amount, op.idempotencyKey])).toEqual([
      ['refund', 30_000, `${refund.id}-a1`],
      ['refund', 15_000, `${refund.id}-a2`],
    ]);
    await keepHistory('corrected-under-refund', refund.id);
  });

  it('keeps every total exact through a sequence of corrections', async () => {
    const { refund, payment } = await paidRefund();
    // The last step takes 21,000 back: more than any one payout holds, so from three of them.
    for (const amount of [20_000, 26_000, 25_000, 31_000, 10_000]) {
      await correct(refund.id, { amount, reason: `to ${amount}` });
      await eventually(async () => (await findRefund(database.db, refund.id))?.amount === amount && (await findRefund(database.db, refund.id))?.status === 'corrected', 20_000, `total ${amount}`);
      expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: amount, reservedAmount: 0 });
      expect(await netPaidOut(refund.id)).toBe(amount);
    }
    expect((await findRefund(database.db, refund.id))!.corrections.map((c) => [c.kind, c.amount])).toEqual([
      ['reversal', 10_000],
      ['supplementary', 6_000],
      ['reversal', 1_000],
      ['supplementary', 6_000],
      ['reversal', 21_000],
    ]);
    const reversals = (await operationsOf(refund.id)).filter((op) => op.kind === 'reversal').map((op) => [op.idempotencyKey.slice(-2), op.amount]);
    expect(reversals.slice(-3)).toEqual([
      ['a3', 6_000], // the second supplementary refund
      ['a2', 5_000], // the first, less the 1,000 taken back before
      ['a1', 10_000], // the original payout
    ]);
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'correct', amount: 10_000, reason: 'same' }))).toBe('correction_not_needed');
  });

  it('a wrong account: reversed from it and re-issued to the right one', async () => {
    const { refund, payment } = await paidRefund();
    await correct(refund.id, { destination: { type: 'bank_transfer', account: '6217000010009876', accountName: 'Li Wei' }, reason: 'card was closed' });
    await untilStatus(refund.id, 'corrected');
    expect(await findRefund(database.db, refund.id)).toMatchObject({ destinationType: 'bank_transfer', provider: 'bank_transfer', amount: 30_000 });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 30_000, reservedAmount: 0 });
    expect((await operationsOf(refund.id)).map((op) => [op.provider, op.kind, op.amount, op.status])).toEqual([
      ['card', 'refund', 30_000, 'settled'],
      ['card', 'reversal', 30_000, 'settled'],
      ['bank_transfer', 'refund', 30_000, 'settled'],
    ]);
    await keepHistory('corrected-wrong-account', refund.id);
  });

  it('0003: a refused reversal opens a recovery case: the customer asked to return the excess, what is owed on record', async () => {
    const { refund, payment } = await paidRefund({ account: '6222020200110003' });
    await correct(refund.id, { amount: 10_000, reason: 'duplicate refund' });
    const stuck = await untilStatus(refund.id, 'requires_action');
    expect(stuck.needsAttention).toBe(true);
    const recovery = (await refundTimeline(database.db, refund.id)).find((e) => e.type === 'reversal_refused')!;
    expect(recovery.detail).toMatchObject({ recoveryCase: true, owedByCustomer: 20_000, currency: 'CNY' });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 30_000 });
    expect(await netPaidOut(refund.id)).toBe(30_000);
    const [notice] = (await notificationsOfRefund(database.db, refund.id)).filter((n) => n.template === 'refund_recovery').map((n) => openedNotice(TEST_FIELDS, n));
    expect(notice!.body).toContain('200.00');
    expect(await refusedWith(decide(supervisorA, refund.id, { kind: 'cancel' }))).toBe('invalid_state');
    await keepHistory('reversal-refused-0003', refund.id);
  });
});

describe('exactly once, without assumptions', () => {
  /** A refund on record, its workflow not started (as if the process died right after the commit). */
  async function refundOnRecord(account = '6222020200112341234') {
    const payment = await createPayment(database.db, { payerAccount: account });
    const { refund } = await recordRefundRequest({ db: database.db, policy: DEFAULT_POLICY, routes: SANDBOX_ROUTES, fields: TEST_FIELDS }, SERVICE_CALLER, uniqueId('k'), { paymentId: payment.id, amount: 25_000, currency: 'CNY', reason: 'defective' });
    return refund;
  }

  it('two submissions of one attempt at once (a run past its timeout and its retry): one payout', async () => {
    const refund = await refundOnRecord();
    // A provider that takes its time answering, so the two runs overlap for sure.
    const sandbox = createProviders({ routes: SANDBOX_ROUTES }, database.db, timing);
    const slowCard = Object.assign(Object.create(sandbox.card) as typeof sandbox.card, {
      submitRefund: async (request: Parameters<typeof sandbox.card.submitRefund>[0]) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return sandbox.card.submitRefund(request);
      },
    });
    const activities = createProviderActivities(database.db, sameForEveryMerchant({ ...sandbox, card: slowCard }), TEST_FIELDS);
    // The run that loses the claim fails on purpose (to be retried); the SDK's warning about it is noise here.
    const quiet = new DefaultLogger('ERROR');
    const submit = () => new MockActivityEnvironment(undefined, { logger: quiet }).run(activities.submitRefundToProvider, { refundId: refund.id, attempt: 1 }) as ReturnType<typeof activities.submitRefundToProvider>;
    // One sends; the other finds the attempt claimed and asks the provider, which holds nothing yet:
    // in doubt (or, losing the claim itself, a retry), never a second send.
    const outcomes = await Promise.allSettled([submit(), submit()]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.state : (o.reason as Error).message.includes('being sent by another run') ? 'in_doubt' : String(o.reason))).sort()).toEqual(['in_doubt', 'settled']);
    expect(await operationsOf(refund.id)).toHaveLength(1);
    // A later run finds what the provider holds: still one payout.
    expect((await submit()).state).toBe('settled');
    expect(await operationsOf(refund.id)).toHaveLength(1);
  });

  it('an attempt in doubt that the provider does not know is never sent again by itself: a person decides, then one payout', async () => {
    const refund = await refundOnRecord();
    // A worker claimed the attempt and died before the provider heard of it.
    await database.db.update(providerAttempts).set({ state: 'in_doubt' }).where(eq(providerAttempts.refundId, refund.id));
    await startRefundWorkflow(env.client, TASK_QUEUE, workflowInputOf(refund, { policy: DEFAULT_POLICY, providerPollIntervalMs: 60_000 }));
    const stuck = await untilStatus(refund.id, 'requires_action');
    expect(stuck).toMatchObject({ providerState: 'in_doubt', needsAttention: true });
    expect(await eventTypes(refund.id)).toEqual(['created', 'submission_in_doubt']);
    expect(await operationsOf(refund.id)).toEqual([]);
    await decide(support, refund.id, { kind: 'retry' });
    await untilStatus(refund.id, 'succeeded');
    expect((await operationsOf(refund.id)).map((op) => op.idempotencyKey)).toEqual([`${refund.id}-a2`]);
  });

  it('a step that can never be recorded stops the refund in requires_action with the evidence, and no money moves', async () => {
    const { refund, payment } = await startRefund(starter(), { amount: 100_000 });
    // The database refuses this refund's approval record, whatever is tried (a broken disk, a bug).
    await database.db.execute(sql.raw(`
      CREATE OR REPLACE FUNCTION refuse_approval() RETURNS trigger AS $$ BEGIN
        IF NEW.refund_id = '${refund.id}' AND NEW.type = 'approved' THEN RAISE EXCEPTION 'the disk is full'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
      DROP TRIGGER IF EXISTS refuse_approval ON refund_events;
      CREATE TRIGGER refuse_approval BEFORE INSERT ON refund_events FOR EACH ROW EXECUTE FUNCTION refuse_approval();`));
    try {
      const approval = decide(supervisorA, refund.id, { kind: 'approve' });
      await env.sleep('10m'); // the bounded retries run out
      expect(await refusedWith(approval)).toBe('decision_not_recorded');
      const stuck = await untilStatus(refund.id, 'requires_action');
      expect(stuck.needsAttention).toBe(true);
      const evidence = (await refundTimeline(database.db, refund.id)).find((e) => e.type === 'step_not_recorded')!;
      expect(evidence.detail).toMatchObject({ step: 'approved', error: expect.stringContaining('the disk is full') });
      expect(await operationsOf(refund.id)).toEqual([]);
      expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: 100_000 });
      // Never approved, so it can only be canceled: no retry may pay it.
      expect(await refusedWith(decide(support, refund.id, { kind: 'retry' }))).toBe('invalid_state');
    } finally {
      await database.db.execute(sql.raw('DROP TRIGGER IF EXISTS refuse_approval ON refund_events'));
    }
    await decide(support, refund.id, { kind: 'cancel', reason: 'record it again' });
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: 0 });
  });
});

describe('property: whatever people and banks do, the books follow the money', () => {
  type Action =
    | { kind: 'decide'; by: 'supervisorA' | 'supervisorB' | 'supervisorC' | 'support'; decision: RefundDecision }
    | { kind: 'bankReturns' }
    | { kind: 'time'; passes: '1h' | '80h' | '8d' };
  const people = { supervisorA, supervisorB, supervisorC: { principal: 'supervisor-c', role: 'supervisor' as const }, support };
  const bankAccount = { type: 'bank_transfer' as const, account: '6217000010005555', accountName: 'Li Wei' };

  const decision = (by: fc.Arbitrary<keyof typeof people>, what: fc.Arbitrary<RefundDecision>) => fc.record({ kind: fc.constant('decide' as const), by, decision: what });
  // Weighted toward the paths that move money: proposals and their approvals come often.
  const action: fc.Arbitrary<Action> = fc.oneof(
    { weight: 2, arbitrary: decision(fc.constantFrom('supervisorA', 'supervisorB'), fc.constant({ kind: 'approve' })) },
    { weight: 1, arbitrary: decision(fc.constant('supervisorB'), fc.constant({ kind: 'reject', reason: 'no receipt' })) },
    { weight: 2, arbitrary: decision(fc.constant('support'), fc.constantFrom<RefundDecision>({ kind: 'cancel' }, { kind: 'retry' }, { kind: 'retry', destination: bankAccount })) },
    {
      weight: 4,
      arbitrary: decision(
        fc.constant('supervisorA'),
        fc.constantFrom<RefundDecision>({ kind: 'correct', amount: 10_000, reason: 'less' }, { kind: 'correct', amount: 70_000, reason: 'more' }, { kind: 'correct', destination: bankAccount, reason: 'account' }),
      ),
    },
    { weight: 5, arbitrary: decision(fc.constantFrom('supervisorB', 'supervisorC'), fc.constant({ kind: 'approveProposal' })) },
    { weight: 1, arbitrary: decision(fc.constant('supervisorC'), fc.constant({ kind: 'rejectProposal', reason: 'not convinced' })) },
    { weight: 2, arbitrary: fc.constant<Action>({ kind: 'bankReturns' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('time' as const), passes: fc.constantFrom('1h' as const, '80h' as const, '8d' as const) }) },
  );

  /**
   * Waits until the refund is at rest: no decision under way, no activity pending (a payout being
   * sent is money on its way to the books), and the read model saying what the workflow says.
   */
  async function settledDown(refundId: string): Promise<RefundWorkflowState> {
    let previous = -1;
    const handle = refundHandle(env.client, refundId);
    return eventually(async () => {
      const [state, described, row] = await Promise.all([stateOf(handle), handle.describe(), findRefund(database.db, refundId)]);
      // Processing and correcting are never resting states here: the sandbox settles at once.
      const idle = (described.raw.pendingActivities ?? []).length === 0 && state.busy === null && !['processing', 'correcting'].includes(state.status);
      const stable = row!.workflowSeq === previous;
      previous = row!.workflowSeq;
      return idle && row!.status === state.status && stable && state;
    }, 20_000, `refund ${refundId} to settle down`);
  }

  /** The bank sends back what the refund's newest settled payout still holds, and says so. */
  async function bankReturns(refundId: string): Promise<void> {
    const [payout] = (await operationsOf(refundId)).filter((op) => op.kind === 'refund' && op.status === 'settled' && !op.returnedAt).reverse();
    if (!payout) return;
    const reversed = (await operationsOf(refundId)).filter((op) => op.reverses === payout.id).reduce((sum, op) => sum + op.amount, 0);
    if (payout.amount === reversed) return;
    await database.db.update(sandboxOperations).set({ returnedAt: new Date(), returnedAmount: payout.amount - reversed }).where(eq(sandboxOperations.id, payout.id));
    await receiveProviderNotice({ db: database.db, temporal: env.client }, payout.provider, {
      id: uniqueId('ntc'),
      type: 'refund.returned',
      reference: payout.id,
      idempotencyKey: payout.idempotencyKey,
      amount: payout.amount - reversed,
      currency: payout.currency,
      occurredAt: new Date().toISOString(),
    });
  }

  async function expectBooksMatchMoney(refundId: string, paymentId: string, step: string): Promise<void> {
    const state = await settledDown(refundId);
    const row = (await findRefund(database.db, refundId))!;
    const payment = (await findPayment(database.db, paymentId))!;
    const paid = (await operationsOf(refundId)).reduce(
      (sum, op) => (op.status !== 'settled' ? sum : op.kind === 'refund' ? sum + op.amount - (op.returnedAmount ?? 0) : sum - op.amount),
      0,
    );
    const books = { paid, refunded: payment.refundedAmount, workflowRefunded: state.books.refunded, reserved: payment.reservedAmount, workflowReserved: state.books.reserved };
    expect({ step, ...books }).toEqual({ step, paid, refunded: paid, workflowRefunded: paid, reserved: books.workflowReserved, workflowReserved: books.workflowReserved });
    if (row.status === 'succeeded' || row.status === 'corrected') expect({ step, paid }).toEqual({ step, paid: row.netAmount });
    if (['rejected', 'expired', 'canceled'].includes(row.status)) expect({ step, reserved: payment.reservedAmount }).toEqual({ step, reserved: 0 });
  }

  // Found by the property below (seed -868156207): a returned payout was left unbooked while the refund waited for a person.
  it('both payouts of a corrected refund come back, the second while it waits for a person: the books follow each, and a cancel leaves nothing refunded', async () => {
    const { refund, payment } = await startRefund(starter(), { amount: 30_000, payment: { amount: 200_000 } });
    await expectBooksMatchMoney(refund.id, payment.id, 'paid');
    await decide(supervisorA, refund.id, { kind: 'correct', amount: 70_000, reason: 'more' });
    await decide(supervisorB, refund.id, { kind: 'approveProposal' });
    await expectBooksMatchMoney(refund.id, payment.id, 'corrected');
    await bankReturns(refund.id); // the supplementary 40,000: the refund now waits for a person
    await expectBooksMatchMoney(refund.id, payment.id, 'second payout returned');
    expect((await findRefund(database.db, refund.id))!.status).toBe('requires_action');
    await bankReturns(refund.id); // the first 30,000, while it waits
    await expectBooksMatchMoney(refund.id, payment.id, 'first payout returned');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: 70_000 });
    await decide(support, refund.id, { kind: 'cancel' });
    await expectBooksMatchMoney(refund.id, payment.id, 'canceled');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: 0 });
    expect((await eventTypes(refund.id)).filter((type) => type === 'money_returned')).toHaveLength(2);
  });

  it('canceled while its first payout still holds money, the refund stays open for it: the bank sending it back leaves it canceled, nothing refunded, flagged for a person', async () => {
    const { refund, payment } = await startRefund(starter(), { amount: 30_000, payment: { amount: 200_000 } });
    await untilStatus(refund.id, 'succeeded');
    await decide(supervisorA, refund.id, { kind: 'correct', amount: 70_000, reason: 'more' });
    await decide(supervisorB, refund.id, { kind: 'approveProposal' });
    await expectBooksMatchMoney(refund.id, payment.id, 'corrected');
    await bankReturns(refund.id); // the supplementary 40,000
    await expectBooksMatchMoney(refund.id, payment.id, 'second payout returned');
    await decide(support, refund.id, { kind: 'cancel' });
    await expectBooksMatchMoney(refund.id, payment.id, 'canceled');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 30_000, reservedAmount: 0 });
    expect((await refundHandle(env.client, refund.id).describe()).status.name).toBe('RUNNING');
    await bankReturns(refund.id); // the first 30,000, after the cancel
    expect((await refundHandle(env.client, refund.id).result()).status).toBe('canceled');
    await expectBooksMatchMoney(refund.id, payment.id, 'first payout returned after the cancel');
    expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: 0 });
    expect(await findRefund(database.db, refund.id)).toMatchObject({ status: 'canceled', needsAttention: true });
    expect((await eventTypes(refund.id)).slice(-2)).toEqual(['canceled', 'money_returned']);
    expect((await templatesSent(refund.id)).filter((template) => template === 'refund_returned')).toHaveLength(2);
  });

  it('the bank sending back an earlier payout while support cancels, at the same moment: canceled, nothing refunded, nothing held, either way (20 rounds)', async () => {
    for (let round = 0; round < 20; round += 1) {
      const { refund, payment } = await startRefund(starter(), { amount: 30_000, payment: { amount: 200_000 } });
      await untilStatus(refund.id, 'succeeded');
      await decide(supervisorA, refund.id, { kind: 'correct', amount: 70_000, reason: 'more' });
      await decide(supervisorB, refund.id, { kind: 'approveProposal' });
      await expectBooksMatchMoney(refund.id, payment.id, `round ${round}: corrected`);
      await bankReturns(refund.id); // the supplement: the refund waits for a person
      await expectBooksMatchMoney(refund.id, payment.id, `round ${round}: supplement returned`);
      await Promise.all([bankReturns(refund.id), decide(support, refund.id, { kind: 'cancel' })]);
      expect((await refundHandle(env.client, refund.id).result()).status).toBe('canceled');
      await expectBooksMatchMoney(refund.id, payment.id, `round ${round}: both`);
      expect(await findPayment(database.db, payment.id)).toMatchObject({ refundedAmount: 0, reservedAmount: 0 });
    }
  });

  it('holds after every step of random sequences of decisions, bank returns and time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), fc.array(action, { minLength: 2, maxLength: 8 }), async (needsApproval, declined, actions) => {
        const { refund, payment } = await startRefund(starter(), {
          amount: needsApproval ? 60_000 : 30_000,
          account: declined ? '6222020200110002' : '6222020200112341234',
          payment: { amount: 200_000 },
        });
        await expectBooksMatchMoney(refund.id, payment.id, 'start');
        for (const [i, step] of actions.entries()) {
          if (step.kind === 'decide') await decide(people[step.by], refund.id, step.decision).catch((error: unknown) => expect(error).toBeInstanceOf(RefundRequestError));
          else if (step.kind === 'bankReturns') await bankReturns(refund.id);
          else await env.sleep(step.passes);
          await expectBooksMatchMoney(refund.id, payment.id, `${i}: ${JSON.stringify(step)}`);
        }
      }),
      { numRuns: 25 },
    );
  });
});

/**
 * Void or refund (issue #21): the workflow decides by its own clock when it sends. A whole card
 * sale waiting for approval goes as a void when approved while its batch is open, and as a refund
 * when the batch's cutoff passed while it waited (the skipped clock passes it). UnionPay's adapter
 * against its simulator, on a worker of its own.
 */
describe('a card sale: void or refund, by the workflow’s clock', () => {
  const unionpay = new UnionPaySimulator();
  const CARD_QUEUE = 'refunds-card-workflow-tests';
  const cardRoutes = { ...SANDBOX_ROUTES, card: 'unionpay' };
  let cardWorker: Worker;
  let cardRun: Promise<void>;

  beforeAll(async () => {
    await unionpay.start();
    const settings = loadConfig({ NODE_ENV: 'development', ...unionpay.env('http://127.0.0.1:9/notices-not-taken-here') }).providers.modules!;
    cardWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: CARD_QUEUE,
      activities: createActivities({
        db: database.db,
        providers: sameForEveryMerchant(createProviders({ routes: cardRoutes, modules: settings }, database.db, timing)),
        utcOffsetMinutes: 480,
        merchantWebhooks: new Map(),
        merchantWebhookSecret: 'unused',
        seal,
        fields: TEST_FIELDS,
      }),
      workflowsPath: WORKFLOWS_ENTRY,
    });
    cardRun = cardWorker.run();
  });

  afterAll(async () => {
    cardWorker?.shutdown();
    await cardRun;
    await unionpay.stop();
  });

  /** A whole card sale of today, refunded in full: above the automatic limit, so it waits for a supervisor. */
  async function wholeSaleRefund() {
    const sale = unionpay.addSale(80_000);
    // Captured "now" on the workflows' clock, which the tests before have skipped far ahead.
    const capturedAt = new Date(await env.currentTimeMs()).toISOString();
    const payment = await createPayment(database.db, { amount: 80_000, capturedAt, card: { acquirerReference: sale.queryId } });
    const deps = { db: database.db, temporal: env.client, taskQueue: CARD_QUEUE, routes: cardRoutes, voidsCardSales: true, policy: DEFAULT_POLICY, providerPollIntervalMs: 60_000, fields: TEST_FIELDS };
    const { refund, started } = await createRefund(deps, SERVICE_CALLER, uniqueId('key'), { paymentId: payment.id, amount: 80_000, currency: 'CNY', reason: 'defective' });
    await started;
    expect(refund).toMatchObject({ status: 'pending_approval', voidableUntil: expect.any(Date) });
    return { refund, sale };
  }

  async function submitted(refundId: string) {
    return eventually(async () => (await refundTimeline(database.db, refundId)).find((event) => event.type === 'submitted')?.detail, 20_000, 'the refund sent');
  }

  it('two sends of one card attempt at once, the batch open or just settled: one movement at UnionPay, 20 rounds', async () => {
    const settings = loadConfig({ NODE_ENV: 'development', ...unionpay.env('http://127.0.0.1:9/notices-not-taken-here') }).providers.modules!;
    const activities = createProviderActivities(database.db, sameForEveryMerchant(createProviders({ routes: cardRoutes, modules: settings }, database.db, timing)), TEST_FIELDS);
    // The run that loses the claim fails on purpose (to be retried); the SDK's warning about it is noise here.
    const quiet = new DefaultLogger('ERROR');
    for (let round = 0; round < 20; round += 1) {
      const sale = unionpay.addSale(30_000);
      // Half the rounds the batch settles first: the void is refused and the same attempt goes as a refund.
      if (round % 2 === 1) unionpay.settleBatch();
      const payment = await createPayment(database.db, { amount: 30_000, card: { acquirerReference: sale.queryId } });
      const { refund } = await recordRefundRequest({ db: database.db, policy: DEFAULT_POLICY, routes: cardRoutes, voidsCardSales: true, fields: TEST_FIELDS }, SERVICE_CALLER, uniqueId('k'), { paymentId: payment.id, amount: 30_000, currency: 'CNY', reason: 'defective' });
      const submit = () => new MockActivityEnvironment(undefined, { logger: quiet }).run(activities.submitRefundToProvider, { refundId: refund.id, attempt: 1, method: 'void' as const }) as ReturnType<typeof activities.submitRefundToProvider>;
      await Promise.allSettled([submit(), submit()]);
      // Whatever either run saw, a later one finds what UnionPay holds: the one movement.
      const after = await submit().catch(() => submit());
      const movements = unionpay.movementsOf(sale.queryId);
      expect(movements.map((m) => [m.kind, m.amount])).toEqual([[round % 2 === 1 ? 'refund' : 'void', 30_000]]);
      expect(after).toMatchObject({ method: movements[0]!.kind, state: expect.stringMatching(/accepted|settled/) });
    }
  });

  it('approved while the batch is open: voided; approved after its cutoff passed while it waited: refunded', async () => {
    const early = await wholeSaleRefund();
    await decide(supervisorA, early.refund.id, { kind: 'approve' });
    expect(await submitted(early.refund.id)).toMatchObject({ method: 'void', methodReason: expect.stringContaining('open batch until') });
    expect(unionpay.movementsOf(early.sale.queryId).map((m) => m.kind)).toEqual(['void']);
    await keepHistory('card-voided', early.refund.id);

    const late = await wholeSaleRefund();
    // The cutoff is at most a day after the capture; reminders and the escalation fire meanwhile.
    await env.sleep(25 * 3_600_000);
    await decide(supervisorA, late.refund.id, { kind: 'approve' });
    expect(await submitted(late.refund.id)).toMatchObject({ method: 'refund', methodReason: expect.stringContaining('batch settled at') });
    expect(unionpay.movementsOf(late.sale.queryId).map((m) => m.kind)).toEqual(['refund']);
    await keepHistory('card-refunded-after-cutoff', late.refund.id);
  });
});
