/**
 * The Temporal Schedule that runs the reconciliation sweep every day. Created when a worker
 * starts, if it does not exist yet; its cadence is RECONCILIATION_CRON.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export const reconciliationScheduleId = (taskQueue: string) => `refund-reconciliation-${taskQueue}`;

export async function ensureReconciliationSchedule(client: Client, taskQueue: string, cron: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: reconciliationScheduleId(taskQueue),
      spec: { cronExpressions: [cron] },
      // One sweep at a time: a slow one is not overtaken by the next.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      action: {
        type: 'startWorkflow',
        workflowType: 'reconciliationWorkflow',
        taskQueue,
        workflowId: `reconciliation-${taskQueue}`,
      },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}
