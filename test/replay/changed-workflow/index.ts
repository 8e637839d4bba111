/**
 * A deliberately changed refund workflow: it records a step before it submits to the provider,
 * an order no recorded history has. Replaying the recorded histories with it must fail, which
 * proves the replay tests can catch a change that would break refunds already running.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RefundActivities } from '../../../activities';
import type { RefundWorkflowInput } from '../../../workflows/messages';

const { recordRefundSteps, submitRefundToProvider } = proxyActivities<RefundActivities>({ startToCloseTimeout: '30s' });

export async function refundWorkflow(input: RefundWorkflowInput): Promise<void> {
  await recordRefundSteps([{ refundId: input.refundId, seq: 1, type: 'unpatched_new_step', actor: { principal: 'x', role: 'system' }, changes: {} }]);
  await submitRefundToProvider({ refundId: input.refundId, attempt: 1 });
}
