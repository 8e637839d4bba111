/**
 * WeChat Pay API v3 refunds (国内退款) in our terms: the one place where its statuses and error
 * codes become ours. Pure, so every mapping is unit-tested without a server.
 *
 * Sources: 申请退款 POST /v3/refund/domestic/refunds, 查询单笔退款 GET …/refunds/{out_refund_no},
 * 发起异常退款 POST …/refunds/{refund_id}/apply-abnormal-refund, 退款结果通知 (REFUND.SUCCESS /
 * REFUND.ABNORMAL / REFUND.CLOSED).
 */
import type { ProviderRefund, ProviderRefundStatus } from '../provider';

export const WECHAT_REFUND_STATUSES = ['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL'] as const;
export type WechatRefundStatus = (typeof WECHAT_REFUND_STATUSES)[number];

/** The refund object WeChat Pay answers with (create and query), as far as we read it. */
export interface WechatRefund {
  refund_id: string;
  out_refund_no: string;
  out_trade_no?: string;
  status: WechatRefundStatus;
  user_received_account?: string;
  success_time?: string;
  create_time?: string;
  amount: { total: number; refund: number; currency?: string };
}

/** An abnormal refund: the money could not reach the payer's card or balance (a closed card, a frozen account). */
export const ABNORMAL_REASON = 'ABNORMAL: the payer’s card or WeChat balance cannot take the refund; send it another way (a bank transfer)';

export function refundStatusOf(status: WechatRefundStatus): { status: ProviderRefundStatus; failureReason: string | null } {
  switch (status) {
    case 'SUCCESS':
      return { status: 'settled', failureReason: null };
    case 'PROCESSING':
      return { status: 'pending', failureReason: null };
    case 'ABNORMAL':
      return { status: 'failed', failureReason: ABNORMAL_REASON };
    case 'CLOSED':
      return { status: 'failed', failureReason: 'CLOSED: WeChat Pay closed the refund without paying it' };
  }
}

export function providerRefundOf(refund: WechatRefund): ProviderRefund {
  // The WeChat refund number (微信支付退款单号) is what the customer's WeChat shows and support quotes.
  // An ABNORMAL refund is still WeChat's to pay: 发起异常退款 sends it on to the payer's bank card.
  return { reference: refund.refund_id, traceReference: refund.refund_id, returned: false, redirectable: refund.status === 'ABNORMAL', ...refundStatusOf(refund.status) };
}

/**
 * The banks whose debit cards WeChat Pay's abnormal refund (发起异常退款, USER_BANK_CARD) can pay,
 * as its bank types name them: 工商 农行 中行 建行 招行 交通 浦发 中信 光大 民生 兴业 广发 邮储 平安 宁波.
 */
export const WECHAT_REDIRECT_BANKS = [
  'ICBC_DEBIT',
  'ABC_DEBIT',
  'BOC_DEBIT',
  'CCB_DEBIT',
  'CMB_DEBIT',
  'COMM_DEBIT',
  'SPDB_DEBIT',
  'CITIC_DEBIT',
  'CEB_DEBIT',
  'CMBC_DEBIT',
  'CIB_DEBIT',
  'GDB_DEBIT',
  'PSBC_DEBIT',
  'PAB_DEBIT',
  'NBCB_DEBIT',
] as const;
export type WechatRedirectBank = (typeof WECHAT_REDIRECT_BANKS)[number];

/**
 * What a verified error answer to 申请退款 means. `resend`: WeChat Pay asks for the same request
 * again under the same out_refund_no (never a new number) — and it may have taken the refund
 * already, so the attempt stays in doubt and is asked about before it goes again.
 * `wait_for_balance`: the merchant's balance is short — sent again for hours while support sees
 * why. `decline`: the request itself is wrong for WeChat Pay and will be wrong again: a person acts.
 */
export type WechatErrorHandling = 'resend' | 'wait_for_balance' | 'decline';

export const WECHAT_REFUND_ERRORS = {
  SYSTEM_ERROR: 'resend',
  FREQUENCY_LIMITED: 'resend',
  NOT_ENOUGH: 'wait_for_balance',
  PARAM_ERROR: 'decline',
  INVALID_REQUEST: 'decline',
  SIGN_ERROR: 'decline',
  NO_AUTH: 'decline',
  USER_ACCOUNT_ABNORMAL: 'decline',
  MCH_NOT_EXISTS: 'decline',
  RESOURCE_NOT_EXISTS: 'decline',
} as const satisfies Record<string, WechatErrorHandling>;
export type WechatErrorCode = keyof typeof WECHAT_REFUND_ERRORS;

/** The query's code for "no refund has this out_refund_no": the only answer that means none. */
export const REFUND_NOT_FOUND: WechatErrorCode = 'RESOURCE_NOT_EXISTS';

export function errorHandlingOf(httpStatus: number, code: string | undefined): WechatErrorHandling {
  if (code && code in WECHAT_REFUND_ERRORS) return WECHAT_REFUND_ERRORS[code as WechatErrorCode];
  // A code we do not know yet: WeChat's status says whether trying again can help.
  return httpStatus >= 500 || httpStatus === 429 ? 'resend' : 'decline';
}

/** 退款结果通知: the event types and what each tells the refund's workflow. */
export const WECHAT_NOTIFICATION_EVENTS = {
  'REFUND.SUCCESS': 'refund.settled',
  'REFUND.ABNORMAL': 'refund.failed',
  'REFUND.CLOSED': 'refund.failed',
} as const;
export type WechatNotificationEvent = keyof typeof WECHAT_NOTIFICATION_EVENTS;

/** The decrypted `resource` of a refund notification. */
export interface WechatRefundNotice {
  /** A direct merchant's id; a service provider's notices name `sp_mchid` and `sub_mchid` instead. */
  mchid?: string;
  sp_mchid?: string;
  sub_mchid?: string;
  out_trade_no: string;
  refund_id: string;
  out_refund_no: string;
  refund_status: WechatRefundStatus;
  success_time?: string;
  user_received_account?: string;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number };
}
