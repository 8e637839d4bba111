/**
 * UnionPay's online (ACP, 全渠道) back-office transactions in our terms, version 5.1.0: the one place
 * where its messages, response codes, amounts and times become ours. Pure, so each rule is
 * unit-tested. What it follows is UnionPay's own ACP interface specification and its demo code:
 * refund (退货, txnType 04), void (消费撤销, txnType 31), status query (txnType 00).
 */
import { createHash } from 'node:crypto';
import type { RefundMethod } from '../provider';

export const ACP_VERSION = '5.1.0';
/** signMethod 01: RSA with the merchant's signing certificate, SHA-256 in version 5.1.0. */
export const ACP_SIGN_METHOD = '01';
export const TXN_TYPE: Record<RefundMethod | 'query', string> = { refund: '04', void: '31', query: '00' };
/** ISO 4217 numeric: ACP's only settlement currency for these merchants is the yuan. */
export const CNY = '156';

/**
 * What a response code (respCode) to a refund or void means, from UnionPay's appendix (应答码规范):
 * only 00 says the request was taken; 03, 04 and 05 say its fate is unknown and must be queried;
 * every other code is a refusal, and nothing happened (UnionPay: "其他应答码做以失败处理").
 * - `accepted`: taken; its result comes by notice or query (a refund takes 1–10 settlement days).
 * - `ask`: unknown (timeout, status unknown, accepted for later): query by order number and time.
 * - `duplicate`: this order number and time were seen before: what came of them is asked, never sent again.
 * - `try_later`: refused for now, nothing done (system closed or busy, too frequent, outside hours): sent again.
 * - `not_voidable`: the sale is not (or no longer) in a state that can be voided — its batch settled: refund instead.
 * - `declined`: refused, and it will be again (bad request, merchant or permission, amounts, no such sale, risk).
 */
export type AcpHandling = 'accepted' | 'ask' | 'duplicate' | 'try_later' | 'not_voidable' | 'declined';

export const ACP_RESPONSE_CODES = {
  '00': 'accepted',
  '01': 'declined', // 交易失败
  '02': 'try_later', // 系统未开放或暂时关闭
  '03': 'ask', // 交易通讯超时
  '04': 'ask', // 交易状态未明
  '05': 'ask', // 交易已受理，请稍后查询交易结果
  '06': 'try_later', // 系统繁忙
  '10': 'declined', // 报文格式错误
  '11': 'declined', // 验证签名失败
  '12': 'duplicate', // 重复交易
  '13': 'declined', // 报文交易要素缺失
  '30': 'declined', // 交易未通过，请尝试使用其他银联卡支付或联系95516
  '31': 'declined', // 商户状态不正确
  '32': 'declined', // 无此交易权限
  '33': 'declined', // 交易金额超限 (a refund beyond what the sale has left)
  '34': 'declined', // 查无此交易 (no such original sale)
  '35': 'not_voidable', // 原交易不存在或状态不正确
  '36': 'declined', // 与原交易信息不符
  '37': 'try_later', // 已超过最大查询次数或操作过于频繁
  '38': 'declined', // 交易风险受限
  '39': 'try_later', // 交易不在受理时间范围内
} as const satisfies Record<string, AcpHandling>;
export type AcpResponseCode = keyof typeof ACP_RESPONSE_CODES;

export function handlingOf(respCode: string | undefined): AcpHandling {
  return respCode !== undefined && respCode in ACP_RESPONSE_CODES ? ACP_RESPONSE_CODES[respCode as AcpResponseCode] : 'declined';
}

/** What a status query says of the transaction it was asked about (respCode 00, then origRespCode). */
export type AcpQueryResult = { found: false } | { found: true; state: 'succeeded' | 'pending' | 'failed'; why: string };

/**
 * A query's answer: 34 is UnionPay's verified "no such transaction"; 00 carries the transaction's
 * own code (origRespCode: 00 succeeded; 03, 04, 05 still pending; any other failed). Anything else
 * (the query itself timed out, was too frequent, …) is no answer: `null`, asked again.
 */
export function queryResultOf(answer: Record<string, string>): AcpQueryResult | null {
  if (answer.respCode === '34') return { found: false };
  if (answer.respCode !== '00') return null;
  const code = answer.origRespCode ?? '';
  const why = `${code} ${answer.origRespMsg ?? ''}`.trim();
  if (code === '00') return { found: true, state: 'succeeded', why };
  if (code === '03' || code === '04' || code === '05') return { found: true, state: 'pending', why };
  return { found: true, state: 'failed', why };
}

/**
 * The order number (orderId: 8–32 letters and digits, no `-` or `_`) an attempt goes under, by
 * method: a void refused and sent again as a refund is a new transaction at UnionPay, under the
 * same attempt. Our keys (`rf_<ULID>-a<n>`) lose only their separators.
 */
export function orderIdOf(idempotencyKey: string, method: RefundMethod): string {
  const letters = idempotencyKey.replace(/[^A-Za-z0-9]/g, '');
  const orderId = `${letters}${method === 'void' ? 'V' : 'R'}`;
  if (orderId.length < 8 || orderId.length > 32) throw new RangeError(`key ${idempotencyKey} makes no UnionPay order number (8–32 letters and digits)`);
  return orderId;
}

/** An instant as ACP's txnTime: Beijing time, yyyyMMddHHmmss. */
export function txnTimeOf(at: Date): string {
  const beijing = new Date(at.getTime() + 8 * 3_600_000).toISOString();
  return beijing.slice(0, 19).replace(/[-T:]/g, '');
}

/** ACP's txnTime (Beijing time) as an instant, or undefined when it is not one. */
export function instantOfTxnTime(txnTime: string | undefined): string | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(txnTime ?? '');
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}+08:00`).toISOString();
}

/** Minor units (fen) as ACP's txnAmt: the integer itself, as text. */
export function txnAmtOf(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor <= 0) throw new RangeError(`not an amount in fen: ${minor}`);
  return String(minor);
}

/** ACP's txnAmt as minor units; anything but digits is refused. */
export function minorOfTxnAmt(txnAmt: string | undefined): number {
  if (!/^\d{1,12}$/.test(txnAmt ?? '')) throw new RangeError(`not a txnAmt: ${txnAmt}`);
  return Number(txnAmt);
}

/**
 * What is signed: every field but `signature`, sorted by name, as `name=value` joined by `&`,
 * then (5.1.0) its SHA-256 as lower-case hex. That hex text is what the RSA signature covers.
 */
export function signedDigestOf(fields: Record<string, string>): string {
  const text = Object.keys(fields)
    .filter((name) => name !== 'signature')
    .sort()
    .map((name) => `${name}=${fields[name]}`)
    .join('&');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * An answer's body: `name=value` pairs joined by `&`, not URL-encoded (a certificate's PEM and a
 * base64 signature arrive as they are); a value in braces may hold `&` and is kept whole.
 */
export function parseAnswer(body: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let depth = 0;
  let start = 0;
  const take = (end: number) => {
    const pair = body.slice(start, end);
    const eq = pair.indexOf('=');
    if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  };
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i];
    if (c === '{' || c === '[') depth += 1;
    else if ((c === '}' || c === ']') && depth > 0) depth -= 1;
    else if (c === '&' && depth === 0) {
      take(i);
      start = i + 1;
    }
  }
  take(body.length);
  return fields;
}
