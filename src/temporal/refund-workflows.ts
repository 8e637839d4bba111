/**
 * How the service starts and talks to refund workflows: the one place that knows workflow ids,
 * the task queue and the search attributes a refund starts with.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { refundWorkflowId } from '../ids';
import type { RefundWorkflowInput } from '../../workflows/messages';
import { initialSearchAttributes } from '../../workflows/search-attributes';

export const REFUND_WORKFLOW_TYPE = 'refundWorkflow';

/**
 * Starts the refund's workflow, or does nothing if it already runs: a request retried after a
 * crash between our database commit and this call starts it then, and never a second one.
 */
export async function ensureRefundWorkflow(client: Client, taskQueue: string, input: RefundWorkflowInput): Promise<void> {
  try {
    await client.workflow.start(REFUND_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: refundWorkflowId(input.refundId),
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      // A refund runs once: a closed workflow is never started again under the same id.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: initialSearchAttributes(input),
    });
  } catch (error) {
    // The workflow already ran to its end: the refund is past needing a start.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export function refundHandle(client: Client, refundId: string) {
  return client.workflow.getHandle(refundWorkflowId(refundId));
}
