/**
 * Approval: a refund held for one or two supervisors, reminded at REFUND_APPROVAL_REMINDER,
 * escalated at REFUND_APPROVAL_ESCALATE, expired at REFUND_APPROVAL_TIMEOUT. Approve and reject
 * are Updates whose validators (workflows/decision-rules.ts) refuse what the state, the role or
 * maker-checker forbid before anything enters history.
 */
import { workflowInfo } from '@temporalio/workflow';
import { approvedToPay } from './decision-rules';
import type { ApprovalDecision, ApproveRequest, RejectRequest } from './messages';
import { actorOf, iso, type RefundRun } from './refund-run';

/** Holds the refund until it is approved, rejected, canceled or expired. */
export async function awaitApproval(run: RefundRun): Promise<void> {
  const { policy } = run.input;
  // Counted on the workflow's own clock from its start (the API's createdAt is the same moment, give or take milliseconds).
  const createdAt = workflowInfo().startTime.getTime();
  const pending = () => run.state.status === 'pending_approval';

  if (!(await run.waitUntil(() => !pending(), createdAt + policy.approvalReminderMs))) {
    await run.exclusive('approval_reminder', async () => {
      if (pending()) await run.step('approval_reminder', undefined, {}, { tellStaff: { kind: 'approval_reminder', noticeKey: 'approval-reminder', to: [] } });
    });
  }
  if (pending() && !(await run.waitUntil(() => !pending(), createdAt + policy.approvalEscalateMs))) {
    await run.exclusive('approval_escalation', async () => {
      if (!pending()) return;
      await run.step('approval_escalated', undefined, { needsAttention: true }, {
        tellStaff: { kind: 'approval_escalated', noticeKey: 'approval-escalated', to: policy.escalationPrincipals },
        detail: { escalatedTo: policy.escalationPrincipals },
      });
    });
  }
  if (pending() && !(await run.waitUntil(() => !pending(), createdAt + policy.approvalTimeoutMs))) {
    // An approval racing the expiry: whichever took the lock first is the one that happened.
    await run.exclusive('approval_expiry', async () => {
      if (!pending()) return;
      await run.step('approval_expired', 'expired', { needsAttention: false, reservation: 'released' }, {
        paymentShift: { reserved: -run.state.books.reserved, refunded: 0 },
        notify: { template: 'refund_expired', noticeKey: 'expired' },
      });
    });
  }
}

export async function approve(run: RefundRun, request: ApproveRequest): Promise<void> {
  const approvals = [...run.state.approvals, decision(request.principal, 'approved', request.comment ?? null)];
  const enough = approvedToPay({ requiredApprovals: run.input.requiredApprovals, approvals });
  await run.step(
    enough ? 'approved' : 'approval_recorded',
    enough ? 'processing' : undefined,
    { approvals, ...(enough ? { needsAttention: false } : {}) },
    { actor: actorOf(request), detail: { approvals: approvals.length, required: run.input.requiredApprovals } },
  );
  run.state.approvals = approvals;
}

export async function reject(run: RefundRun, request: RejectRequest): Promise<void> {
  const approvals = [...run.state.approvals, decision(request.principal, 'rejected', request.reason)];
  await run.step('rejected', 'rejected', { approvals, needsAttention: false, reservation: 'released' }, {
    actor: actorOf(request),
    detail: { reason: request.reason },
    paymentShift: { reserved: -run.state.books.reserved, refunded: 0 },
    notify: { template: 'refund_rejected', noticeKey: 'rejected', reasonGiven: request.reason },
  });
  run.state.approvals = approvals;
}

export function decision(principal: string, kind: ApprovalDecision['decision'], comment: string | null): ApprovalDecision {
  return { principal, decision: kind, comment, at: iso(Date.now()) };
}
