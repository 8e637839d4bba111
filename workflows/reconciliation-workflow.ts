/**
 * The daily reconciliation sweep, started by a Temporal Schedule: every open refund's provider
 * attempts are checked against the providers' books, and each disagreement is handed to the
 * refund's workflow, which flags it (`needsAttention`) with the evidence in its timeline.
 */
import { getExternalWorkflowHandle, log, proxyActivities } from '@temporalio/workflow';
import type { RefundActivities } from '../activities';
import type { ReconciliationResult, UnansweredAttempt } from '../activities/reconciliation-activities';
import { reconciliationFindingSignal, type ReconciliationFinding } from './messages';

const { reconcileOpenRefunds } = proxyActivities<RefundActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 10 },
});

const BATCH = 200;

export interface ReconciliationSummary {
  checked: number;
  findings: ReconciliationFinding[];
  /** Attempts no provider answer could be relied on for: left to the next sweep. */
  unanswered: UnansweredAttempt[];
}

export async function reconciliationWorkflow(): Promise<ReconciliationSummary> {
  const summary: ReconciliationSummary = { checked: 0, findings: [], unanswered: [] };
  let afterRefundId: string | null = null;
  do {
    const batch: ReconciliationResult = await reconcileOpenRefunds({ afterRefundId, limit: BATCH });
    summary.checked += batch.checked;
    summary.unanswered.push(...batch.unanswered);
    for (const finding of batch.findings) {
      summary.findings.push(finding);
      try {
        await getExternalWorkflowHandle(`refund-${finding.refundId}`).signal(reconciliationFindingSignal, finding);
      } catch (error) {
        log.warn('refund workflow not reachable for a reconciliation finding', { refundId: finding.refundId, error: String(error) });
      }
    }
    afterRefundId = batch.nextAfter;
  } while (afterRefundId !== null);
  return summary;
}
