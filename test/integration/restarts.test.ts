/**
 * Restarts as operators meet them (issue #10). The whole embedded stack killed outright
 * (`kill -9` of its process group: node, PostgreSQL, Temporal) starts again on the same data at
 * the first try, even with DATA_DIR where only root may enter (PostgreSQL's data then lives in the
 * shared folder, and its orphan is found there); PostgreSQL restarted under a running API and worker leaves both processes up,
 * and refunds carry on once it is back. Real processes throughout (`dist/src/*-main.js`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/ports';
import { LOCATION_NOTE } from '../../src/dev/postgres-placement';
import { refundWorkflowId } from '../../src/ids';
import { whereRunStands } from '../support/failed-runs';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { apiCaller, type ApiCall } from '../support/test-service';

const DIST = path.join(__dirname, '../../dist/src');
const children: ChildProcess[] = [];
const folders: string[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  for (const folder of folders) {
    // PostgreSQL's data, where a DATA_DIR closed to its account sent it.
    const note = path.join(folder, LOCATION_NOTE);
    if (existsSync(note)) rmSync(readFileSync(note, 'utf8').trim(), { recursive: true, force: true });
    rmSync(folder, { recursive: true, force: true });
  }
});

/** A folder for DATA_DIR: 0755, or 0700 (as `mktemp -d` makes it: only root enters when we are root). */
function dataFolder(mode = 0o755): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'refundflow-restart-'));
  chmodSync(folder, mode);
  folders.push(folder);
  return folder;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Starts `script` in its own process group; resolves with it and its output once it logs "ready". */
async function startProcess(script: string, env: Record<string, string | undefined>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [path.join(DIST, script)], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready within 90 s:\n${output}`)), 90_000);
    const ready = setInterval(() => {
      if (/"msg":"ready"/.test(output)) {
        clearInterval(ready);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    child.once('exit', (code, signal) => {
      clearInterval(ready);
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  return { child, output: () => output };
}

async function refundOf(call: ApiCall, amount: number): Promise<{ id: string; paymentId: string }> {
  const payment = paymentRegistration();
  expect((await call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'defective' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(created.status).toBe(201);
  return { id: created.body.id, paymentId: payment.id };
}

/**
 * Waits until the refund's status is one of `statuses` and returns it; `check` may throw to say
 * why it never will. A refund that does not get there in time is reported with where it stands:
 * the API's view and the run's.
 */
async function untilStatus(call: ApiCall, refundId: string, statuses: string[], timeoutMs = 60_000, check: () => void = () => undefined) {
  let seen: { status?: string } = {};
  await eventually(
    async () => {
      check();
      seen = (await call('GET', `/v1/refunds/${refundId}`).catch(() => ({ body: {} }))).body;
      return statuses.includes(seen.status ?? '');
    },
    timeoutMs,
    `refund ${refundId} ${statuses.join(' or ')}`,
  ).catch(async (error) => {
    const run = process.env.TEST_TEMPORAL_ADDRESS ? await whereRunStands(process.env.TEST_TEMPORAL_ADDRESS, refundWorkflowId(refundId)) : 'Temporal not in this test';
    throw new Error(`${String(error)} (last seen: ${JSON.stringify(seen)})\n${run}`);
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's refund, asserted by each test
  return seen as any;
}

const untilSucceeded = (call: ApiCall, refundId: string, timeoutMs?: number, check?: () => void) => untilStatus(call, refundId, ['succeeded'], timeoutMs, check);

it('the embedded stack killed with SIGKILL starts again on the same data, at the first try, three times over', async () => {
  const dataDir = dataFolder(0o700);
  const [port, pgPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env = { DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), TEMPORAL_DEV_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(uiPort), SANDBOX_SETTLEMENT_DELAY: '0s' };
  const call = apiCaller(`http://127.0.0.1:${port}`);
  const refunds: string[] = [];
  for (let round = 1; round <= 3; round += 1) {
    // Ready at the first try: a failed start rejects here with the service's own words.
    const { child } = await startProcess('main.js', env);
    for (const earlier of refunds) expect((await call('GET', `/v1/refunds/${earlier}`)).body.status).toBe('succeeded');
    const { id } = await refundOf(call, 1_000 + round);
    await untilSucceeded(call, id);
    refunds.push(id);
    signalGroup(child, 'SIGKILL'); // node, PostgreSQL and Temporal at once, as a crash or an OOM kill would
    await new Promise((resolve) => child.once('exit', resolve));
  }
  // As root, the data could not live in the closed DATA_DIR: the note there says where it went.
  expect(existsSync(path.join(dataDir, LOCATION_NOTE))).toBe(process.getuid?.() === 0);
}, 240_000);

/**
 * A PostgreSQL of its own for the test, in a child process of its own (so it can be stopped and
 * started again under the service): ready when it says so, stopped cleanly on SIGTERM.
 */
