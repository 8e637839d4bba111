/**
 * UnionPay's online platform (ACP 5.1.0) on localhost, for the card adapter's tests, written from
 * UnionPay's interface specification and demo code alone (nothing of our adapter is imported):
 * back-office refunds (退货, txnType 04) and voids (消费撤销, 31) against the sales it holds, the
 * status query (00), and backUrl notices. It makes its own certificate chain when it starts — a
 * root, an intermediate, and UnionPay's signing certificate naming 中国银联股份有限公司 — and the
 * merchant's signing keystore (PKCS#12, the form UnionPay issues it in); it checks each request's
 * signature with the merchant's certificate (by certId) and signs each answer and notice with its
 * own, carrying the certificate (signPubKeyCert). A sale is voidable until its batch settles
 * (`settleBatch()`); refunds settle `settleAfterMs` after they are taken. Each sale can be given a
 * plan: a response code to answer instead of acting, or an answer lost after acting.
 */
import { createHash, createSign, createVerify, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import forge from 'node-forge';
import { LocalSimulator } from './local-server';

/** The response codes of ACP's appendix this simulator can answer with (besides 00), with their messages. */
export const ACP_CODES = {
  '01': '交易失败',
  '02': '系统未开放或暂时关闭，请稍后再试',
  '03': '交易通讯超时，请发起查询交易',
  '04': '交易状态未明，请查询对账结果',
  '05': '交易已受理，请稍后查询交易结果',
  '06': '系统繁忙，请稍后再试',
  '10': '报文格式错误',
  '11': '验证签名失败',
  '12': '重复交易',
  '13': '报文交易要素缺失',
  '30': '交易未通过，请尝试使用其他银联卡支付或联系95516',
  '31': '商户状态不正确',
  '32': '无此交易权限',
  '33': '交易金额超限',
  '34': '查无此交易',
  '35': '原交易不存在或状态不正确',
  '36': '与原交易信息不符',
  '37': '已超过最大查询次数或操作过于频繁',
  '38': '交易风险受限',
  '39': '交易不在受理时间范围内',
} as const;
export type AcpCode = keyof typeof ACP_CODES;

export interface UnionPaySale {
  queryId: string;
  amount: number;
  refunded: number;
  voided: boolean;
  /** Its batch has settled: it can no longer be voided, only refunded. */
  settled: boolean;
}

/** A refund or void UnionPay took: what moves the cardholder's money. */
export interface UnionPayMovement {
  kind: 'refund' | 'void';
  origQryId: string;
  orderId: string;
  txnTime: string;
  queryId: string;
  amount: number;
  state: 'pending' | 'succeeded';
}

export interface SalePlan {
  /** Answer these codes, one per request, doing nothing (or, for 03/04/05, acting first: their fate is unknown but real). */
  answers?: AcpCode[];
  /** Act, then drop the connection before answering. */
  loseAnswer?: boolean;
}

interface Transaction {
  txnType: string;
  orderId: string;
  txnTime: string;
  txnAmt: string;
  origQryId: string;
  queryId: string;
  respCode: string;
  reqReserved?: string;
  backUrl?: string;
}

const OWNER = '中国银联股份有限公司';

export class UnionPaySimulator extends LocalSimulator {
  readonly merId = `777290058${randomBytes(3).readUIntBE(0, 3).toString().padStart(6, '0')}`.slice(0, 15);
  readonly keystorePassword = randomBytes(6).toString('hex');
  readonly chain = issueChain(OWNER);
  /** Another chain, not UnionPay's: what a forger would sign with. */
  readonly strangerChain = issueChain(OWNER);
  readonly merchant = merchantKeystore(this.keystorePassword);
  readonly sales = new Map<string, UnionPaySale>();
  readonly movements: UnionPayMovement[] = [];
  readonly notices: { url: string; body: string; status: number }[] = [];
  settleAfterMs = 1_000;
  private readonly transactions = new Map<string, Transaction>();
  private readonly plans = new Map<string, SalePlan>();
  /** The service's settings for this simulator (PROVIDER_CARD=unionpay). */
  env(backUrl = 'http://127.0.0.1:1/v1/webhooks/unionpay'): Record<string, string> {
    return {
      PROVIDER_CARD: 'unionpay',
      UNIONPAY_MER_ID: this.merId,
      UNIONPAY_SIGN_CERT: this.merchant.pfxBase64,
      UNIONPAY_SIGN_CERT_PASSWORD: this.keystorePassword,
      UNIONPAY_ROOT_CERT: this.chain.rootPem,
      UNIONPAY_MIDDLE_CERT: this.chain.middlePem,
      UNIONPAY_GATEWAY: this.url,
      UNIONPAY_BACK_URL: backUrl,
    };
  }

  /** A card sale UnionPay took, in today's open batch: its queryId, which a refund names as origQryId. */
  addSale(amount: number): UnionPaySale {
    const sale: UnionPaySale = { queryId: digits(21), amount, refunded: 0, voided: false, settled: false };
    this.sales.set(sale.queryId, sale);
    return sale;
  }

  /** The day's batch settles: no sale taken so far can be voided any more. */
  settleBatch(): void {
    for (const sale of this.sales.values()) sale.settled = true;
  }

  plan(queryId: string, plan: SalePlan): void {
    this.plans.set(queryId, plan);
  }

  movementsOf(queryId: string): UnionPayMovement[] {
    return this.movements.filter((movement) => movement.origQryId === queryId);
  }

  /** The notice UnionPay would post about a transaction, signed by its certificate (or a stranger's, or with a broken signature). */
  noticeFor(movement: UnionPayMovement, reqReserved: string, forgery?: 'bad_signature' | 'untrusted_certificate'): string {
    const fields = this.noticeFields(movement, reqReserved);
    const signed = this.signed(fields, forgery === 'untrusted_certificate' ? this.strangerChain : this.chain);
    if (forgery === 'bad_signature') signed.txnAmt = String(Number(signed.txnAmt) + 1);
    return new URLSearchParams(signed).toString();
  }

  private noticeFields(movement: UnionPayMovement, reqReserved: string): Record<string, string> {
    return {
      version: '5.1.0',
      encoding: 'UTF-8',
      signMethod: '01',
      txnType: movement.kind === 'void' ? '31' : '04',
      txnSubType: '00',
      bizType: '000201',
      accessType: '0',
      merId: this.merId,
      orderId: movement.orderId,
      txnTime: movement.txnTime,
      txnAmt: String(movement.amount),
      currencyCode: '156',
      origQryId: movement.origQryId,
      queryId: movement.queryId,
      respCode: '00',
      respMsg: '成功[0000000]',
      settleDate: movement.txnTime.slice(4, 8),
      traceTime: movement.txnTime.slice(4),
      reqReserved,
    };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const answer = (respCode: string, extra: Record<string, string> = {}) => {
      const body = this.signed({ ...echo(fields), respCode, respMsg: respCode === '00' ? '成功[0000000]' : ACP_CODES[respCode as AcpCode], ...extra }, this.chain);
      res.writeHead(200, { 'Content-Type': 'text/plain;charset=UTF-8' });
      // ACP answers are name=value pairs as they are, not URL-encoded.
      res.end(Object.entries(body).map(([name, value]) => `${name}=${value}`).join('&'));
    };
    if (!this.verifiesFromMerchant(fields)) return answer('11');
    if (req.url === '/gateway/api/queryTrans.do') return this.query(fields, answer);
    if (req.url !== '/gateway/api/backTransReq.do') return answer('10');
    const key = `${fields.orderId}|${fields.txnTime}`;
    if (this.transactions.has(key)) return answer('12');
    const plan = this.plans.get(fields.origQryId ?? '');
    const planned = plan?.answers?.shift();
    if (planned && !['03', '04', '05'].includes(planned)) return answer(planned);
    const outcome = this.act(fields);
    if (outcome.respCode !== '00') return answer(outcome.respCode);
    if (plan?.loseAnswer) return void res.destroy();
    return answer(planned ?? '00', { queryId: outcome.queryId! });
  }

  /** A refund or void as UnionPay would take it, or the code it refuses it with. */
  private act(fields: Record<string, string>): { respCode: string; queryId?: string } {
    const sale = this.sales.get(fields.origQryId ?? '');
    const amount = Number(fields.txnAmt);
    const { orderId, txnTime, txnAmt, txnType } = fields;
    if (fields.merId !== this.merId || !txnAmt || !/^\d{1,12}$/.test(txnAmt) || !orderId || !txnTime || !txnType) return { respCode: '13' };
    if (!sale || sale.voided) return { respCode: '35' };
    if (fields.txnType === '31') {
      // A void undoes the whole sale, and only while its batch is open.
      if (sale.settled || sale.refunded > 0) return { respCode: '35' };
      if (amount !== sale.amount) return { respCode: '36' };
      sale.voided = true;
    } else if (fields.txnType === '04') {
      if (amount > sale.amount - sale.refunded) return { respCode: '33' };
      sale.refunded += amount;
    } else return { respCode: '32' };
    const queryId = digits(21);
    const kind = fields.txnType === '31' ? 'void' : 'refund';
    const movement: UnionPayMovement = { kind, origQryId: sale.queryId, orderId, txnTime, queryId, amount, state: kind === 'void' ? 'succeeded' : 'pending' };
    this.movements.push(movement);
    this.transactions.set(`${orderId}|${txnTime}`, { txnType, orderId, txnTime, txnAmt, origQryId: sale.queryId, queryId, respCode: '00', reqReserved: fields.reqReserved, backUrl: fields.backUrl });
    // A void is done at once; a refund reaches the card later. Either way UnionPay posts the result to backUrl.
    setTimeout(() => {
      movement.state = 'succeeded';
      void this.post(fields.backUrl, movement, fields.reqReserved ?? '');
    }, kind === 'void' ? 50 : this.settleAfterMs);
    return { respCode: '00', queryId };
  }

  private query(fields: Record<string, string>, answer: (respCode: string, extra?: Record<string, string>) => void): void {
    const transaction = this.transactions.get(`${fields.orderId}|${fields.txnTime}`);
    if (!transaction) return answer('34');
    const movement = this.movements.find((m) => m.orderId === transaction.orderId && m.txnTime === transaction.txnTime);
    const origRespCode = movement?.state === 'succeeded' ? '00' : '05';
    answer('00', { origRespCode, origRespMsg: origRespCode === '00' ? '成功[0000000]' : ACP_CODES['05'], queryId: transaction.queryId, txnAmt: transaction.txnAmt, origQryId: transaction.origQryId, reqReserved: transaction.reqReserved ?? '' });
  }

  private async post(backUrl: string | undefined, movement: UnionPayMovement, reqReserved: string): Promise<void> {
    if (!backUrl) return;
    const body = this.noticeFor(movement, reqReserved);
    try {
      const response = await fetch(backUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
      this.notices.push({ url: backUrl, body, status: response.status });
    } catch {
      this.notices.push({ url: backUrl, body, status: 0 });
    }
  }

  /** The request's signature (5.1.0: SHA256withRSA over the hex SHA-256 of the sorted fields) under the merchant certificate certId names. */
  private verifiesFromMerchant(fields: Record<string, string>): boolean {
    if (fields.certId !== this.merchant.certId || !fields.signature) return false;
    try {
      return createVerify('RSA-SHA256').update(digestOf(fields)).verify(this.merchant.certificatePem, fields.signature, 'base64');
    } catch {
      return false;
    }
  }

  private signed(fields: Record<string, string>, chain: Chain): Record<string, string> {
    const withCert = { ...fields, signPubKeyCert: chain.signingPem.replace(/\n/g, '\r\n') };
    return { ...withCert, signature: createSign('RSA-SHA256').update(digestOf(withCert)).sign(chain.signingKeyPem, 'base64') };
  }
}

/** The fields an answer repeats from its request. */
function echo(fields: Record<string, string>): Record<string, string> {
  const names = ['version', 'encoding', 'signMethod', 'txnType', 'txnSubType', 'bizType', 'accessType', 'merId', 'orderId', 'txnTime', 'txnAmt', 'currencyCode', 'reqReserved'];
  return Object.fromEntries(names.filter((name) => fields[name] !== undefined).map((name) => [name, fields[name]!]));
}

function digestOf(fields: Record<string, string>): string {
  const text = Object.keys(fields).filter((name) => name !== 'signature').sort().map((name) => `${name}=${fields[name]}`).join('&');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function digits(count: number): string {
  let out = '';
  for (const byte of randomBytes(count)) out += String(byte % 10);
  return out;
}

interface Chain {
  rootPem: string;
  middlePem: string;
  signingPem: string;
  signingKeyPem: string;
}

function rsaPair() {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  return { publicKey: forge.pki.publicKeyFromPem(pair.publicKey), privateKey: forge.pki.privateKeyFromPem(pair.privateKey) as forge.pki.rsa.PrivateKey, privateKeyPem: pair.privateKey };
}

function certificate(subject: forge.pki.CertificateField[], issuer: forge.pki.CertificateField[], publicKey: forge.pki.PublicKey, signer: forge.pki.rsa.PrivateKey, ca: boolean): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A leading 01 keeps the DER integer positive and minimal: `0` + random hex was padded to a
  // zero byte whenever the first random byte was below 0x10, which OpenSSL refuses ("illegal padding").
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  cert.setExtensions(ca ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }] : [{ name: 'keyUsage', digitalSignature: true, nonRepudiation: true }]);
  cert.sign(signer, forge.md.sha256.create());
  return cert;
}

