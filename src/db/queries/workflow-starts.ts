import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { prepared } from '../prepared';
import { workflowStarts } from '../schema';

/** The refund's workflow runs: its start order is done. */
export async function markWorkflowStarted(db: Executor, refundId: string): Promise<void> {
  await workflowStarted(db, { refundId });
}

const workflowStarted = prepared('workflow_started', (db) =>
  db
    .update(workflowStarts)
    .set({ startedAt: sql`now()`, attempts: sql`${workflowStarts.attempts} + 1` })
    .where(and(eq(workflowStarts.refundId, sql.placeholder('refundId')), isNull(workflowStarts.startedAt))),
);
