/**
 * The console at /console, served by the API process: sign-in for the people behind the API keys,
 * the supervisors' approvals inbox and each refund's page. Decisions go the way the API's go —
 * `decideRefund`, the same pure rules, one Update to the refund's workflow — so the console can
 * offer no more than the API allows, and where a person may not decide it says why instead of
 * offering the button. Every form post carries the session's CSRF token.
 */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z, type ZodType } from 'zod';
import type { ApiDeps } from '../api/deps';
import { problemForRefundError } from '../api/problems';
import { writeStream } from '../api/route';
import { refundListFilter } from '../api/routes/refunds';
import { ApproveBody, CancelBody, ListRefundsQuery, RejectBody, RetryBody } from '../api/schemas';
import { refundView, withHolderOpened } from '../api/views';
import { auditLines, auditRows } from '../audit/audit-export';
import { countFailure, secondsBlocked } from '../db/queries/failed-attempts';
import { notificationsOfRefund } from '../db/queries/notifications';
import { findPayment } from '../db/queries/payments';
import { voucherFactsOf, voucherOf, voucherPage, type VoucherFacts } from './voucher';
import { voucherPdf } from './voucher-pdf';
import { refundReportGroups, refundReportSummary, reportRangeProblem, type ReportGrouping, type ReportRange } from '../db/queries/reports';
import { awaitingApprovalOldestFirst, findRefund, latestEventsOf, listRefunds, providerAttemptsOf, refundTimeline, stuckOldestFirst } from '../db/queries/refunds';
import type { RefundRow } from '../db/schema';
import type { FieldSeal } from '../field-seal';
import { sees } from '../merchants/merchant-scope';
import { decideRefund, decisionViewOf, type RefundDecision } from '../refunds/refund-decisions';
import { RefundRequestError } from '../refunds/refund-errors';
import { localDate, localDayEnd, localDayStart } from '../../workflows/business-days';
import { checkApproval, checkCancel, checkProposalApproval, checkReroute, checkRetry } from '../../workflows/decision-rules';
import { DAY_MS } from '../../workflows/durations';
import { formatMinorUnits } from '../../workflows/money';
import {
  deskRows,
  inboxRows,
  livePage,
  messagePage,
  refundPage,
  reportsPage,
  searchPage,
  signInPage,
  type Choices,
  type DeskChoices,
  type PageContext,
  type RefundForPage,
  type SearchFields,
} from './pages';
import {
  clearCookie,
  closeSession,
  cookiesOf,
  openSession,
  personOfKey,
  SESSION_COOKIE,
  sessionOf,
  setCookie,
  SIGN_IN_COOKIE,
  SIGN_IN_TOKEN_TTL_MS,
  signInToken,
  signInTokenValid,
  tokenMatches,
  type ConsoleSession,
} from './sessions';
import { localeOf, refusalIn, textOf, type Text } from './text';

const LOCALE_COOKIE = 'rf_lang';
/** What the page says after each decision (`?done=`). */
const DONE = { approved: 'approved', rejected: 'rejected', retried: 'retried', canceled: 'canceled', proposed: 'proposed' } as const;
/** The steps that put a refund on the desk: what its row says as the reason. */
const WHY_STUCK = [
  'provider_declined',
  'submission_in_doubt',
  'provider_failed',
  'provider_lost_refund',
  'settlement_delayed',
  'settlement_deadline_passed',
  'money_returned',
  'reversal_refused',
  'correction_failed',
  'correction_payout_failed',
  'reconciliation_mismatch',
  'provider_notice_mismatch',
  'step_not_recorded',
  'workflow_error',
  'approval_escalated',
] as const;
/** A reroute as a form sends it, flat, judged by the API's own schema (its messages land on the form's fields). */
function rerouteForm<Form extends { account: string; accountName: string; reason: string }>(shape: ZodType<Form>, type: 'bank_transfer' | 'wechat_bank_card') {
  return shape.transform((form, ctx) => {
    const { reason, ...destination } = form;
    const parsed = RetryBody.safeParse({ destination: { type, ...destination }, reason });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.slice(-1) });
      return z.NEVER;
    }
    return form;
  });
}
const RerouteForm = rerouteForm(z.strictObject({ account: z.string(), accountName: z.string(), reason: z.string() }), 'bank_transfer');
/** WeChat Pay's transfer to the payer's debit card: the same, with the card's bank. */
const CardForm = rerouteForm(z.strictObject({ account: z.string(), accountName: z.string(), bankType: z.string(), reason: z.string() }), 'wechat_bank_card');
const SEARCH_FIELDS = ['refundId', 'paymentId', 'orderId', 'merchantId', 'status', 'from', 'to', 'payerLast4'] as const;
const SEARCH_LIMIT = 100;
/** A day as a date picker sends it. */
const Day = z.iso.date('must be a date (YYYY-MM-DD)');
const ReportRangeForm = z
  .strictObject({ from: Day, to: Day })
  .refine((range) => range.from <= range.to, { message: 'the range must end on or after its first day', path: ['to'] })
  .refine((range) => Date.parse(range.to) - Date.parse(range.from) <= 366 * DAY_MS, { message: 'a report covers at most 366 days', path: ['to'] });