/** A root, an intermediate, and a signing certificate naming `owner` in UnionPay's CN layout. */
function issueChain(owner: string): Chain {
  const [root, middle, signing] = [rsaPair(), rsaPair(), rsaPair()];
  const rootName = [{ name: 'countryName', value: 'CN' }, { name: 'organizationName', value: 'China Financial Certification Authority' }, { name: 'commonName', value: `CFCA TEST ROOT ${randomBytes(3).toString('hex')}` }];
  const middleName = [{ name: 'countryName', value: 'CN' }, { name: 'organizationName', value: 'China Financial Certification Authority' }, { name: 'commonName', value: 'CFCA TEST OCA1' }];
  // CN as UnionPay's certificates carry it: 041@<id>@<owner>@<serial>, the owner UTF-8.
  const signingName = [{ name: 'countryName', value: 'cn' }, { name: 'organizationName', value: 'CFCA OCA1' }, { name: 'commonName', value: `041@Z2026-12-1@${owner}@00000001`, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class }];
  const rootCert = certificate(rootName, rootName, root.publicKey, root.privateKey, true);
  const middleCert = certificate(middleName, rootName, middle.publicKey, root.privateKey, true);
  const signingCert = certificate(signingName, middleName, signing.publicKey, middle.privateKey, false);
  const pem = (cert: forge.pki.Certificate) => forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n').trim();
  const chain = { rootPem: pem(rootCert), middlePem: pem(middleCert), signingPem: pem(signingCert), signingKeyPem: signing.privateKeyPem };
  // Made as UnionPay's are, and read back the way the adapter will read them.
  new X509Certificate(chain.signingPem);
  return chain;
}

/** The merchant's signing certificate and key as UnionPay issues them: a PKCS#12 keystore with a password. */
function merchantKeystore(password: string): { pfxBase64: string; certId: string; certificatePem: string } {
  const pair = rsaPair();
  const name = [{ name: 'countryName', value: 'CN' }, { name: 'commonName', value: 'refundflow test merchant' }];
  const cert = certificate(name, name, pair.publicKey, pair.privateKey, false);
  const p12 = forge.pkcs12.toPkcs12Asn1(pair.privateKey, [cert], password, { algorithm: '3des' });
  return { pfxBase64: forge.util.encode64(forge.asn1.toDer(p12).getBytes()), certId: BigInt(`0x${cert.serialNumber}`).toString(10), certificatePem: forge.pki.certificateToPem(cert) };
}
