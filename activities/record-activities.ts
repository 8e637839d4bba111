/**
 * The activity that writes a workflow step down. One step is one database transaction: the audit
 * event, the refund's read model, any money it moves on the payment, and the customer's message.
 * Keyed by refund and step number, so a retry writes nothing twice and a late retry of an older
 * step cannot overwrite a newer one.
 */
import type { Database } from '../src/db/client';
import { applyWorkflowStep, type RefundChanges } from '../src/db/queries/refunds';
import type { ApprovalRecord, CorrectionRecord } from '../src/db/schema';
import { queueCustomerNotice, queueStaffNotice, type CustomerNotice, type StaffNotice } from '../src/notifications/step-notices';
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
  amount?: number;
  netAmount?: number;
  corrections?: CorrectionRecord[];
}

/**
 * What a step does to the payment's totals:
 * settle: the money arrived, reserved → refunded; release: closed without paying, reserved → free;
 * reopen: the bank sent settled money back, refunded → reserved again.
 */
export type ReservationMove = 'settle' | 'release' | 'reopen';

export interface RefundStep {
  refundId: string;
  /** The workflow's step counter: orders writes and names the event for deduplication. */
  seq: number;
  type: string;
  actor: Actor;
  detail?: Record<string, unknown>;
  changes: RefundStepChanges;
  reservation?: ReservationMove;
  /** The refund now pays through this provider attempt (after a retry). */
  switchToAttempt?: number;
  /** Moves the payment's refunded/reserved totals by parts of the refund (corrections). */
  paymentShift?: { refunded: number; reserved: number };
  notify?: CustomerNotice;
  /** Supervisors to tell (approval reminders and escalations). */
  tellStaff?: StaffNotice;
}

const INSTANT_FIELDS = ['approvalDueAt', 'settlementDueAt', 'expectedArrivalAt', 'hardDeadlineAt', 'settledAt'] as const;

export function createRecordActivities(db: Database, utcOffsetMinutes: number) {
  return {
    async recordRefundStep(step: RefundStep): Promise<void> {
      const changes = { ...step.changes } as RefundChanges;
      for (const field of INSTANT_FIELDS) {
        const value = step.changes[field];
        if (value !== undefined) changes[field] = value === null ? null : new Date(value);
      }
      await applyWorkflowStep(
        db,
        step.refundId,
        step.seq,
        changes,
        {
          eventKey: `step-${step.seq}`,
          type: step.type,
          actor: step.actor,
          detail: { ...step.detail, ...(step.changes.status ? { status: step.changes.status } : {}) },
        },
        {
          reservation: step.reservation,
          switchToAttempt: step.switchToAttempt,
          paymentShift: step.paymentShift,
          alsoWrite: async (tx) => {
            if (step.notify) await queueCustomerNotice(tx, step.refundId, step.notify, utcOffsetMinutes);
            if (step.tellStaff) await queueStaffNotice(tx, step.refundId, step.tellStaff);
          },
        },
      );
    },
  };
}
