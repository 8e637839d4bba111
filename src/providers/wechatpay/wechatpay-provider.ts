/**
 * WeChat Pay API v3 domestic refunds. The attempt's key is the refund's `out_refund_no`, which
 * WeChat Pay deduplicates ("同一退款单号多次请求只退一笔"): a retry with the same number never
 * refunds twice, so an answer that says "try again" is sent again under the same key — after
 * asking, since it may have taken the refund already.
 *
 * Requests are signed (WECHATPAY2-SHA256-RSA2048) and every answer, error answers included, is
 * verified against the keys WeChat Pay signs with (wechatpay-keys.ts: its public key, its platform
 * certificates, or both while a merchant moves) by `wechatpay-axios-plugin`, the SDK WeChat Pay's
 * own documentation points Node developers to. Nothing is decided on an answer that did not
 * verify. We keep only the refund semantics (wechatpay-protocol.ts).
 */
import { AxiosError, type AxiosResponse } from 'axios';
import { Rsa, Wechatpay, type Decorator } from 'wechatpay-axios-plugin';
import type { WechatPaySettings } from './wechatpay-settings';
import {
  ProviderBalanceShortError,
  noAnswerError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  type ProviderRefund,
  type ProviderRefundRequest,
  type RefundProvider,
} from '../provider';
import { RefundsAreFinal } from '../refunds-are-final';
import { wechatPayKeys, type WechatPayKeys } from './wechatpay-keys';
import { errorHandlingOf, providerRefundOf, REFUND_NOT_FOUND, type WechatRefund } from './wechatpay-protocol';

/** A WeChat Pay answer whose signature verified, whatever its HTTP status. */
type VerifiedAnswer<T> = { status: number; data: T };

export class WechatPayProvider extends RefundsAreFinal implements RefundProvider {
  protected readonly label = 'WeChat Pay';
  readonly name = 'wechat' as const;
  readonly keys: WechatPayKeys;
  private client?: { api: Decorator; version: number };

  constructor(
    readonly settings: WechatPaySettings,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    super();
    this.keys = wechatPayKeys(settings);
  }

  /**
   * The signing client, built for the keys trusted now (rebuilt after a rotation). Every answer,
   * whatever its HTTP status, goes through the SDK's signature check: WeChat Pay signs its error
   * answers too, and an error nobody signed (a proxy's 502, a forged 400) must never decide anything.
   */
  private get api(): Decorator {
    if (this.client?.version !== this.keys.version) {
      const api = new Wechatpay({
        mchid: this.settings.mchid,
        serial: this.settings.merchantSerial,
        privateKey: this.settings.privateKey,
        certs: this.keys.all(),
        baseURL: this.settings.baseUrl,
        timeout: this.options.timeoutMs ?? 20_000,
        validateStatus: () => true,
        // Names the key we expect answers signed with, and that encrypted any sensitive field.
        headers: { 'Wechatpay-Serial': this.keys.preferredSerial },
      }).client;
      this.client = { api, version: this.keys.version };
    }
    return this.client.api;
  }

  /** WeChat Pay limits refund requests per merchant (a sub-merchant counts as one). */
  get sendingRate() {
    return { key: `wechat:${this.settings.mchid}:${this.settings.subMchid ?? ''}`, perSecond: this.settings.requestsPerSecond };
  }

  /** As a service provider, every request names the sub-merchant it is for (服务商模式: `sub_mchid`). */
  private get subMerchant(): { sub_mchid?: string } {
    return this.settings.subMchid ? { sub_mchid: this.settings.subMchid } : {};
  }

