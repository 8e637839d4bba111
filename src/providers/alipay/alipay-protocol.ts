/**
 * Alipay refunds (alipay.trade.refund, alipay.trade.fastpay.refund.query) in our terms: the one
 * place where Alipay's answers and error codes become ours. Pure, so each mapping is unit-tested.
 *
 * Alipay refunds at once: `fund_change: "Y"` says the money moved. `N` says it did not move *in
 * this call* (a repeated out_request_no, or still being processed), so the query decides.
 */
import type { ProviderRefund } from '../provider';

/** The gateway's answer node, snake_case as Alipay sends it. */
export interface AlipayAnswer {
  code: string;
  msg: string;
  sub_code?: string;
  sub_msg?: string;
  trade_no?: string;
  out_trade_no?: string;
  out_request_no?: string;
  fund_change?: 'Y' | 'N';
  refund_fee?: string;
  refund_amount?: string;
  refund_status?: 'REFUND_SUCCESS';
  gmt_refund_pay?: string;
}

export const ALIPAY_SUCCESS = '10000';

/** Minor units (fen) as Alipay's yuan string: 12345 → "123.45". Integer arithmetic only. */
export function yuanOf(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`not an amount in fen: ${minor}`);
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

/** Alipay's yuan string as minor units: "123.45" → 12345; anything else is refused. */
export function minorOf(yuan: string): number {
  const match = /^(\d{1,15})(?:\.(\d{1,2}))?$/.exec(yuan);
  if (!match) throw new RangeError(`not a yuan amount: ${yuan}`);
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/**
 * What a (verified) answer other than 10000 means. `resend`: send the same out_request_no again
 * (Alipay deduplicates it) — after asking, since a system error may have refunded it already.
 * `wait_for_balance`: the merchant's Alipay balance is short. `decline`: the request is wrong for
 * Alipay and will stay wrong: a person must act.
 */
export type AlipayErrorHandling = 'resend' | 'wait_for_balance' | 'decline';

export const ALIPAY_REFUND_ERRORS = {
  'ACQ.SYSTEM_ERROR': 'resend',
  'ACQ.REFUND_CHARGE_ERROR': 'resend',
  'ACQ.SELLER_BALANCE_NOT_ENOUGH': 'wait_for_balance',
  'ACQ.INVALID_PARAMETER': 'decline',
  'ACQ.TRADE_NOT_EXIST': 'decline',
  'ACQ.TRADE_STATUS_ERROR': 'decline',
  'ACQ.TRADE_HAS_FINISHED': 'decline',
  'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL': 'decline',
  'ACQ.REASON_TRADE_REFUND_FEE_ERR': 'decline',
  'ACQ.REASON_TRADE_BEEN_FREEZEN': 'decline',
  'ACQ.DISCORDANT_REPEAT_REQUEST': 'decline',
  'ACQ.BUYER_ERROR': 'decline',
  'ACQ.CHECK_PARTNER_ERROR': 'decline',
} as const satisfies Record<string, AlipayErrorHandling>;
export type AlipayErrorCode = keyof typeof ALIPAY_REFUND_ERRORS;

export function errorHandlingOf(answer: Pick<AlipayAnswer, 'code' | 'sub_code'>): AlipayErrorHandling {
  if (answer.sub_code && answer.sub_code in ALIPAY_REFUND_ERRORS) return ALIPAY_REFUND_ERRORS[answer.sub_code as AlipayErrorCode];
  // 20000: the service is unavailable for now. 40002 (bad arguments or signature), 40004 (business
  // failure we do not know), 40006 (no permission): wrong now, wrong again.
  return answer.code === '20000' ? 'resend' : 'decline';
}

/** A refund Alipay made, in our terms: Alipay reports a refund only once the money moved. */
export function providerRefundOf(outRequestNo: string, answer: AlipayAnswer): ProviderRefund {
  const reference = answer.trade_no ? `${answer.trade_no}:${outRequestNo}` : outRequestNo;
  return { reference, traceReference: answer.trade_no ?? outRequestNo, status: 'settled', returned: false, failureReason: null };
}
