/**
 * Alipay's asynchronous notifications about a refund (trade_status_sync carrying `out_biz_no`,
 * the refund's out_request_no), opened: the RSA2 signature over the sorted parameters checked with
 * Alipay's public key by the official SDK, the app id ours, and read into our notice.
 */
import type { AlipaySdk } from 'alipay-sdk';
import type { ProviderNoticePayload } from '../provider';
import { minorOf } from './alipay-protocol';

export type OpenedAlipayNotification = { ok: true; notice: ProviderNoticePayload } | { ok: false; reason: string };

export function openAlipayNotification(sdk: AlipaySdk, appId: string, form: Record<string, unknown>): OpenedAlipayNotification {
  const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
  if (!field('sign')) return { ok: false, reason: 'unsigned' };
  let verified = false;
  try {
    verified = sdk.checkNotifySignV2(form);
  } catch {
    verified = false;
  }
  if (!verified) return { ok: false, reason: 'signature does not verify' };
  if (field('app_id') !== appId) return { ok: false, reason: 'notification is for another app' };
  const [notifyId, key, tradeNo] = [field('notify_id'), field('out_biz_no'), field('trade_no')];
  // Only refund notifications name the refund (out_biz_no); a payment's own notifications are not ours to read here.
  if (!notifyId || !key || !tradeNo) return { ok: false, reason: 'not a refund notification' };
  let amount: number;
  try {
    // This refund's money back to the payer; refund_fee is the trade's running total.
    amount = minorOf(field('send_back_fee') ?? field('refund_fee') ?? '');
  } catch {
    return { ok: false, reason: 'no refund amount' };
  }
  const refundedAt = field('gmt_refund');
  return {
    ok: true,
    notice: {
      id: notifyId,
      type: 'refund.settled',
      reference: `${tradeNo}:${key}`,
      idempotencyKey: key,
      amount,
      currency: 'CNY',
      // Alipay's times are Beijing time without a zone.
      occurredAt: refundedAt && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(refundedAt) ? `${refundedAt.slice(0, 19).replace(' ', 'T')}+08:00` : new Date().toISOString(),
    },
  };
}
