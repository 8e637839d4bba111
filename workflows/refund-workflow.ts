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
import { aftercare, awaitSettlement, payOut } from './settlement';

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
    case 'rejected':
    case 'expired':
    case 'canceled':
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

  setHandler(approveRefundUpdate, (request) => run.decide('approval', () => approve(run, request)), {
    validator: (request) => run.validate(() => checkApproval(run.view(), request, request.comment)),
  });
  setHandler(rejectRefundUpdate, (request) => run.decide('rejection', () => reject(run, request)), {
    validator: (request) => run.validate(() => checkRejection(run.view(), request, request.reason)),
  });
  setHandler(cancelRefundUpdate, (request) => run.decide('cancelation', () => cancel(run, request)), {
    validator: (request) => run.validate(() => checkCancel(run.view(), request, request.reason)),
  });
  setHandler(retryRefundUpdate, (request) => run.decide('retry', () => retry(run, request)), {
    validator: (request) => run.validate(() => checkRetry(run.view(), request)),
  });
  setHandler(proposeRerouteUpdate, (request) => run.decide('reroute proposal', () => proposeReroute(run, request)), {
    validator: (request) => run.validate(() => checkReroute(run.view(), request, request.reason)),
  });
  setHandler(proposeCorrectionUpdate, (request) => run.decide('correction proposal', () => proposeCorrection(run, request)), {
    validator: (request) => run.validate(() => checkCorrection(run.view(), request, request)),
  });
  setHandler(approveProposalUpdate, (request) => run.decide('proposal approval', () => approveProposal(run, request)), {
    validator: (request) => run.validate(() => checkProposalApproval(run.view(), request, request.comment)),
  });
  setHandler(rejectProposalUpdate, (request) => run.decide('proposal rejection', () => rejectProposal(run, request)), {
    validator: (request) => run.validate(() => checkProposalRejection(run.view(), request, request.reason)),
  });
}
