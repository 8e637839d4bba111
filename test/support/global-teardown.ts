import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__refundflowServers;
  if (!servers) return;
  await servers.temporal.stop();
  await servers.postgres.stop();
  rmSync(servers.dataDir, { recursive: true, force: true });
}
