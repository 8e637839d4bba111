/**
 * A WeChat Pay API v3 refunds server on localhost, written from WeChat Pay's documents alone (it
 * imports nothing of our adapter: its own error table, statuses and bank list), so a wrong table
 * in the adapter fails here instead of agreeing with itself.
 *
 * It verifies each request's WECHATPAY2-SHA256-RSA2048 signature with the merchant's public key;
 * signs every answer it gives, error answers included (an answer to a request whose own signature
 * failed is not signed, as WeChat Pay does), with the key the request's `Wechatpay-Serial` names;
 * settles refunds after a delay; and posts refund notifications signed and encrypted
 * (AEAD_AES_256_GCM) with the APIv3 key. Its keys follow one of WeChat Pay's modes: the WeChat Pay
 * public key, platform certificates (listed, encrypted, at GET /v3/certificates, and rotated on
 * demand), or a merchant moving between them, when answers follow the request's serial and
 * notifications come signed by either. Each payment (out_trade_no) can be given a plan: error
 * codes to answer first, a refund taken while every answer says "try again", answers nobody signed
 * or someone else signed, a lost answer, how the refund ends. Keys and certificates are made when it
 * starts (certificates by `openssl`); none is written anywhere but a temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { constants, createCipheriv, createSign, createVerify, generateKeyPairSync, privateDecrypt, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WechatPaySettings } from '../../src/providers/wechatpay/wechatpay-settings';

/** 申请退款's error codes and the HTTP status WeChat Pay answers each with (its documents' table). */
export const WECHAT_ERRORS = {
  SYSTEM_ERROR: 500,
  FREQUENCY_LIMITED: 429,
  NOT_ENOUGH: 403,
  NO_AUTH: 403,
  USER_ACCOUNT_ABNORMAL: 403,
  PARAM_ERROR: 400,
  INVALID_REQUEST: 400,
  SIGN_ERROR: 401,
  MCH_NOT_EXISTS: 404,
  RESOURCE_NOT_EXISTS: 404,
} as const;
export type WechatError = keyof typeof WECHAT_ERRORS;

/** The banks whose debit cards 发起异常退款 (USER_BANK_CARD) pays, as WeChat Pay's bank types name them. */
const ABNORMAL_REFUND_BANKS = ['ICBC_DEBIT', 'ABC_DEBIT', 'BOC_DEBIT', 'CCB_DEBIT', 'CMB_DEBIT', 'COMM_DEBIT', 'SPDB_DEBIT', 'CITIC_DEBIT', 'CEB_DEBIT', 'CMBC_DEBIT', 'CIB_DEBIT', 'GDB_DEBIT', 'PSBC_DEBIT', 'PAB_DEBIT', 'NBCB_DEBIT'];

type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

/** An answer that is not WeChat Pay's own: no signature at all, another key's, or a gateway's HTML page. */
export interface Spoiled {
  status: number;
  body: 'json' | 'html';
  signature: 'none' | 'forged';
}

export interface RefundPlan {
  /** Answered, in order, to the first submissions (no refund is taken for them). */
  errors?: WechatError[];
  /** The first submission is taken, yet every submission is answered with this "try again" code. */
  takenButAnswered?: WechatError;
  /** The first submission is taken, and its answer replaced by one WeChat Pay did not sign. */
  takenButSpoiled?: Spoiled;
  /** Its refunds' queries are answered FREQUENCY_LIMITED (signed) while this is set: the query API has its own limit. */
  queriesLimited?: boolean;
  /** The first this-many queries of its refunds get an answer WeChat Pay did not sign. */
  spoiledQueries?: { count: number; answer: Spoiled };
  /** How the refund ends after `settleAfterMs` (default SUCCESS). */
  ends?: Exclude<RefundStatus, 'PROCESSING'>;
  /** false: no notification is sent; only a query finds the end. */
  notify?: boolean;
  /** The refund is taken, but the connection drops before the answer (an in-doubt submission). */
  loseAnswer?: boolean;
  /** Answered, in order, to the first abnormal-refund applications (发起异常退款); nothing changes for them. */
  redirectErrors?: WechatError[];
}

