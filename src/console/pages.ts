/**
 * The console's pages, rendered on the server as plain HTML: every value escaped, every control
 * labelled, usable from 390 px wide up. A few lines of script enhance them where it runs: times in
 * the reader's own time zone, and the inbox refreshing itself.
 */
import type { refundView } from '../api/views';
import type { ConsoleSession } from './sessions';
import { age, money, type Locale, type Text } from './text';

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
h1{font-size:1.3rem;margin:.5rem 0 1rem}table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e3e6eb;vertical-align:top}
.notice{padding:.5rem .75rem;margin-bottom:1rem;border-radius:4px}.ok{background:#e6f4ea}.error{background:#fdecea}
form.inline{display:flex;flex-wrap:wrap;gap:.25rem;align-items:end;margin:.25rem 0}
label{display:block;font-size:.85rem}input[type=text],input[type=password]{padding:.4rem;border:1px solid #aab;border-radius:4px;min-width:10rem}
button{padding:.4rem .8rem;border:0;border-radius:4px;background:#2457c5;color:#fff;cursor:pointer}button.reject{background:#b3261e}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.why{color:#6b4e00}.muted{color:#5b6475;font-size:.85rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;background:#fff;padding:1rem}
dt{font-weight:600}ol.timeline{list-style:none;padding:0;border-left:3px solid #c9d1e0;margin-left:.5rem}
ol.timeline li{padding:.25rem 0 .75rem 1rem}
@media (max-width:700px){table,thead,tbody,tr,th,td{display:block}thead{display:none}tr{margin-bottom:1rem;border:1px solid #e3e6eb}
td::before{content:attr(data-label);display:block;font-size:.8rem;color:#5b6475}}
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
<header>
  <strong>${text.title}</strong>
  ${session ? html`<a href="/console/inbox">${text.inbox}</a> <a href="/console/desk">${text.desk}</a>` : ''}
  <a href="?lang=${otherLocale}" hreflang="${otherLocale}">${text.language}</a>
  ${
    session
      ? html`<span class="who">${text.signedInAs} <strong>${session.principal}</strong> (${session.role})</span>
  <form method="post" action="/console/sign-out" class="inline"><input type="hidden" name="_csrf" value="${session.csrfToken}"><button type="submit">${text.signOut}</button></form>`
      : ''
  }
</header>
<main>
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

export function inboxRows(context: PageContext, rows: Array<{ refund: RefundForPage; choices: Choices }>, nowMs: number): Html {
  const { text } = context;
  if (rows.length === 0) return html`<p>${text.inboxEmpty}</p>`;
  return html`<table>
<thead><tr><th scope="col">${text.refund}</th><th scope="col">${text.amount}</th><th scope="col">${text.reason}</th><th scope="col">${text.requester}</th><th scope="col">${text.payment}</th><th scope="col">${text.age}</th><th scope="col">${text.expires}</th><th scope="col"></th></tr></thead>
<tbody>
${rows.map(
  ({ refund, choices }) => html`<tr>
  <td data-label="${text.refund}"><a href="/console/refunds/${refund.id}">${refund.id}</a>${refund.proposal ? html`<br><span class="muted">${text.proposal}: ${refund.proposal.kind}</span>` : ''}</td>
  <td data-label="${text.amount}">${money(refund.amount, refund.currency)}</td>
  <td data-label="${text.reason}">${refund.proposal ? refund.proposal.reason : refund.reason}</td>
  <td data-label="${text.requester}">${refund.proposal ? refund.proposal.proposedBy : refund.requestedBy}</td>
  <td data-label="${text.payment}">${refund.paymentId}</td>
  <td data-label="${text.age}">${age(Date.parse(refund.createdAt), nowMs, text)}</td>
  <td data-label="${text.expires}">${timeOf(refund.proposal?.expiresAt ?? refund.deadlines.approvalDueAt ?? null)}</td>
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

export function refundPage(context: PageContext, refund: RefundForPage, choices: Choices, payment: { amount: number; refundedAmount: number; reservedAmount: number } | undefined): string {
  const { text } = context;
  const instants = Object.entries(refund.deadlines).filter(([, at]) => at);
  return layout(
    context,
    `${text.refund} ${refund.id}`,
    html`<dl>
  <dt>${text.status}</dt><dd>${refund.status}${refund.needsAttention ? html` · <strong>${text.needsAttention}</strong>` : ''}</dd>
  <dt>${text.amount}</dt><dd>${money(refund.amount, refund.currency)}</dd>
  <dt>${text.reason}</dt><dd>${refund.reason}</dd>
  <dt>${text.requester}</dt><dd>${refund.requestedBy}</dd>
  <dt>${text.payment}</dt><dd>${refund.paymentId}${payment ? html` · ${money(payment.refundedAmount, refund.currency)} ${text.refunded}, ${money(payment.reservedAmount, refund.currency)} ${text.reserved} (${text.of} ${money(payment.amount, refund.currency)})` : ''}</dd>
  <dt>${text.destination}</dt><dd>${refund.destination.type} ${refund.destination.account}</dd>
  <dt>${text.provider}</dt><dd>${refund.provider.name} · ${refund.provider.state}${refund.provider.traceReference ? ` · ${refund.provider.traceReference}` : ''}</dd>
  <dt>${text.deadlines}</dt><dd>${instants.map(([name, at]) => html`${name}: ${timeOf(at)}<br>`)}</dd>
  <dt>${text.approvals}</dt><dd>${refund.approvals.map((a) => html`${a.principal}: ${a.decision}${a.comment ? ` (${a.comment})` : ''}, ${timeOf(a.at)}<br>`)} ${refund.approvals.length}/${refund.requiredApprovals}</dd>
  ${refund.proposal ? html`<dt>${text.proposal}</dt><dd>${refund.proposal.kind}: ${money(refund.proposal.amount, refund.currency)} — ${refund.proposal.reason} (${refund.proposal.proposedBy}), ${timeOf(refund.proposal.expiresAt)}</dd>` : ''}
</dl>
${decisionForms(context, refund, choices)}
<h2>${text.timeline}</h2>
<ol class="timeline">
${refund.timeline.map((event) => html`<li>${timeOf(event.at)} — <strong>${event.type}</strong> · ${event.actor}</li>`)}
</ol>`,
  );
}

function decisionForms(context: PageContext, refund: RefundForPage, choices: Choices): Html {
  const { text, session } = context;
  if (choices.whyNot) return html`<p class="why">${text.cannotDecide} ${choices.whyNot}</p>`;
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

function timeOf(at: string | null): Html {
  return at ? html`<time datetime="${at}">${at}</time>` : html`—`;
}

/** What support may do with a stuck refund, each with the rule's reason when not. */
export interface DeskChoices {
  retry: string | null;
  reroute: string | null;
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
  <td data-label="${text.status}">${refund.status}${refund.needsAttention ? html`<br><strong>${text.needsAttention}</strong>` : ''}</td>
  <td data-label="${text.why}">${why ?? '—'}</td>
  <td data-label="${text.provider}">${refund.provider.name} · ${refund.provider.state}${refund.provider.traceReference ? html`<br>${refund.provider.traceReference}` : ''}</td>
  <td data-label="${text.deadlines}">${Object.entries(refund.deadlines)
    .filter(([name, at]) => at && name !== 'approvalDueAt')
    .map(([name, at]) => html`${name}: ${timeOf(at)}<br>`)}</td>
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
  may.cancel === null
    ? html`<form method="post" action="/console/refunds/${id}/cancel" class="inline">${token}
  <span><label for="${id}-cancel-reason">${text.cancelReason}</label><input type="text" id="${id}-cancel-reason" name="reason" maxlength="500" required></span>
  <button type="submit" class="reject">${text.cancel}</button></form>`
    : ''
}
${whyNot.length > 0 && (may.retry !== null || may.reroute !== null || may.cancel !== null) ? html`<p class="why">${text.cannotDecide} ${whyNot.join('; ')}</p>` : ''}`;
}

export function messagePage(context: PageContext, title: string): string {
  return layout(context, title, html``);
}
