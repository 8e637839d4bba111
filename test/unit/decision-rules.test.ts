/**
 * The decision rules as pure functions, without any server: the same functions the API runs for
 * early refusals and the workflow's Update validators run as the authority.
 */
import {
  approvedToPay,
  checkApproval,
  checkCancel,
  checkCorrection,
  checkProposalApproval,
  checkProposalRejection,
  checkRejection,
  checkReroute,
  checkRetry,
  proposalApprovals,
  type DecisionView,
} from '../../workflows/decision-rules';
import { DEFAULT_POLICY } from '../../workflows/policy';
import { RefundRequestError } from '../../workflows/refusals';

const supervisorA = { principal: 'supervisor-a', role: 'supervisor' as const };
const supervisorB = { principal: 'supervisor-b', role: 'supervisor' as const };
const support = { principal: 'support-1', role: 'support' as const };
const service = { principal: 'pos-backend', role: 'service' as const };

function view(overrides: Partial<DecisionView> = {}): DecisionView {
  return {
    status: 'pending_approval',
    requestedBy: 'till-7',
    createdBy: 'pos-backend',
    requiredApprovals: 1,
    approvals: [],
    proposal: null,
    amount: 10_000,
    fee: 0,
    redirectable: false,
    corrections: [],
    busy: null,
    ...overrides,
  };
}

function refusal(rule: () => unknown): string {
  try {
    rule();
  } catch (error) {
    expect(error).toBeInstanceOf(RefundRequestError);
    return (error as RefundRequestError).code;
  }
  return 'allowed';
}

describe('approval', () => {
  it('is a supervisor’s, once, never the requester’s or creator’s, only while pending', () => {
    expect(refusal(() => checkApproval(view(), supervisorA))).toBe('allowed');
    expect(refusal(() => checkApproval(view(), support))).toBe('decision_forbidden');
    expect(refusal(() => checkApproval(view({ requestedBy: 'supervisor-a' }), supervisorA))).toBe('maker_checker_violation');
    expect(refusal(() => checkApproval(view({ createdBy: 'supervisor-a' }), supervisorA))).toBe('maker_checker_violation');
    expect(refusal(() => checkApproval(view({ approvals: [{ principal: 'supervisor-a', decision: 'approved' }] }), supervisorA))).toBe('maker_checker_violation');
    expect(refusal(() => checkApproval(view({ status: 'processing' }), supervisorA))).toBe('invalid_state');
  });

  it('is refused while another decision is carried out (one at a time)', () => {
    expect(refusal(() => checkApproval(view({ busy: 'cancelation' }), supervisorA))).toBe('invalid_state');
    expect(refusal(() => checkCancel(view({ busy: 'approval' }), service))).toBe('invalid_state');
  });

  it('refuses text that cannot be stored', () => {
    expect(refusal(() => checkApproval(view(), supervisorA, 'ok\u0000'))).toBe('invalid_input');
    expect(refusal(() => checkApproval(view(), supervisorA, 'line\n\ttwo'))).toBe('allowed');
    expect(refusal(() => checkRejection(view(), supervisorA, '\uD800'))).toBe('invalid_input');
    expect(refusal(() => checkRejection(view(), supervisorA, '  '))).toBe('invalid_input');
  });

  it('counts only approvals toward paying', () => {
    expect(approvedToPay({ requiredApprovals: 2, approvals: [{ principal: 'a', decision: 'approved' }, { principal: 'b', decision: 'rejected' }] })).toBe(false);
    expect(approvedToPay({ requiredApprovals: 0, approvals: [] })).toBe(true);
  });
});

