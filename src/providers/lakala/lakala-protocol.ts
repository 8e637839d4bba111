/**
 * Lakala's open platform (v3) unified return (统一退货, `trade_refund`) and its query
 * (`trade_refund_query`) in our terms: the one place where Lakala's answers become ours. Pure, so
 * each rule is unit-tested. What is relied on is what Lakala documents for these calls: `BBS00000`
 * says the request was taken, and a refund's state is the query's `trade_state`. Any other code
 * is Lakala's refusal or trouble, and this adapter does not guess which: a submission answered
 * with one is in doubt, and what Lakala holds under the refund's out_trade_no decides (a person,
 * if it holds nothing).
 */

export const LAKALA_SUCCESS = 'BBS00000';
export const TRADE_REFUND_PATH = '/api/v3/lams/trade/trade_refund';
export const TRADE_REFUND_QUERY_PATH = '/api/v3/lams/trade/trade_refund_query';
/** origin_biz_type: the original sale was a (domestic) bank card sale. */
export const BANK_CARD = '1';

/** A refund's state in Lakala's query, and what it is in ours. */
export const LAKALA_TRADE_STATES = {
  SUCCESS: 'settled',
  FAIL: 'failed',
  EXCEPTION: 'failed',
  INIT: 'pending',
  DEAL: 'pending',
  PROCESSING: 'pending',
  TIMEOUT: 'pending',
} as const satisfies Record<string, 'settled' | 'failed' | 'pending'>;
export type LakalaTradeState = keyof typeof LAKALA_TRADE_STATES;

/** A state the query reports, in ours; one Lakala has not documented is still pending (asked again), never a result. */
export function stateOf(tradeState: string | undefined): 'settled' | 'failed' | 'pending' {
  return tradeState && tradeState in LAKALA_TRADE_STATES ? LAKALA_TRADE_STATES[tradeState as LakalaTradeState] : 'pending';
}

/** An instant as Lakala's times: Beijing time, yyyyMMddHHmmss (req_time) or its first 8 (a trade date). */
export function beijingTimeOf(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

export function tradeDateOf(at: Date): string {
  return beijingTimeOf(at).slice(0, 8);
}

/** Minor units (fen) as Lakala's amounts: the integer itself, as text. */
export function fenOf(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor <= 0) throw new RangeError(`not an amount in fen: ${minor}`);
  return String(minor);
}

/** The string Lakala signs: appid, serial, timestamp, nonce and body, each followed by a newline. */
export function signedTextOf(appId: string, serialNo: string, timestamp: string, nonce: string, body: string): string {
  return `${appId}\n${serialNo}\n${timestamp}\n${nonce}\n${body}\n`;
}
