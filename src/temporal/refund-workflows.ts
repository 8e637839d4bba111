/**
 * How the service starts and talks to refund workflows: the one place that knows workflow ids,
 * the task queue and the search attributes a refund starts with.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { refundWorkflowId } from '../ids';
import type { RefundWorkflowInput } from '../../workflows/messages';
import { initialSearchAttributes } from '../../workflows/search-attributes';
import { refundDetails, refundSummary } from '../../workflows/temporal-ui';

export const REFUND_WORKFLOW_TYPE = 'refundWorkflow';

/** How long a caller waits for Temporal to take a start before the outbox relay is left to do it. */
export const START_DEADLINE_MS = 5_000;

/**
 * Starts the refund's workflow, or does nothing if it runs or ran already: the API after its
 * commit and the outbox relay may both try, and never start a second one. Gives up after
 * `deadlineMs` (Temporal unreachable): the refund's outbox row stays, and the relay tries again.
 */
export async function startRefundWorkflow(client: Client, taskQueue: string, input: RefundWorkflowInput, deadlineMs = START_DEADLINE_MS): Promise<void> {
  try {
    await client.connection.withDeadline(Date.now() + deadlineMs, () =>
      client.workflow.start(REFUND_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: refundWorkflowId(input.refundId),
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        // A refund runs once: a closed workflow is never started again under the same id.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: initialSearchAttributes(input),
        // What the Web UI shows in its list and on the workflow's page: a refund, not a bare id.
        staticSummary: refundSummary(input),
        staticDetails: refundDetails(input),
        // Where this process runs a worker on the same (native) connection, its first task comes back with the start.
        requestEagerStart: client.connection instanceof NativeConnection,
      }),
    );
  } catch (error) {
    // The workflow already ran to its end: the refund is past needing a start.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export function refundHandle(client: Client, refundId: string) {
  return client.workflow.getHandle(refundWorkflowId(refundId));
}
