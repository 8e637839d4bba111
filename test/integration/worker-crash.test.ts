/**
 * A worker killed (`kill -9`) in the middle of a provider call: the refund moves on within seconds
 * on another worker, and the customer is paid once (issue #8). The workers are real processes
 * (`dist/src/worker-main.js`, built by `npm test`); the sandbox provider answers slowly
 * (SANDBOX_RESPONSE_DELAY), so the kill lands after the provider took the refund and before the
 * worker heard its answer — the case where paying again would pay twice.
 */
import '../support/quiet-temporal';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { operationsOfPayment } from '../support/ground-truth';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

/** Issue #8: a killed worker delays its refund by less than this. */
const RECOVERY_BOUND_MS = 15_000;

let api: TestService;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  api = await startTestService({}, undefined, { worker: false });
}, 60_000);

afterAll(async () => {
  for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
  await Promise.all(workers.map((worker) => (worker.exitCode === null && worker.signalCode === null ? new Promise((resolve) => worker.once('exit', resolve)) : undefined)));
  await api?.stop();
});

/** A worker process on the API's task queue; resolves once it polls. */
async function startWorker(): Promise<ChildProcess> {
  const worker = spawn(process.execPath, [path.join(__dirname, '../../dist/src/worker-main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: api.database.url,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: api.config.taskQueue,
      SANDBOX_SETTLEMENT_DELAY: '0s',
      // Long enough for the kill to land while the call waits for the provider's answer.
      SANDBOX_RESPONSE_DELAY: '30s',
      SANDBOX_WEBHOOK_URL: `${api.service.apiUrl}/v1/webhooks/providers`,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(worker);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready within 30 s:\n${output}`)), 30_000);
    worker.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/"msg":"ready"/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    worker.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)));
  });
  return worker;
}

it('a worker killed during a provider call holds its refund up for seconds, and the customer is paid once', async () => {
  const doomed = await startWorker();
  const payment = paymentRegistration();
  expect((await api.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await api.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount: 4_200, currency: 'CNY', reason: 'defective' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  expect(created.status).toBe(201);

  // The provider has taken the refund; the doomed worker waits for its answer.
  await eventually(async () => (await operationsOfPayment(api.call, payment.id)).length === 1, 20_000, 'the provider taking the refund');
  const survivor = await startWorker(); // another worker is polling, as in any deployment
  expect((await api.call('GET', `/v1/refunds/${created.body.id}`)).body.status).toBe('processing');
  const killedAt = Date.now();
  doomed.kill('SIGKILL');

  await eventually(async () => (await api.call('GET', `/v1/refunds/${created.body.id}`)).body.status === 'succeeded', RECOVERY_BOUND_MS + 5_000, 'the refund settled');
  const recoveredMs = Date.now() - killedAt;
  expect(recoveredMs).toBeLessThan(RECOVERY_BOUND_MS);

  // Asked by key on the other worker, never sent again: one payout.
  const operations = await operationsOfPayment(api.call, payment.id);
  expect(operations).toEqual([expect.objectContaining({ kind: 'refund', amount: 4_200, status: 'settled' })]);
  const refund = (await api.call('GET', `/v1/refunds/${created.body.id}`)).body;
  expect(refund.timeline.map((event: { type: string }) => event.type)).toEqual(['created', 'submitted', 'settled']);
  expect((await api.call('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({ refundedAmount: 4_200, reservedAmount: 0 });
  expect(survivor.exitCode).toBeNull();
}, 90_000);
