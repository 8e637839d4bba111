/**
 * A refund's voucher (退款凭证, issue #21): the record a merchant keeps of each refund and shows
 * its auditors — merchant, order, the original payment, what was refunded and why, who approved
 * it, the trace reference the bank quotes, and when — in Chinese or English, as a console page to
 * print and as a PDF through the API. Both are made from the same sections; accounts appear
 * masked, as everywhere else.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import type { PaymentRow } from '../db/schema';
import { maskAccount } from '../masking';
import { PROJECT_ROOT } from '../project-root';
import { html, layout, reasonIn, statusIn, timeOf, type Html, type PageContext, type RefundForPage } from './pages';
import { money, type Locale, type Text } from './text';

export interface VoucherFacts {
  refund: RefundForPage;
  payment: PaymentRow;
  merchantName: string | null;
  settledAt: Date | null;
  issuedAt: Date;
}

/** One part of the voucher: its heading (none for the first), and its lines, a label and the parts of its value. */
interface Section<Value> {
  heading: string | null;
  lines: [label: string, value: (Value | string)[]][];
}

/** The voucher's content, with instants shown by `at` (a `<time>` on the page, a local time in the PDF). */
function voucherSections<Value>(text: Text, facts: VoucherFacts, at: (iso: string | null) => Value): Section<Value>[] {
  const { refund, payment, merchantName } = facts;
  const approvals = refund.approvals.filter((a) => a.decision === 'approved');
  const fee = refund.fee ? ` · ${text.fee} ${money(refund.fee, refund.currency)} · ${text.netAmount} ${money(refund.netAmount, refund.currency)}` : '';
  const sections: { heading: string | null; lines: [string, Value | string | (Value | string)[]][] }[] = [
    {
      heading: null,
      lines: [
        [text.merchant, merchantName ? `${merchantName} (${refund.merchantId})` : refund.merchantId],
        [text.orderId, refund.orderId],
      ],
    },
    {
      heading: text.originalPayment,
      lines: [
        [text.paymentId, `${payment.id} · ${text.channels[payment.channel]}`],
        [text.amount, money(payment.amount, payment.currency)],
        [text.capturedAt, at(payment.capturedAt.toISOString())],
        [text.payerAccount, maskAccount(payment.payerLast4) ?? text.none],
      ],
    },
    {
      heading: text.refund,
      lines: [
        [text.refundId, refund.id],
        [text.refundedAmount, `${money(refund.amount, refund.currency)}${fee}`],
        [text.reason, `${reasonIn(text, refund.reason)}${refund.note ? ` — ${refund.note}` : ''}`],
        [text.status, statusIn(text, refund.status)],
        [text.destination, `${text.channels[refund.destination.type === 'bank_transfer' ? 'bank_transfer' : refund.provider.name]} ${refund.destination.account}`],
        [text.requester, refund.requestedBy],
        ...(approvals.length ? approvals : [null]).map((a): [string, (Value | string)[]] => [text.approvals, a ? [`${a.principal}, `, at(a.at), a.comment ? ` — ${a.comment}` : ''] : [text.none]]),
        [text.traceReference, refund.provider.traceReference ?? refund.provider.reference ?? text.none],
        [text.refundTime, at(refund.createdAt)],
        [text.settledTime, at(facts.settledAt?.toISOString() ?? null)],
        [text.issuedAt, at(facts.issuedAt.toISOString())],
      ],
    },
  ];
  return sections.map(({ heading, lines }) => ({ heading, lines: lines.map(([label, value]) => [label, Array.isArray(value) ? value : [value]]) }));
}

export function voucherPage(context: PageContext, facts: VoucherFacts): string {
  const { text } = context;
  const sections = voucherSections<Html>(text, facts, timeOf);
  return layout(
    context,
    `${text.voucher} ${facts.refund.id}`,
    html`<section class="voucher" aria-label="${text.voucher}">
${sections.map(
  (section) => html`${section.heading ? html`<h2>${section.heading}</h2>` : ''}<dl>
${section.lines.map(([label, value]) => html`  <dt>${label}</dt><dd>${value}</dd>\n`)}</dl>`,
)}
<p class="no-print"><button type="button" onclick="window.print()">${text.print}</button></p>
</section>`,
  );
}

/** Noto Sans SC's simplified-Chinese set (Latin, digits and ¥ included), the font the console serves too. */
const FONT = readFileSync(path.join(PROJECT_ROOT, 'node_modules', '@fontsource', 'noto-sans-sc', 'files', 'noto-sans-sc-chinese-simplified-400-normal.woff'));

/**
 * The voucher as an A4 PDF, its times in the business time zone (`utcOffsetMinutes` east of UTC).
 * Its font is subset into each file, which for a Chinese font takes PDFKit a few seconds: vouchers
 * are made one at a time, when someone asks for one.
 */
export function voucherPdf(text: Text, locale: Locale, facts: VoucherFacts, utcOffsetMinutes: number): PDFKit.PDFDocument {
  const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: `${text.voucher} ${facts.refund.id}`, Author: 'refundflow' }, lang: locale });
  doc.registerFont('noto', FONT);
  doc.font('noto');
  doc.fontSize(18).text(text.voucher).moveDown(0.2);
  doc.fontSize(9).fillColor('#5b6475').text(facts.refund.id).moveDown(0.8);
  for (const section of voucherSections<string>(text, facts, (iso) => localTime(iso, utcOffsetMinutes))) {
    if (section.heading) doc.moveDown(0.4).fontSize(13).fillColor('#1d2433').text(section.heading).moveDown(0.3);
    for (const [label, value] of section.lines) {
      doc.fontSize(9).fillColor('#5b6475').text(label);
      doc.fontSize(11).fillColor('#1d2433').text(value.join(''), { paragraphGap: 4 });
    }
  }
  doc.end();
  return doc;
}

/** `2026-12-07 15:07 (UTC+08:00)`: an instant as the business day reads it. */
function localTime(iso: string | null, utcOffsetMinutes: number): string {
  if (!iso) return '—';
  const local = new Date(Date.parse(iso) + utcOffsetMinutes * 60_000).toISOString();
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const offset = Math.abs(utcOffsetMinutes);
  return `${local.slice(0, 10)} ${local.slice(11, 16)} (UTC${sign}${String(Math.floor(offset / 60)).padStart(2, '0')}:${String(offset % 60).padStart(2, '0')})`;
}
