/**
 * `npm run bench`: how fast refunds go through the whole service on this machine, side by side
 * with what Temporal itself costs. Starts the embedded stack in a scratch folder, then, on the same
 * dev server: first a one-no-op-activity workflow (throughput, `workflow.start` latency), then the
 * refund path over HTTP (throughput, `POST /v1/refunds` latency, request → `succeeded`, history
 * events per refund, worker memory per cached workflow), and the ratios between the two.
 *
 *   BENCH_REFUNDS (default 200)  BENCH_CONCURRENCY (default 20)  SANDBOX_SETTLEMENT_DELAY (default 0s)
 *
 * `npm run bench -- --scale` measures the read side at 1,000,000 refunds instead (refund-scale.ts).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import postgres from 'postgres';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startService } from '../service';
import { cpuMsPer, cpuSecondsSoFar } from './process-cpu';
import { runScaleBench } from './refund-scale';

const refunds = Number(process.env.BENCH_REFUNDS ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'refundflow-bench-'));
  chmodSync(dataDir, 0o755);
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, PORT: '0', SANDBOX_SETTLEMENT_DELAY: process.env.SANDBOX_SETTLEMENT_DELAY ?? '0s' });
  const began = Date.now();
  const service = await startService(config, createLogger({ level: 'error' }), { api: true, worker: true, embedded: true });
  const readyMs = Date.now() - began;
  const api = service.apiUrl!;
  const headers = { 'content-type': 'application/json' };
  const post = async (route: string, key: string, body: unknown, extra: Record<string, string> = {}) => {
    const response = await fetch(`${api}${route}`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${key}`, ...extra }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  };

  // The payments a POS back office registered earlier: not part of the refund path being measured.
  await inParallel(refunds, concurrency, async (n) => {
    await post('/v1/payments', 'dev-service', {
      id: `bench_pay_${n}`,
      merchantId: 'm_bench',
      orderId: `bench_ord_${n}`,
      channel: (['card', 'wechat', 'alipay'] as const)[n % 3],
      amount: 100_000,
      currency: 'CNY',
      status: 'captured',
      capturedAt: new Date().toISOString(),
      payerAccount: `62220202001${String(n).padStart(8, '0')}1`,
    });
  });

  const baseline = await measureBaseline(service.temporalAddress, service.temporal);
  const rssBefore = process.memoryUsage().rss;
  const createLatencies: number[] = [];
  const refundIds: string[] = [];
  const settleLatencies: number[] = [];
  const watcher = succeededWatcher(service.databaseUrl);
  const cpuBefore = cpuSecondsSoFar();
  const startedAll = Date.now();
  await inParallel(refunds, concurrency, async (n) => {
    const t0 = performance.now();
    const refund = await post('/v1/refunds', 'dev-service', { paymentId: `bench_pay_${n}`, amount: 10_000, currency: 'CNY', reason: 'defective' }, { 'Idempotency-Key': `bench-${n}` });
    createLatencies.push(performance.now() - t0);
    refundIds.push(refund.id);
    await watcher.succeeded(refund.id);
    settleLatencies.push(performance.now() - t0);
  });
  const seconds = (Date.now() - startedAll) / 1000;
  const cpuMsPerRefund = cpuMsPer(cpuBefore, cpuSecondsSoFar(), refunds);
  const rssPerWorkflowKb = Math.round((process.memoryUsage().rss - rssBefore) / Math.min(refunds, 10_000) / 1024);
  const historyEvents: number[] = [];
  for (const id of refundIds.slice(0, 20)) historyEvents.push((await service.temporal.workflow.getHandle(`refund-${id}`).fetchHistory()).events?.length ?? 0);
  await watcher.close();
  await service.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify(
      {
        refunds,
        concurrency,
        settlementDelay: process.env.SANDBOX_SETTLEMENT_DELAY ?? '0s',
        embeddedStackReadyMs: readyMs,
        oneActivityWorkflow: baseline,
        refundPath: {
          refundsPerSecond: Number((refunds / seconds).toFixed(1)),
          createRefundMs: summary(createLatencies),
          requestToSucceededMs: summary(settleLatencies),
          // So far: the workflow stays open after `succeeded` for the follow-up and aftercare.
          historyEventsSoFar: summary(historyEvents),
          // CPU per refund by process (this one runs the API, the worker and the bench's client).
          cpuMsPerRefund,
          workerRssPerCachedWorkflowKb: rssPerWorkflowKb,
        },
        ratios: {
          throughput: Number((refunds / seconds / baseline.workflowsPerSecond).toFixed(2)),
          p99RequestVsStart: Number((summary(createLatencies).p99 / baseline.startMs.p99).toFixed(2)),
          cpuPerRefundVsWorkflow: Number((cpuMsPerRefund.total / baseline.cpuMsPerWorkflow.total).toFixed(2)),
        },
      },
      null,
      2,
    )}\n`,
  );
  process.exit(0);
}

/** The same load on a workflow of one no-op activity: what Temporal costs on this machine, before any refund logic. */
async function measureBaseline(address: string, client: Awaited<ReturnType<typeof startService>>['temporal']) {
  const taskQueue = `bench-baseline-${Date.now()}`;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline-workflow'), logger: silent }),
    activities: { noop: async () => undefined },
  });
  const running = worker.run();
  const startLatencies: number[] = [];
  const cpuBefore = cpuSecondsSoFar();
  const began = Date.now();
  await inParallel(refunds, concurrency, async (n) => {
    const t0 = performance.now();
    const handle = await client.workflow.start('oneActivity', { taskQueue, workflowId: `${taskQueue}-${n}` });
    startLatencies.push(performance.now() - t0);
    await handle.result();
  });
  const seconds = (Date.now() - began) / 1000;
  const cpuMsPerWorkflow = cpuMsPer(cpuBefore, cpuSecondsSoFar(), refunds);
  const historyEvents = (await client.workflow.getHandle(`${taskQueue}-0`).fetchHistory()).events?.length ?? 0;
  worker.shutdown();
  await running;
  await connection.close();
  return { workflowsPerSecond: Number((refunds / seconds).toFixed(1)), startMs: summary(startLatencies), historyEvents, cpuMsPerWorkflow };
}

/**
 * Tells when refunds reach `succeeded`, by one query every 20 ms for all of them, so that watching
 * costs the service almost nothing (a client polling GET /v1/refunds/:id per refund would be a
 * load of its own, measured as if it were the refund path's).
 */
function succeededWatcher(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const waiting = new Map<string, () => void>();
  let closed = false;
  const loop = (async () => {
    while (!closed) {
      if (waiting.size > 0) {
        const rows = await sql<{ id: string }[]>`SELECT id FROM refunds WHERE id = ANY(${[...waiting.keys()]}) AND status = 'succeeded'`;
        for (const { id } of rows) {
          waiting.get(id)?.();
          waiting.delete(id);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    succeeded: (refundId: string) => new Promise<void>((resolve) => waiting.set(refundId, resolve)),
    async close() {
      closed = true;
      await loop;
      await sql.end({ timeout: 5 });
    },
  };
}

/** Runs `work(0)` … `work(count - 1)` with `concurrency` of them in flight at a time. */
async function inParallel(count: number, concurrency: number, work: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(sorted[sorted.length - 1]!) };
}

(process.argv.includes('--scale') ? runScaleBench() : main()).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
