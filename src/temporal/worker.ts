/**
 * A refunds worker: the refund workflow and its activities on the task queue, plus the loops that
 * belong beside them (the workflow-start outbox relay, the notification outbox, and the sandbox
 * banks while sandboxes are active).
 * Workers scale out by running more of these; the loops claim their rows with SKIP LOCKED.
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Config, WorkerTuning } from '../config';
import type { Database } from '../db/client';
import { destinationSeal } from '../destination-seal';
import { fieldSealOf } from '../field-seal';
import { purgeExpiredIdempotencyKeys } from '../db/queries/refunds';
import { purgeStaleFailedAttempts } from '../db/queries/failed-attempts';
import { startPollingLoop } from '../polling-loop';
import type { Logger } from '../logger';
import { channelTransport, gatewayTransport, logTransport, NotificationDispatcher, smtpTransport } from '../notifications/dispatcher';
import { merchantProviders } from '../providers/merchant-providers';
import { createProviders } from '../providers/registry';
import { httpNoticeTransport, SandboxBank, type NoticeTransport } from '../providers/sandbox/sandbox-bank';
import { prebuiltBundleExists, WORKFLOW_BUNDLE_PATH, WORKFLOWS_ENTRY } from './workflow-bundle';
import { WorkflowStartRelay } from './workflow-start-relay';

const PURGE_BATCH = 5_000;

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after `stop()` or a fatal error). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startRefundWorker(options: {
  config: Config;
  db: Database;
  connection: NativeConnection;
  /** For the outbox relay, which starts refund workflows the API could not. */
  temporal: Client;
  logger: Logger;
  /** Tests hand sandbox webhooks to their own receiver; by default they go to our API over HTTP. */
  noticeTransport?: NoticeTransport;
}): Promise<RunningWorker> {
  const { config, db, connection, logger, temporal } = options;
  const defaults = { policy: config.policy, providerPollIntervalMs: config.providerPollIntervalMs, merchantWebhooks: config.merchantWebhooks };
  const fields = fieldSealOf(config);
  const providers = merchantProviders(db, fields, config.providers, createProviders(config.providers, db, config.sandbox));
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    activities: createActivities({
      db,
      providers,
      utcOffsetMinutes: config.policy.utcOffsetMinutes,
      merchantWebhooks: config.merchantWebhooks,
      merchantWebhookSecret: config.merchantWebhookSecret,
      seal: destinationSeal(config.destinationSealKey),
      fields,
    }),
    ...workerSlots(config.worker),
    // A workflow task waits this long for the worker that has the refund cached before any worker
    // takes it (and replays its history): a worker killed with refunds in its cache holds them up
    // this long, not the SDK's default 10 s.
    stickyQueueScheduleToStartTimeout: '3s',
    ...(prebuiltBundleExists() ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } } : { workflowsPath: WORKFLOWS_ENTRY }),
  });
  // The sandbox's back office runs only where the sandbox is part of the deployment.
  const bank = config.sandbox.enabled ? new SandboxBank({
    db,
    timing: config.sandbox,
    webhookSecret: config.providerWebhookSecret,
    transport: options.noticeTransport ?? httpNoticeTransport(config.sandbox.webhookUrl ?? `http://127.0.0.1:${config.port}/v1/webhooks/providers`),
    logger: logger.child({ component: 'sandbox-bank' }),
  }) : null;
  const toLog = logTransport(logger.child({ component: 'notifications' }));
  const transport = channelTransport({
    email: config.smtpUrl ? smtpTransport(config.smtpUrl, config.smtpFrom) : toLog,
    // Where an SMS gateway plugs in: it gets each message as JSON with an idempotency key.
    sms: config.smsGatewayUrl ? gatewayTransport(config.smsGatewayUrl) : toLog,
  });
  const dispatcher = new NotificationDispatcher(db, fields, transport, logger);
  const relay = new WorkflowStartRelay({ db, temporal, taskQueue: config.taskQueue, defaults, logger: logger.child({ component: 'workflow-start-relay' }) });
  // Idempotency records past their 24 hours: purged in the background, a batch after another while
  // they fill one; and failed sign-ins and unknown keys of sources quiet for a day.
  const purge = async () => {
    while ((await purgeExpiredIdempotencyKeys(db, PURGE_BATCH)) === PURGE_BATCH);
    await purgeStaleFailedAttempts(db);
  };
  bank?.start();
  dispatcher.start();
  relay.start();
  const purging = startPollingLoop('purge of expired records', purge, 60_000, logger);
  const done = worker.run().finally(() => Promise.all([bank?.stop(), dispatcher.stop(), relay.stop(), purging.stop()]));
  return {
    worker,
    done: done.then(() => undefined),
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/** The worker's slots, its activity polls among them, as the configuration sizes them. */
export function workerSlots(tuning: WorkerTuning): Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'activityTaskPollerBehavior' | 'maxConcurrentLocalActivityExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'> {
  return {
    // The worker's database pool has a connection for every slot (workerPoolSize).
    maxConcurrentActivityTaskExecutions: tuning.activitySlots,
    // Each poll holds a slot while it waits. The SDK's default (as many polls as slots, up to 10)
    // leaves too few slots free for eager dispatch, and a provider call not taken straight from its
    // workflow task waits for the server to match it (100–270 ms under `npm run bench`): a fifth
    // of the slots polls (what other workers and retries send), at least one. Set as the poller
    // behaviour: the SDK (1.24) reads `maxConcurrentActivityTaskPolls` nowhere.
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: Math.max(1, Math.ceil(tuning.activitySlots / 5)) },
    maxConcurrentLocalActivityExecutions: tuning.localActivitySlots,
    maxConcurrentWorkflowTaskExecutions: tuning.workflowTaskSlots,
    ...(tuning.cachedWorkflows !== undefined ? { maxCachedWorkflows: tuning.cachedWorkflows } : {}),
  };
}
