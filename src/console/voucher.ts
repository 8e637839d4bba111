/**
 * A refund's voucher (退款凭证, issue #21): the record a merchant keeps of each refund and shows
 * its auditors — merchant, terminal and order, the original payment, what was refunded, how (void
 * or refund) and why, who approved it, the trace reference the bank quotes, and when — in Chinese
 * or English. One model, two renderings: the console's printable page and the PDF
 * (voucher-pdf.ts). Accounts appear masked, as everywhere else.
 */
import { refundView } from '../api/views';
import type { Executor } from '../db/client';
import { findMerchant } from '../db/queries/merchants';
import { findPayment } from '../db/queries/payments';
import { refundTimeline } from '../db/queries/refunds';
import type { PaymentRow, RefundRow } from '../db/schema';
import type { FieldSeal } from '../field-seal';
import { maskAccount } from '../masking';
import { html, layout, reasonIn, statusIn, timeOf, type PageContext, type RefundForPage } from './pages';
import { money, type Text } from './text';

export interface VoucherFacts {
  refund: RefundForPage;
  payment: PaymentRow;
  merchantName: string | null;
  settledAt: Date | null;
  issuedAt: Date;
}

/** One line of the voucher: a label, its value's lines, and whether it is the sum that matters. */
export interface VoucherRow {
  label: string;
  lines: string[];
  /** An instant, shown as such (the page localises it; the PDF writes it in the business time zone). */
  at?: string | null;
  strong?: boolean;
}

export interface VoucherSection {
  heading: string | null;
  rows: VoucherRow[];
}

export interface Voucher {
  title: string;
  sections: VoucherSection[];
}

export function voucherOf(text: Text, { refund, payment, merchantName, settledAt, issuedAt }: VoucherFacts): Voucher {
  const approvals = refund.approvals.filter((a) => a.decision === 'approved');
  const at = (label: string, instant: string | null): VoucherRow => ({ label, lines: [], at: instant });
  const destination = text.channels[refund.destination.type === 'bank_transfer' ? 'bank_transfer' : refund.provider.name];
  return {
    title: `${text.voucher} ${refund.id}`,
    sections: [
      {
        heading: null,
        rows: [
          { label: text.merchant, lines: [merchantName ? `${merchantName} (${refund.merchantId})` : refund.merchantId] },
          ...(payment.terminalId ? [{ label: text.terminal, lines: [payment.terminalId] }] : []),
          { label: text.orderId, lines: [refund.orderId] },
        ],
      },
      {
        heading: text.originalPayment,
        rows: [
          { label: text.paymentId, lines: [`${payment.id} · ${text.channels[payment.channel]}`] },
          { label: text.amount, lines: [money(payment.amount, payment.currency)] },
          at(text.capturedAt, payment.capturedAt.toISOString()),
          { label: text.payerAccount, lines: [maskAccount(payment.payerLast4) ?? text.none] },
        ],
      },
      {
        heading: text.refund,
        rows: [
          { label: text.refundId, lines: [refund.id] },
          {
            label: text.refundedAmount,
            lines: [money(refund.amount, refund.currency), ...(refund.fee ? [`${text.fee} ${money(refund.fee, refund.currency)} · ${text.netAmount} ${money(refund.netAmount, refund.currency)}`] : [])],
            strong: true,
          },
          ...(refund.provider.method ? [{ label: text.refundMethod, lines: [text.refundMethods[refund.provider.method]] }] : []),
          { label: text.reason, lines: [refund.note ? `${reasonIn(text, refund.reason)} — ${refund.note}` : reasonIn(text, refund.reason)] },
          { label: text.status, lines: [statusIn(text, refund.status)] },
          { label: text.destination, lines: [`${destination} ${refund.destination.account}`] },
          { label: text.requester, lines: [refund.requestedBy] },
          { label: text.approvals, lines: approvals.length ? approvals.map((a) => `${a.principal}, ${a.at}${a.comment ? ` — ${a.comment}` : ''}`) : [text.none] },
          { label: text.traceReference, lines: [refund.provider.traceReference || refund.provider.reference || text.none] },
          at(text.refundTime, refund.createdAt),
          at(text.settledTime, settledAt?.toISOString() ?? null),
          at(text.issuedAt, issuedAt.toISOString()),
        ],
      },
    ],
  };
}

export function voucherPage(context: PageContext, facts: VoucherFacts): string {
  const { text } = context;
  const voucher = voucherOf(text, facts);
  const rows = (section: VoucherSection) =>
    html`<dl>${section.rows.map(
      (row) => html`
  <dt>${row.label}</dt><dd>${row.at !== undefined ? timeOf(row.at) : row.lines.map((line, i) => html`${i > 0 ? html`<br>` : ''}${row.strong && i === 0 ? html`<strong>${line}</strong>` : line}`)}</dd>`,
    )}
</dl>`;
  return layout(
    context,
    voucher.title,
    html`<section class="voucher" aria-label="${text.voucher}">
${voucher.sections.map((section) => html`${section.heading ? html`<h2>${section.heading}</h2>` : ''}${rows(section)}`)}
<p class="no-print"><button type="button" onclick="window.print()">${text.print}</button> · <a href="/console/refunds/${facts.refund.id}/voucher.pdf">${text.voucherPdf}</a></p>
</section>`,
  );
}

/** What a voucher shows of a refund (one the caller may see: requireRefund, or the console's own check). */
export async function voucherFactsOf(db: Executor, fields: FieldSeal, refund: RefundRow): Promise<VoucherFacts> {
  const [timeline, payment, merchant] = await Promise.all([refundTimeline(db, refund.id), findPayment(db, refund.paymentId), findMerchant(db, refund.merchantId)]);
  return { refund: refundView(fields, refund, timeline), payment: payment!, merchantName: merchant?.name ?? null, settledAt: refund.settledAt, issuedAt: new Date() };
}