describe('cancel, retry and reroute', () => {
  it('lets a service key cancel only its own refunds, from pending or requires_action', () => {
    expect(refusal(() => checkCancel(view(), service))).toBe('allowed');
    expect(refusal(() => checkCancel(view(), { principal: 'other-backend', role: 'service' }))).toBe('decision_forbidden');
    expect(refusal(() => checkCancel(view({ status: 'succeeded' }), support))).toBe('invalid_state');
  });

  it('retries and proposes reroutes only from requires_action, never for a refund nobody approved, never beside an open proposal', () => {
    const stuck = view({ status: 'requires_action', approvals: [{ principal: 'supervisor-b', decision: 'approved' }] });
    expect(refusal(() => checkRetry(stuck, support))).toBe('allowed');
    expect(refusal(() => checkReroute(stuck, support))).toBe('allowed');
    expect(refusal(() => checkRetry(stuck, service))).toBe('decision_forbidden');
    expect(refusal(() => checkRetry(view({ status: 'requires_action' }), support))).toBe('invalid_state');
    expect(refusal(() => checkRetry({ ...stuck, proposal: { proposedBy: 'support-1', approvals: [] } }, supervisorA))).toBe('invalid_state');
  });

  it('offers WeChat Pay’s own card transfer only for a refund WeChat Pay holds as abnormal, and never as a correction', () => {
    const stuck = view({ status: 'requires_action', approvals: [{ principal: 'supervisor-b', decision: 'approved' }] });
    expect(refusal(() => checkReroute(stuck, support, null, 'wechat_bank_card'))).toBe('route_unavailable');
    expect(refusal(() => checkReroute({ ...stuck, redirectable: true }, support, null, 'wechat_bank_card'))).toBe('allowed');
    // The flag alone opens nothing: the refund must still be waiting for a person, with no decision under way.
    expect(refusal(() => checkReroute({ ...stuck, status: 'succeeded', redirectable: true }, support, null, 'wechat_bank_card'))).toBe('invalid_state');
    expect(refusal(() => checkReroute({ ...stuck, redirectable: true, busy: 'retry' }, support, null, 'wechat_bank_card'))).toBe('invalid_state');
    const paid = view({ status: 'succeeded', approvals: [{ principal: 'supervisor-b', decision: 'approved' }] });
    expect(refusal(() => checkCorrection(paid, supervisorA, { destination: { type: 'wechat_bank_card' }, reason: 'wrong card' }))).toBe('invalid_input');
  });

  it('allows nothing while a recovery case is open', () => {
    const recovery = view({ status: 'requires_action', requiredApprovals: 0, corrections: [{ status: 'refused' }] });
    expect(refusal(() => checkRetry(recovery, supervisorA))).toBe('invalid_state');
    expect(refusal(() => checkCancel(recovery, supervisorA))).toBe('invalid_state');
  });
});

describe('corrections and proposals', () => {
  const paid = view({ status: 'succeeded', requiredApprovals: 0, amount: 30_000, fee: 500 });

  it('plans the correction from the total: reversal, supplementary, re-issue', () => {
    expect(checkCorrection(paid, supervisorA, { newTotal: 20_000, reason: 'x' })).toEqual({ kind: 'reversal', newTotal: 20_000 });
    expect(checkCorrection(paid, supervisorA, { newTotal: 45_000, reason: 'x' })).toEqual({ kind: 'supplementary', newTotal: 45_000 });
    expect(checkCorrection(paid, supervisorA, { destination: { type: 'original' }, reason: 'x' })).toEqual({ kind: 'reissue', newTotal: 30_000 });
    expect(refusal(() => checkCorrection(paid, supervisorA, { newTotal: 30_000, reason: 'x' }))).toBe('correction_not_needed');
    expect(refusal(() => checkCorrection(paid, supervisorA, { newTotal: 500, reason: 'x' }))).toBe('correction_not_needed');
    expect(refusal(() => checkCorrection(paid, support, { newTotal: 20_000, reason: 'x' }))).toBe('decision_forbidden');
    expect(refusal(() => checkCorrection({ ...paid, status: 'requires_action' }, supervisorA, { newTotal: 20_000, reason: 'x' }))).toBe('invalid_state');
  });

  it('keeps one proposal open at a time, approved by neither its proposer, the requester nor the creator, nor twice by anyone', () => {
    const open = { ...paid, proposal: { proposedBy: 'supervisor-a', approvals: [] as { principal: string }[] } };
    expect(refusal(() => checkCorrection(open, supervisorB, { newTotal: 20_000, reason: 'x' }))).toBe('invalid_state');
    expect(refusal(() => checkProposalApproval(open, supervisorB))).toBe('allowed');
    expect(refusal(() => checkProposalApproval(open, supervisorA))).toBe('maker_checker_violation');
    expect(refusal(() => checkProposalApproval({ ...open, requestedBy: 'supervisor-b' }, supervisorB))).toBe('maker_checker_violation');
    expect(refusal(() => checkProposalApproval({ ...open, createdBy: 'supervisor-b' }, supervisorB))).toBe('maker_checker_violation');
    expect(refusal(() => checkProposalApproval({ ...open, proposal: { proposedBy: 'supervisor-a', approvals: [{ principal: 'supervisor-b' }] } }, supervisorB))).toBe('maker_checker_violation');
    expect(refusal(() => checkProposalApproval(open, support))).toBe('decision_forbidden');
    expect(refusal(() => checkProposalApproval(paid, supervisorB))).toBe('invalid_state');
    expect(refusal(() => checkProposalRejection(open, supervisorA, 'withdrawn'))).toBe('allowed');
  });

  it('asks as many approvals as a new refund of the resulting total would, and never fewer than one', () => {
    expect(proposalApprovals(100, DEFAULT_POLICY)).toBe(1);
    expect(proposalApprovals(DEFAULT_POLICY.dualApprovalMin - 1, DEFAULT_POLICY)).toBe(1);
    expect(proposalApprovals(DEFAULT_POLICY.dualApprovalMin, DEFAULT_POLICY)).toBe(2);
  });
});
