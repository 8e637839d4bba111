/**
 * `npm run bench`: how fast refunds go through the whole service on this machine, side by side
 * with what Temporal itself costs. Starts the embedded stack in a scratch folder, then, on the same
 * dev server, in rounds that alternate the two: a one-no-op-activity workflow (throughput,
 * `workflow.start` latency) and the refund path over HTTP (throughput, `POST /v1/refunds` latency,
 * request → `succeeded`, history events per refund, worker memory per cached workflow); then the
 * ratios between the two, and the CPU each process spent per workflow and per refund.
 *
 *   BENCH_REFUNDS (default 200)  BENCH_CONCURRENCY (default 20)  BENCH_ROUNDS (default 4)
 *   SANDBOX_SETTLEMENT_DELAY (default 0s)
 *
 * `npm run bench -- --scale` measures the read side at 1,000,000 refunds instead (refund-scale.ts).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { openPostgres } from '../db/client';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startService } from '../service';
import { cpuMsPer, cpuSecondsSoFar, cpuSpent, cpuTogether, NO_CPU, type CpuSeconds } from './process-cpu';
import { runScaleBench } from './refund-scale';

const refunds = Number(process.env.BENCH_REFUNDS ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);

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

  // The payments a POS back office registered earlier: not part of the refund path being measured
  // (the last `concurrency` of them for the warm-up).
  await inParallel(refunds + concurrency, concurrency, async (n) => {
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

  const baseline = await baselineWorkflows(service.temporalAddress, service.temporal);
  const watcher = succeededWatcher(service.databaseUrl);
  const refundOf = async (n: number, latencies?: { request: number[]; toSucceeded: number[]; ids: string[] }) => {
    const t0 = performance.now();
    const refund = await post('/v1/refunds', 'dev-service', { paymentId: `bench_pay_${n}`, amount: 10_000, currency: 'CNY', reason: 'defective' }, { 'Idempotency-Key': `bench-${n}` });
    latencies?.request.push(performance.now() - t0);
    latencies?.ids.push(refund.id);
    await watcher.succeeded(refund.id);
    latencies?.toSucceeded.push(performance.now() - t0);
  };
  // Steady state is what is measured: one round of each first, not counted, so that neither side's
  // first calls (code compiled on first use, each database connection preparing its statements)
  // fall in its first measured round.
  await baseline.run(refunds, concurrency, []);
  await inParallel(concurrency, concurrency, (k) => refundOf(refunds + k));
  await new Promise((resolve) => setTimeout(resolve, AFTERWORK_MS));

  // Rounds that alternate the two, so that a slow spell of this shared machine (its host steals
  // time now and then) falls on both sides instead of on one.
  const rssBefore = process.memoryUsage().rss;
  const perRound = Math.ceil(refunds / rounds);
  const workflowSide = { seconds: 0, cpu: NO_CPU, latencies: [] as number[] };
  const refundSide = { seconds: 0, cpu: NO_CPU, request: [] as number[], toSucceeded: [] as number[], ids: [] as string[] };
  const roundRatios: number[] = [];
  for (let from = 0; from < refunds; from += perRound) {
    const count = Math.min(perRound, refunds - from);
    const workflows = await measured(() => baseline.run(from, count, workflowSide.latencies));
    const paid = await measured(async () => {
      await inParallel(count, concurrency, (k) => refundOf(from + k, refundSide));
    }, AFTERWORK_MS);
    add(workflowSide, workflows);
    add(refundSide, paid);
    roundRatios.push(Number((workflows.seconds / paid.seconds).toFixed(2)));
  }
  const rssPerWorkflowKb = Math.round((process.memoryUsage().rss - rssBefore) / Math.min(refunds, 10_000) / 1024);
  const historyEvents: number[] = [];
  for (const id of refundSide.ids.slice(0, 20)) historyEvents.push((await service.temporal.workflow.getHandle(`refund-${id}`).fetchHistory()).events?.length ?? 0);
  const workflowHistoryEvents = await baseline.historyEvents();
  await baseline.stop();
  await watcher.close();
  await service.stop();
  rmSync(dataDir, { recursive: true, force: true });
  const cpuMsPerWorkflow = cpuMsPer(workflowSide.cpu, refunds);
  const cpuMsPerRefund = cpuMsPer(refundSide.cpu, refunds);
  const workflowsPerSecond = refunds / workflowSide.seconds;
  const refundsPerSecond = refunds / refundSide.seconds;
  process.stdout.write(
    `${JSON.stringify(
      {
        refunds,
        concurrency,
        rounds: roundRatios.length,
        warmUp: { workflows: concurrency, refunds: concurrency },
        settlementDelay: process.env.SANDBOX_SETTLEMENT_DELAY ?? '0s',
        embeddedStackReadyMs: readyMs,
        oneActivityWorkflow: {
          workflowsPerSecond: Number(workflowsPerSecond.toFixed(1)),
          startMs: summary(workflowSide.latencies),
          historyEvents: workflowHistoryEvents,
          cpuMsPerWorkflow,
        },
        refundPath: {
          refundsPerSecond: Number(refundsPerSecond.toFixed(1)),
          createRefundMs: summary(refundSide.request),
          requestToSucceededMs: summary(refundSide.toSucceeded),
          // So far: the workflow stays open after `succeeded` for the follow-up and aftercare.
          historyEventsSoFar: summary(historyEvents),
          // CPU per refund by process (this one runs the API, the worker and the bench's client).
          cpuMsPerRefund,
          workerRssPerCachedWorkflowKb: rssPerWorkflowKb,
        },
        ratios: {
          throughput: Number((refundsPerSecond / workflowsPerSecond).toFixed(2)),
          throughputByRound: roundRatios,
          p99RequestVsStart: Number((summary(refundSide.request).p99 / summary(workflowSide.latencies).p99).toFixed(2)),
          cpuPerRefundVsWorkflow: Number((cpuMsPerRefund.total / cpuMsPerWorkflow.total).toFixed(2)),
        },
      },
      null,
      2,
    )}\n`,
  );
  process.exit(0);
}

/**
 * After the last refund of a round shows `succeeded`, its customer notices and merchant events are
 * still being sent: their CPU is counted with the refunds (not their time, as before rounds), and
 * the next round of workflows starts on a quiet machine.
 */