export interface HeldRefund {
  /** The merchant account that asked for it (a service provider's for its sub-merchant), and that sub-merchant. */
  mchid: string;
  sub_mchid?: string;
  refund_id: string;
  out_refund_no: string;
  out_trade_no: string;
  status: RefundStatus;
  user_received_account: string;
  success_time?: string;
  create_time: string;
  amount: { total: number; refund: number; currency: string };
  notifyUrl: string;
  /** Where 发起异常退款 sent it, as decrypted here: the card, its bank and holder. */
  redirectedTo?: { bankType: string; account: string; name: string };
}

/** Which keys WeChat Pay signs with for this merchant. */
export type KeyMode = 'public_key' | 'platform_certificate' | 'migrating';

interface SigningKey {
  serial: string;
  privateKey: string;
  publicKey: string;
  /** Platform certificates only: the certificate (PEM) and when it took effect. */
  certificate?: string;
}

/**
 * Another merchant account at this WeChat Pay (a direct merchant with its own keys): its own mchid,
 * merchant API key pair, APIv3 key and WeChat Pay public key.
 */
export interface MerchantAccount {
  mchid: string;
  merchantSerial: string;
  merchant: { privateKey: string; publicKey: string };
  apiV3Key: string;
  publicKey: SigningKey;
}

export class WechatPaySimulator {
  readonly mchid = '1900000109';
  readonly merchantSerial = randomBytes(20).toString('hex').toUpperCase();
  readonly apiV3Key = randomBytes(16).toString('hex');
  readonly merchant = pemPair();
  private readonly publicKey: SigningKey;
  private readonly certificates: SigningKey[] = [];
  private readonly stranger = pemPair();
  /** Every refund taken, by out_refund_no: the ground truth of what WeChat Pay would pay. */
  readonly refunds = new Map<string, HeldRefund>();
  /**
   * Every request that reached it: method, path, the answer's status, the serial it signed with ('' unsigned),
   * the merchant account whose key verified the request ('' none) and the sub-merchant it named.
   */
  readonly requests: { method: string; path: string; status: number; signedWith: string; mchid: string; subMchid?: string }[] = [];
  /** Direct merchants besides the main account, by mchid. */
  private readonly accounts = new Map<string, MerchantAccount>();
  /** The main account's sub-merchants (服务商模式: it refunds for them as sp_mchid). */
  private readonly subMerchants = new Set<string>();
  /** Refund requests (申请退款) a merchant may send a second, as WeChat Pay enforces it (FREQUENCY_LIMITED beyond); absent, no limit. */
  refundsPerSecond?: number;
  /** Refund requests taken per merchant (mchid/sub_mchid) and second: what the limit was held to. */
  readonly refundRequestsPerSecond = new Map<string, number>();
  /** Each notification delivery tried: the refund, the serial that signed it, and our API's status. */
  readonly deliveries: { outRefundNo: string; serial: string; status: number }[] = [];
  private readonly plans = new Map<string, RefundPlan>();
  private readonly counters = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private notificationsSent = 0;
  private server?: Server;
  url = '';

  constructor(
    private readonly settleAfterMs = 300,
    readonly keyMode: KeyMode = 'public_key',
  ) {
    this.publicKey = { serial: `PUB_KEY_ID_${randomBytes(16).toString('hex').toUpperCase()}`, ...pemPair() };
    if (keyMode !== 'public_key') this.rotatePlatformCertificate();
  }

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

  get publicKeyId(): string {
    return this.publicKey.serial;
  }

  /** A direct merchant of its own, with its own keys (public-key mode). */
  addMerchant(): MerchantAccount {
    const account: MerchantAccount = {
      mchid: String(1_900_000_200 + this.accounts.size),
      merchantSerial: randomBytes(20).toString('hex').toUpperCase(),
      merchant: pemPair(),
      apiV3Key: randomBytes(16).toString('hex'),
      publicKey: { serial: `PUB_KEY_ID_${randomBytes(16).toString('hex').toUpperCase()}`, ...pemPair() },
    };
    this.accounts.set(account.mchid, account);
    return account;
  }