const REPORT_GROUPINGS = ['reason', 'channel', 'day'] as const satisfies readonly ReportGrouping[];
const FONTS = path.dirname(require.resolve('@fontsource/noto-sans-sc/package.json'));

export function consoleRouter(deps: ApiDeps): express.Router {
  const { db, config } = deps;
  const router = express.Router();
  router.use('/console/assets/noto-sans-sc', express.static(FONTS, { immutable: true, maxAge: '365d', index: false }));
  router.use('/console', express.urlencoded({ extended: false, limit: '16kb' }), securityHeaders);

  const production = config.production;
  // The sign-in form's tokens are signed with a key derived from a secret every replica shares.
  const signInSecret = config.destinationSealKey;

  router.get('/console', async (req, res) => {
    const session = await sessionOf(db, req, deps.keys);
    res.redirect(303, session ? '/console/inbox' : '/console/sign-in');
  });

  router.get('/console/sign-in', (req, res) => {
    const csrf = signInToken(signInSecret);
    setCookie(req, res, SIGN_IN_COOKIE, csrf, SIGN_IN_TOKEN_TTL_MS, production);
    res.type('html').send(signInPage(contextOf(req, res), csrf));
  });

  router.post('/console/sign-in', async (req, res) => {
    const context = contextOf(req, res);
    if (!signInTokenValid(signInSecret, cookiesOf(req)[SIGN_IN_COOKIE], req.body?._csrf)) return refuseForgery(req, res, context);
    const key = typeof req.body?.key === 'string' ? req.body.key : '';
    const source = req.ip ?? 'unknown';
    const limit = config.attemptLimits.signIn;
    const refuse = (status: number, message: string, retryAfter?: number) => {
      const csrf = signInToken(signInSecret);
      setCookie(req, res, SIGN_IN_COOKIE, csrf, SIGN_IN_TOKEN_TTL_MS, production);
      if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
      return res.status(status).type('html').send(signInPage({ ...context, notice: { kind: 'error', message } }, csrf));
    };
    // An address past its wrong sign-ins waits out its window, whatever key it sends now.
    const blocked = await secondsBlocked(db, 'sign_in', source, limit);
    if (blocked > 0) return refuse(429, context.text.tooManySignIns(blocked), blocked);
    const person = await personOfKey(deps.keys, key);
    if (person === 'service_key') return refuse(403, context.text.serviceKey);
    if (person === 'unknown_key') {
      const wait = await countFailure(db, 'sign_in', source, limit);
      return wait > 0 ? refuse(429, context.text.tooManySignIns(wait), wait) : refuse(401, context.text.unknownKey);
    }
    const { id } = await openSession(db, person, key, config.consoleSessionTtlMs);
    clearCookie(req, res, SIGN_IN_COOKIE, production);
    setCookie(req, res, SESSION_COOKIE, id, config.consoleSessionTtlMs, production);
    res.redirect(303, '/console');
  });

  router.post('/console/sign-out', signedIn, async (req, res) => {
    await closeSession(db, req);
    clearCookie(req, res, SESSION_COOKIE, production);
    res.redirect(303, '/console/sign-in');
  });

  router.get('/console/inbox', signedIn, async (req, res) => {
    const context = contextOf(req, res);
    const refunds = await awaitingApprovalOldestFirst(db, 200, sessionIn(res).merchants);
    const { approvalReminderMs, approvalEscalateMs } = config.policy;
    const scheduleOf = (refund: RefundRow) =>
      refund.status === 'pending_approval'
        ? { reminderAt: new Date(refund.createdAt.getTime() + approvalReminderMs).toISOString(), escalatesAt: new Date(refund.createdAt.getTime() + approvalEscalateMs).toISOString() }
        : null;
    const rows = inboxRows(
      context,
      refunds.map((refund) => ({ refund: forPage(deps.fields, refund), choices: choicesOf(refund, sessionIn(res), context.text), schedule: scheduleOf(refund) })),
      Date.now(),
    );
    // The page refreshes its list by asking for it alone.
    if (req.get('X-Console-Fragment') === 'live') return res.type('html').send(rows.value);
    res.type('html').send(livePage(context, context.text.inbox, rows));
  });

  router.get('/console/desk', signedIn, async (req, res) => {
    const context = contextOf(req, res);
    const refunds = await stuckOldestFirst(db, 200, sessionIn(res).merchants);
    const whys = await latestEventsOf(db, refunds.map((refund) => refund.id), WHY_STUCK);
    const rows = deskRows(
      context,
      refunds.map((refund) => ({ refund: forPage(deps.fields, refund), why: whys.get(refund.id)?.type ?? null, may: deskChoicesOf(refund, sessionIn(res), context.text) })),
    );
    if (req.get('X-Console-Fragment') === 'live') return res.type('html').send(rows.value);
    res.type('html').send(livePage(context, context.text.desk, rows));
  });

  router.get('/console/search', signedIn, async (req, res) => {
    const context = contextOf(req, res);
    const fields: SearchFields = {};
    for (const name of SEARCH_FIELDS) {
      const value = req.query[name];
      if (typeof value === 'string' && value.trim() !== '') fields[name] = value.trim();
    }
    if (Object.keys(fields).length === 0) return res.type('html').send(searchPage(context, fields, null, false));
    if (fields.refundId) {
      const refund = await findRefund(db, fields.refundId);
      if (refund && sees(sessionIn(res).merchants, refund.merchantId)) return res.redirect(303, `/console/refunds/${encodeURIComponent(refund.id)}`);
      return res.type('html').send(searchPage(context, fields, [], false));
    }
    // The API's own list query and its schema: the console finds exactly what GET /v1/refunds would.
    const offset = config.policy.utcOffsetMinutes;
    const from = fields.from === undefined ? undefined : Day.safeParse(fields.from);
    const to = fields.to === undefined ? undefined : Day.safeParse(fields.to);
    const query = ListRefundsQuery.safeParse({
      status: fields.status,
      merchantId: fields.merchantId,
      paymentId: fields.paymentId,
      orderId: fields.orderId,
      payerLast4: fields.payerLast4,
      createdFrom: from?.success ? new Date(localDayStart(from.data, offset)).toISOString() : undefined,
      createdTo: to?.success ? new Date(localDayEnd(to.data, offset) - 1).toISOString() : undefined, // the list's bound is inclusive
      limit: String(SEARCH_LIMIT + 1),
    });
    const problems = [
      ...(from && !from.success ? [`${context.text.from}: ${from.error.issues[0]!.message}`] : []),
      ...(to && !to.success ? [`${context.text.to}: ${to.error.issues[0]!.message}`] : []),
      ...(query.success ? [] : query.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
    ];
    if (problems.length > 0 || !query.success) {
      const notice = { kind: 'error' as const, message: `${context.text.refused}${problems.join('; ')}` };
      return res.status(400).type('html').send(searchPage({ ...context, notice }, fields, null, false));
    }
    const rows = await listRefunds(db, { ...refundListFilter(query.data), scope: sessionIn(res).merchants, limit: query.data.limit });
    res.type('html').send(searchPage(context, fields, rows.slice(0, SEARCH_LIMIT).map((refund) => forPage(deps.fields, refund)), rows.length > SEARCH_LIMIT));
  });

  router.get('/console/reports', signedIn, async (req, res) => {
    const context = contextOf(req, res);
    const range = reportRangeOf(req, res);
    if (!range.ok) return res.status(400).type('html').send(messagePage({ ...context, notice: { kind: 'error', message: `${context.text.refused}${range.problem}` } }, context.text.reports));
    const [summary, byReason, byChannel, byDay] = await Promise.all([
      refundReportSummary(db, range.range),
      ...REPORT_GROUPINGS.map((grouping) => refundReportGroups(db, range.range, grouping)),
    ]);
    res.type('html').send(reportsPage(context, { from: range.from, to: range.to, summary: summary!, byReason: byReason!, byChannel: byChannel!, byDay: byDay! }));
  });

  router.get('/console/reports.csv', signedIn, async (req, res) => {
    const range = reportRangeOf(req, res);
    if (!range.ok) return res.status(400).type('text/plain').send(`${range.problem}\n`);
    const groupings = await Promise.all(REPORT_GROUPINGS.map(async (grouping) => ({ grouping, groups: await refundReportGroups(db, range.range, grouping) })));
    const lines = [['group_by', 'key', 'currency', 'count', 'amount_minor', 'amount']];
    for (const { grouping, groups } of groupings) {
      for (const group of groups) lines.push([grouping, group.key, group.currency, String(group.count), String(group.amount), formatMinorUnits(group.amount, group.currency).replaceAll(',', '')]);
    }
    res.attachment(`refunds-${range.from}-to-${range.to}.csv`);
    res.type('text/csv').send(lines.map((line) => line.map(csvCell).join(',')).join('\r\n') + '\r\n');
  });

  // The audit trail of the report's days, as the API exports it (a hash chain over the rows): for supervisors.
  router.get('/console/audit.csv', signedIn, async (req, res) => {
    const context = contextOf(req, res);
    if (sessionIn(res).role !== 'supervisor') return res.status(403).type('html').send(messagePage(context, context.text.forbidden));
    const range = reportRangeOf(req, res);
    if (!range.ok) return res.status(400).type('text/plain').send(`${range.problem}\n`);
    const audit = { from: range.range.from, to: range.range.to, merchants: sessionIn(res).merchants };
    res.attachment(`refund-audit-${range.from}-to-${range.to}.csv`);
    res.type('text/csv');
    res.setHeader('X-Audit-From', audit.from.toISOString());
    res.setHeader('X-Audit-To', audit.to.toISOString());
    await writeStream(res, auditLines(auditRows(db, audit), audit, 'csv'));
  });

  router.get('/console/refunds/:id', signedIn, async (req, res) => {
    await showRefund(req, res, 200);
  });

  /** The voucher of a refund this session sees, for `render`; the console's not-found page otherwise. */
  const voucherRoute = (path: string, render: (context: PageContext, facts: VoucherFacts, res: Response) => void) =>
    router.get(path, signedIn, async (req, res) => {
      const context = contextOf(req, res);
      const refund = await findRefund(db, String(req.params.id));
      if (!refund || !sees(sessionIn(res).merchants, refund.merchantId)) return res.status(404).type('html').send(messagePage(context, context.text.notFound));
      render(context, await voucherFactsOf(db, deps.fields, refund), res);
    });
  voucherRoute('/console/refunds/:id/voucher', (context, facts, res) => res.type('html').send(voucherPage(context, facts)));
  voucherRoute('/console/refunds/:id/voucher.pdf', (context, facts, res) =>
    res
      .type('application/pdf')
      .setHeader('Content-Disposition', `inline; filename="voucher-${facts.refund.id}.pdf"`)
      .send(voucherPdf(voucherOf(context.text, facts), deps.config.policy.utcOffsetMinutes)),
  );

  decisionRoute('/console/refunds/:id/approve', ApproveBody, (body) => ({ kind: 'approve', comment: body.comment }), 'approved');
  decisionRoute('/console/refunds/:id/reject', RejectBody, (body) => ({ kind: 'reject', reason: body.reason }), 'rejected');
  decisionRoute('/console/refunds/:id/proposal/approve', ApproveBody, (body) => ({ kind: 'approveProposal', comment: body.comment }), 'approved');
  decisionRoute('/console/refunds/:id/proposal/reject', RejectBody, (body) => ({ kind: 'rejectProposal', reason: body.reason }), 'rejected');
  decisionRoute('/console/refunds/:id/retry', RetryBody, () => ({ kind: 'retry' }), 'retried');
  decisionRoute('/console/refunds/:id/cancel', CancelBody, (body) => ({ kind: 'cancel', reason: body.reason }), 'canceled');
  decisionRoute(
    '/console/refunds/:id/reroute',
    RerouteForm,
    (body) => ({ kind: 'retry', destination: { type: 'bank_transfer', account: body.account, accountName: body.accountName }, reason: body.reason }),
    'proposed',
  );
  decisionRoute(
    '/console/refunds/:id/reroute-to-card',
    CardForm,
    (body) => ({ kind: 'retry', destination: { type: 'wechat_bank_card', account: body.account, accountName: body.accountName, bankType: body.bankType }, reason: body.reason }),
    'proposed',
  );

  router.use('/console', (req, res) => {
    const context = contextOf(req, res);
    res.status(404).type('html').send(messagePage(context, context.text.notFound));
  });
  return router;

  /** A decision from a form: read with the API's own schema, carried out as the API would, then back to the refund. */
  function decisionRoute<Body extends object>(route: string, schema: ZodType<Body>, decision: (body: Body) => RefundDecision, done: keyof typeof DONE) {
    router.post(route, signedIn, async (req, res) => {
      const session = sessionIn(res);
      const id = String(req.params.id);
      const { _csrf: _token, ...fields } = req.body as Record<string, string>;
      // An empty optional field is a field not given.
      const form = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ''));
      const parsed = schema.safeParse(form);
      if (!parsed.success) return showRefund(req, res, 400, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
      try {
        await decideRefund({ ...deps, starts: deps.refunds, routes: deps.config.providers.routes }, { principal: session.principal, role: session.role, merchants: session.merchants }, id, decision(parsed.data));
      } catch (error) {
        if (!(error instanceof RefundRequestError)) throw error;
        return showRefund(req, res, problemForRefundError(error.code, error.message, error.facts).status, refusalIn(contextOf(req, res).text, error));
      }
      res.redirect(303, `/console/refunds/${encodeURIComponent(id)}?done=${done}`);
    });
  }

  async function showRefund(req: Request, res: Response, status: number, error?: string) {
    const context = contextOf(req, res);
    const refund = await findRefund(db, String(req.params.id));
    // Another merchant's refund does not exist for this person.
    if (!refund || !sees(sessionIn(res).merchants, refund.merchantId)) return res.status(404).type('html').send(messagePage(context, context.text.notFound));
    const done = typeof req.query.done === 'string' && req.query.done in DONE ? context.text[DONE[req.query.done as keyof typeof DONE]] : undefined;
    const notice = error ? { kind: 'error' as const, message: `${context.text.refused}${error}` } : done ? { kind: 'ok' as const, message: done } : undefined;
    const [timeline, payment, attempts, messages] = await Promise.all([
      refundTimeline(db, refund.id),
      findPayment(db, refund.paymentId),
      providerAttemptsOf(db, refund.id).then((rows) => rows.map((attempt) => withHolderOpened(deps.fields, attempt))),
      notificationsOfRefund(db, refund.id),
    ]);
    res.status(status).type('html').send(refundPage({ ...context, notice }, forPage(deps.fields, refund, timeline), choicesOf(refund, sessionIn(res), context.text), payment, attempts, messages));
  }

  /** Only signed-in people; and every form post with its session's CSRF token. */
  async function signedIn(req: Request, res: Response, next: NextFunction) {
    const session = await sessionOf(db, req, deps.keys);
    if (!session) {
      if (req.method === 'GET') return res.redirect(303, '/console/sign-in');
      const context = contextOf(req, res);
      return res.status(401).type('html').send(messagePage(context, context.text.signIn));
    }
    res.locals.session = session;
    if (req.method === 'POST' && !tokenMatches(session.csrfToken, req.body?._csrf)) return refuseForgery(req, res, contextOf(req, res));
    next();
  }

  /** The report's business days, from the date pickers; the last 30 days when none are given. */
  function reportRangeOf(req: Request, res: Response): { ok: true; from: string; to: string; range: ReportRange } | { ok: false; problem: string } {
    const offset = config.policy.utcOffsetMinutes;
    const today = localDate(Date.now(), offset);
    const asked = { from: req.query.from ?? localDate(localDayStart(today, offset) - 29 * DAY_MS, offset), to: req.query.to ?? today };
    const parsed = ReportRangeForm.safeParse(asked);
    if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') };
    const { from, to } = parsed.data;
    const range = { from: new Date(localDayStart(from, offset)), to: new Date(localDayEnd(to, offset)), utcOffsetMinutes: offset, scope: sessionIn(res).merchants };
    const problem = reportRangeProblem(range.from, range.to);
    if (problem) return { ok: false, problem: `to: ${problem}` };
    return { ok: true, from, to, range };
  }

  function contextOf(req: Request, res: Response): PageContext {
    const asked = req.query.lang;
    const locale = localeOf(asked, cookiesOf(req)[LOCALE_COOKIE], req.get('accept-language'));
    if (asked === locale) setCookie(req, res, LOCALE_COOKIE, locale, 365 * 86_400_000, config.production);
    return { locale, text: textOf(locale), session: res.locals.session as ConsoleSession | undefined };
  }
}

