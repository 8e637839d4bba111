/**
 * Alipay's openapi gateway (gateway.do) on localhost, speaking the real protocol for the adapter's
 * tests, written from Alipay's documents alone (its own error codes and amount format; nothing of
 * our adapter is imported): it checks each request's RSA2 signature (sorted parameters, sign left out) with the app's
 * public key, answers alipay.trade.refund and alipay.trade.fastpay.refund.query with its answer
 * node signed by its own key, deduplicates out_request_no as Alipay does, and makes signed refund
 * notifications. Each payment (out_trade_no) can be given a plan: error codes to answer first, an
 * answer lost after the refund was taken, or a refund answered `fund_change: N` that its query shows
 * only some time later (why Alipay asks for 10 s between a refund and its query). Keys are generated
 * when it starts.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createSign, createVerify, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlipaySettings } from '../../src/providers/alipay/alipay-settings';

/** alipay.trade.refund's business errors (sub_code) and the gateway code each comes with, as Alipay documents them. */
export const ALIPAY_ERRORS = {
  'ACQ.SYSTEM_ERROR': '20000',
  'ACQ.REFUND_CHARGE_ERROR': '40004',
  'ACQ.SELLER_BALANCE_NOT_ENOUGH': '40004',
  'ACQ.INVALID_PARAMETER': '40004',
  'ACQ.TRADE_NOT_EXIST': '40004',
  'ACQ.TRADE_STATUS_ERROR': '40004',
  'ACQ.TRADE_HAS_FINISHED': '40004',
  'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL': '40004',
  'ACQ.REASON_TRADE_REFUND_FEE_ERR': '40004',
  'ACQ.REASON_TRADE_BEEN_FREEZEN': '40004',
  'ACQ.DISCORDANT_REPEAT_REQUEST': '40004',
  'ACQ.BUYER_ERROR': '40004',
  'ACQ.CHECK_PARTNER_ERROR': '40004',
} as const;
export type AlipayError = keyof typeof ALIPAY_ERRORS;

export interface AlipayPlan {
  errors?: AlipayError[];
  loseAnswer?: boolean;
  /** Answered 10000 with fund_change N, and never processed: the query never shows REFUND_SUCCESS. */
  neverProcessed?: boolean;
  /** Answered 10000 with fund_change N; the refund is made, and its query shows it, only this long after. */
  processAfterMs?: number;
}

export interface AlipayRefund {
  /** Whose trade it refunds: the merchant that authorised the app (by its app_auth_token), or the app's own ('self'). */
  seller: string;
  outTradeNo: string;
  outRequestNo: string;
  tradeNo: string;
  amount: number;
  refundedAt: string;
}