const AFTERWORK_MS = 1_000;

/** The wall time of `work` and the CPU each process spent on it (and in the `settle` that follows it). */
async function measured(work: () => Promise<void>, settleMs = 0): Promise<{ seconds: number; cpu: CpuSeconds }> {
  const cpuBefore = cpuSecondsSoFar();
  const began = performance.now();
  await work();
  const seconds = (performance.now() - began) / 1000;
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  return { seconds, cpu: cpuSpent(cpuBefore, cpuSecondsSoFar()) };
}

function add(side: { seconds: number; cpu: CpuSeconds }, part: { seconds: number; cpu: CpuSeconds }): void {
  side.seconds += part.seconds;
  side.cpu = cpuTogether(side.cpu, part.cpu);
}

/** The same load on a workflow of one no-op activity: what Temporal costs on this machine, before any refund logic. */
async function baselineWorkflows(address: string, client: Awaited<ReturnType<typeof startService>>['temporal']) {
  const taskQueue = `bench-baseline-${Date.now()}`;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline-workflow'), logger: silent }),
    activities: { noop: async () => undefined },
  });
  const running = worker.run();
  return {
    /** Workflows `from` … `from + count - 1`, `concurrency` at a time, each to its result; start latencies into `latencies`. */
    async run(from: number, count: number, latencies: number[]): Promise<void> {
      await inParallel(count, concurrency, async (k) => {
        const t0 = performance.now();
        const handle = await client.workflow.start('oneActivity', { taskQueue, workflowId: `${taskQueue}-${from + k}` });
        latencies.push(performance.now() - t0);
        await handle.result();
      });
    },
    historyEvents: async () => (await client.workflow.getHandle(`${taskQueue}-0`).fetchHistory()).events?.length ?? 0,
    async stop(): Promise<void> {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/**
 * Tells when refunds reach `succeeded`, by one query every 20 ms for all of them, so that watching
 * costs the service almost nothing (a client polling GET /v1/refunds/:id per refund would be a
 * load of its own, measured as if it were the refund path's).
 */
function succeededWatcher(databaseUrl: string) {
  const sql = openPostgres(databaseUrl, { max: 1 });
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
