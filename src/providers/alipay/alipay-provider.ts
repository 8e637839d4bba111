/**
 * Alipay refunds through the official `alipay-sdk`, which signs each request with the app's
 * private key (RSA2) and verifies each answer with Alipay's public key. The attempt's key is the
 * refund's `out_request_no`: Alipay deduplicates it, so an answer that says nothing happened may
 * be retried with the same key, and an unanswered call is settled by the refund query.
 */
import { AlipaySdk } from 'alipay-sdk';
import type { AlipaySettings } from './alipay-settings';
import {
  ProviderBalanceShortError,
  noAnswerError,
  ProviderUnavailableError,
  type ProviderRefund,
  type ProviderRefundRequest,
  type RefundProvider,
} from '../provider';
import { RefundsAreFinal } from '../refunds-are-final';
import { ALIPAY_SUCCESS, errorHandlingOf, providerRefundOf, yuanOf, type AlipayAnswer } from './alipay-protocol';

/**
 * The official SDK, set up for the app's key mode: Alipay's public key, or certificates (the SDK
 * then sends app_cert_sn and alipay_root_cert_sn with each request and verifies with the key in
 * Alipay's certificate). Answers come back snake_case, as Alipay documents them.
 */
export function alipaySdk(settings: AlipaySettings, timeoutMs = 20_000): AlipaySdk {
  return new AlipaySdk({
    appId: settings.appId,
    privateKey: settings.privateKey,
    // Configuration keeps every private key as PKCS#8, whatever form it was given in.
    keyType: settings.privateKey.includes('BEGIN RSA PRIVATE KEY') ? 'PKCS1' : 'PKCS8',
    ...(settings.certificates
      ? { appCertContent: settings.certificates.app, alipayPublicCertContent: settings.certificates.alipay, alipayRootCertContent: settings.certificates.root }
      : { alipayPublicKey: settings.alipayPublicKey }),
    gateway: settings.gateway,
    signType: 'RSA2',
    camelcase: false,
    timeout: timeoutMs,
  });
}

export class AlipayProvider extends RefundsAreFinal implements RefundProvider {
  protected readonly label = 'Alipay';
  readonly name = 'alipay' as const;
  readonly absentMeans =
    'Alipay’s refund query, asked well after the last send, shows no refund under this out_request_no: by Alipay’s rules it has not refunded it (the request did not reach it, or was refused); Alipay advises sending it again under the same out_request_no';
  /** Alipay asks for at least 10 s between a refund and its query: an empty answer sooner means nothing yet. */
  readonly absentIsFinalAfterMs = 10_000;
  /** The SDK set up for this app: also what checks the app's notifications. */
  readonly sdk: AlipaySdk;
  /** Acting for a merchant who authorised the app: its token goes with every call (第三方应用授权). */
  private readonly onBehalf: { appAuthToken?: string };

  constructor(readonly settings: AlipaySettings, options: { timeoutMs?: number } = {}) {
    super();
    this.sdk = alipaySdk(settings, options.timeoutMs ?? 20_000);
    this.onBehalf = settings.appAuthToken ? { appAuthToken: settings.appAuthToken } : {};
  }

  async submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund> {
    if (request.currency !== 'CNY') return this.declined(request.idempotencyKey, `Alipay refunds are in CNY; this refund is in ${request.currency}`);
    const answer = await this.call('alipay.trade.refund', {
      out_trade_no: request.paymentId,
      out_request_no: request.idempotencyKey,
      refund_amount: yuanOf(request.amount),
    }, 'submission');
    if (answer.code === ALIPAY_SUCCESS) {
      // N: the money did not move in this call (a repeat, or still in progress): the query knows.
      if (answer.fund_change === 'Y') return providerRefundOf(request.idempotencyKey, answer);
      const found = await this.findRefund(request.idempotencyKey, request.paymentId);
      if (found) return found;
      // Asked too soon for an empty answer to mean anything: in doubt, asked again, and (Alipay's
      // advice once its query is final) sent again under the same out_request_no.
      throw new ProviderUnavailableError('Alipay answered fund_change N and its query shows no refund yet');
    }
    switch (errorHandlingOf(answer)) {
      case 'resend':
        throw new ProviderUnavailableError(`Alipay ${answer.sub_code ?? answer.code}: ${answer.sub_msg ?? answer.msg} (it may have taken the refund: asked, then sent again under the same out_request_no)`);
      case 'wait_for_balance':
        throw new ProviderBalanceShortError(`Alipay ${answer.sub_code}: the merchant balance cannot cover the refund yet (${answer.sub_msg ?? answer.msg})`);
      case 'decline':
        return this.declined(request.idempotencyKey, `${answer.sub_code ?? answer.code}: ${answer.sub_msg ?? answer.msg}`);
    }
  }

  /**
   * The refund Alipay holds under out_request_no of the payment's trade (out_trade_no).
   * `REFUND_SUCCESS` is the only state Alipay reports: absent, it has not refunded it (yet: its
   * query may miss a refund asked for seconds ago, which `absentIsFinalAfterMs` accounts for).
   */
  async findRefund(idempotencyKey: string, paymentId: string): Promise<ProviderRefund | null> {
    const answer = await this.call('alipay.trade.fastpay.refund.query', {
      out_trade_no: paymentId,
      out_request_no: idempotencyKey,
      query_options: ['gmt_refund_pay'],
    }, 'query');
    if (answer.code === ALIPAY_SUCCESS) return answer.refund_status === 'REFUND_SUCCESS' ? providerRefundOf(idempotencyKey, answer) : null;
    if (answer.sub_code === 'ACQ.TRADE_NOT_EXIST') return null;
    throw new ProviderUnavailableError(`Alipay query ${answer.sub_code ?? answer.code}: ${answer.sub_msg ?? answer.msg}`);
  }

  private declined(key: string, why: string): ProviderRefund {
    return { reference: key, traceReference: '', status: 'failed', returned: false, failureReason: why };
  }

  /** One signed gateway call, its answer verified; no believable answer is transport trouble. */
  private async call(method: string, bizContent: Record<string, unknown>, what: 'submission' | 'query'): Promise<AlipayAnswer> {
    try {
      return (await this.sdk.exec(method, { bizContent, ...this.onBehalf }, { validateSign: true })) as unknown as AlipayAnswer;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw noAnswerError('Alipay', what, cause ? `${cause}: ${(error as Error).message}` : (error as Error).message);
    }
  }
}