export class AlipaySimulator {
  readonly appId = `2021${randomBytes(6).readUIntBE(0, 6)}`.slice(0, 16);
  readonly app = pemPair();
  private readonly alipay = pemPair();
  readonly refunds: AlipayRefund[] = [];
  readonly requests: { method: string; answer: string; outTradeNo?: string; outRequestNo?: string; appAuthToken?: string }[] = [];
  /** Merchants that authorised the app (第三方应用授权), by the app_auth_token each authorisation gave. */
  private readonly authorisations = new Map<string, string>();
  private readonly plans = new Map<string, AlipayPlan>();
  private readonly errorsAnswered = new Map<string, number>();
  /** Refunds answered fund_change N that Alipay is still making. */
  private readonly processing = new Set<string>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/gateway.do`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * Public-key-certificate mode (公钥证书模式): Alipay's root CA issues the app's certificate and its
   * own; each request names the app certificate and the root chain by their serial (app_cert_sn,
   * alipay_root_cert_sn: md5 of issuer and serial number), each answer names Alipay's (alipay_cert_sn).
   */
  readonly certificates?: { app: string; alipay: string; root: string; appSn: string; alipaySn: string; rootSn: string };

  constructor(options: { certificates?: boolean } = {}) {
    if (options.certificates) this.certificates = issueCertificates(this.app.privateKey, this.alipay.privateKey);
  }

  settings(): AlipaySettings {
    const keys = this.certificates ? { certificates: { app: this.certificates.app, alipay: this.certificates.alipay, root: this.certificates.root } } : { alipayPublicKey: this.alipay.publicKey };
    return { appId: this.appId, privateKey: this.app.privateKey, ...keys, gateway: this.url };
  }

  env(): Record<string, string> {
    const keys: Record<string, string> = this.certificates
      ? { ALIPAY_APP_CERT: this.certificates.app, ALIPAY_PUBLIC_CERT: this.certificates.alipay, ALIPAY_ROOT_CERT: this.certificates.root }
      : { ALIPAY_PUBLIC_KEY: this.alipay.publicKey };
    return { PROVIDER_ALIPAY: 'alipay', ALIPAY_APP_ID: this.appId, ALIPAY_PRIVATE_KEY: this.app.privateKey, ...keys, ALIPAY_GATEWAY: this.url };
  }

  /** A merchant authorises the app to act for it: the token the app then sends as app_auth_token. */
  authorise(merchant: string): string {
    const token = `202612BB${randomBytes(16).toString('hex')}`;
    this.authorisations.set(token, merchant);
    return token;
  }

  plan(outTradeNo: string, plan: AlipayPlan): void {
    this.plans.set(outTradeNo, plan);
  }

  refundsOf(outTradeNo: string): AlipayRefund[] {
    return this.refunds.filter((refund) => refund.outTradeNo === outTradeNo);
  }

  /** The form Alipay posts about a refund (trade_status_sync), signed, optionally forged. */
  notification(refund: AlipayRefund, forged = false): string {
    const fields: Record<string, string> = {
      notify_id: randomBytes(12).toString('hex'),
      notify_type: 'trade_status_sync',
      notify_time: beijingTime(),
      app_id: this.appId,
      charset: 'utf-8',
      version: '1.0',
      trade_no: refund.tradeNo,
      out_trade_no: refund.outTradeNo,
      out_biz_no: refund.outRequestNo,
      trade_status: 'TRADE_SUCCESS',
      refund_fee: yuanOf(this.refundsOf(refund.outTradeNo).reduce((sum, r) => sum + r.amount, 0)),
      send_back_fee: yuanOf(refund.amount),
      gmt_refund: refund.refundedAt,
    };
    const signed = { ...fields, sign_type: 'RSA2', sign: sign(sortedPairs(fields), forged ? pemPair().privateKey : this.alipay.privateKey) };
    return new URLSearchParams(signed).toString();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params: Record<string, string> = {
      ...Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams),
      ...Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
    };
    const method = params.method ?? '';
    const key = `${method.replaceAll('.', '_')}_response`;
    const named = (() => {
      try {
        const { out_trade_no, out_request_no } = JSON.parse(params.biz_content ?? '{}') as { out_trade_no?: string; out_request_no?: string };
        return { outTradeNo: out_trade_no, outRequestNo: out_request_no };
      } catch {
        return {};
      }
    })();
    const token = params.app_auth_token;
    const answer = (node: Record<string, unknown>) => {
      this.requests.push({ method, answer: String(node.sub_code ?? node.code), ...named, ...(token ? { appAuthToken: token } : {}) });
      const json = JSON.stringify(node);
      const certSn = this.certificates ? `,"alipay_cert_sn":"${this.certificates.alipaySn}"` : '';
      res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' }).end(`{"${key}":${json}${certSn},"sign":"${sign(json, this.alipay.privateKey)}"}`);
    };
    const { sign: signature, ...signedParams } = params;
    if (params.app_id !== this.appId || !signature || !verify(sortedPairs(signedParams), signature, this.app.publicKey)) {
      return answer({ code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature', sub_msg: '验签出错' });
    }
    if (this.certificates && (params.app_cert_sn !== this.certificates.appSn || params.alipay_root_cert_sn !== this.certificates.rootSn)) {
      return answer({ code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-cert-sn', sub_msg: '应用公钥证书序列号或支付宝根证书序列号不匹配' });
    }
    if (token && !this.authorisations.has(token)) return answer({ code: '20001', msg: 'Insufficient Token Permissions', sub_code: 'aop.invalid-app-auth-token', sub_msg: '无效的应用授权令牌' });
    const seller = token ? this.authorisations.get(token)! : 'self';
    const biz = JSON.parse(params.biz_content ?? '{}') as { out_trade_no: string; out_request_no: string; refund_amount?: string };
    // Trades are the seller's: acting for one merchant, the app sees none of another's.
    const known = this.refunds.find((r) => r.seller === seller && r.outTradeNo === biz.out_trade_no && r.outRequestNo === biz.out_request_no);
    const success = (refund: AlipayRefund, extra: Record<string, unknown>) => ({ code: '10000', msg: 'Success', trade_no: refund.tradeNo, out_trade_no: refund.outTradeNo, ...extra });

    if (method === 'alipay.trade.fastpay.refund.query') {
      if (!known) return answer({ code: '10000', msg: 'Success', out_trade_no: biz.out_trade_no, out_request_no: biz.out_request_no });
      return answer(success(known, { out_request_no: known.outRequestNo, refund_amount: yuanOf(known.amount), refund_status: 'REFUND_SUCCESS', gmt_refund_pay: known.refundedAt }));
    }
    if (method !== 'alipay.trade.refund') return answer({ code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid-method', sub_msg: 'no such method' });

    // A repeated out_request_no: the same refund, no money moves again.
    if (known) return answer(success(known, { fund_change: 'N', refund_fee: this.total(biz.out_trade_no) }));
    const plan = this.plans.get(biz.out_trade_no) ?? {};
    const answered = this.errorsAnswered.get(biz.out_trade_no) ?? 0;
    const code = plan.errors?.[answered];
    if (code) {
      this.errorsAnswered.set(biz.out_trade_no, answered + 1);
      return answer({ code: ALIPAY_ERRORS[code], msg: code === 'ACQ.SYSTEM_ERROR' ? 'Service Currently Unavailable' : 'Business Failed', sub_code: code, sub_msg: `simulated ${code}` });
    }
    if (plan.neverProcessed || plan.processAfterMs !== undefined) {
      if (plan.processAfterMs !== undefined && !this.processing.has(biz.out_request_no)) {
        this.processing.add(biz.out_request_no);
        setTimeout(() => this.refunds.push(this.refundOf(biz, seller)), plan.processAfterMs);
      }
      return answer({ code: '10000', msg: 'Success', out_trade_no: biz.out_trade_no, fund_change: 'N', refund_fee: this.total(biz.out_trade_no) });
    }
    const refund = this.refundOf(biz, seller);
    this.refunds.push(refund);
    if (plan.loseAnswer) {
      this.requests.push({ method, answer: 'lost', ...named });
      res.destroy();
      return;
    }
    answer(success(refund, { fund_change: 'Y', refund_fee: this.total(biz.out_trade_no), gmt_refund_pay: refund.refundedAt }));
  }

  private refundOf(biz: { out_trade_no: string; out_request_no: string; refund_amount?: string }, seller: string): AlipayRefund {
    return {
      seller,
      outTradeNo: biz.out_trade_no,
      outRequestNo: biz.out_request_no,
      tradeNo: `2026${randomBytes(8).readBigUInt64BE(0).toString().padStart(20, '0').slice(0, 24)}`,
      amount: fenOf(biz.refund_amount ?? '0'),
      refundedAt: beijingTime(),
    };
  }

  private total(outTradeNo: string): string {
    return yuanOf(this.refundsOf(outTradeNo).reduce((sum, r) => sum + r.amount, 0));
  }
}

/** Fen as Alipay's yuan string ("123.45"). */
function yuanOf(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** Alipay's yuan string as fen. */
function fenOf(yuan: string): number {
  const [whole, part = ''] = yuan.split('.');
  return Number(whole) * 100 + Number(part.padEnd(2, '0'));
}

/** A root CA, and the app's and Alipay's certificates issued by it (openssl, in a folder removed at once), with their serials as Alipay computes them. */
function issueCertificates(appKey: string, alipayKey: string): NonNullable<AlipaySimulator['certificates']> {
  const folder = mkdtempSync(path.join(tmpdir(), 'alipay-certs-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' });
  try {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/C=CN/O=Ant Financial/OU=Certification Authority/CN=Ant Financial Certification Authority Class 1 R1');
    const issue = (name: string, key: string, subject: string) => {
      writeFileSync(path.join(folder, `${name}.key`), key);
      openssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '30');
      return readFileSync(path.join(folder, `${name}.pem`), 'utf8');
    };
    const app = issue('app', appKey, '/C=CN/O=refundflow test merchant/OU=Alipay/CN=2088000000000001');
    const alipay = issue('alipay', alipayKey, '/C=CN/O=Ant Financial/OU=Alipay/CN=Alipay public key certificate');
    const root = readFileSync(path.join(folder, 'root.pem'), 'utf8');
    return { app, alipay, root, appSn: certificateSn(app), alipaySn: certificateSn(alipay), rootSn: certificateSn(root) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Alipay's certificate serial: md5 of the issuer (its names last to first, `CN=…,OU=…,O=…,C=…`) and the serial number in decimal. */
function certificateSn(pem: string): string {
  const certificate = new X509Certificate(pem);
  const issuer = certificate.issuer.split('\n').reverse().join(',');
  return createHash('md5').update(issuer + BigInt(`0x${certificate.serialNumber}`).toString(10), 'utf8').digest('hex');
}

function sortedPairs(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

function sign(text: string, privateKey: string): string {
  return createSign('RSA-SHA256').update(text, 'utf8').sign(privateKey, 'base64');
}

function verify(text: string, signature: string, publicKey: string): boolean {
  return createVerify('RSA-SHA256').update(text, 'utf8').verify(publicKey, signature, 'base64');
}

function beijingTime(): string {
  return new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function pemPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}
