/**
 * Activities that keep our records in step with the workflow: the read model support staff search,
 * the audit trail, and the payment's totals. Each is keyed by refund and workflow step, so a retry
 * writes nothing twice.
 */
import type { Database } from '../src/db/client';
import {
  applyWorkflowStep,
  releaseReservation,
  reopenSettledReservation,
  settleReservation,
  type RefundChanges,
} from '../src/db/queries/refunds';
import type { ApprovalRecord } from '../src/db/schema';
import type { Actor, ProviderName, ProviderState, RefundStatus } from '../workflows/lifecycle';

/** Fields of the refund a workflow step may change; instants as ISO strings (history is JSON). */
export interface RefundStepChanges {
  status?: RefundStatus;
  provider?: ProviderName;
  providerAttempt?: number;
  providerState?: ProviderState;
  providerReference?: string | null;
  traceReference?: string | null;
  needsAttention?: boolean;
  approvals?: ApprovalRecord[];
  approvalDueAt?: string | null;
  settlementDueAt?: string | null;
  expectedArrivalAt?: string | null;
  hardDeadlineAt?: string | null;
  settledAt?: string | null;
}

export interface RefundStep {
  refundId: string;
  /** The workflow's step counter: orders writes and names the event for deduplication. */
  seq: number;
  type: string;
  actor: Actor;
  detail?: Record<string, unknown>;
  changes: RefundStepChanges;
}

const INSTANT_FIELDS = ['approvalDueAt', 'settlementDueAt', 'expectedArrivalAt', 'hardDeadlineAt', 'settledAt'] as const;

export function createRecordActivities(db: Database) {
  return {
    async recordRefundStep(step: RefundStep): Promise<void> {
      const changes: RefundChanges = { ...step.changes } as RefundChanges;
      for (const field of INSTANT_FIELDS) {
        const value = step.changes[field];
        if (value !== undefined) changes[field] = value === null ? null : new Date(value);
      }
      await applyWorkflowStep(db, step.refundId, step.seq, changes, {
        eventKey: `step-${step.seq}`,
        type: step.type,
        actor: step.actor,
        detail: { ...step.detail, ...(step.changes.status ? { status: step.changes.status } : {}) },
      });
    },

    /** The money arrived: the reserved amount becomes refunded and the order's status follows. */
    async settleRefundAmount(refundId: string): Promise<void> {
      await settleReservation(db, refundId);
    },

    /** The bank returned the money: the amount is held again and the order reopened. */
    async reopenRefundAmount(refundId: string): Promise<void> {
      await reopenSettledReservation(db, refundId);
    },

    /** The refund closed without paying out: what it held goes back to the payment. */
    async releaseRefundAmount(refundId: string): Promise<void> {
      await releaseReservation(db, refundId);
    },
  };
}