function sessionIn(res: Response): ConsoleSession {
  return res.locals.session as ConsoleSession;
}

/** A form post without the token its page was given: someone else's page posting here. Nothing is done. */
function refuseForgery(_req: Request, res: Response, context: PageContext) {
  res.status(403).type('html').send(messagePage({ ...context, notice: { kind: 'error', message: 'CSRF token missing or wrong: nothing was done.' } }, context.text.forbidden));
}

function securityHeaders(_req: Request, res: Response, next: NextFunction) {
  res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  next();
}

function forPage(fields: FieldSeal, refund: RefundRow, timeline: Awaited<ReturnType<typeof refundTimeline>> = []): RefundForPage {
  return refundView(fields, refund, timeline);
}

/** What this person may decide on the refund, by the same pure rules the API and the workflow run. */
function choicesOf(refund: RefundRow, session: ConsoleSession, text: Text): Choices {
  const view = decisionViewOf(refund);
  const by = { principal: session.principal, role: session.role };
  const decide = refund.status === 'pending_approval' ? 'approval' : refund.proposal ? 'proposal' : null;
  if (!decide) return { decide: null, whyNot: null };
  const whyNot = whyNotIn(text, () => (decide === 'approval' ? checkApproval(view, by, undefined) : checkProposalApproval(view, by, undefined)));
  return { decide, whyNot };
}

/** What this person may do with a stuck refund: null where the rule allows it, else the rule's reason. */
function deskChoicesOf(refund: RefundRow, session: ConsoleSession, text: Text): DeskChoices {
  const view = decisionViewOf(refund);
  const by = { principal: session.principal, role: session.role };
  // The reason a person will type is not known yet: the rules are asked with a placeholder.
  return {
    retry: whyNotIn(text, () => checkRetry(view, by)),
    reroute: whyNotIn(text, () => checkReroute(view, by, 'given')),
    toCard: whyNotIn(text, () => checkReroute(view, by, 'given', 'wechat_bank_card')),
    cancel: whyNotIn(text, () => checkCancel(view, by, 'given')),
  };
}

/** null when the rule allows it; else its refusal in the reader's words. */
function whyNotIn(text: Text, rule: () => void): string | null {
  try {
    rule();
    return null;
  } catch (error) {
    if (error instanceof RefundRequestError) return refusalIn(text, error);
    throw error;
  }
}

/** A CSV cell: quoted where it must be, and never read as a formula by a spreadsheet. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
