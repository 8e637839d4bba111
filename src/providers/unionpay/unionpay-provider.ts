/**
 * Card refunds through UnionPay's online platform (ACP 5.1.0, back-office transactions): a sale
 * still in the open batch is voided (消费撤销, txnType 31), any other refunded (退货, txnType 04),
 * as the workflow chose; both name the sale by its queryId (origQryId). Each request is signed with
 * the merchant's certificate, each answer believed only once its signature and UnionPay's
 * certificate chain verify. An attempt is found again by its order number and send time (the
 * status query, txnType 00): UnionPay keys a transaction by both, which is why every send of an
 * attempt carries the time of its first.
 */
import { noAnswerError, ProviderTimeoutError, ProviderUnavailableError, type ProviderRefund, type ProviderRefundRequest, type RefundProvider, type SentAs } from '../provider';
import { RefundsAreFinal } from '../refunds-are-final';
import { signFields, verifyFields } from './unionpay-certificates';
import { ACP_SIGN_METHOD, ACP_VERSION, CNY, handlingOf, orderIdOf, parseAnswer, queryResultOf, TXN_TYPE, txnAmtOf, txnTimeOf } from './unionpay-protocol';
import type { UnionPaySettings } from './unionpay-settings';

/** UnionPay's back-office and query paths on its gateway. */
export const BACK_TRANS_PATH = '/gateway/api/backTransReq.do';
export const QUERY_PATH = '/gateway/api/queryTrans.do';

export class UnionPayProvider extends RefundsAreFinal implements RefundProvider {
  protected readonly label = 'UnionPay';
  readonly name = 'card' as const;
  readonly voids = true;
  readonly absentMeans =
    'UnionPay’s status query shows no transaction under this order number and send time: by UnionPay’s rules it did not take the request; it may be sent again under the same order number and time';
  /**
   * UnionPay asks merchants to query at 1, 2, 4, 8, 16 and 32 s after an unknown answer: before a
   * minute has passed, "no such transaction" may only mean not yet.
   */
  readonly absentIsFinalAfterMs = 60_000;

  constructor(
    readonly settings: UnionPaySettings,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    super();
  }

  async submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund> {
    const { method } = request.sentAs;
    if (request.currency !== 'CNY') return this.declined(request, `UnionPay refunds these merchants’ sales in CNY; this refund is in ${request.currency}`);
    if (!request.sale.acquirerReference) return this.declined(request, 'the payment was registered without its UnionPay queryId (acquirerReference): UnionPay cannot find the sale');
    if (method === 'void' && request.amount !== request.paymentAmount) return this.declined(request, 'a void takes back the whole sale; this attempt is for part of it');
    const answer = await this.call(BACK_TRANS_PATH, {
      ...this.common(),
      txnType: TXN_TYPE[method],
      txnSubType: '00',
      bizType: this.settings.bizType,
      channelType: this.settings.channelType,
      orderId: orderIdOf(request.idempotencyKey, method),
      txnTime: txnTimeOf(request.sentAs.requestedAt),
      txnAmt: txnAmtOf(request.amount),
      currencyCode: CNY,
      origQryId: request.sale.acquirerReference,
      backUrl: this.settings.backUrl,
      // Given back in every notice, query and statement line: how a notice names its refund.
      reqReserved: request.idempotencyKey,
    }, 'submission');
    const why = `${answer.respCode} ${answer.respMsg ?? ''}`.trim();
    switch (handlingOf(answer.respCode)) {
      case 'accepted':
        return { reference: answer.queryId || orderIdOf(request.idempotencyKey, method), traceReference: answer.queryId ?? '', status: 'pending', returned: false, failureReason: null };
      case 'ask':
      case 'duplicate': {
        // Taken, perhaps: what UnionPay holds under the order number and time decides, never a second send.
        const found = await this.findRefund(request.idempotencyKey, request.paymentId, request.sentAs);
        if (found) return found;
        throw new ProviderTimeoutError(`UnionPay answered ${why} and its query shows no transaction yet`);
      }
      case 'try_later':
        throw new ProviderUnavailableError(`UnionPay ${why}: nothing was done; sent again later`);
      case 'not_voidable':
        if (method === 'void') return { ...this.declined(request, `UnionPay ${why}`), voidRefused: `UnionPay would not void the sale (${why}): its batch has settled` };
        return this.declined(request, `UnionPay ${why}`);
      case 'declined':
        return this.declined(request, `UnionPay ${why}`);
    }
  }

  /**
   * The transaction UnionPay holds under the attempt's order number and send time, or null when its
   * verified answer is that there is none (34). Still in process (03, 04, 05) is `pending`.
   */
  async findRefund(idempotencyKey: string, _paymentId: string, sent?: SentAs): Promise<ProviderRefund | null> {
    if (!sent) throw new ProviderUnavailableError('UnionPay finds a transaction by its order number and send time; this attempt carries no send time');
    const answer = await this.call(QUERY_PATH, {
      ...this.common(),
      txnType: TXN_TYPE.query,
      txnSubType: '00',
      bizType: '000000',
      orderId: orderIdOf(idempotencyKey, sent.method),
      txnTime: txnTimeOf(sent.requestedAt),
    }, 'query');
    const result = queryResultOf(answer);
    if (!result) throw new ProviderUnavailableError(`UnionPay query ${answer.respCode} ${answer.respMsg ?? ''}`.trim());
    if (!result.found) return null;
    const reference = answer.queryId || orderIdOf(idempotencyKey, sent.method);
    const traceReference = answer.queryId ?? '';
    if (result.state === 'succeeded') return { reference, traceReference, status: 'settled', returned: false, failureReason: null };
    if (result.state === 'pending') return { reference, traceReference, status: 'pending', returned: false, failureReason: null };
    const refused: ProviderRefund = { reference, traceReference, status: 'failed', returned: false, failureReason: `UnionPay ${result.why}` };
    // A void found refused as not voidable is the same news as when said at once: refund instead.
    return sent.method === 'void' && handlingOf(answer.origRespCode) === 'not_voidable' ? { ...refused, voidRefused: `UnionPay would not void the sale (${result.why}): its batch has settled` } : refused;
  }

  private declined(request: ProviderRefundRequest, why: string): ProviderRefund {
    return { reference: orderIdOf(request.idempotencyKey, request.sentAs.method), traceReference: '', status: 'failed', returned: false, failureReason: why };
  }

  private common() {
    return { version: ACP_VERSION, encoding: 'UTF-8', signMethod: ACP_SIGN_METHOD, accessType: '0', merId: this.settings.merId };
  }

  /** One signed call; an answer is read only once its certificate and signature verify and it is about this order. */
  private async call(path: string, fields: Record<string, string>, what: 'submission' | 'query'): Promise<Record<string, string>> {
    const signed = signFields(fields, this.settings.signer);
    let body: string;
    try {
      const response = await fetch(`${this.settings.gateway}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8' },
        body: new URLSearchParams(signed).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 20_000),
      });
      body = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw noAnswerError('UnionPay', what, cause ? `${cause}: ${(error as Error).message}` : (error as Error).message);
    }
    const answer = parseAnswer(body);
    const verified = verifyFields(answer, this.settings.trust);
    if (!verified.ok) throw noAnswerError('UnionPay', what, `answer not believed: ${verified.reason}`);
    if (answer.merId !== fields.merId || answer.orderId !== fields.orderId) throw noAnswerError('UnionPay', what, 'answer is about another order');
    return answer;
  }
}
