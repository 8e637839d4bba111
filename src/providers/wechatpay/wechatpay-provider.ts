/**
 * WeChat Pay API v3 domestic refunds. The attempt's key is the refund's `out_refund_no`, which
 * WeChat Pay deduplicates ("同一退款单号多次请求只退一笔"): a retry with the same number never
 * refunds twice, so any answer that says nothing happened may be retried with the same key.
 *
 * Requests are signed (WECHATPAY2-SHA256-RSA2048) and answers verified against the WeChat Pay
 * public key by `wechatpay-axios-plugin`, the SDK WeChat Pay's own documentation points Node
 * developers to: signing, answer verification and key loading are its core and well tested; we
 * keep only the refund semantics (wechatpay-protocol.ts).
 */
import { AxiosError } from 'axios';
import type { KeyObject } from 'node:crypto';
import { Rsa, Wechatpay, type Decorator } from 'wechatpay-axios-plugin';
import type { WechatPaySettings } from '../../config';
import {
  ProviderBalanceShortError,
  noAnswerError,
  ProviderUnavailableError,
  type ProviderRefund,
  type ProviderRefundRequest,
  type RefundProvider,
} from '../provider';
import { RefundsAreFinal } from '../refunds-are-final';
import { errorHandlingOf, providerRefundOf, type WechatRefund } from './wechatpay-protocol';

export class WechatPayProvider extends RefundsAreFinal implements RefundProvider {
  protected readonly label = 'WeChat Pay';
  readonly name = 'wechat' as const;
  private readonly api: Decorator;
  private readonly publicKey: KeyObject;

  constructor(
    private readonly settings: WechatPaySettings,
    options: { timeoutMs?: number } = {},
  ) {
    super();
    this.api = new Wechatpay({
      mchid: settings.mchid,
      serial: settings.merchantSerial,
      privateKey: settings.privateKey,
      certs: { [settings.publicKeyId]: settings.publicKey },
      baseURL: settings.baseUrl,
      timeout: options.timeoutMs ?? 20_000,
    }).client;
    this.publicKey = Rsa.from(settings.publicKey, Rsa.KEY_TYPE_PUBLIC);
  }

  async submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund> {
    try {
      const { data } = request.redirect
        ? await this.redirectToBankCard(request, request.redirect)
        : await this.api.request<WechatRefund>('v3/refund/domestic/refunds', 'POST', {
            out_trade_no: request.paymentId,
            out_refund_no: request.idempotencyKey,
            notify_url: this.settings.notifyUrl,
            amount: { refund: request.amount, total: request.paymentAmount, currency: request.currency },
          });
      return providerRefundOf(data);
    } catch (error) {
      const answer = errorAnswer(error);
      if (!answer) throw transportError(error, 'submission');
      switch (errorHandlingOf(answer.status, answer.code)) {
        case 'retry':
          throw new ProviderUnavailableError(`WeChat Pay ${answer.code ?? answer.status}: ${answer.message}`);
        case 'wait_for_balance':
          throw new ProviderBalanceShortError(`WeChat Pay ${answer.code}: the merchant balance cannot cover the refund yet (${answer.message})`);
        case 'decline': {
          const why = `${answer.code ?? answer.status}: ${answer.message}`;
          if (request.redirect) return this.cardTransferRefused(request.idempotencyKey, why);
          return { reference: request.idempotencyKey, traceReference: '', status: 'failed', returned: false, failureReason: why };
        }
      }
    }
  }

  /**
   * WeChat Pay refused the card transfer: the refund is still whatever it holds — abnormal (then
   * still redirectable, with why this card was refused), or moving already (handled another way).
   */
  private async cardTransferRefused(idempotencyKey: string, why: string): Promise<ProviderRefund> {
    const held = await this.findRefund(idempotencyKey);
    if (!held) throw new ProviderUnavailableError(`WeChat Pay refused the card transfer (${why}) and holds no refund under ${idempotencyKey}`);
    return held.status === 'failed' ? { ...held, failureReason: `card transfer refused: ${why}; ${held.failureReason}` } : held;
  }

  /**
   * 发起异常退款: WeChat Pay sends an ABNORMAL refund on to the payer's debit card (USER_BANK_CARD).
   * The card number and the holder's name are encrypted with the WeChat Pay public key (RSA-OAEP),
   * and `Wechatpay-Serial` names that key. The answer is the same refund, PROCESSING again.
   */
  private redirectToBankCard(request: ProviderRefundRequest, redirect: NonNullable<ProviderRefundRequest['redirect']>) {
    const sealed = (text: string) => Rsa.encrypt(text, this.publicKey);
    return this.api.request<WechatRefund>(
      `v3/refund/domestic/refunds/${encodeURIComponent(redirect.reference)}/apply-abnormal-refund`,
      'POST',
      {
        out_refund_no: request.idempotencyKey,
        type: 'USER_BANK_CARD',
        bank_type: redirect.bankType,
        bank_account: sealed(request.account.replace(/\D/g, '')),
        real_name: sealed(request.accountName ?? ''),
      },
      { headers: { 'Wechatpay-Serial': this.settings.publicKeyId } },
    );
  }

  /** By out_refund_no alone: WeChat Pay's refund numbers are unique per merchant, whatever the payment. */
  async findRefund(idempotencyKey: string, _paymentId?: string): Promise<ProviderRefund | null> {
    try {
      const { data } = await this.api.request<WechatRefund>(`v3/refund/domestic/refunds/${encodeURIComponent(idempotencyKey)}`, 'GET');
      return providerRefundOf(data);
    } catch (error) {
      const answer = errorAnswer(error);
      if (answer?.status === 404 || answer?.code === 'RESOURCE_NOT_EXISTS') return null;
      if (!answer) throw transportError(error, 'query');
      throw new ProviderUnavailableError(`WeChat Pay query ${answer.code ?? answer.status}: ${answer.message}`);
    }
  }
}

/** WeChat Pay's verified error answer (`{code, message}` with an HTTP status), or null for no answer at all. */
function errorAnswer(error: unknown): { status: number; code?: string; message: string } | null {
  if (!(error instanceof AxiosError) || !error.response || isUnverified(error)) return null;
  const body = (error.response.data ?? {}) as { code?: unknown; message?: unknown };
  return {
    status: error.response.status,
    code: typeof body.code === 'string' ? body.code : undefined,
    message: typeof body.message === 'string' ? body.message : error.message,
  };
}

/** An answer whose WeChat Pay signature did not hold (the SDK's EV3_RES_* codes): not to be believed. */
function isUnverified(error: AxiosError): boolean {
  return typeof error.code === 'string' && error.code.startsWith('EV3_RES_');
}

/** No usable answer: the network's error code (axios's, or the SDK's EV3_RES_* for an unverified answer). */
function transportError(error: unknown, what: 'submission' | 'query'): Error {
  return noAnswerError('WeChat Pay', what, (error as { code?: string }).code || (error as Error).message);
}