async function startPostgres(dataDir: string, port: number): Promise<ChildProcess> {
  const script = `
    const { startEmbeddedPostgres } = require('./dist/src/dev/embedded-postgres');
    const { createLogger } = require('./dist/src/logger');
    startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, logger: createLogger({ level: 'warn' }) }).then(async (pg) => {
      await pg.createDatabase('refundflow');
      process.stdout.write('{"msg":"ready"}\\n');
      process.once('SIGTERM', () => pg.stop().then(() => process.exit(0)));
    }, (error) => { console.error(error); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: path.join(__dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(async () => output.includes('"msg":"ready"') || child.exitCode !== null, 60_000, 'PostgreSQL started');
  if (child.exitCode !== null) throw new Error(`PostgreSQL did not start:\n${output}`);
  return child;
}

async function stopPostgres(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
}

describe('PostgreSQL restarted under a running API and worker', () => {
  let postgres: ChildProcess;
  let dataDir: string;
  let pgPort: number;

  beforeAll(async () => {
    dataDir = dataFolder();
    pgPort = await freePort();
    postgres = await startPostgres(dataDir, pgPort);
  }, 60_000);

  afterAll(async () => {
    if (postgres) await stopPostgres(postgres);
  });

  it('both carry on when it is back, no process exits, and every refund is paid once', async () => {
    const port = await freePort();
    const common = { DATABASE_URL: `postgres://postgres:refundflow@127.0.0.1:${pgPort}/refundflow`, TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE: uniqueId('restart'), SANDBOX_SETTLEMENT_DELAY: '0s' };
    const api = await startProcess('api-main.js', { ...common, PORT: String(port) });
    const worker = await startProcess('worker-main.js', { ...common, SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${port}/v1/webhooks/providers` });
    const call = apiCaller(`http://127.0.0.1:${port}`);
    // A process that died says why, rather than leaving a refund that never finishes.
    const bothUp = () => {
      for (const [name, { child, output }] of Object.entries({ api, worker })) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the ${name} exited (${child.exitCode ?? child.signalCode}):\n${output().slice(-6000)}`);
      }
    };
    const before = await refundOf(call, 2_000);
    await untilSucceeded(call, before.id);

    // Refunds keep coming while the database goes away and comes back.
    let stopping = false;
    const attempted: Promise<string | null>[] = [];
    const traffic = (async () => {
      while (!stopping) {
        attempted.push(refundOf(call, 3_000).then((refund) => refund.id, () => null));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stopPostgres(postgres);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    postgres = await startPostgres(dataDir, pgPort);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stopping = true;
    await traffic;

    await eventually(async () => (await call('GET', '/readyz', { key: null }).catch(() => ({ status: 0 }))).status === 200, 30_000, 'the API ready again');
    const after = await refundOf(call, 4_000);
    await untilSucceeded(call, after.id, 60_000, bothUp);
    // Every refund the API said it took is paid, exactly once. A step that failed during the outage
    // is retried with a doubling pause (1 s, 2 s, 4 s, … up to 30 s for a recorded step): on a loaded
    // machine a refund taken mid-outage may need a minute. The sandbox keeps its books in this same
    // database, so the outage may cut a provider call in the middle: the service cannot know whether
    // the provider took it, finds nothing under its key and leaves it to a person, never sending it
    // again by itself (SPEC §3). A person retries it here, and it is paid once.
    const paidFor = async (paymentId: string) =>
      (await call('GET', `/v1/sandbox/providers/card/refunds?paymentId=${paymentId}`)).body.data.map((op: { status: string; amount: number }) => [op.status, op.amount]);
    const taken = (await Promise.all(attempted)).filter((id): id is string => id !== null);
    for (const id of taken) {
      const refund = await untilStatus(call, id, ['succeeded', 'requires_action'], 90_000, bothUp);
      if (refund.status === 'requires_action') {
        expect({ provider: refund.provider.state, step: refund.timeline.at(-1).type, paid: await paidFor(refund.paymentId) }).toEqual({ provider: 'in_doubt', step: 'submission_in_doubt', paid: [] });
        expect((await call('POST', `/v1/refunds/${id}/retry`, { key: 'dev-support', body: {} })).status).toBe(200);
        await untilSucceeded(call, id, 60_000, bothUp);
      }
    }
    for (const id of [before.id, ...taken, after.id]) {
      const refund = (await call('GET', `/v1/refunds/${id}`)).body;
      expect(await paidFor(refund.paymentId)).toEqual([['settled', refund.amount]]);
    }
    expect({ api: api.child.exitCode, worker: worker.child.exitCode }).toEqual({ api: null, worker: null });
    expect(api.output() + worker.output()).not.toMatch(/uncaught|reading 'write'/i);
  }, 180_000);
});
