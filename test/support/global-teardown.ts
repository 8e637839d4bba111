import { rmSync } from 'node:fs';
import { failedRuns } from './failed-runs';

export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__refundflowServers;
  if (!servers) return;
  // Every integration test ran its refunds on this server: not one run may have failed.
  const failed = await failedRuns(servers.temporal.address).catch((error: Error) => [`could not ask Temporal: ${error.message}`]);
  await servers.temporal.stop();
  await servers.postgres.stop();
  rmSync(servers.dataDir, { recursive: true, force: true });
  if (failed.length > 0) throw new Error(`workflow runs failed during the suite:\n${failed.join('\n')}`);
}