  async submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund> {
    const answer = await this.call<WechatRefund>('submission', () =>
      request.redirect
        ? this.redirectToBankCard(request, request.redirect)
        : this.api.request('v3/refund/domestic/refunds', 'POST', {
            ...this.subMerchant,
            out_trade_no: request.paymentId,
            out_refund_no: request.idempotencyKey,
            notify_url: this.settings.notifyUrl,
            amount: { refund: request.amount, total: request.paymentAmount, currency: request.currency },
          }),
    );
    if (isSuccess(answer)) return providerRefundOf(answer.data);
    const { code, message } = errorOf(answer);
    switch (errorHandlingOf(answer.status, code)) {
      case 'resend':
        throw new ProviderUnavailableError(`WeChat Pay ${code ?? answer.status}: ${message} (it may have taken the refund: asked, then sent again under the same out_refund_no)`);
      case 'wait_for_balance':
        throw new ProviderBalanceShortError(`WeChat Pay ${code}: the merchant balance cannot cover the refund yet (${message})`);
      case 'decline': {
        const why = `${code ?? answer.status}: ${message}`;
        if (request.redirect) return this.cardTransferRefused(request.idempotencyKey, why);
        return { reference: request.idempotencyKey, traceReference: '', status: 'failed', returned: false, failureReason: why };
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
   * The card number and the holder's name are encrypted with the WeChat Pay key that
   * `Wechatpay-Serial` names on every request (RSA-OAEP). The answer is the same refund, PROCESSING again.
   */
  private redirectToBankCard(request: ProviderRefundRequest, redirect: NonNullable<ProviderRefundRequest['redirect']>) {
    const sealed = (text: string) => Rsa.encrypt(text, this.keys.encryptionKey);
    return this.api.request<WechatRefund>(
      `v3/refund/domestic/refunds/${encodeURIComponent(redirect.reference)}/apply-abnormal-refund`,
      'POST',
      {
        ...this.subMerchant,
        out_refund_no: request.idempotencyKey,
        type: 'USER_BANK_CARD',
        bank_type: redirect.bankType,
        bank_account: sealed(request.account.replace(/\D/g, '')),
        real_name: sealed(request.accountName ?? ''),
      },
    );
  }

  /** By out_refund_no alone (and the sub-merchant's id, as a service provider): WeChat Pay's refund numbers are unique per merchant, whatever the payment. */
  async findRefund(idempotencyKey: string, _paymentId?: string): Promise<ProviderRefund | null> {
    const forSubMerchant = this.settings.subMchid ? `?sub_mchid=${encodeURIComponent(this.settings.subMchid)}` : '';
    const answer = await this.call<WechatRefund>('query', () => this.api.request(`v3/refund/domestic/refunds/${encodeURIComponent(idempotencyKey)}${forSubMerchant}`, 'GET'));
    if (isSuccess(answer)) return providerRefundOf(answer.data);
    const { code, message } = errorOf(answer);
    // Only WeChat Pay's own, signed word that no refund has this number: a 404 of any other kind
    // (MCH_NOT_EXISTS, a gateway's page) says nothing about the refund.
    if (code === REFUND_NOT_FOUND) return null;
    throw new ProviderUnavailableError(`WeChat Pay query ${code ?? answer.status}: ${message}`);
  }

  /** GET /v3/certificates, as WeChat Pay sent it: what the keyring takes new platform certificates from. */
  async certificateList(): Promise<string> {
    // The certificates inside are encrypted with the APIv3 key, which proves their origin; the answer's
    // own signature may be by a certificate we do not know yet, so it is read as text, unchecked.
    const { status, data } = await this.api.request<string>('v3/certificates', 'GET', undefined, { transformResponse: [(raw: string) => raw] });
    if (status !== 200) throw new ProviderUnavailableError(`WeChat Pay certificate list: HTTP ${status}`);
    return data;
  }

  /**
   * One signed call. An answer that verified comes back whatever its status; no answer, or one whose
   * signature did not hold, is trouble in our terms: a submission in doubt, a query to ask again.
   */
  private async call<T>(what: 'submission' | 'query', send: () => PromiseLike<AxiosResponse<T>>): Promise<VerifiedAnswer<T>> {
    try {
      const { status, data } = await send();
      return { status, data };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'EV3_RES_HEADER_PLATFORM_SERIAL') this.keys.refreshSoon(() => this.certificateList());
      if (typeof code === 'string' && code.startsWith('EV3_RES_')) {
        const status = error instanceof AxiosError ? error.response?.status : undefined;
        const unverified = `an answer whose signature did not verify (${code}${status ? `, HTTP ${status}` : ''})`;
        if (what === 'query') throw new ProviderUnavailableError(`WeChat Pay query: ${unverified}`);
        throw new ProviderTimeoutError(`WeChat Pay submission: ${unverified}`);
      }
      throw noAnswerError('WeChat Pay', what, typeof code === 'string' && code ? code : (error as Error).message);
    }
  }
}

function isSuccess<T>(answer: VerifiedAnswer<T>): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** WeChat Pay's (verified) error answer: `{code, message}`. */
function errorOf(answer: VerifiedAnswer<unknown>): { code?: string; message: string } {
  const body = (answer.data ?? {}) as { code?: unknown; message?: unknown };
  return { code: typeof body.code === 'string' ? body.code : undefined, message: typeof body.message === 'string' ? body.message : `HTTP ${answer.status}` };
}
