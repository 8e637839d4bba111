/**
 * The daily reconciliation sweep's side: ask the providers about every attempt of every open
 * refund and report where their books and ours disagree. It changes nothing itself; the
 * reconciliation workflow hands each finding to the refund's own workflow.
 */
import { heartbeat } from '@temporalio/activity';
import { and, asc, eq, gt, inArray, lt, ne, or } from 'drizzle-orm';
import type { Database } from '../src/db/client';
import { providerAttempts, refunds } from '../src/db/schema';
import { providerStateOf, type ProviderRegistry } from '../src/providers/provider';
import { workflowInputOf } from '../src/refunds/create-refund';
import type { ReconciliationFinding, RefundWorkflowInput } from '../workflows/messages';
import type { RefundPolicy } from '../workflows/policy';
import type { ProviderState, RefundStatus } from '../workflows/lifecycle';

/** Refunds whose money may still be moving: the ones worth asking the providers about. */
const OPEN_STATUSES: RefundStatus[] = ['processing', 'awaiting_settlement', 'delayed', 'requires_action', 'correcting'];

export interface ReconciliationBatch {
  /** Continue after this refund id (the sweep pages through open refunds). */
  afterRefundId: string | null;
  limit: number;
}

export interface ReconciliationResult {
  checked: number;
  findings: ReconciliationFinding[];
  /** The last refund checked: the next batch starts after it; null when the sweep is done. */
  nextAfter: string | null;
}

/** What a refund's workflow is started with, besides the refund itself. */
export interface WorkflowDefaults {
  policy: RefundPolicy;
  providerPollIntervalMs: number;
}

/** A workflow that has not written a step this long after its refund was taken was never started. */
const UNSTARTED_AFTER_MS = 10 * 60_000;

export function createReconciliationActivities(db: Database, providers: ProviderRegistry, defaults: WorkflowDefaults) {
  return {
    /**
     * Refunds taken in the database whose workflow never started (the process died between the
     * commit and the start, and the client never retried): their amounts are held and nobody would
     * ever send them. Recognised by never having recorded a step long after they should have.
     */
    async findUnstartedRefunds(): Promise<RefundWorkflowInput[]> {
      const rows = await db
        .select()
        .from(refunds)
        .where(
          and(
            eq(refunds.workflowSeq, 0),
            or(
              and(eq(refunds.status, 'processing'), lt(refunds.createdAt, new Date(Date.now() - UNSTARTED_AFTER_MS))),
              // Held for approval, a workflow's first step is the reminder.
              and(eq(refunds.status, 'pending_approval'), lt(refunds.createdAt, new Date(Date.now() - defaults.policy.approvalReminderMs - UNSTARTED_AFTER_MS))),
            ),
          ),
        )
        .orderBy(asc(refunds.createdAt))
        .limit(500);
      return rows.map((refund) => workflowInputOf(refund, defaults));
    },

    async reconcileOpenRefunds({ afterRefundId, limit }: ReconciliationBatch): Promise<ReconciliationResult> {
      const open = await db
        .select({ id: refunds.id })
        .from(refunds)
        .where(and(inArray(refunds.status, OPEN_STATUSES), afterRefundId ? gt(refunds.id, afterRefundId) : undefined))
        .orderBy(asc(refunds.id))
        .limit(limit);
      const findings: ReconciliationFinding[] = [];
      for (const { id } of open) {
        const attempts = await db
          .select()
          .from(providerAttempts)
          .where(and(eq(providerAttempts.refundId, id), ne(providerAttempts.state, 'not_sent')))
          .orderBy(asc(providerAttempts.attempt));
        for (const attempt of attempts) {
          const found = await providers[attempt.provider].findRefund(attempt.idempotencyKey);
          const theirs: ProviderState | 'missing' = found ? providerStateOf(found) : 'missing';
          if (!agree(attempt.state, theirs)) {
            findings.push({ refundId: id, attempt: attempt.attempt, provider: attempt.provider, ours: attempt.state, theirs, reference: found?.reference ?? null });
          }
        }
        heartbeat(id);
      }
      return { checked: open.length, findings, nextAfter: open.length === limit ? open[open.length - 1]!.id : null };
    },
  };
}

/** Whether our record of an attempt and the provider's say the same thing. */
function agree(ours: ProviderState, theirs: ProviderState | 'missing'): boolean {
  if (ours === theirs) return true;
  // In doubt means "we do not know yet": whatever the provider holds is the answer, not a conflict.
  if (ours === 'in_doubt') return true;
  // A declined submission left nothing at the provider, or a failed record there.
  return ours === 'failed' && theirs === 'missing';
}
