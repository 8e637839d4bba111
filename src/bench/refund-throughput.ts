/**
 * `npm run bench`: how fast refunds go through the whole service on this machine. Starts the
 * embedded stack in a scratch folder, registers payments and requests refunds over HTTP with
 * BENCH_CONCURRENCY requests in flight, and reports request latency and time to `succeeded`.
 *
 *   BENCH_REFUNDS (default 200)  BENCH_CONCURRENCY (default 20)  SANDBOX_SETTLEMENT_DELAY (default 0s)
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startService } from '../service';

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

  const createLatencies: number[] = [];
  const settleLatencies: number[] = [];
  let next = 0;
  const startedAll = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < refunds) {
        const n = next++;
        const paymentId = `bench_pay_${n}`;
        await post('/v1/payments', 'dev-service', {
          id: paymentId,
          merchantId: 'm_bench',
          orderId: `bench_ord_${n}`,
          channel: (['card', 'wechat', 'alipay'] as const)[n % 3],
          amount: 100_000,
          currency: 'CNY',
          status: 'captured',
          capturedAt: new Date().toISOString(),
          payerAccount: `62220202001${String(n).padStart(8, '0')}1`,
        });
        const t0 = performance.now();
        const refund = await post('/v1/refunds', 'dev-service', { paymentId, amount: 10_000, currency: 'CNY', reason: 'defective' }, { 'Idempotency-Key': `bench-${n}` });
        createLatencies.push(performance.now() - t0);
        for (;;) {
          const response = await fetch(`${api}/v1/refunds/${refund.id}`, { headers: { authorization: 'Bearer dev-support' } });
          const { status } = (await response.json()) as { status: string };
          if (status === 'succeeded') break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        settleLatencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (Date.now() - startedAll) / 1000;
  await service.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify(
      {
        refunds,
        concurrency,
        settlementDelay: process.env.SANDBOX_SETTLEMENT_DELAY ?? '0s',
        embeddedStackReadyMs: readyMs,
        refundsPerSecond: Number((refunds / seconds).toFixed(1)),
        createRefundMs: summary(createLatencies),
        requestToSucceededMs: summary(settleLatencies),
      },
      null,
      2,
    )}\n`,
  );
  process.exit(0);
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(sorted[sorted.length - 1]!) };
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
