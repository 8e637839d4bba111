/**
 * Card refunds through Lakala's open platform (v3): the unified return (统一退货, `trade_refund`)
 * names the original bank-card sale by its log number (origin_log_no, the sale's
 * acquirerReference) and trade date, under the refund's key as out_trade_no; the return query
 * (`trade_refund_query`) finds it again by that key and the day it was sent. Requests are signed
 * `LKLAPI-SHA256withRSA` with our key; an answer is believed only when Lakala's platform
 * certificate (configured, valid now, the serial the answer names) verifies its signature.
 * Lakala publishes no void of a bank-card sale on this platform (the terminal does that), so every
 * attempt is a return: the workflow says so on the refund.
 */
import { createSign, createVerify, randomBytes } from 'node:crypto';
import { noAnswerError, ProviderTimeoutError, ProviderUnavailableError, type ProviderRefund, type ProviderRefundRequest, type RefundProvider, type SentAs } from '../provider';
import { RefundsAreFinal } from '../refunds-are-final';
import { BANK_CARD, beijingTimeOf, fenOf, LAKALA_SUCCESS, signedTextOf, stateOf, TRADE_REFUND_PATH, TRADE_REFUND_QUERY_PATH, tradeDateOf } from './lakala-protocol';
import type { LakalaSettings } from './lakala-settings';

interface LakalaAnswer {
  code?: string;
  msg?: string;
  resp_data?: Record<string, unknown> & { log_no?: string; refund_list?: Array<{ out_trade_no?: string; trade_state?: string; log_no?: string; refund_amount?: string }> };
}

/** How far an answer's timestamp may be from our clock: further, and it may be a replay. */
const ANSWER_CLOCK_SKEW_MS = 10 * 60_000;

export class LakalaProvider extends RefundsAreFinal implements RefundProvider {
  protected readonly label = 'Lakala';
  readonly name = 'card' as const;
  readonly absentMeans =
    'Lakala’s return query shows no return under this out_trade_no for the day it was sent: by Lakala’s word it did not take it; it may be sent again under the same out_trade_no';
  /** A return Lakala answered with a code it does not document for us is asked about; its query may lag the send by seconds. */
  readonly absentIsFinalAfterMs = 60_000;

  constructor(
    readonly settings: LakalaSettings,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    super();
  }

  async submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund> {
    if (request.currency !== 'CNY') return this.declined(request.idempotencyKey, `Lakala returns card sales in CNY; this refund is in ${request.currency}`);
    if (!request.sale.acquirerReference) return this.declined(request.idempotencyKey, 'the payment was registered without its Lakala log number (acquirerReference, origin_log_no): Lakala cannot find the sale');
    const answer = await this.call(TRADE_REFUND_PATH, {
      merchant_no: this.settings.merchantNo,
      term_no: this.settings.termNo,
      out_trade_no: request.idempotencyKey,
      refund_amount: fenOf(request.amount),
      origin_biz_type: BANK_CARD,
      origin_trade_date: tradeDateOf(request.sale.capturedAt),
      origin_log_no: request.sale.acquirerReference,
      // Required for a bank-card return: the card the sale was paid with (it goes to Lakala and nowhere else).
      origin_card_no: request.account,
      location_info: { request_ip: this.settings.requestIp },
    }, 'submission');
    if (answer.code === LAKALA_SUCCESS) {
      const logNo = typeof answer.resp_data?.log_no === 'string' ? answer.resp_data.log_no : '';
      return { reference: logNo || request.idempotencyKey, traceReference: logNo, status: 'pending', returned: false, failureReason: null };
    }
    // A code Lakala does not document for us: taken or not, its query says; never sent again blind.
    const found = await this.findRefund(request.idempotencyKey, request.paymentId, request.sentAs);
    if (found) return found;
    throw new ProviderTimeoutError(`Lakala answered ${answer.code ?? '(no code)'} ${answer.msg ?? ''}; its query shows no return under ${request.idempotencyKey} yet`.trim());
  }

