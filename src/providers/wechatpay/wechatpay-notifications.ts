/**
 * WeChat Pay's refund notifications (退款结果通知), opened: the signature checked with the WeChat
 * Pay key `Wechatpay-Serial` names (its public key or a platform certificate: while a merchant moves
 * between them, notices come signed with either) over `timestamp\nnonce\nbody\n`, the timestamp within
 * five minutes (a replayed old notification is refused), the `resource` decrypted with the APIv3
 * key (AEAD_AES_256_GCM, which also proves it was not altered), and read into our notice. Anything
 * that does not hold is refused with its reason and changes nothing.
 */
import { createVerify, type KeyObject } from 'node:crypto';
import type { WechatPaySettings } from './wechatpay-settings';
import { openAeadAes256Gcm, type WechatPayKeys } from './wechatpay-keys';
import type { ProviderNoticePayload } from '../provider';
import { WECHAT_NOTIFICATION_EVENTS, type WechatNotificationEvent, type WechatRefundNotice } from './wechatpay-protocol';

const MAX_CLOCK_SKEW_S = 300;

export type OpenedNotification = { ok: true; notice: ProviderNoticePayload } | { ok: false; reason: string; unknownSerial?: boolean };

export function openWechatNotification(
  settings: Pick<WechatPaySettings, 'mchid' | 'apiV3Key' | 'subMchid'>,
  keys: Pick<WechatPayKeys, 'get'>,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
  nowMs = Date.now(),
): OpenedNotification {
  const header = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const [timestamp, nonce, serial, signature] = ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-serial', 'wechatpay-signature'].map(header);
  if (!timestamp || !nonce || !serial || !signature) return { ok: false, reason: 'missing Wechatpay-Timestamp, -Nonce, -Serial or -Signature' };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_S) return { ok: false, reason: 'stale or malformed Wechatpay-Timestamp' };
  const key = keys.get(serial);
  if (!key) return { ok: false, reason: `unknown Wechatpay-Serial ${serial.slice(0, 64)}`, unknownSerial: true };
  if (!verifies(`${timestamp}\n${nonce}\n${rawBody}\n`, signature, key)) return { ok: false, reason: 'signature does not verify' };

  let envelope: { id?: unknown; event_type?: unknown; create_time?: unknown; resource?: { algorithm?: unknown; ciphertext?: unknown; nonce?: unknown; associated_data?: unknown } };
  try {
    envelope = JSON.parse(rawBody) as typeof envelope;
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const event = envelope.event_type;
  if (typeof envelope.id !== 'string' || typeof event !== 'string' || !(event in WECHAT_NOTIFICATION_EVENTS)) return { ok: false, reason: `not a refund notification (${String(event)})` };
  const resource = envelope.resource;
  if (resource?.algorithm !== 'AEAD_AES_256_GCM' || typeof resource.ciphertext !== 'string' || typeof resource.nonce !== 'string') return { ok: false, reason: 'resource is not AEAD_AES_256_GCM' };

  let refund: WechatRefundNotice;
  try {
    refund = JSON.parse(openAeadAes256Gcm(resource.ciphertext, settings.apiV3Key, resource.nonce, typeof resource.associated_data === 'string' ? resource.associated_data : '')) as WechatRefundNotice;
  } catch {
    return { ok: false, reason: 'resource does not decrypt with the APIv3 key' };
  }
  // Ours only: our merchant id, or as a service provider our sp_mchid and this sub-merchant's id.
  const ours = settings.subMchid ? refund.sp_mchid === settings.mchid && refund.sub_mchid === settings.subMchid : refund.mchid === settings.mchid;
  if (!ours) return { ok: false, reason: 'notification is for another merchant' };
  if (typeof refund.out_refund_no !== 'string' || typeof refund.refund_id !== 'string' || !Number.isSafeInteger(refund.amount?.refund)) return { ok: false, reason: 'resource is not a refund' };
  return {
    ok: true,
    notice: {
      id: envelope.id,
      type: WECHAT_NOTIFICATION_EVENTS[event as WechatNotificationEvent],
      reference: refund.refund_id,
      idempotencyKey: refund.out_refund_no,
      amount: refund.amount.refund,
      // Domestic refunds are in yuan; the notification names no currency.
      currency: 'CNY',
      occurredAt: refund.success_time ?? (typeof envelope.create_time === 'string' ? envelope.create_time : new Date(nowMs).toISOString()),
    },
  };
}

function verifies(message: string, signature: string, key: KeyObject): boolean {
  try {
    return createVerify('RSA-SHA256').update(message).verify(key, signature, 'base64');
  } catch {
    return false;
  }
}
