/**
 * The console's pages, rendered on the server as plain HTML: every value escaped, every control
 * labelled, usable from 390 px wide up. A few lines of script enhance them where it runs: times in
 * the reader's own time zone, and the inbox refreshing itself.
 */
import type { refundView } from '../api/views';
import type { NotificationRow, ProviderAttemptRow } from '../db/schema';
import type { RefundReport, RefundReportGroup } from '../db/queries/reports';
import { maskAccount, maskEmail } from '../masking';
import { WECHAT_REDIRECT_BANKS } from '../providers/wechatpay/wechatpay-protocol';
import type { ProviderName, ProviderState, RefundReason, RefundStatus } from '../../workflows/lifecycle';
import type { ConsoleSession } from './sessions';
import { age, duration, eventIn, money, type Locale, type Text } from './text';

/** HTML with every interpolated value escaped; nested `Html` is kept as it is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface PageContext {
  locale: Locale;
  text: Text;
  session?: ConsoleSession;
  /** A line to show at the top: what was just done, or why not. */
  notice?: { kind: 'ok' | 'error'; message: string };
}

const STYLE = `
*{box-sizing:border-box}button,input{font:inherit}body{margin:0;font:15px/1.5 "Noto Sans SC",system-ui,sans-serif;color:#1d2433;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.75rem 1rem;background:#1d2433;color:#fff}
header a{color:#fff}header .who{margin-left:auto}main{padding:1rem;max-width:1200px;margin:0 auto}
h1{font-size:1.3rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e3e6eb;vertical-align:top}dd{overflow-wrap:anywhere;margin:0}nav a{margin-right:.75rem}
.notice{padding:.5rem .75rem;margin-bottom:1rem;border-radius:4px}.ok{background:#e6f4ea}.error{background:#fdecea}
form.inline{display:flex;flex-wrap:wrap;gap:.25rem;align-items:end;margin:.25rem 0}
label{display:block;font-size:.85rem}input[type=text],input[type=password]{padding:.4rem;border:1px solid #aab;border-radius:4px;min-width:10rem}
button{padding:.4rem .8rem;border:0;border-radius:4px;background:#2457c5;color:#fff;cursor:pointer}button.reject{background:#b3261e}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.why{color:#6b4e00}.muted{color:#5b6475;font-size:.85rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;background:#fff;padding:1rem}
dt{font-weight:600}ol.timeline{list-style:none;padding:0;border-left:3px solid #c9d1e0;margin-left:.5rem}
ol.timeline li{padding:.25rem 0 .75rem 1rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#1d2433;padding:.25rem .5rem;z-index:1}
form.search{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.5rem 1rem;align-items:end;background:#fff;padding:1rem;margin-bottom:1rem}
select,input[type=date]{font:inherit;padding:.35rem;border:1px solid #aab;border-radius:4px}
.figures{display:flex;flex-wrap:wrap;gap:1rem;margin-bottom:1rem}.figures div{background:#fff;padding:.75rem 1rem;min-width:10rem}
.figures strong{display:block;font-size:1.3rem}figure{margin:0 0 1.5rem;background:#fff;padding:1rem}svg.chart{width:100%;max-width:600px;height:auto}svg.chart text{font-family:inherit}
a.button{display:inline-block;padding:.4rem .8rem;border-radius:4px;background:#2457c5;color:#fff;text-decoration:none}
@media (max-width:700px){table,thead,tbody,tr,th,td{display:block}thead{display:none}tr{margin-bottom:1rem;border:1px solid #e3e6eb}
td{overflow-wrap:anywhere}td::before{content:attr(data-label);display:block;font-size:.8rem;color:#5b6475}}
.voucher{background:#fff;max-width:44rem;padding:1rem;border:1px solid #c9d1e0}.voucher dl{padding:0}.voucher h2{font-size:1.1rem;margin:.5rem 0}
@media (max-width:700px){dl{grid-template-columns:1fr}dt{margin-top:.5rem}}
@media print{header,.skip,.no-print{display:none}body{background:#fff}main{padding:0}.voucher{border:0}}
`;