  /** The return Lakala holds under the key, sent on the day `sent` says; null when its verified query lists none. */
  async findRefund(idempotencyKey: string, _paymentId: string, sent?: SentAs): Promise<ProviderRefund | null> {
    if (!sent) throw new ProviderUnavailableError('Lakala finds a return by its out_trade_no and the day it was sent; this attempt carries no send time');
    const answer = await this.call(TRADE_REFUND_QUERY_PATH, {
      merchant_no: this.settings.merchantNo,
      term_no: this.settings.termNo,
      out_trade_no: `Q${randomBytes(12).toString('hex')}`,
      origin_trade_date: tradeDateOf(sent.requestedAt),
      origin_biz_type: BANK_CARD,
      origin_out_trade_no: idempotencyKey,
    }, 'query');
    if (answer.code !== LAKALA_SUCCESS) throw new ProviderUnavailableError(`Lakala return query ${answer.code ?? '(no code)'} ${answer.msg ?? ''}`.trim());
    const item = (answer.resp_data?.refund_list ?? []).find((entry) => entry.out_trade_no === idempotencyKey);
    if (!item) return null;
    const status = stateOf(item.trade_state);
    const logNo = item.log_no ?? '';
    return { reference: logNo || idempotencyKey, traceReference: logNo, status, returned: false, failureReason: status === 'failed' ? `Lakala ${item.trade_state}` : null };
  }

  private declined(key: string, why: string): ProviderRefund {
    return { reference: key, traceReference: '', status: 'failed', returned: false, failureReason: why };
  }

  /** One signed call; its answer read only once Lakala's certificate verifies it. */
  private async call(path: string, reqData: Record<string, unknown>, what: 'submission' | 'query'): Promise<LakalaAnswer> {
    const body = JSON.stringify({ req_time: beijingTimeOf(new Date()), version: '3.0', req_data: reqData });
    let text: string;
    let headers: Headers;
    try {
      const response = await fetch(`${this.settings.gateway}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: this.authorization(body) },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 20_000),
      });
      text = await response.text();
      headers = response.headers;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw noAnswerError('Lakala', what, cause ? `${cause}: ${(error as Error).message}` : (error as Error).message);
    }
    const why = this.unbelieved(headers, text);
    if (why) throw noAnswerError('Lakala', what, `answer not believed: ${why}`);
    try {
      return JSON.parse(text) as LakalaAnswer;
    } catch {
      throw noAnswerError('Lakala', what, 'answer is not JSON');
    }
  }

  private authorization(body: string): string {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(6).toString('hex');
    const signature = createSign('RSA-SHA256').update(signedTextOf(this.settings.appId, this.settings.serialNo, timestamp, nonce, body), 'utf8').sign(this.settings.privateKey, 'base64');
    return `LKLAPI-SHA256withRSA appid="${this.settings.appId}",serial_no="${this.settings.serialNo}",timestamp="${timestamp}",nonce_str="${nonce}",signature="${signature}"`;
  }

  /** Why an answer is not Lakala's, or null when it is: its certificate, the serial it names, its age, its signature. */
  private unbelieved(headers: Headers, body: string): string | null {
    const [appId, serial, timestamp, nonce, signature] = ['Lklapi-Appid', 'Lklapi-Serial', 'Lklapi-Timestamp', 'Lklapi-Nonce', 'Lklapi-Signature'].map((name) => headers.get(name));
    if (!signature || !serial || !timestamp || !nonce || !appId) return 'unsigned';
    const certificate = this.settings.lakalaCertificate;
    const now = Date.now();
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) return 'Lakala’s certificate is not valid now';
    if (serial.toUpperCase() !== certificate.serialNumber.toUpperCase()) return `signed with certificate ${serial}, not Lakala’s (${certificate.serialNumber})`;
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now - Number(timestamp) * 1000) > ANSWER_CLOCK_SKEW_MS) return 'timestamp too far from now';
    try {
      return createVerify('RSA-SHA256').update(signedTextOf(appId, serial, timestamp, nonce, body), 'utf8').verify(certificate.publicKey, signature, 'base64') ? null : 'signature does not verify';
    } catch {
      return 'signature does not verify';
    }
  }
}