  /** A sub-merchant the main account, as service provider, refunds for. */
  addSubMerchant(): string {
    const subMchid = String(1_600_000_000 + this.subMerchants.size);
    this.subMerchants.add(subMchid);
    return subMchid;
  }

  /** The platform certificate WeChat Pay signs with now. */
  get currentCertificate(): SigningKey | undefined {
    return this.certificates.at(-1);
  }

  /** WeChat Pay issues a new platform certificate and signs with it from now on (the old one stays listed). */
  rotatePlatformCertificate(): SigningKey {
    const folder = mkdtempSync(path.join(tmpdir(), 'wechat-platform-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '30', '-subj', '/C=CN/O=Tenpay.com/CN=Tenpay.com sign'], { cwd: folder, stdio: 'pipe' });
      const certificate = readFileSync(path.join(folder, 'cert.pem'), 'utf8');
      const x509 = new X509Certificate(certificate);
      const key: SigningKey = { serial: x509.serialNumber.toUpperCase(), privateKey: readFileSync(path.join(folder, 'key.pem'), 'utf8'), publicKey: x509.publicKey.export({ type: 'spki', format: 'pem' }).toString(), certificate };
      this.certificates.push(key);
      return key;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  /** What the adapter is configured with to talk to this simulator, in the merchant's key mode. */
  settings(notifyUrl: string): WechatPaySettings {
    const usesPublicKey = this.keyMode !== 'platform_certificate';
    return {
      mchid: this.mchid,
      merchantSerial: this.merchantSerial,
      privateKey: this.merchant.privateKey,
      publicKeyId: usesPublicKey ? this.publicKey.serial : undefined,
      publicKey: usesPublicKey ? this.publicKey.publicKey : undefined,
      platformCertificates: this.keyMode === 'public_key' ? [] : this.certificates.map((c) => c.certificate!),
      apiV3Key: this.apiV3Key,
      baseUrl: this.url,
      notifyUrl,
      requestsPerSecond: 150,
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
      ...(s.publicKeyId ? { WECHATPAY_PUBLIC_KEY_ID: s.publicKeyId, WECHATPAY_PUBLIC_KEY: s.publicKey! } : {}),
      ...(s.platformCertificates.length ? { WECHATPAY_PLATFORM_CERTIFICATES: s.platformCertificates.join('\n') } : {}),
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

  /**
   * A refund notification as WeChat Pay would post it, for tests to send themselves: signed by the
   * key `signedBy` names (default: the one WeChat Pay signs notifications with now), or spoiled.
   */
  notification(
    refund: HeldRefund,
    options: { spoil?: 'signature' | 'ciphertext' | 'stale' | 'stranger'; signedBy?: 'public_key' | 'certificate'; as?: MerchantAccount } = {},
  ): { headers: Record<string, string> ; body: string } {
    // Whose notice it is: the account the refund was asked by, or (a test's forgery) the one `as` names.
    const account = options.as ?? this.accounts.get(refund.mchid);
    const resource = JSON.stringify({
      ...(account ? { mchid: account.mchid } : refund.sub_mchid ? { sp_mchid: this.mchid, sub_mchid: refund.sub_mchid } : { mchid: this.mchid }),
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
    const key = options.spoil === 'ciphertext' ? randomBytes(16).toString('hex') : (account?.apiV3Key ?? this.apiV3Key);
    const body = JSON.stringify({
      id: `EV-${randomBytes(8).toString('hex')}`,
      create_time: new Date().toISOString(),
      resource_type: 'encrypt-resource',
      event_type: `REFUND.${refund.status}`,
      summary: refund.status === 'SUCCESS' ? '退款成功' : '退款异常',
      resource: { original_type: 'refund', algorithm: 'AEAD_AES_256_GCM', ciphertext: sealAeadAes256Gcm(resource, key, nonce, 'refund'), associated_data: 'refund', nonce },
    });
    const signer = account ? account.publicKey : options.signedBy === 'public_key' ? this.publicKey : options.signedBy === 'certificate' ? this.currentCertificate! : this.notificationKey();
    const headers = this.signedHeaders(body, options.spoil === 'stranger' ? { ...this.stranger, serial: signer.serial } : signer, options.spoil === 'stale' ? Math.floor(Date.now() / 1000) - 3_600 : undefined);
    if (options.spoil === 'signature') headers['Wechatpay-Signature'] = sign(`${headers['Wechatpay-Timestamp']}\n${headers['Wechatpay-Nonce']}\n${body.replace('refund', 'refunD')}\n`, signer.privateKey);
    return { headers, body };
  }

  /** Notifications: while a merchant moves, WeChat Pay signs them with either key, turn about here. */
  private notificationKey(): SigningKey {
    if (this.keyMode === 'public_key') return this.publicKey;
    if (this.keyMode === 'platform_certificate') return this.currentCertificate!;
    this.notificationsSent += 1;
    return this.notificationsSent % 2 === 0 ? this.publicKey : this.currentCertificate!;
  }

  /**
   * Which key signs an answer: in certificate mode the platform certificate in force (a rotation
   * shows at once); while a merchant moves, the key the request's Wechatpay-Serial names.
   */
  private answerKey(req: IncomingMessage): SigningKey {
    if (this.keyMode === 'public_key') return this.publicKey;
    if (this.keyMode === 'migrating') {
      const named = this.answersSignedBy === 'request' ? (req.headers['wechatpay-serial'] === this.publicKey.serial ? 'public_key' : 'certificate') : this.answersSignedBy;
      if (named === 'public_key') return this.publicKey;
    }
    return this.currentCertificate!;
  }

  /** While a merchant moves, WeChat Pay may sign with either key whatever the request named: tests choose here. */
  answersSignedBy: 'request' | 'public_key' | 'certificate' = 'request';

  private count(key: string): number {
    const n = this.counters.get(key) ?? 0;
    this.counters.set(key, n + 1);
    return n;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const mchid = /mchid="([^"]*)"/.exec(req.headers.authorization ?? '')?.[1];
    const account = mchid ? this.accounts.get(mchid) : undefined;
    const signer = account ? account.publicKey : this.answerKey(req);
    const subMchid = new URL(path, 'http://x').searchParams.get('sub_mchid') ?? (body.startsWith('{') ? ((JSON.parse(body) as { sub_mchid?: string }).sub_mchid ?? undefined) : undefined);
    let verifiedFor = '';
    const reply = (status: number, payload: object | string, how: { signature?: 'none' | 'forged' | 'ours'; contentType?: string } = {}) => {
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      const signature = how.signature ?? 'ours';
      const headers = signature === 'none' ? {} : this.signedHeaders(text, signature === 'forged' ? { ...this.stranger, serial: signer.serial } : signer);
      this.requests.push({ method: req.method ?? '', path, status, signedWith: signature === 'ours' ? signer.serial : '', mchid: verifiedFor, ...(subMchid ? { subMchid } : {}) });
      res.writeHead(status, { 'Content-Type': how.contentType ?? 'application/json', ...headers }).end(text);
    };
    const answer = (status: number, payload: object) => reply(status, payload);
    const error = (code: WechatError, message = `simulated ${code}`) => answer(WECHAT_ERRORS[code], { code, message });
    const spoiled = (how: Spoiled) =>
      how.body === 'html'
        ? reply(how.status, `<html><body><h1>${how.status}</h1>nginx</body></html>`, { signature: how.signature, contentType: 'text/html' })
        : reply(how.status, { code: how.status >= 500 ? 'SYSTEM_ERROR' : 'PARAM_ERROR', message: 'not from WeChat Pay' }, { signature: how.signature });

    if (mchid && mchid !== this.mchid && !account) return error('MCH_NOT_EXISTS', '商户号不存在');
    // WeChat Pay cannot sign for a request it could not authenticate.
    if (!this.verifiesRequest(req, path, body, account)) return reply(401, { code: 'SIGN_ERROR', message: '签名错误' }, { signature: 'none' });
    verifiedFor = mchid!;
    // A sub-merchant is named only by the service provider it belongs to (the main account here).
    if (subMchid && (account || !this.subMerchants.has(subMchid))) return error('NO_AUTH', '服务商与子商户无授权关系');
    /** A refund this request may see: asked by the same account, for the same sub-merchant. */
    const visible = (refund: HeldRefund | undefined) => (refund && refund.mchid === mchid && refund.sub_mchid === subMchid ? refund : undefined);

    if (req.method === 'GET' && path === '/v3/certificates') return this.listCertificates(answer);
    const query = /^\/v3\/refund\/domestic\/refunds\/([^/?]+)(?:\?sub_mchid=\d+)?$/.exec(path);
    if (req.method === 'GET' && query) {
      const refund = visible(this.refunds.get(decodeURIComponent(query[1]!)));
      const plan = refund ? (this.plans.get(refund.out_trade_no) ?? {}) : {};
      if (refund && plan.queriesLimited) return error('FREQUENCY_LIMITED', '查询频率超限');
      if (refund && plan.spoiledQueries && this.count(`query:${refund.out_refund_no}`) < plan.spoiledQueries.count) return spoiled(plan.spoiledQueries.answer);
      return refund ? answer(200, view(refund)) : error('RESOURCE_NOT_EXISTS', '退款单不存在');
    }
    const abnormal = /^\/v3\/refund\/domestic\/refunds\/([^/?]+)\/apply-abnormal-refund$/.exec(path);
    if (req.method === 'POST' && abnormal) return this.applyAbnormalRefund(req, decodeURIComponent(abnormal[1]!), body, answer, error);
    if (req.method !== 'POST' || path !== '/v3/refund/domestic/refunds') return answer(404, { code: 'NOT_FOUND', message: 'no such API' });

    // 申请退款's frequency limit, per merchant (a sub-merchant counts on its own) and second.
    const second = `${mchid}/${subMchid ?? ''}@${Math.floor(Date.now() / 1000)}`;
    const sentThisSecond = (this.refundRequestsPerSecond.get(second) ?? 0) + 1;
    this.refundRequestsPerSecond.set(second, sentThisSecond);
    if (this.refundsPerSecond !== undefined && sentThisSecond > this.refundsPerSecond) return error('FREQUENCY_LIMITED', '频率限制');
    const request = JSON.parse(body) as { out_trade_no: string; out_refund_no: string; notify_url: string; amount: { refund: number; total: number; currency: string } };
    const plan = this.plans.get(request.out_trade_no) ?? {};
    const known = visible(this.refunds.get(request.out_refund_no));
    if (known && plan.takenButAnswered) return error(plan.takenButAnswered);
    // Same out_refund_no: the same refund, never a second one (同一退款单号多次请求只退一笔).
    if (known) return answer(200, view(known));
    const code = plan.errors?.[this.count(`errors:${request.out_trade_no}`)];
    if (code) return error(code);
    const refunded = this.refundsOf(request.out_trade_no).reduce((sum, r) => sum + r.amount.refund, 0);
    if (request.amount.refund + refunded > request.amount.total) return error('INVALID_REQUEST', '退款金额超过订单可退金额');

    const refund: HeldRefund = {
      mchid: mchid!,
      ...(subMchid ? { sub_mchid: subMchid } : {}),
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
      this.requests.push({ method: 'POST', path, status: 0, signedWith: '', mchid: verifiedFor });
      res.destroy();
      return;
    }
    if (plan.takenButAnswered) return error(plan.takenButAnswered);
    if (plan.takenButSpoiled) return spoiled(plan.takenButSpoiled);
    answer(200, view(refund));
  }

  /** GET /v3/certificates: every platform certificate, each encrypted with the APIv3 key. */
  private listCertificates(answer: (status: number, payload: object) => void): void {
    answer(200, {
      data: this.certificates.map((c) => {
        const nonce = randomBytes(6).toString('hex');
        const x509 = new X509Certificate(c.certificate!);
        return {
          serial_no: c.serial,
          effective_time: new Date(x509.validFrom).toISOString(),
          expire_time: new Date(x509.validTo).toISOString(),
          encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce, associated_data: 'certificate', ciphertext: sealAeadAes256Gcm(c.certificate!, this.apiV3Key, nonce, 'certificate') },
        };
      }),
    });
  }

  /**
   * 发起异常退款: only for an ABNORMAL refund (found by WeChat's refund_id, with its out_refund_no);
   * the card and name must be encrypted with the key Wechatpay-Serial names. The refund is
   * PROCESSING again and, after the delay, SUCCESS, notified like any other.
   */
  private applyAbnormalRefund(req: IncomingMessage, refundId: string, body: string, answer: (status: number, payload: object) => void, error: (code: WechatError, message?: string) => void): void {
    const request = JSON.parse(body) as { out_refund_no: string; type: string; bank_type?: string; bank_account?: string; real_name?: string };
    const refund = this.refunds.get(request.out_refund_no);
    if (!refund || refund.refund_id !== refundId) return error('RESOURCE_NOT_EXISTS', '退款单不存在');
    const plan = this.plans.get(refund.out_trade_no) ?? {};
    const code = plan.redirectErrors?.[this.count(`redirect:${refund.out_refund_no}`)];
    if (code) return error(code);
    if (refund.status !== 'ABNORMAL') return error('INVALID_REQUEST', '退款单状态不是退款异常');
    const encryptedFor = [this.publicKey, ...this.certificates].find((k) => k.serial === req.headers['wechatpay-serial']);
    if (!encryptedFor) return error('PARAM_ERROR', 'Wechatpay-Serial 与加密公钥不符');
    if (request.type !== 'USER_BANK_CARD' || !ABNORMAL_REFUND_BANKS.includes(request.bank_type ?? '')) return error('PARAM_ERROR', '仅支持退款至指定银行的借记卡');
    let account: string;
    let name: string;
    try {
      account = decrypt(request.bank_account ?? '', encryptedFor.privateKey);
      name = decrypt(request.real_name ?? '', encryptedFor.privateKey);
    } catch {
      return error('PARAM_ERROR', '敏感字段解密失败');
    }
    refund.redirectedTo = { bankType: request.bank_type!, account, name };
    refund.status = 'PROCESSING';
    refund.user_received_account = `${request.bank_type} ${account.slice(-4)}`;
    this.later(this.settleAfterMs, () => this.settle(refund, { ...plan, ends: 'SUCCESS' }));
    answer(200, view(refund));
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
    this.deliveries.push({ outRefundNo: refund.out_refund_no, serial: headers['Wechatpay-Serial']!, status });
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
  private verifiesRequest(req: IncomingMessage, path: string, body: string, account?: MerchantAccount): boolean {
    const match = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(req.headers.authorization ?? '');
    if (!match) return false;
    const fields = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const [mchid, serial, key] = account ? [account.mchid, account.merchantSerial, account.merchant.publicKey] : [this.mchid, this.merchantSerial, this.merchant.publicKey];
    if (fields.mchid !== mchid || fields.serial_no !== serial || !fields.signature) return false;
    const message = `${req.method}\n${path}\n${fields.timestamp}\n${fields.nonce_str}\n${body}\n`;
    return createVerify('RSA-SHA256').update(message).verify(key, fields.signature, 'base64');
  }

  private signedHeaders(body: string, key: Pick<SigningKey, 'serial' | 'privateKey'>, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const nonce = randomBytes(16).toString('hex');
    return {
      'Wechatpay-Timestamp': String(timestamp),
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': key.serial,
      'Wechatpay-Signature': sign(`${timestamp}\n${nonce}\n${body}\n`, key.privateKey),
    };
  }
}

function view(refund: HeldRefund): object {
  const { notifyUrl: _notifyUrl, redirectedTo: _redirectedTo, ...shown } = refund;
  return { ...shown, amount: { ...refund.amount } };
}

function sign(message: string, privateKey: string): string {
  return createSign('RSA-SHA256').update(message).sign(privateKey, 'base64');
}

/** A field encrypted with one of this WeChat Pay's public keys (RSA-OAEP, SHA-1, as WeChat Pay specifies). */
function decrypt(field: string, privateKey: string): string {
  return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(field, 'base64')).toString('utf8');
}

/** AEAD_AES_256_GCM as WeChat Pay documents it: base64 of the ciphertext followed by the 16-byte tag. */
function sealAeadAes256Gcm(plaintext: string, key: string, nonce: string, associatedData: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(nonce));
  cipher.setAAD(Buffer.from(associatedData));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

function pemPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}
