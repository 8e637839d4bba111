/**
 * UnionPay's notices of a refund's or void's result (the backUrl post): its signing certificate
 * must chain to UnionPay's root and its signature verify, the merchant must be ours, and the
 * transaction a refund or void; then it is read into our notice. The refund is named by the key we
 * sent as reqReserved, which UnionPay gives back unchanged.
 */
import type { OpenedNotice } from '../provider-module';
import { verifyFields } from './unionpay-certificates';
import { instantOfTxnTime, minorOfTxnAmt, TXN_TYPE } from './unionpay-protocol';
import type { UnionPaySettings } from './unionpay-settings';

export function openUnionPayNotice(settings: UnionPaySettings, fields: Record<string, string>): OpenedNotice {
  const verified = verifyFields(fields, settings.trust);
  if (!verified.ok) return verified;
  if (fields.merId !== settings.merId) return { ok: false, reason: 'notice is for another merchant' };
  if (fields.txnType !== TXN_TYPE.refund && fields.txnType !== TXN_TYPE.void) return { ok: false, reason: 'not a refund or void notice' };
  const key = fields.reqReserved;
  if (!key || !fields.orderId || !fields.txnTime) return { ok: false, reason: 'notice names no refund (reqReserved)' };
  let amount: number;
  try {
    amount = minorOfTxnAmt(fields.txnAmt);
  } catch {
    return { ok: false, reason: 'no amount (txnAmt)' };
  }
  return {
    ok: true,
    notice: {
      // One notice per transaction and outcome: a redelivery carries the same.
      id: `${fields.orderId}:${fields.txnTime}:${fields.respCode}`,
      type: fields.respCode === '00' ? 'refund.settled' : 'refund.failed',
      reference: fields.queryId || fields.orderId,
      idempotencyKey: key,
      amount,
      currency: 'CNY',
      occurredAt: instantOfTxnTime(fields.traceTime ? `${fields.txnTime.slice(0, 4)}${fields.traceTime}` : fields.txnTime) ?? instantOfTxnTime(fields.txnTime)!,
    },
  };
}
