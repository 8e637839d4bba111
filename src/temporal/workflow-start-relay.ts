/**
 * The outbox relay: starts the workflow of every refund whose start order (written in the
 * refund's own transaction) is still open a few seconds after it was written — the API died
 * between its commit and the start, or Temporal was unreachable. Runs beside each worker; several
 * relays share the rows through SKIP LOCKED. A refund is never left without its workflow for
 * longer than Temporal is away plus a few seconds, with no client retry and no daily sweep.
 */
import type { Client } from '@temporalio/client';
import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { refunds, workflowStarts } from '../db/schema';
import { errorFields, type Logger } from '../logger';
import { findMerchant } from '../db/queries/merchants';
import { workflowInputOf, type WorkflowDefaults } from '../refunds/create-refund';
import { markWorkflowStarted } from '../db/queries/workflow-starts';
import { startPollingLoop, type PollingLoop } from '../polling-loop';
import { startRefundWorkflow } from './refund-workflows';

/** The API's own start normally lands well within this; the relay takes what it did not. */
const GRACE_MS = 3_000;

export class WorkflowStartRelay {
  private loop?: PollingLoop;

  constructor(
    private readonly options: { db: Database; temporal: Client; taskQueue: string; defaults: WorkflowDefaults; logger: Logger; tickMs?: number },
  ) {}

  start(): void {
    this.loop = startPollingLoop('workflow start relay', () => this.relay(), this.options.tickMs ?? 1_000, this.options.logger);
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One pass: start what is owed, oldest first. Returns how many were started. */
  async relay(): Promise<number> {
    const { db, temporal, taskQueue, defaults, logger } = this.options;
    return db.transaction(async (tx) => {
      const owed = await tx
        .select({ refund: refunds })
        .from(workflowStarts)
        .innerJoin(refunds, eq(refunds.id, workflowStarts.refundId))
        .where(and(isNull(workflowStarts.startedAt), lt(workflowStarts.createdAt, sql`now() - ${`${GRACE_MS} milliseconds`}::interval`)))
        .orderBy(asc(workflowStarts.createdAt))
        .limit(50)
        .for('update', { of: workflowStarts, skipLocked: true });
      let started = 0;
      for (const { refund } of owed) {
        try {
          await startRefundWorkflow(temporal, taskQueue, workflowInputOf(refund, defaults, await findMerchant(tx, refund.merchantId)));
          await markWorkflowStarted(tx, refund.id);
          started += 1;
        } catch (error) {
          await tx
            .update(workflowStarts)
            .set({ attempts: sql`${workflowStarts.attempts} + 1`, lastError: (error as Error).message })
            .where(eq(workflowStarts.refundId, refund.id));
          logger.warn('refund workflow not started yet', { refundId: refund.id, ...errorFields(error) });
          break; // Temporal is away: the rest wait for the next pass
        }
      }
      return started;
    });
  }
}
