/**
 * What engineers see of a refund in Temporal's Web UI: a summary and details fixed at the start
 * (amount, payment, reason), and current details that say where the refund stands and what it
 * waits for — so the workflow list shows refunds, not bare ids. No account number or contact
 * appears here. Pure and bundle-safe: the workflow sets current details after every step (they
 * live in the workflow, not in its history, and cost no event).
 */
import { formatMinorUnits } from './money';
import type { RefundWorkflowInput, RefundWorkflowState } from './messages';

/** One line for the workflow list: `Refund 250.00 CNY · pay_123 · defective`. */
export function refundSummary(input: RefundWorkflowInput): string {
  return `Refund ${formatMinorUnits(input.amount, input.currency)} ${input.currency} · ${input.paymentId} · ${input.reason}`;
}

/** The refund as it was requested (Markdown, as the Web UI renders it). */
export function refundDetails(input: RefundWorkflowInput): string {
  const money = (amount: number) => `${formatMinorUnits(amount, input.currency)} ${input.currency}`;
  return [
    `**Refund** \`${input.refundId}\``,
    `- amount: ${money(input.amount)} (fee ${money(input.amount - input.netAmount)}, paid out ${money(input.netAmount)})`,
    `- payment: \`${input.paymentId}\` (${input.channel}), merchant \`${input.merchantId}\``,
    `- reason: ${input.reason}`,
    `- requested by: ${input.requestedBy}; approvals needed: ${input.requiredApprovals}`,
  ].join('\n');
}

/** Where the refund stands and what it waits for, in a line or two of Markdown. */
export function currentDetails(input: RefundWorkflowInput, state: RefundWorkflowState): string {
  const route = `${state.provider}, attempt ${state.attempt}${state.traceReference ? `, trace ${state.traceReference}` : ''}`;
  const lines = [`**${state.status}**${state.needsAttention ? ' · needs attention' : ''} — ${waitingFor(input, state)}`, `- route: ${route} (provider: ${state.providerState})`];
  if (state.proposal) lines.push(`- open proposal: ${state.proposal.kind} by ${state.proposal.proposedBy}, lapses ${state.proposal.expiresAt}`);
  return lines.join('\n');
}

function waitingFor(input: RefundWorkflowInput, state: RefundWorkflowState): string {
  const { deadlines } = state;
  switch (state.status) {
    case 'pending_approval': {
      const approved = state.approvals.filter((a) => a.decision === 'approved').length;
      return `waits for supervisor approval (${approved} of ${input.requiredApprovals}), expires ${deadlines.approvalDueAt}`;
    }
    case 'processing':
      return 'sending the refund to the provider';
    case 'awaiting_settlement':
      return `waits for the bank: usual by ${deadlines.settlementDueAt}, deadline ${deadlines.hardDeadlineAt}`;
    case 'delayed':
      return `past the usual settlement time; customer told ${deadlines.expectedArrivalAt}; deadline ${deadlines.hardDeadlineAt}`;
    case 'requires_action':
      return 'waits for a person: retry, propose a reroute, or cancel';
    case 'succeeded':
      return `money arrived ${state.settledAt}; open for the follow-up and for money the bank sends back`;
    case 'correcting':
      return 'carrying out an approved correction';
    case 'corrected':
      return 'corrected; open for money the bank sends back';
    case 'rejected':
    case 'expired':
    case 'canceled':
      return 'closed; nothing was paid out';
  }
}
