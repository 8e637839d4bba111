/**
 * A WeChat Pay API v3 refunds server on localhost that speaks the real protocol, for the adapter's
 * tests: it verifies each request's WECHATPAY2-SHA256-RSA2048 signature with the merchant's public
 * key, signs every answer with its own platform key, settles refunds after a delay, and posts
 * refund notifications signed with that key and encrypted (AEAD_AES_256_GCM) with the APIv3 key.
 * Each payment (out_trade_no) can be given a plan: documented error codes to answer first, how the
 * refund ends (SUCCESS, ABNORMAL, CLOSED), whether a notification is sent, or an answer lost after
 * the refund was taken. An ABNORMAL refund can be sent on to a bank card (发起异常退款), the card
 * and name decrypted with its own key. Keys are generated when it starts; none is ever written to disk.
 */
import { constants, createSign, createVerify, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Aes } from 'wechatpay-axios-plugin';
import type { WechatPaySettings } from '../../src/config';
import { WECHAT_REDIRECT_BANKS, type WechatErrorCode, type WechatRefund, type WechatRefundStatus } from '../../src/providers/wechatpay/wechatpay-protocol';

export const ERROR_STATUS: Record<WechatErrorCode, number> = {
  SYSTEM_ERROR: 500,
  FREQUENCY_LIMITED: 429,
  NOT_ENOUGH: 403,
  PARAM_ERROR: 400,
  INVALID_REQUEST: 400,
  SIGN_ERROR: 401,
  NO_AUTH: 403,
  USER_ACCOUNT_ABNORMAL: 403,
  MCH_NOT_EXISTS: 400,
  RESOURCE_NOT_EXISTS: 404,
};

export interface RefundPlan {
  /** Answered, in order, to the first submissions (no refund is taken for them). */
  errors?: WechatErrorCode[];
  /** How the refund ends after `settleAfterMs` (default SUCCESS). */
  ends?: Exclude<WechatRefundStatus, 'PROCESSING'>;
  /** false: no notification is sent; only a query finds the end. */
  notify?: boolean;
  /** The refund is taken, but the connection drops before the answer (an in-doubt submission). */
  loseAnswer?: boolean;
  /** Answered, in order, to the first abnormal-refund applications (发起异常退款); nothing changes for them. */
  redirectErrors?: WechatErrorCode[];
}

interface HeldRefund extends WechatRefund {
  notifyUrl: string;
  /** Where 发起异常退款 sent it, as decrypted here: the card, its bank and holder. */
  redirectedTo?: { bankType: string; account: string; name: string };
}

export class WechatPaySimulator {
  readonly mchid = '1900000109';
  readonly merchantSerial = randomBytes(20).toString('hex').toUpperCase();
  readonly publicKeyId = `PUB_KEY_ID_${randomBytes(16).toString('hex').toUpperCase()}`;
  readonly apiV3Key = randomBytes(16).toString('hex');
  readonly merchant = pemPair();
  private readonly platform = pemPair();
  /** Every refund taken, by out_refund_no: the ground truth of what WeChat Pay would pay. */
  readonly refunds = new Map<string, HeldRefund>();
  /** Every request that reached it: method, path, and the answer's status. */
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Each notification delivery tried: the refund and our API's status. */
  readonly deliveries: { outRefundNo: string; status: number }[] = [];
  private readonly plans = new Map<string, RefundPlan>();
  private readonly errorsAnswered = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: Server;
  url = '';

  constructor(private readonly settleAfterMs = 300) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** What the adapter is configured with to talk to this simulator. */
  settings(notifyUrl: string): WechatPaySettings {
    return {
      mchid: this.mchid,
      merchantSerial: this.merchantSerial,
      privateKey: this.merchant.privateKey,
      publicKeyId: this.publicKeyId,
      publicKey: this.platform.publicKey,
      apiV3Key: this.apiV3Key,
      baseUrl: this.url,
      notifyUrl,
    };
  }

  /** The same settings as the service reads them from its environment. */
  env(notifyUrl: string): Record<string, string> {
    const s = this.settings(notifyUrl);
    return {
      PROVIDER_WECHAT: 'wechatpay',
      WECHATPAY_MCHID: s.mchid,
      WECHATPAY_MERCHANT_SERIAL: s.merchantSerial,
      WECHATPAY_PRIVATE_KEY: s.privateKey,
      WECHATPAY_PUBLIC_KEY_ID: s.publicKeyId,
      WECHATPAY_PUBLIC_KEY: s.publicKey,
      WECHATPAY_APIV3_KEY: s.apiV3Key,
      WECHATPAY_BASE_URL: s.baseUrl,
      WECHATPAY_NOTIFY_URL: s.notifyUrl,
    };
  }

  plan(outTradeNo: string, plan: RefundPlan): void {
    this.plans.set(outTradeNo, plan);
  }

