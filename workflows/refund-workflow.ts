/**
 * One refund, from the moment it is requested until the money has arrived and the customer has
 * been followed up. Deterministic: every side effect is an activity, every wait a Temporal timer
 * or condition, every clock reading the workflow's own.
 *
 *   pending_approval ──approve(s)──▶ processing ──▶ awaiting_settlement ──▶ succeeded ⇄ correcting ▶ corrected
 *     │ reject / expire / cancel        │ decline        │ past SLA: delayed     │ money returned
 *     ▼                                 ▼                ▼ past deadline         ▼
 *   rejected · expired · canceled    requires_action ◀───────────────────────────┘
 *                                       │ retry, or an approved reroute proposal → processing;  cancel → canceled
 *
 * The refund's workflow is the only writer of a refund after it is created: people decide through
 * Updates whose validators are the pure rules in decision-rules.ts; providers report through a
 * Signal. This file only wires the parts together; each part reads in one go:
 * approval.ts, settlement.ts, proposals.ts, corrections.ts, person-decisions.ts, on the shared
 * recorder and lock in refund-run.ts.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { allHandlersFinished, condition, isCancellation, setHandler } from '@temporalio/workflow';
import { approve, awaitApproval, reject } from './approval';
import { carryOutCorrection } from './corrections';
import {
  checkApproval,
  checkCancel,
  checkCorrection,
  checkProposalApproval,
  checkProposalRejection,
  checkRejection,
  checkReroute,
  checkRetry,
  type DecisionView,
} from './decision-rules';
import {
  approveProposalUpdate,
  approveRefundUpdate,
  cancelRefundUpdate,
  proposeCorrectionUpdate,
  proposeRerouteUpdate,
  providerNoticeSignal,
  reconciliationFindingSignal,
  refundStateQuery,
  rejectProposalUpdate,
  rejectRefundUpdate,
  retryRefundUpdate,
  type RefundWorkflowInput,
  type RefundWorkflowState,
} from './messages';
import { awaitPerson, cancel, retry } from './person-decisions';
import { approveProposal, proposeCorrection, proposeReroute, rejectProposal } from './proposals';
import { RefundRun, StepNotRecorded } from './refund-run';
import { afterCancel, aftercare, awaitSettlement, payOut } from './settlement';

export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundWorkflowState> {
  const run = new RefundRun(input);
  registerHandlers(run);
  run.deliverMerchantEvents(); // `refund.created` and the first status, written by the API
  while (!run.finished) {
    try {
      await nextPhase(run);
    } catch (error) {
      if (isCancellation(error)) throw error;
      // No run ever fails: a failed run is money held with nobody told. The refund waits for a person.
      if (!(error instanceof StepNotRecorded)) await run.stopForPerson('workflow_error', error);
    }
  }
  await condition(allHandlersFinished);
  await Promise.all(run.background);
  await run.recorded();
  return run.state;
}

/** Moves the refund on from where its status says it stands. */
async function nextPhase(run: RefundRun): Promise<void> {
  switch (run.state.status) {
    case 'pending_approval':
      return awaitApproval(run);
    case 'processing':
      return payOut(run);
    case 'awaiting_settlement':
    case 'delayed':
      return awaitSettlement(run);
    case 'succeeded':
    case 'corrected':
      return aftercare(run);
    case 'correcting':
      return carryOutCorrection(run);
    case 'requires_action':
      return awaitPerson(run);
    case 'canceled':
      return afterCancel(run);
    case 'rejected':
    case 'expired':
      run.finished = true;
  }
}

function registerHandlers(run: RefundRun): void {
  setHandler(refundStateQuery, () => run.state);
  setHandler(providerNoticeSignal, (notice) => run.takeNotice(notice));
  setHandler(reconciliationFindingSignal, async (finding) => {
    // The providers' books disagree with ours: a person must look; the evidence goes on record.
    await run.step('reconciliation_mismatch', undefined, { needsAttention: true }, { detail: { ...finding } }).catch(() => undefined);
  });

  /** A person's decision: its validator and its handler check the same pure rule. */
  function decision<Request>(update: UpdateDefinition<RefundWorkflowState, [Request]>, kind: string, rule: (view: DecisionView, request: Request) => unknown, work: (request: Request) => Promise<void>) {
    setHandler(update, (request) => run.decide(kind, (view) => rule(view, request), () => work(request)), {
      validator: (request) => run.validate((view) => rule(view, request)),
    });
  }
  decision(approveRefundUpdate, 'approval', (view, r) => checkApproval(view, r, r.comment), (r) => approve(run, r));
  decision(rejectRefundUpdate, 'rejection', (view, r) => checkRejection(view, r, r.reason), (r) => reject(run, r));
  decision(cancelRefundUpdate, 'cancelation', (view, r) => checkCancel(view, r, r.reason), (r) => cancel(run, r));
  decision(retryRefundUpdate, 'retry', (view, r) => checkRetry(view, r), (r) => retry(run, r));
  decision(proposeRerouteUpdate, 'reroute proposal', (view, r) => checkReroute(view, r, r.reason, r.destination.type), (r) => proposeReroute(run, r));
  decision(proposeCorrectionUpdate, 'correction proposal', (view, r) => checkCorrection(view, r, r), (r) => proposeCorrection(run, r));
  decision(approveProposalUpdate, 'proposal approval', (view, r) => checkProposalApproval(view, r, r.comment), (r) => approveProposal(run, r));
  decision(rejectProposalUpdate, 'proposal rejection', (view, r) => checkProposalRejection(view, r, r.reason), (r) => rejectProposal(run, r));
}
