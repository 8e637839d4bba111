/**
 * A refund's voucher (退款凭证, issue #21): the record a merchant keeps of each refund and shows
 * its auditors — merchant, order, the original payment, what was refunded and why, who approved
 * it, the trace reference the bank quotes, and when — printable from the console in Chinese or
 * English. Accounts appear masked, as everywhere else.
 */
import type { PaymentRow } from '../db/schema';
import { maskAccount } from '../masking';
import { html, layout, reasonIn, statusIn, timeOf, type PageContext, type RefundForPage } from './pages';
import { money } from './text';

export interface VoucherFacts {
  refund: RefundForPage;
  payment: PaymentRow;
  merchantName: string | null;
  settledAt: Date | null;
  issuedAt: Date;
}

export function voucherPage(context: PageContext, { refund, payment, merchantName, settledAt, issuedAt }: VoucherFacts): string {
  const { text } = context;
  const approvals = refund.approvals.filter((a) => a.decision === 'approved');
  return layout(
    context,
    `${text.voucher} ${refund.id}`,
    html`<section class="voucher" aria-label="${text.voucher}">
<dl>
  <dt>${text.merchant}</dt><dd>${merchantName ? html`${merchantName} <span class="muted">(${refund.merchantId})</span>` : refund.merchantId}</dd>
  <dt>${text.orderId}</dt><dd>${refund.orderId}</dd>
</dl>
<h2>${text.originalPayment}</h2>
<dl>
  <dt>${text.paymentId}</dt><dd>${payment.id} · ${text.channels[payment.channel]}</dd>
  <dt>${text.amount}</dt><dd>${money(payment.amount, payment.currency)}</dd>
  <dt>${text.capturedAt}</dt><dd>${timeOf(payment.capturedAt.toISOString())}</dd>
  <dt>${text.payerAccount}</dt><dd>${maskAccount(payment.payerLast4)}</dd>
</dl>
<h2>${text.refund}</h2>
<dl>
  <dt>${text.refundId}</dt><dd>${refund.id}</dd>
  <dt>${text.refundedAmount}</dt><dd><strong>${money(refund.amount, refund.currency)}</strong>${refund.fee ? html` · ${text.fee} ${money(refund.fee, refund.currency)} · ${text.netAmount} ${money(refund.netAmount, refund.currency)}` : ''}</dd>
  <dt>${text.reason}</dt><dd>${reasonIn(text, refund.reason)}${refund.note ? html` — ${refund.note}` : ''}</dd>
  <dt>${text.status}</dt><dd>${statusIn(text, refund.status)}</dd>
  <dt>${text.destination}</dt><dd>${text.channels[refund.destination.type === 'bank_transfer' ? 'bank_transfer' : refund.provider.name]} ${refund.destination.account}</dd>
  <dt>${text.requester}</dt><dd>${refund.requestedBy}</dd>
  <dt>${text.approvals}</dt><dd>${approvals.length ? approvals.map((a) => html`${a.principal}, ${timeOf(a.at)}${a.comment ? html` — ${a.comment}` : ''}<br>`) : text.none}</dd>
  <dt>${text.traceReference}</dt><dd>${refund.provider.traceReference ?? refund.provider.reference ?? text.none}</dd>
  <dt>${text.refundTime}</dt><dd>${timeOf(refund.createdAt)}</dd>
  <dt>${text.settledTime}</dt><dd>${timeOf(settledAt?.toISOString() ?? null)}</dd>
  <dt>${text.issuedAt}</dt><dd>${timeOf(issuedAt.toISOString())}</dd>
</dl>
<p class="no-print"><button type="button" onclick="window.print()">${text.print}</button></p>
</section>`,
  );
}
