/**
 * Lakala's open platform (v3) on localhost, for the card adapter's tests, written from Lakala's
 * published interface alone (nothing of our adapter is imported): the unified return
 * (`/api/v3/lams/trade/trade_refund`) against the bank-card sales it holds, and the return query
 * (`/api/v3/lams/trade/trade_refund_query`). It makes, when it starts, the certificate it issues
 * us (our key and its serial) and its own platform certificate; each request's
 * `LKLAPI-SHA256withRSA` Authorization is checked with ours, each answer signed with its own in
 * the Lklapi-* headers. A return is PROCESSING when taken and SUCCESS `settleAfterMs` later. Each
 * sale can be given a plan: codes to answer first without acting, a code answered after acting
 * (a refusal it did not mean), or an answer lost after acting.
 */
import { createSign, createVerify, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import forge from 'node-forge';
import { LocalSimulator } from './local-server';

/** Codes this simulator answers with besides BBS00000 (the adapter relies on none of them). */
export const LAKALA_CODES = {
  BBS10000: '参数校验失败',
  BBS11105: '原交易不存在',
  BBS11112: '网络请求超时',
  BBS11201: '退货金额超过原交易可退金额',
  BBS11203: '商户请求流水号重复',
  BBS99999: '系统繁忙',
} as const;
export type LakalaCode = keyof typeof LAKALA_CODES;

export interface LakalaSale {
  logNo: string;
  tradeDate: string;
  cardNo: string;
  amount: number;
  refunded: number;
}

export interface LakalaReturn {
  outTradeNo: string;
  originLogNo: string;
  tradeDate: string;
  logNo: string;
  amount: number;
  state: 'PROCESSING' | 'SUCCESS';
}

export interface LakalaPlan {
  answers?: LakalaCode[];
  /** Take the return, then answer this code as if it had not. */
  takeButAnswer?: LakalaCode;
  loseAnswer?: boolean;
}

export class LakalaSimulator extends LocalSimulator {
  readonly appId = `OP${randomBytes(4).readUInt32BE(0).toString().padStart(8, '0')}`;
  readonly merchantNo = `822${randomBytes(6).readUIntBE(0, 6).toString().padStart(12, '0')}`.slice(0, 15);
  readonly ours = issue('refundflow');
  readonly platform = issue('Lakala platform');
  /** Another certificate Lakala never issued: what a forger would sign with. */
  readonly stranger = issue('Lakala platform');
  readonly sales = new Map<string, LakalaSale>();
  readonly returns: LakalaReturn[] = [];
  readonly requests: { path: string; code: string }[] = [];
  settleAfterMs = 1_000;
  private readonly plans = new Map<string, LakalaPlan>();
  env(): Record<string, string> {
    return {
      PROVIDER_CARD: 'lakala',
      LAKALA_APP_ID: this.appId,
      LAKALA_SERIAL_NO: this.ours.serial,
      LAKALA_PRIVATE_KEY: this.ours.keyPem,
      LAKALA_CERTIFICATE: this.platform.certificatePem,
      LAKALA_MERCHANT_NO: this.merchantNo,
      LAKALA_TERM_NO: 'A0073841',
      LAKALA_GATEWAY: this.url,
      LAKALA_REQUEST_IP: '203.0.113.10',
    };
  }

  /** A bank-card sale Lakala took: its log number (14 digits, the year's last two first), which a return names. */
  addSale(amount: number, cardNo: string, capturedAt = new Date()): LakalaSale {
    const tradeDate = beijing(capturedAt).slice(0, 8);
    const sale = { logNo: `${tradeDate.slice(2, 4)}${digits(12)}`, tradeDate, cardNo, amount, refunded: 0 };
    this.sales.set(sale.logNo, sale);
    return sale;
  }

  plan(logNo: string, plan: LakalaPlan): void {
    this.plans.set(logNo, plan);
  }

  returnsOf(logNo: string): LakalaReturn[] {
    return this.returns.filter((r) => r.originLogNo === logNo);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const answer = (code: string, respData: Record<string, unknown> = {}) => {
      this.requests.push({ path: req.url ?? '', code });
      const text = JSON.stringify({ code, msg: code === 'BBS00000' ? '成功' : LAKALA_CODES[code as LakalaCode], resp_time: beijing(new Date()), resp_data: respData });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = randomBytes(6).toString('hex');
      const signature = createSign('RSA-SHA256').update(`${this.appId}\n${this.platform.serial}\n${timestamp}\n${nonce}\n${text}\n`, 'utf8').sign(this.platform.keyPem, 'base64');
      res.writeHead(200, { 'Content-Type': 'application/json', 'Lklapi-Appid': this.appId, 'Lklapi-Serial': this.platform.serial, 'Lklapi-Timestamp': timestamp, 'Lklapi-Nonce': nonce, 'Lklapi-Signature': signature });
      res.end(text);
    };
    if (!this.verifies(String(req.headers.authorization ?? ''), body)) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ code: 'BBS10001', msg: '验签失败' }));
    }
    let data: Record<string, unknown>;
    try {
      data = (JSON.parse(body) as { req_data: Record<string, unknown> }).req_data ?? {};
    } catch {
      return answer('BBS10000');
    }
    if (data.merchant_no !== this.merchantNo) return answer('BBS10000');
    if (req.url === '/api/v3/lams/trade/trade_refund_query') return this.query(data, answer);
    if (req.url !== '/api/v3/lams/trade/trade_refund') return answer('BBS10000');
    const plan = this.plans.get(String(data.origin_log_no ?? ''));
    const planned = plan?.answers?.shift();
    if (planned) return answer(planned);
    const outcome = this.take(data);
    if (outcome.code !== 'BBS00000') return answer(outcome.code);
    if (plan?.loseAnswer) return void res.destroy();
    if (plan?.takeButAnswer) return answer(plan.takeButAnswer);
    return answer('BBS00000', { out_trade_no: data.out_trade_no, log_no: outcome.logNo, refund_amount: data.refund_amount, trade_time: beijing(new Date()) });
  }

  private take(data: Record<string, unknown>): { code: LakalaCode | 'BBS00000'; logNo?: string } {
    const [outTradeNo, amountText] = [String(data.out_trade_no ?? ''), String(data.refund_amount ?? '')];
    const sale = this.sales.get(String(data.origin_log_no ?? ''));
    if (!outTradeNo || outTradeNo.length > 32 || !/^\d{1,12}$/.test(amountText) || data.origin_biz_type !== '1' || !data.term_no) return { code: 'BBS10000' };
    if (!(data.location_info as { request_ip?: string } | undefined)?.request_ip) return { code: 'BBS10000' };
    if (!sale || sale.tradeDate !== data.origin_trade_date || sale.cardNo !== data.origin_card_no) return { code: 'BBS11105' };
    if (this.returns.some((r) => r.outTradeNo === outTradeNo)) return { code: 'BBS11203' };
    const amount = Number(amountText);
    if (amount > sale.amount - sale.refunded) return { code: 'BBS11201' };
    sale.refunded += amount;
    const taken: LakalaReturn = { outTradeNo, originLogNo: sale.logNo, tradeDate: beijing(new Date()).slice(0, 8), logNo: `${beijing(new Date()).slice(2, 4)}${digits(12)}`, amount, state: 'PROCESSING' };
    this.returns.push(taken);
    setTimeout(() => (taken.state = 'SUCCESS'), this.settleAfterMs);
    return { code: 'BBS00000', logNo: taken.logNo };
  }

  private query(data: Record<string, unknown>, answer: (code: string, respData?: Record<string, unknown>) => void): void {
    if (!data.out_trade_no || data.origin_biz_type !== '1' || !/^\d{8}$/.test(String(data.origin_trade_date ?? ''))) return answer('BBS10000');
    const found = this.returns.filter((r) => r.outTradeNo === data.origin_out_trade_no && r.tradeDate === data.origin_trade_date);
    answer('BBS00000', { refund_list: found.map((r) => ({ out_trade_no: r.outTradeNo, trade_state: r.state, log_no: r.logNo, refund_amount: String(r.amount), trade_time: `${r.tradeDate}000000` })) });
  }

  /** Our Authorization: `LKLAPI-SHA256withRSA appid=…,serial_no=…,timestamp=…,nonce_str=…,signature=…`, checked with the certificate it issued us. */
  private verifies(authorization: string, body: string): boolean {
    const fields = Object.fromEntries([...authorization.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!authorization.startsWith('LKLAPI-SHA256withRSA ') || fields.appid !== this.appId || fields.serial_no !== this.ours.serial || !fields.signature) return false;
    try {
      return createVerify('RSA-SHA256').update(`${fields.appid}\n${fields.serial_no}\n${fields.timestamp}\n${fields.nonce_str}\n${body}\n`, 'utf8').verify(this.ours.certificatePem, fields.signature, 'base64');
    } catch {
      return false;
    }
  }
}

/** A key and a self-signed certificate for it, with the certificate's serial as Lakala writes it (hex). */
function issue(commonName: string): { keyPem: string; certificatePem: string; serial: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  cert.serialNumber = `01${randomBytes(7).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(forge.pki.privateKeyFromPem(pair.privateKey) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  return { keyPem: pair.privateKey, certificatePem, serial: new X509Certificate(certificatePem).serialNumber };
}

function beijing(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

function digits(count: number): string {
  let out = '';
  for (const byte of randomBytes(count)) out += String(byte % 10);
  return out;
}