/** Shows each `<time>` in the reader's time zone, and refreshes `[data-live]` every 10 s unless a form is being filled in. */
const SCRIPT = `
function localTimes(root){root.querySelectorAll('time[datetime]').forEach(function(t){var d=new Date(t.getAttribute('datetime'));if(!isNaN(d))t.textContent=d.toLocaleString(document.documentElement.lang);});}
localTimes(document);
var live=document.querySelector('[data-live]');
if(live)setInterval(function(){if(live.contains(document.activeElement)&&document.activeElement.tagName==='INPUT')return;
fetch(location.href,{headers:{'X-Console-Fragment':'live'},credentials:'same-origin'}).then(function(r){return r.ok?r.text():null}).then(function(t){if(t!==null){live.innerHTML=t;localTimes(live);}});},10000);
`;

export function layout(context: PageContext, title: string, body: Html): string {
  const { text, session, locale } = context;
  const otherLocale = locale === 'en' ? 'zh-CN' : 'en';
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${text.title}</title>
<link rel="stylesheet" href="/console/assets/noto-sans-sc/400.css">
<style>${new Html(STYLE)}</style>
</head>
<body>
<a class="skip" href="#main">${text.skipToContent}</a>
<header>
  <strong>${text.title}</strong>
  ${
    session
      ? html`<nav aria-label="${text.title}"><a href="/console/inbox">${text.inbox}</a> <a href="/console/desk">${text.desk}</a> <a href="/console/search">${text.search}</a> <a href="/console/reports">${text.reports}</a></nav>`
      : ''
  }
  <a href="?lang=${otherLocale}" hreflang="${otherLocale}">${text.language}</a>
  ${
    session
      ? html`<span class="who">${text.signedInAs} <strong>${session.principal}</strong> (${session.role})</span>
  <form method="post" action="/console/sign-out" class="inline"><input type="hidden" name="_csrf" value="${session.csrfToken}"><button type="submit">${text.signOut}</button></form>`
      : ''
  }
</header>
<main id="main">
${context.notice ? html`<p class="notice ${context.notice.kind}" role="status">${context.notice.message}</p>` : ''}
<h1>${title}</h1>
${body}
</main>
<script>${new Html(SCRIPT)}</script>
</body>
</html>`.value;
}

export function signInPage(context: PageContext, csrf: string): string {
  const { text } = context;
  return layout(
    context,
    text.signIn,
    html`<p>${text.signInHelp}</p>
<form method="post" action="/console/sign-in">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="key">${text.apiKey}</label>
  <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
  <p><button type="submit">${text.signIn}</button></p>
</form>`,
  );
}

/** A refund as the API's view holds it (masked): the console shows what the API would. */
export type RefundForPage = ReturnType<typeof refundView>;

/** What the person may do with a refund, or why not (the pure rules' own words). */
export interface Choices {
  decide: 'approval' | 'proposal' | null;
  whyNot: string | null;
}

/** When a pending refund's approval reminds and escalates (the approval timers of the policy in force). */
export interface ApprovalSchedule {
  reminderAt: string;
  escalatesAt: string;
}

export function inboxRows(context: PageContext, rows: Array<{ refund: RefundForPage; choices: Choices; schedule: ApprovalSchedule | null }>, nowMs: number): Html {
  const { text } = context;
  if (rows.length === 0) return html`<p>${text.inboxEmpty}</p>`;
  return html`<table>
<thead><tr><th scope="col">${text.refund}</th><th scope="col">${text.amount}</th><th scope="col">${text.reason}</th><th scope="col">${text.requester}</th><th scope="col">${text.payment}</th><th scope="col">${text.age}</th><th scope="col">${text.expires}</th><th scope="col"></th></tr></thead>
<tbody>
${rows.map(
  ({ refund, choices, schedule }) => html`<tr>
  <td data-label="${text.refund}"><a href="/console/refunds/${refund.id}">${refund.id}</a>${refund.proposal ? html`<br><span class="muted">${text.proposal}: ${refund.proposal.kind}</span>` : ''}</td>
  <td data-label="${text.amount}">${money(refund.amount, refund.currency)}</td>
  <td data-label="${text.reason}">${refund.proposal ? refund.proposal.reason : reasonIn(text, refund.reason)}</td>
  <td data-label="${text.requester}">${refund.proposal ? refund.proposal.proposedBy : refund.requestedBy}</td>
  <td data-label="${text.payment}">${refund.paymentId}</td>
  <td data-label="${text.age}">${age(Date.parse(refund.createdAt), nowMs, text)}</td>
  <td data-label="${text.expires}">${timeOf(refund.proposal?.expiresAt ?? refund.deadlines.approvalDueAt ?? null)}${
    schedule && !refund.proposal ? html`<br><span class="muted">${text.reminder} ${timeOf(schedule.reminderAt)}<br>${text.escalation} ${timeOf(schedule.escalatesAt)}</span>` : ''
  }</td>
  <td>${decisionForms(context, refund, choices)}</td>
</tr>`,
)}
</tbody>
</table>`;
}

/** A list page (the inbox, the desk): its rows refresh themselves. */
export function livePage(context: PageContext, title: string, rows: Html): string {
  return layout(context, title, html`<p class="muted">${context.text.live}</p><div data-live>${rows}</div>`);
}

export function refundPage(
  context: PageContext,
  refund: RefundForPage,
  choices: Choices,
  payment: { amount: number; refundedAmount: number; reservedAmount: number } | undefined,
  attempts: ProviderAttemptRow[],
  messages: NotificationRow[],
): string {
  const { text } = context;
  const instants = Object.entries(refund.deadlines).filter(([, at]) => at);
  return layout(
    context,
    `${text.refund} ${refund.id}`,
    html`<dl>
  <dt>${text.status}</dt><dd>${statusIn(text, refund.status)}${refund.needsAttention ? html` · <strong>${text.needsAttention}</strong>` : ''}</dd>
  <dt>${text.amount}</dt><dd>${money(refund.amount, refund.currency)}${refund.fee ? html` · ${text.fee} ${money(refund.fee, refund.currency)} · ${text.netAmount} ${money(refund.netAmount, refund.currency)}` : ''}</dd>
  <dt>${text.reason}</dt><dd>${reasonIn(text, refund.reason)}${refund.note ? html` — ${refund.note}` : ''}</dd>
  <dt>${text.requester}</dt><dd>${refund.requestedBy}${refund.createdBy !== refund.requestedBy ? html` <span class="muted">(${refund.createdBy})</span>` : ''}</dd>
  <dt>${text.payment}</dt><dd>${refund.paymentId} · ${text.channels[refund.channel]}${payment ? html`<br>${money(payment.refundedAmount, refund.currency)} ${text.refunded}, ${money(payment.reservedAmount, refund.currency)} ${text.reserved} (${text.of} ${money(payment.amount, refund.currency)})` : ''}</dd>
  <dt>${text.merchant}</dt><dd>${refund.merchantId} · ${text.orderId} ${refund.orderId}</dd>
  <dt>${text.destination}</dt><dd>${text.channels[refund.destination.type === 'bank_transfer' ? 'bank_transfer' : refund.provider.name]} ${refund.destination.account}${refund.destination.accountName ? ` (${refund.destination.accountName})` : ''}</dd>
  <dt>${text.provider}</dt><dd>${providerIn(text, refund.provider)}</dd>
  <dt>${text.deadlines}</dt><dd>${instants.length ? instants.map(([name, at]) => html`${deadlineIn(text, name)}: ${timeOf(at)}<br>`) : '—'}</dd>
  <dt>${text.approvals}</dt><dd>${refund.approvals.map((a) => html`${a.principal}: ${a.decision}${a.comment ? ` (${a.comment})` : ''}, ${timeOf(a.at)}<br>`)} ${refund.approvals.length}/${refund.requiredApprovals}</dd>
  ${refund.proposal ? html`<dt>${text.proposal}</dt><dd>${refund.proposal.kind}: ${money(refund.proposal.amount, refund.currency)} — ${refund.proposal.reason} (${refund.proposal.proposedBy}), ${timeOf(refund.proposal.expiresAt)}</dd>` : ''}
  ${refund.corrections.length ? html`<dt>${text.corrections}</dt><dd>${refund.corrections.map((correction) => html`${facts(correction)}<br>`)}</dd>` : ''}
</dl>
${decisionForms(context, refund, choices)}
<p class="no-print"><a href="/console/refunds/${refund.id}/voucher">${text.voucherLink}</a> · <a href="/console/refunds/${refund.id}/voucher.pdf">${text.voucherPdf}</a></p>
${attempts.length ? html`<h2>${text.operations}</h2>${attemptTable(text, refund.currency, attempts)}` : ''}
${messages.length ? html`<h2>${text.messages}</h2>${messageTable(text, messages)}` : ''}
<h2>${text.timeline}</h2>
<ol class="timeline">
${refund.timeline.map(
  (event) => html`<li>${timeOf(event.at)} — <strong>${eventIn(text, event.type)}</strong> · ${event.actor}${
    event.detail && Object.keys(event.detail).length ? html`<br><span class="muted">${facts(event.detail)}</span>` : ''
  }</li>`,
)}
</ol>`,
  );
}

/** Every call made to a provider for the refund: the route, where it paid, what the provider said. */
function attemptTable(text: Text, currency: string, attempts: ProviderAttemptRow[]): Html {
  return html`<table>
<thead><tr><th scope="col">${text.attempt}</th><th scope="col">${text.provider}</th><th scope="col">${text.destination}</th><th scope="col">${text.amount}</th><th scope="col">${text.state}</th><th scope="col">${text.reference}</th><th scope="col">${text.failure}</th><th scope="col">${text.created}</th></tr></thead>
<tbody>
${attempts.map(
  (attempt) => html`<tr>
  <td data-label="${text.attempt}">${attempt.attempt}</td>
  <td data-label="${text.provider}">${text.channels[attempt.provider]}</td>
  <td data-label="${text.destination}">${maskAccount(attempt.destinationLast4)}${attempt.destinationAccountName ? ` (${attempt.destinationAccountName})` : ''}${attempt.requestedBy ? html`<br><span class="muted">${attempt.requestedBy}</span>` : ''}</td>
  <td data-label="${text.amount}">${attempt.amount === null ? '—' : money(attempt.amount, currency)}</td>
  <td data-label="${text.state}">${text.providerStates[attempt.state]}</td>
  <td data-label="${text.reference}">${attempt.reference ?? '—'}${attempt.traceReference ? html`<br>${attempt.traceReference}` : ''}</td>
  <td data-label="${text.failure}">${attempt.failureReason ?? '—'}</td>
  <td data-label="${text.created}">${timeOf(attempt.createdAt.toISOString())}</td>
</tr>`,
)}
</tbody>
</table>`;
}

/** What the customer was sent, and what could not be delivered (a dead letter) and why. */
function messageTable(text: Text, messages: NotificationRow[]): Html {
  return html`<table>
<thead><tr><th scope="col">${text.message}</th><th scope="col">${text.recipient}</th><th scope="col">${text.state}</th><th scope="col">${text.failure}</th></tr></thead>
<tbody>
${messages.map(
  (message) => html`<tr>
  <td data-label="${text.message}">${message.template}<br><span class="muted">${message.subject}</span></td>
  <td data-label="${text.recipient}">${message.channel} ${message.channel === 'email' ? maskEmail(message.recipient) : maskAccount(message.recipient)}</td>
  <td data-label="${text.state}">${text.deliveries[message.status]}${message.status === 'sent' && message.sentAt ? html` ${timeOf(message.sentAt.toISOString())}` : ''}${message.attempts > 1 ? html`<br><span class="muted">${message.attempts} ${text.tries}</span>` : ''}</td>
  <td data-label="${text.failure}">${message.status === 'sent' ? '—' : (message.lastError ?? '—')}</td>
</tr>`,
)}
</tbody>
</table>`;
}

/** A record's plain facts as `name: value` pairs; nested ones are left to the API. */
function facts(record: Record<string, unknown>): string {
  return Object.entries(record)
    .filter(([, value]) => value !== null && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([name, value]) => `${name}: ${String(value)}`)
    .join(' · ');
}

function deadlineIn(text: Text, name: string): string {
  return text.deadlineNames[name as keyof Text['deadlineNames']] ?? name;
}

export function statusIn(text: Text, status: RefundStatus): string {
  return text.statuses[status];
}

export function reasonIn(text: Text, reason: string): string {
  return text.reasons[reason as RefundReason] ?? reason;
}

function providerIn(text: Text, provider: { name: ProviderName; state: ProviderState; traceReference: string | null }): Html {
  return html`${text.channels[provider.name]} · ${text.providerStates[provider.state]}${provider.traceReference ? html`<br>${provider.traceReference}` : ''}`;
}

function decisionForms(context: PageContext, refund: RefundForPage, choices: Choices): Html {
  const { text, session } = context;
  if (choices.whyNot) return html`<p class="why">${text.cannotDecide}${choices.whyNot}</p>`;
  if (!choices.decide || !session) return html``;
  const base = `/console/refunds/${refund.id}/${choices.decide === 'approval' ? '' : 'proposal/'}`;
  const id = `${refund.id}-${choices.decide}`;
  return html`<form method="post" action="${base}approve" class="inline">
  <input type="hidden" name="_csrf" value="${session.csrfToken}">
  <span><label for="${id}-comment">${text.comment}</label><input type="text" id="${id}-comment" name="comment" maxlength="500"></span>
  <button type="submit">${choices.decide === 'approval' ? text.approve : text.approveProposal}</button>
</form>
<form method="post" action="${base}reject" class="inline">
  <input type="hidden" name="_csrf" value="${session.csrfToken}">
  <span><label for="${id}-reason">${text.rejectReason}</label><input type="text" id="${id}-reason" name="reason" maxlength="500" required></span>
  <button type="submit" class="reject">${choices.decide === 'approval' ? text.reject : text.rejectProposal}</button>
</form>`;
}

export function timeOf(at: string | null): Html {
  return at ? html`<time datetime="${at}">${at}</time>` : html`—`;
}

/** What support may do with a stuck refund, each with the rule's reason when not. */
export interface DeskChoices {
  retry: string | null;
  reroute: string | null;
  /** WeChat Pay's own transfer to the payer's debit card: offered only where the rules allow it, never explained away. */
  toCard: string | null;
  cancel: string | null;
}

export function deskRows(context: PageContext, rows: Array<{ refund: RefundForPage; why: string | null; may: DeskChoices }>): Html {
  const { text } = context;
  if (rows.length === 0) return html`<p>${text.deskEmpty}</p>`;
  return html`<table>
<thead><tr><th scope="col">${text.refund}</th><th scope="col">${text.amount}</th><th scope="col">${text.status}</th><th scope="col">${text.why}</th><th scope="col">${text.provider}</th><th scope="col">${text.deadlines}</th><th scope="col"></th></tr></thead>
<tbody>
${rows.map(
  ({ refund, why, may }) => html`<tr>
  <td data-label="${text.refund}"><a href="/console/refunds/${refund.id}">${refund.id}</a><br><span class="muted">${refund.paymentId}</span></td>
  <td data-label="${text.amount}">${money(refund.amount, refund.currency)}</td>
  <td data-label="${text.status}">${statusIn(text, refund.status)}${refund.needsAttention ? html`<br><strong>${text.needsAttention}</strong>` : ''}</td>
  <td data-label="${text.why}">${why ? eventIn(text, why) : '—'}</td>
  <td data-label="${text.provider}">${providerIn(text, refund.provider)}</td>
  <td data-label="${text.deadlines}">${Object.entries(refund.deadlines)
    .filter(([name, at]) => at && name !== 'approvalDueAt')
    .map(([name, at]) => html`${deadlineIn(text, name)}: ${timeOf(at)}<br>`)}</td>
  <td>${deskForms(context, refund, may)}</td>
</tr>`,
)}
</tbody>
</table>`;
}

function deskForms(context: PageContext, refund: RefundForPage, may: DeskChoices): Html {
  const { text, session } = context;
  if (!session) return html``;
  const token = html`<input type="hidden" name="_csrf" value="${session.csrfToken}">`;
  const id = refund.id;
  const whyNot = [...new Set([may.retry, may.reroute, may.cancel].filter((reason): reason is string => reason !== null))];
  return html`${may.retry === null ? html`<form method="post" action="/console/refunds/${id}/retry" class="inline">${token}<button type="submit">${text.retry}</button></form>` : ''}
${
  may.reroute === null
    ? html`<form method="post" action="/console/refunds/${id}/reroute" class="inline">${token}
  <span><label for="${id}-account">${text.account}</label><input type="text" id="${id}-account" name="account" inputmode="numeric" required autocomplete="off"></span>
  <span><label for="${id}-account-name">${text.accountName}</label><input type="text" id="${id}-account-name" name="accountName" maxlength="200" required></span>
  <span><label for="${id}-reroute-reason">${text.rerouteReason}</label><input type="text" id="${id}-reroute-reason" name="reason" maxlength="500" required></span>
  <button type="submit">${text.reroute}</button></form>`
    : ''
}
${
  may.toCard === null
    ? html`<form method="post" action="/console/refunds/${id}/reroute-to-card" class="inline">${token}
  <p class="muted">${text.toCardHint}</p>
  <span><label for="${id}-card">${text.cardNumber}</label><input type="text" id="${id}-card" name="account" inputmode="numeric" required autocomplete="off"></span>
  <span><label for="${id}-card-holder">${text.cardHolder}</label><input type="text" id="${id}-card-holder" name="accountName" maxlength="100" required></span>
  <span><label for="${id}-bank">${text.bank}</label><select id="${id}-bank" name="bankType" required>${WECHAT_REDIRECT_BANKS.map((bank) => html`<option value="${bank}">${text.banks[bank]}</option>`)}</select></span>
  <span><label for="${id}-card-reason">${text.cardReason}</label><input type="text" id="${id}-card-reason" name="reason" maxlength="500" required></span>
  <button type="submit">${text.toCard}</button></form>`
    : ''
}
${
  may.cancel === null
    ? html`<form method="post" action="/console/refunds/${id}/cancel" class="inline">${token}
  <span><label for="${id}-cancel-reason">${text.cancelReason}</label><input type="text" id="${id}-cancel-reason" name="reason" maxlength="500" required></span>
  <button type="submit" class="reject">${text.cancel}</button></form>`
    : ''
}
${whyNot.length > 0 && (may.retry !== null || may.reroute !== null || may.cancel !== null) ? html`<p class="why">${text.cannotDecide}${whyNot.join('; ')}</p>` : ''}`;
}

/** The search form as it was filled in (every value a string, as the query string had it). */
export type SearchFields = Partial<Record<'refundId' | 'paymentId' | 'orderId' | 'merchantId' | 'status' | 'from' | 'to' | 'payerLast4', string>>;

export function searchPage(context: PageContext, fields: SearchFields, results: RefundForPage[] | null, more: boolean): string {
  const { text } = context;
  const field = (name: keyof SearchFields, label: string, attributes: Html = html``) =>
    html`<span><label for="q-${name}">${label}</label><input type="text" id="q-${name}" name="${name}" value="${fields[name] ?? ''}" ${attributes}></span>`;
  return layout(
    context,
    text.search,
    html`<form method="get" action="/console/search" class="search" role="search">
  ${field('refundId', text.refundId, html`autocomplete="off"`)}
  ${field('paymentId', text.paymentId)}
  ${field('orderId', text.orderId)}
  ${field('merchantId', text.merchant)}
  <span><label for="q-status">${text.status}</label><select id="q-status" name="status"><option value="">${text.anyStatus}</option>${(
    Object.entries(text.statuses) as [RefundStatus, string][]
  ).map(([status, words]) => html`<option value="${status}"${fields.status === status ? html` selected` : ''}>${words}</option>`)}</select></span>
  <span><label for="q-from">${text.from}</label><input type="date" id="q-from" name="from" value="${fields.from ?? ''}"></span>
  <span><label for="q-to">${text.to}</label><input type="date" id="q-to" name="to" value="${fields.to ?? ''}"></span>
  ${field('payerLast4', text.payerLast4, html`inputmode="numeric" maxlength="4" autocomplete="off"`)}
  <span><button type="submit">${text.search}</button></span>
</form>
<p class="muted">${text.searchHelp}</p>
${results === null ? '' : results.length === 0 ? html`<p role="status">${text.noResults}</p>` : html`${resultRows(text, results)}${more ? html`<p class="muted">${text.firstResults}</p>` : ''}`}`,
  );
}

function resultRows(text: Text, refunds: RefundForPage[]): Html {
  return html`<table>
<thead><tr><th scope="col">${text.refund}</th><th scope="col">${text.created}</th><th scope="col">${text.amount}</th><th scope="col">${text.status}</th><th scope="col">${text.reason}</th><th scope="col">${text.payment}</th><th scope="col">${text.merchant}</th></tr></thead>
<tbody>
${refunds.map(
  (refund) => html`<tr>
  <td data-label="${text.refund}"><a href="/console/refunds/${refund.id}">${refund.id}</a></td>
  <td data-label="${text.created}">${timeOf(refund.createdAt)}</td>
  <td data-label="${text.amount}">${money(refund.amount, refund.currency)}</td>
  <td data-label="${text.status}">${statusIn(text, refund.status)}${refund.needsAttention ? html`<br><strong>${text.needsAttention}</strong>` : ''}</td>
  <td data-label="${text.reason}">${reasonIn(text, refund.reason)}</td>
  <td data-label="${text.payment}">${refund.paymentId}<br><span class="muted">${text.channels[refund.channel]}</span></td>
  <td data-label="${text.merchant}">${refund.merchantId}<br><span class="muted">${refund.orderId}</span></td>
</tr>`,
)}
</tbody>
</table>`;
}

/** The report over one range: headline figures, then counts and amounts by reason, channel and business day. */
export interface ReportForPage {
  from: string;
  to: string;
  summary: Omit<RefundReport, 'groups'>;
  byReason: RefundReportGroup[];
  byChannel: RefundReportGroup[];
  byDay: RefundReportGroup[];
}

export function reportsPage(context: PageContext, report: ReportForPage): string {
  const { text } = context;
  const { summary } = report;
  const seconds = (value: number | null) => (value === null ? '—' : duration(value, text));
  const range = new URLSearchParams({ from: report.from, to: report.to }).toString();
  return layout(
    context,
    text.reports,
    html`<form method="get" action="/console/reports" class="search">
  <span><label for="r-from">${text.from}</label><input type="date" id="r-from" name="from" value="${report.from}" required></span>
  <span><label for="r-to">${text.to}</label><input type="date" id="r-to" name="to" value="${report.to}" required></span>
  <span><button type="submit">${text.show}</button></span>
  <span><a class="button" href="/console/reports.csv?${range}" download>${text.downloadCsv}</a></span>
  ${context.session?.role === 'supervisor' ? html`<span><a class="button" href="/console/audit.csv?${range}" download>${text.downloadAudit}</a></span>` : ''}
</form>
<div class="figures">
  <div>${text.refundsInRange}<strong>${summary.refunds}</strong></div>
  <div>${text.timeToSettle}<strong>p50 ${seconds(summary.timeToSettleSeconds.p50)}</strong>p90 ${seconds(summary.timeToSettleSeconds.p90)}</div>
  <div>${text.approvalLeadTime}<strong>p50 ${seconds(summary.approvalLeadTimeSeconds.p50)}</strong>p90 ${seconds(summary.approvalLeadTimeSeconds.p90)}</div>
  <div>${text.attentionShare}<strong>${(summary.needsAttentionShare * 100).toFixed(1)}%</strong></div>
</div>
${
  summary.refunds === 0
    ? html`<p role="status">${text.noData}</p>`
    : html`${groupFigure(text, 'reason', text.byReason, report.byReason, (key) => reasonIn(text, key))}
${groupFigure(text, 'channel', text.byChannel, report.byChannel, (key) => text.channels[key as ProviderName] ?? key)}
${groupFigure(text, 'day', text.byDay, report.byDay, (key) => key)}`
}`,
  );
}

/**
 * One grouping as a chart and its table: bars of counts (one scale: every refund counts the
 * same), and the amounts per currency beside them (amounts in two currencies never add up).
 */
function groupFigure(text: Text, id: string, title: string, groups: RefundReportGroup[], label: (key: string) => string): Html {
  const byKey = new Map<string, RefundReportGroup[]>();
  for (const group of groups) byKey.set(group.key, [...(byKey.get(group.key) ?? []), group]);
  const rows = [...byKey].map(([key, inCurrencies]) => ({ key, count: inCurrencies.reduce((sum, group) => sum + group.count, 0), inCurrencies }));
  const most = Math.max(1, ...rows.map((row) => row.count));
  // Each currency on its own scale: a bar compares amounts in one currency only.
  const mostIn = new Map<string, number>();
  for (const group of groups) mostIn.set(group.currency, Math.max(mostIn.get(group.currency) ?? 1, group.amount));
  const bar = 220;
  let y = 24;
  const drawn = rows.map((row) => {
    const top = y;
    y += 22 + row.inCurrencies.length * 16 + 8;
    const width = Math.round((row.count / most) * bar);
    return html`<text x="140" y="${top + 15}" text-anchor="end" font-size="13" fill="#1d2433">${label(row.key)}</text>
<rect x="150" y="${top + 3}" width="${Math.max(2, width)}" height="16" rx="2" fill="#2457c5"></rect><text x="${156 + width}" y="${top + 15}" font-size="13" fill="#1d2433">${row.count}</text>
${row.inCurrencies.map((group, i) => {
  const amountWidth = Math.round((group.amount / mostIn.get(group.currency)!) * bar);
  return html`<rect x="150" y="${top + 23 + i * 16}" width="${Math.max(2, amountWidth)}" height="11" rx="2" fill="#1f8a70"></rect><text x="${156 + amountWidth}" y="${top + 33 + i * 16}" font-size="11" fill="#1d2433">${money(group.amount, group.currency)}</text>`;
})}`;
  });
  const described = rows.map((row) => `${label(row.key)} ${row.count} (${row.inCurrencies.map((group) => money(group.amount, group.currency)).join(', ')})`).join('; ');
  return html`<figure aria-labelledby="chart-${id}">
<figcaption id="chart-${id}"><h2>${title}</h2></figcaption>
<svg class="chart" viewBox="0 0 480 ${y}" role="img" aria-label="${title}: ${described}">
<rect x="150" y="4" width="10" height="10" fill="#2457c5"></rect><text x="164" y="13" font-size="11" fill="#1d2433">${text.count}</text>
<rect x="240" y="4" width="10" height="10" fill="#1f8a70"></rect><text x="254" y="13" font-size="11" fill="#1d2433">${text.amount}</text>
${drawn}
</svg>
<table>
<thead><tr><th scope="col">${title}</th><th scope="col">${text.count}</th><th scope="col">${text.amount}</th></tr></thead>
<tbody>
${rows.map(
  (row) => html`<tr><td data-label="${title}">${label(row.key)}</td><td data-label="${text.count}">${row.count}</td><td data-label="${text.amount}">${row.inCurrencies.map((group) => html`${money(group.amount, group.currency)}<br>`)}</td></tr>`,
)}
</tbody>
</table>
</figure>`;
}

export function messagePage(context: PageContext, title: string): string {
  return layout(context, title, html``);
}
