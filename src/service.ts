/**
 * Starting the service: the embedded servers where no external ones are configured, then the
 * database migrations, then the worker and/or the API. Everything started is stopped in reverse
 * order by `stop()`, which the entry points call on Ctrl-C or SIGTERM.
 */
import type { Client } from '@temporalio/client';
import { startApiServer } from './api/server';
import { workerPoolSize, type Config } from './config';
import { connectDatabase, migrateDatabase, SERVICE_ROLE } from './db/client';
import { sealAccountsAtRest } from './db/queries/sealed-accounts';
import { alignReportCalendar } from './db/queries/report-calendar';
import { fieldSealOf } from './field-seal';
import { startEmbeddedPostgres } from './dev/embedded-postgres';
import { choosePort } from './dev/ports';
import { startTemporalDevServer } from './dev/temporal-dev-server';
import type { Logger } from './logger';
import { connectTemporal, installTemporalLogging } from './temporal/connect';
import { ensureReconciliationSchedule } from './temporal/reconciliation-schedule';
import { startRefundWorker } from './temporal/worker';

export interface ServiceParts {
  api: boolean;
  worker: boolean;
  /** Start embedded PostgreSQL / Temporal when DATABASE_URL / TEMPORAL_ADDRESS are absent. */
  embedded: boolean;
  /** Route the Temporal SDK's logs through ours (once per process; tests leave it alone). */
  installSdkLogging?: boolean;
}

export interface RunningService {
  apiUrl: string | null;
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  temporal: Client;
  stop(): Promise<void>;
}

export async function startService(baseConfig: Config, logger: Logger, parts: ServiceParts): Promise<RunningService> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch((error) => logger.warn('stopping failed', { error: String(error) }));
  };
  try {
    const config = baseConfig;
    let databaseUrl = config.databaseUrl;
    let temporalAddress = config.temporalAddress;
    let temporalUiUrl: string | null = null;

    if (!databaseUrl || !temporalAddress) {
      if (!parts.embedded) throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set (or run `npm start` for the embedded stack)');
      if (config.production) throw new Error('NODE_ENV=production needs DATABASE_URL and TEMPORAL_ADDRESS: embedded servers are for development');
    }
    let ownerUrl = config.databaseOwnerUrl;
    let embeddedPostgres: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
    if (!databaseUrl) {
      const postgres = (embeddedPostgres = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, logger }));
      stops.push(() => postgres.stop());
      await postgres.createDatabase('refundflow');
      ownerUrl = databaseUrl = postgres.databaseUrl('refundflow');
      logger.info('embedded PostgreSQL started', { port: postgres.port, databaseDir: postgres.databaseDir });
    }
    if (!temporalAddress) {
      const temporal = await startTemporalDevServer({
        dataDir: config.dataDir,
        port: config.temporalDevPort,
        uiPort: config.temporalUiPort,
        cliPath: config.temporalCliPath,
        logger,
      });
      stops.push(() => temporal.stop());
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
      logger.info('Temporal dev server started', { address: temporal.address, webUi: temporal.uiUrl });
    }
    // The owner migrates; the service works as its own login, which can change no schema nor any audit row.
    const migrating = config.migrateOnStart || embeddedPostgres !== undefined;
    if (migrating) await migrateDatabase(ownerUrl ?? databaseUrl, { sandbox: config.sandbox.enabled });
    if (embeddedPostgres) databaseUrl = await embeddedPostgres.serviceLogin('refundflow', SERVICE_ROLE);
    else if (config.migrateOnStart && !ownerUrl && config.production) logger.warn('DATABASE_OWNER_URL is not set: the service migrates as its own login, which can then change the schema and the audit trail');
    // The API and the worker each have their own pool, so neither waits on the other's connections.
    const database = connectDatabase(databaseUrl, { max: config.databasePoolSize });
    stops.push(() => database.close());
    // With the migrations, once per deployment (not in every worker): account numbers still in the
    // clear (a database from before sealing) or under an older key are sealed now.
    if (migrating) {
      const resealed = await sealAccountsAtRest(database.db, fieldSealOf(config));
      if (resealed > 0) logger.info('account numbers sealed at rest', { rows: resealed });
    }
    // Every process, as every process reads the offset from its configuration: the reports' rollups
    // count on the business day this deployment is configured with.
    if (await alignReportCalendar(database.db, config.policy.utcOffsetMinutes)) {
      logger.info('report rollups rebuilt for the business day offset', { utcOffsetMinutes: config.policy.utcOffsetMinutes });
    }
    // Before the first native connection: the SDK's runtime takes its logger once.
    if (parts.installSdkLogging !== false) installTemporalLogging(logger, config.logLevel === 'debug' ? 'INFO' : 'WARN');
    const { connection, client: temporal } = await connectTemporal(temporalAddress, config.temporalNamespace, config.temporalSecurity);
    stops.push(() => connection.close());

    let apiUrl: string | null = null;
    if (parts.api) {
      // PORT when set; otherwise 3000, or a free port when 3000 is taken.
      const port = process.env.PORT === undefined ? await choosePort(undefined, config.port) : config.port;
      const api = await startApiServer({ config, db: database.db, temporal, logger: logger.child({ component: 'api' }), port });
      stops.push(() => api.stop());
      apiUrl = api.url;
      logger.info('API listening', { url: apiUrl });
    }
    if (parts.worker) {
      // The sandbox banks post their webhooks to this process's API unless told otherwise.
      const webhookUrl = config.sandbox.webhookUrl ?? `${apiUrl ?? `http://127.0.0.1:${config.port}`}/v1/webhooks/providers`;
      const workerDatabase = connectDatabase(databaseUrl, { max: workerPoolSize(config.worker) });
      stops.push(() => workerDatabase.close());
      const worker = await startRefundWorker({
        config: { ...config, sandbox: { ...config.sandbox, webhookUrl } },
        db: workerDatabase.db,
        connection,
        temporal,
        logger: logger.child({ component: 'worker' }),
      });
      stops.push(() => worker.stop());
      await ensureReconciliationSchedule(temporal, config.taskQueue, config.reconciliationCron);
      logger.info('worker polling', { taskQueue: config.taskQueue, reconciliation: config.reconciliationCron });
    }
    return { apiUrl, databaseUrl, temporalAddress, temporalUiUrl, temporal, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs until Ctrl-C or SIGTERM, then stops everything it started and exits. */
export async function runUntilSignalled(start: () => Promise<RunningService>, logger: Logger): Promise<void> {
  const began = Date.now();
  let service: RunningService;
  try {
    service = await start();
  } catch (error) {
    logger.error('could not start', { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  logger.info('ready', {
    seconds: Number(((Date.now() - began) / 1000).toFixed(1)),
    api: service.apiUrl,
    temporal: service.temporalAddress,
    temporalWebUi: service.temporalUiUrl,
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn('stopping now', { signal });
      process.exit(1); // a second Ctrl-C; the exit hooks still stop the embedded servers
    }
    stopping = true;
    logger.info('stopping', { signal });
    setTimeout(() => {
      logger.error('stopping took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000).unref();
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