  refundsOf(outTradeNo: string): HeldRefund[] {
    return [...this.refunds.values()].filter((refund) => refund.out_trade_no === outTradeNo);
  }

  /** A refund notification as WeChat Pay would post it, optionally spoiled, for tests to send themselves. */
  notification(refund: HeldRefund, spoil?: 'signature' | 'ciphertext' | 'stale'): { headers: Record<string, string>; body: string } {
    const resource = JSON.stringify({
      mchid: this.mchid,
      out_trade_no: refund.out_trade_no,
      transaction_id: `4200${refund.refund_id.slice(-16)}`,
      out_refund_no: refund.out_refund_no,
      refund_id: refund.refund_id,
      refund_status: refund.status,
      success_time: refund.success_time,
      user_received_account: refund.user_received_account,
      amount: { total: refund.amount.total, refund: refund.amount.refund, payer_total: refund.amount.total, payer_refund: refund.amount.refund },
    });
    const nonce = randomBytes(6).toString('hex');
    const key = spoil === 'ciphertext' ? randomBytes(16).toString('hex') : this.apiV3Key;
    const body = JSON.stringify({
      id: `EV-${randomBytes(8).toString('hex')}`,
      create_time: new Date().toISOString(),
      resource_type: 'encrypt-resource',
      event_type: `REFUND.${refund.status}`,
      summary: refund.status === 'SUCCESS' ? '退款成功' : '退款异常',
      resource: { original_type: 'refund', algorithm: 'AEAD_AES_256_GCM', ciphertext: Aes.AesGcm.encrypt(resource, key, nonce, 'refund'), associated_data: 'refund', nonce },
    });
    const headers = this.signedHeaders(body, spoil === 'stale' ? Math.floor(Date.now() / 1000) - 3_600 : undefined);
    if (spoil === 'signature') headers['Wechatpay-Signature'] = this.sign(`${headers['Wechatpay-Timestamp']}\n${headers['Wechatpay-Nonce']}\n${body.replace('refund', 'refunD')}\n`);
    return { headers, body };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const answer = (status: number, payload?: object) => {
      this.requests.push({ method: req.method ?? '', path, status });
      const text = payload ? JSON.stringify(payload) : '';
      res.writeHead(status, { 'Content-Type': 'application/json', ...this.signedHeaders(text) }).end(text);
    };
    if (!this.verifiesRequest(req, path, body)) return answer(401, { code: 'SIGN_ERROR', message: '签名错误' });

    const query = /^\/v3\/refund\/domestic\/refunds\/([^/?]+)$/.exec(path);
    if (req.method === 'GET' && query) {
      const refund = this.refunds.get(decodeURIComponent(query[1]!));
      return refund ? answer(200, view(refund)) : answer(404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
    }
    const abnormal = /^\/v3\/refund\/domestic\/refunds\/([^/?]+)\/apply-abnormal-refund$/.exec(path);
    if (req.method === 'POST' && abnormal) return this.applyAbnormalRefund(req, decodeURIComponent(abnormal[1]!), body, answer);
    if (req.method !== 'POST' || path !== '/v3/refund/domestic/refunds') return answer(404, { code: 'RESOURCE_NOT_EXISTS', message: 'no such API' });

    const request = JSON.parse(body) as { out_trade_no: string; out_refund_no: string; notify_url: string; amount: { refund: number; total: number; currency: string } };
    const plan = this.plans.get(request.out_trade_no) ?? {};
    // Same out_refund_no: the same refund, never a second one (同一退款单号多次请求只退一笔).
    const known = this.refunds.get(request.out_refund_no);
    if (known) return answer(200, view(known));
    const answered = this.errorsAnswered.get(request.out_trade_no) ?? 0;
    const code = plan.errors?.[answered];
    if (code) {
      this.errorsAnswered.set(request.out_trade_no, answered + 1);
      return answer(ERROR_STATUS[code], { code, message: `simulated ${code}` });
    }
    const refunded = this.refundsOf(request.out_trade_no).reduce((sum, r) => sum + r.amount.refund, 0);
    if (request.amount.refund + refunded > request.amount.total) return answer(400, { code: 'INVALID_REQUEST', message: '退款金额超过订单可退金额' });

    const refund: HeldRefund = {
      refund_id: `50${Date.now()}${randomBytes(4).readUInt32BE(0)}`,
      out_refund_no: request.out_refund_no,
      out_trade_no: request.out_trade_no,
      status: 'PROCESSING',
      user_received_account: '招商银行信用卡0403',
      create_time: new Date().toISOString(),
      amount: { total: request.amount.total, refund: request.amount.refund, currency: request.amount.currency },
      notifyUrl: request.notify_url,
    };
    this.refunds.set(refund.out_refund_no, refund);
    this.later(this.settleAfterMs, () => this.settle(refund, plan));
    if (plan.loseAnswer) {
      this.requests.push({ method: 'POST', path, status: 0 });
      res.destroy();
      return;
    }
    answer(200, view(refund));
  }

  /**
   * 发起异常退款: only for an ABNORMAL refund (found by WeChat's refund_id, with its out_refund_no);
   * the card and name must be encrypted with this platform's public key, named by Wechatpay-Serial.
   * The refund is PROCESSING again and, after the delay, SUCCESS, notified like any other.
   */
  private applyAbnormalRefund(req: IncomingMessage, refundId: string, body: string, answer: (status: number, payload?: object) => void): void {
    const request = JSON.parse(body) as { out_refund_no: string; type: string; bank_type?: string; bank_account?: string; real_name?: string };
    const refund = this.refunds.get(request.out_refund_no);
    if (!refund || refund.refund_id !== refundId) return answer(404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
    const plan = this.plans.get(refund.out_trade_no!) ?? {};
    const key = `redirect:${refund.out_refund_no}`;
    const answered = this.errorsAnswered.get(key) ?? 0;
    const code = plan.redirectErrors?.[answered];
    if (code) {
      this.errorsAnswered.set(key, answered + 1);
      return answer(ERROR_STATUS[code], { code, message: `simulated ${code}` });
    }
    if (refund.status !== 'ABNORMAL') return answer(400, { code: 'INVALID_REQUEST', message: '退款单状态不是退款异常' });
    if (req.headers['wechatpay-serial'] !== this.publicKeyId) return answer(400, { code: 'PARAM_ERROR', message: 'Wechatpay-Serial 与加密公钥不符' });
    if (request.type !== 'USER_BANK_CARD' || !(WECHAT_REDIRECT_BANKS as readonly string[]).includes(request.bank_type ?? '')) {
      return answer(400, { code: 'PARAM_ERROR', message: '仅支持退款至指定银行的借记卡' });
    }
    let account: string;
    let name: string;
    try {
      account = this.decrypt(request.bank_account ?? '');
      name = this.decrypt(request.real_name ?? '');
    } catch {
      return answer(400, { code: 'PARAM_ERROR', message: '敏感字段解密失败' });
    }
    refund.redirectedTo = { bankType: request.bank_type!, account, name };
    refund.status = 'PROCESSING';
    refund.user_received_account = `${request.bank_type} ${account.slice(-4)}`;
    this.later(this.settleAfterMs, () => this.settle(refund, { ...plan, ends: 'SUCCESS' }));
    answer(200, view(refund));
  }

  /** A field our adapter encrypted with this platform's public key (RSA-OAEP, SHA-1, as WeChat Pay specifies). */
  private decrypt(field: string): string {
    return privateDecrypt({ key: this.platform.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(field, 'base64')).toString('utf8');
  }

  private settle(refund: HeldRefund, plan: RefundPlan): void {
    refund.status = plan.ends ?? 'SUCCESS';
    if (refund.status === 'SUCCESS') refund.success_time = new Date().toISOString();
    if (plan.notify !== false) void this.deliver(refund, 1);
  }

  /** Posts the notification until our API takes it (WeChat Pay retries on anything but 200/204). */
  private async deliver(refund: HeldRefund, attempt: number): Promise<void> {
    const { headers, body } = this.notification(refund);
    let status = 0;
    try {
      status = (await fetch(refund.notifyUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body })).status;
    } catch {
      status = 0;
    }
    this.deliveries.push({ outRefundNo: refund.out_refund_no, status });
    if (status !== 200 && status !== 204 && attempt < 8) this.later(500, () => void this.deliver(refund, attempt + 1));
  }

  private later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work();
    }, ms);
    this.timers.add(timer);
  }

  /** The merchant's signature over METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n, with the merchant certificate's serial. */
  private verifiesRequest(req: IncomingMessage, path: string, body: string): boolean {
    const match = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(req.headers.authorization ?? '');
    if (!match) return false;
    const fields = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (fields.mchid !== this.mchid || fields.serial_no !== this.merchantSerial || !fields.signature) return false;
    const message = `${req.method}\n${path}\n${fields.timestamp}\n${fields.nonce_str}\n${body}\n`;
    return createVerify('RSA-SHA256').update(message).verify(this.merchant.publicKey, fields.signature, 'base64');
  }

  private signedHeaders(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const nonce = randomBytes(16).toString('hex');
    return {
      'Wechatpay-Timestamp': String(timestamp),
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': this.publicKeyId,
      'Wechatpay-Signature': this.sign(`${timestamp}\n${nonce}\n${body}\n`),
    };
  }

  private sign(message: string): string {
    return createSign('RSA-SHA256').update(message).sign(this.platform.privateKey, 'base64');
  }
}

function view(refund: HeldRefund): WechatRefund {
  const { notifyUrl: _notifyUrl, redirectedTo: _redirectedTo, ...shown } = refund;
  return { ...shown, amount: { ...refund.amount } };
}

function pemPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}
