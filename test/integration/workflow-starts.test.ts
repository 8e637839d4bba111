/**
 * No refund is left without its workflow (issue: refunds without a workflow waited a day): the
 * start order is written in the refund's own transaction and the worker's relay carries it out,
 * whether the API died between its commit and the start or Temporal was away. This file runs its
 * own Temporal dev server, so it can pause it.
 */
import { fieldSealOf } from '../../src/field-seal';
import '../support/quiet-temporal';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTemporalDevServer, type RunningTemporal } from '../../src/dev/temporal-dev-server';
import { freePort } from '../../src/dev/ports';
import { createLogger } from '../../src/logger';
import { recordRefundRequest } from '../../src/refunds/create-refund';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { failedRuns } from '../support/failed-runs';
import { startTestService, type TestService } from '../support/test-service';

let temporal: RunningTemporal;
let dataDir: string;
let running: TestService;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'refundflow-starts-'));
  chmodSync(dataDir, 0o755);
  temporal = await startTemporalDevServer({ dataDir, headless: true, port: await freePort(), logger: createLogger({ level: 'error' }) });
  running = await startTestService({ TEMPORAL_ADDRESS: temporal.address, SANDBOX_SETTLEMENT_DELAY: '100ms' });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  const failed = temporal ? await failedRuns(temporal.address) : [];
  await temporal?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  expect(failed).toEqual([]);
});

async function workflowRunning(refundId: string): Promise<boolean> {
  try {
    await running.service.temporal.workflow.getHandle(`refund-${refundId}`).describe();
    return true;
  } catch {
    return false;
  }
}

it('a refund taken while Temporal is paused is running its workflow within a minute of Temporal coming back, with no client retry', async () => {
  const payment = paymentRegistration();
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const pid = Number(readFileSync(path.join(dataDir, 'temporal.pid'), 'utf8'));
  process.kill(pid, 'SIGSTOP');
  let created;
  try {
    created = await running.call('POST', '/v1/refunds', {
      body: { paymentId: payment.id, amount: 2_000, currency: 'CNY', reason: 'defective' },
      headers: { 'Idempotency-Key': uniqueId('k') },
    });
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  // The refund is on record (its amount held) even though its workflow could not start yet.
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('processing');
  const back = Date.now();
  await eventually(() => workflowRunning(created.body.id), 60_000, 'the workflow started by the relay');
  expect(Date.now() - back).toBeLessThan(60_000);
  await eventually(async () => (await running.call('GET', `/v1/refunds/${created.body.id}`)).body.status === 'succeeded', 20_000, 'the refund paid');
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 2_000, reservedAmount: 0 });
}, 120_000);

it('starts the workflow of a refund whose process died between its commit and the start, within seconds', async () => {
  const payment = paymentRegistration();
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  // The database half of POST /v1/refunds, and then the crash: no workflow started.
  const { refund } = await recordRefundRequest(
    { db: running.database.db, policy: running.config.policy, routes: running.config.providers.routes, fields: fieldSealOf(running.config) },
    { principal: 'pos-backend', role: 'service', merchants: null },
    uniqueId('k'),
    { paymentId: payment.id, amount: 2_000, currency: 'CNY', reason: 'defective' },
  );
  expect(await workflowRunning(refund.id)).toBe(false);
  await eventually(async () => (await running.call('GET', `/v1/refunds/${refund.id}`)).body.status === 'succeeded', 20_000, 'the lost refund paid');
  expect((await running.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 2_000, reservedAmount: 0 });
});

it('never starts anything for a replayed key: the refund keeps its one workflow', async () => {
  const payment = paymentRegistration();
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const key = uniqueId('k');
  const body = { paymentId: payment.id, amount: 2_000, currency: 'CNY', reason: 'defective' };
  const first = await running.call('POST', '/v1/refunds', { body, headers: { 'Idempotency-Key': key } });
  await eventually(async () => (await running.call('GET', `/v1/refunds/${first.body.id}`)).body.status === 'succeeded', 20_000, 'paid');
  const runsBefore = await runsOf(first.body.id);
  const replay = await running.call('POST', '/v1/refunds', { body, headers: { 'Idempotency-Key': key } });
  expect(replay.status).toBe(200);
  expect(await runsOf(first.body.id)).toBe(runsBefore);
  expect((await running.call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${payment.id}`)).body.data).toHaveLength(1);
});

async function runsOf(refundId: string): Promise<number> {
  let runs = 0;
  for await (const _ of running.service.temporal.workflow.list({ query: `WorkflowId="refund-${refundId}"` })) runs += 1;
  return runs;
}
