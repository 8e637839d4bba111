import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { destinationSeal } from '../destination-seal';
import { fieldSealOf } from '../field-seal';
import { createApp } from './app';
import { keyRing } from './auth';
import { merchantProviders } from '../providers/merchant-providers';
import { createProviders } from '../providers/registry';
import { createApiMetrics } from './metrics';

export interface RunningApi {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startApiServer(options: { config: Config; db: Database; temporal: Client; logger: Logger; port?: number }): Promise<RunningApi> {
  const { config, db, temporal } = options;
  const fields = fieldSealOf(config);
  const deployment = createProviders(config.providers, db, config.sandbox);
  const refunds = {
    db,
    temporal,
    taskQueue: config.taskQueue,
    routes: config.providers.routes,
    voidsCardSales: deployment.card.voids === true,
    policy: config.policy,
    providerPollIntervalMs: config.providerPollIntervalMs,
    merchantWebhooks: config.merchantWebhooks,
    fields,
  };
  const app = createApp({ ...options, metrics: createApiMetrics(), seal: destinationSeal(config.destinationSealKey), fields, refunds, keys: keyRing(db, config.apiKeys), providers: merchantProviders(db, fields, config.providers, deployment) });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port ?? options.config.port, options.config.host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    // Where this machine reaches it: loopback when it listens on every interface.
    url: `http://${['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
