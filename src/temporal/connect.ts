import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { TemporalSecurity } from '../config';
import type { Logger } from '../logger';

export interface TemporalConnection {
  /** The one connection of the process: its client's and its worker's. */
  connection: NativeConnection;
  client: Client;
}

/**
 * One connection to Temporal for the whole process, once the server answers (a freshly started
 * server takes a moment to serve its namespace). The client and the worker share it: the SDK's
 * native (Rust) connection keeps gRPC off the API's event loop, and a client that shares its
 * worker's connection can ask for eager workflow starts — the new refund's first workflow task
 * comes back with the start, to this process's worker, without a trip through the task queue.
 */
export async function connectTemporal(
  address: string,
  namespace: string,
  security: TemporalSecurity = { tls: null },
  timeoutMs = 60_000,
): Promise<TemporalConnection> {
  const deadline = Date.now() + timeoutMs;
  const tls = security.tls
    ? {
        serverNameOverride: security.tls.serverName,
        serverRootCACertificate: security.tls.serverCa ? Buffer.from(security.tls.serverCa) : undefined,
        clientCertPair: security.tls.clientCert ? { crt: Buffer.from(security.tls.clientCert.crt), key: Buffer.from(security.tls.clientCert.key) } : undefined,
      }
    : false;
  for (;;) {
    try {
      const connection = await NativeConnection.connect({ address, tls, apiKey: security.apiKey });
      try {
        await connection.workflowService.describeNamespace({ namespace });
      } catch (error) {
        await connection.close();
        throw error;
      }
      return { connection, client: new Client({ connection, namespace }) };
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} not ready: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Routes the Temporal SDK's own log lines through our JSON logger (and so through masking). */
export function installTemporalLogging(logger: Logger, level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'WARN'): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
      const method = entryLevel === 'ERROR' ? 'error' : entryLevel === 'WARN' ? 'warn' : entryLevel === 'INFO' ? 'info' : 'debug';
      sdk[method](message, meta);
    }),
  });
}
