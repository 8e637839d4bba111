/**
 * The merchant's refund policy and the decisions it makes. Pure and bundle-safe: the API decides
 * with it when a refund is requested, and each workflow carries the snapshot it was created under,
 * so changing configuration never changes a refund already running.
 */
import type { PaymentChannel, ProviderName, RefundReason } from './lifecycle';
import { basisPointsOf } from './money';
import { DAY_MS } from './durations';

export interface RefundPolicy {
  /** Refunds up to this many minor units are approved automatically. */
  autoApproveMax: number;
  /** From this many minor units two different supervisors must approve. */
  dualApprovalMin: number;
  /**
   * At most this many minor units a day (per API key and currency, business days) go out without
   * approval; past it, a refund that would have been automatic needs one supervisor. Absent: no cap.
   */
  dailyAutoApproveMax?: number;
  /** How long after capture each channel still takes refunds. */
  windowMs: Record<PaymentChannel, number>;
  approvalReminderMs: number;
  approvalEscalateMs: number;
  approvalTimeoutMs: number;
  escalationPrincipals: string[];
  /** How long each route normally takes to settle before the refund counts as delayed. */
  settlementSlaMs: Record<ProviderName, number>;
  /** After this long without settlement a person must look at the refund. */
  settlementDeadlineMs: number;
  followUpAfterMs: number;
  /** Fee the merchant keeps, in basis points of the refund, per reason (absent: 0). */
  feeBps: Partial<Record<RefundReason, number>>;
  /** Non-business days besides weekends, as `YYYY-MM-DD` in the business time zone. */
  holidays: string[];
  /** The business time zone as minutes east of UTC (China: 480). */
  utcOffsetMinutes: number;
  /** When card acquirers settle the day's batch (`HH:MM`, business time): before it a whole sale is voided, after it refunded. */
  cardCutoff: string;
}

/** What one merchant sets differently from the deployment's policy (issue #17); absent: the deployment's. */
export interface MerchantPolicy {
  autoApproveMax?: number;
  dualApprovalMin?: number;
  /** Refund windows per channel, in days after capture. */
  windowDays?: Partial<Record<PaymentChannel, number>>;
  /** Its acquirer's settlement cutoff (`HH:MM` in its time zone). */
  cardCutoff?: string;
}

/** The deployment's policy with a merchant's own settings over it. */
export function policyFor(base: RefundPolicy, merchant: MerchantPolicy | undefined): RefundPolicy {
  if (!merchant) return base;
  const windowMs = { ...base.windowMs };
  for (const [channel, days] of Object.entries(merchant.windowDays ?? {}) as [PaymentChannel, number][]) windowMs[channel] = days * DAY_MS;
  return {
    ...base,
    autoApproveMax: merchant.autoApproveMax ?? base.autoApproveMax,
    dualApprovalMin: merchant.dualApprovalMin ?? base.dualApprovalMin,
    windowMs,
    cardCutoff: merchant.cardCutoff ?? base.cardCutoff,
  };
}

export const DEFAULT_POLICY: RefundPolicy = {
  autoApproveMax: 50_000,
  dualApprovalMin: 2_000_000,
  windowMs: { card: 180 * DAY_MS, wechat: 365 * DAY_MS, alipay: 365 * DAY_MS },
  approvalReminderMs: 4 * 3_600_000,
  approvalEscalateMs: 24 * 3_600_000,
  approvalTimeoutMs: 72 * 3_600_000,
  escalationPrincipals: [],
  settlementSlaMs: { card: 7 * DAY_MS, wechat: 3 * DAY_MS, alipay: 3 * DAY_MS, bank_transfer: 5 * DAY_MS },
  settlementDeadlineMs: 30 * DAY_MS,
  followUpAfterMs: 7 * DAY_MS,
  feeBps: {},
  holidays: [],
  utcOffsetMinutes: 480,
  cardCutoff: '23:00',
};

export interface ApprovalQuestion {
  amount: number;
  /**
   * What the payment has refunded or holds for refunds in flight before this one: the thresholds
   * apply to the payment's running total, so a refund split into parts needs what the whole would.
   */
  refundedBefore: number;
  reason: RefundReason;
  /** False when the money goes somewhere other than back to the original payer account. */
  toOriginalDestination: boolean;
}

/** How many different supervisors must approve before the refund may be sent: 0, 1 or 2. */
export function requiredApprovals(question: ApprovalQuestion, policy: RefundPolicy): 0 | 1 | 2 {
  const total = question.refundedBefore + question.amount;
  if (total >= policy.dualApprovalMin) return 2;
  if (total > policy.autoApproveMax) return 1;
  if (question.reason === 'fraud' || !question.toOriginalDestination) return 1;
  return 0;
}

export function refundFee(amount: number, reason: RefundReason, policy: RefundPolicy): number {
  return basisPointsOf(amount, policy.feeBps[reason] ?? 0);
}

/** The last instant a payment captured at `capturedAtMs` on `channel` can still be refunded. */
export function refundWindowClosesAt(capturedAtMs: number, channel: PaymentChannel, policy: RefundPolicy): number {
  return capturedAtMs + policy.windowMs[channel];
}

/** Business days each route takes at most, as the customer is told (card 1–7, wallets 0–3, bank 1–3). */
export const ARRIVAL_BUSINESS_DAYS: Record<ProviderName, number> = {
  card: 7,
  wechat: 3,
  alipay: 3,
  bank_transfer: 3,
};
