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
import { ApproveBody, CancelBody, RejectBody, RetryBody } from '../api/schemas';
import { refundView } from '../api/views';
import { findPayment } from '../db/queries/payments';
import { awaitingApprovalOldestFirst, findRefund, latestEventsOf, refundTimeline, stuckOldestFirst } from '../db/queries/refunds';
import type { RefundRow } from '../db/schema';
import { decideRefund, decisionViewOf, type RefundDecision } from '../refunds/refund-decisions';
import { RefundRequestError } from '../refunds/refund-errors';
import { checkApproval, checkCancel, checkProposalApproval, checkReroute, checkRetry } from '../../workflows/decision-rules';
import { deskRows, inboxRows, livePage, messagePage, refundPage, signInPage, type Choices, type DeskChoices, type PageContext, type RefundForPage } from './pages';
import { clearCookie, closeSession, cookiesOf, openSession, personOfKey, SESSION_COOKIE, sessionOf, setCookie, SIGN_IN_COOKIE, token, tokenMatches, type ConsoleSession } from './sessions';
import { localeOf, textOf } from './text';

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
/** A reroute as a form sends it: the API's bank-transfer destination, flat. */
const RerouteForm = z.strictObject({ account: z.string(), accountName: z.string(), reason: z.string() }).transform((form, ctx) => {
  const parsed = RetryBody.safeParse({ destination: { type: 'bank_transfer', account: form.account, accountName: form.accountName }, reason: form.reason });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.slice(-1) });
    return z.NEVER;
  }
  return form;
});
const FONTS = path.dirname(require.resolve('@fontsource/noto-sans-sc/package.json'));

export function consoleRouter(deps: ApiDeps): express.Router {
  const { db, config } = deps;
  const router = express.Router();
  router.use('/console/assets/noto-sans-sc', express.static(FONTS, { immutable: true, maxAge: '365d', index: false }));
  router.use('/console', express.urlencoded({ extended: false, limit: '16kb' }), securityHeaders);

  router.get('/console', async (req, res) => {
    const session = await sessionOf(db, req);
    res.redirect(303, session ? '/console/inbox' : '/console/sign-in');
  });

  router.get('/console/sign-in', (req, res) => {
    const csrf = token();
    setCookie(req, res, SIGN_IN_COOKIE, csrf, 3_600_000);
    res.type('html').send(signInPage(contextOf(req, res), csrf));
  });

  router.post('/console/sign-in', async (req, res) => {
    const context = contextOf(req, res);
    if (!tokenMatches(cookiesOf(req)[SIGN_IN_COOKIE], req.body?._csrf)) return refuseForgery(req, res, context);
    const person = personOfKey(config.apiKeys, typeof req.body?.key === 'string' ? req.body.key : '');
    if (typeof person === 'string') {
      const csrf = token();
      setCookie(req, res, SIGN_IN_COOKIE, csrf, 3_600_000);
      const message = person === 'service_key' ? context.text.serviceKey : context.text.unknownKey;
      return res.status(person === 'service_key' ? 403 : 401).type('html').send(signInPage({ ...context, notice: { kind: 'error', message } }, csrf));
    }
    const { id } = await openSession(db, person, config.consoleSessionTtlMs);
    clearCookie(req, res, SIGN_IN_COOKIE);
    setCookie(req, res, SESSION_COOKIE, id, config.consoleSessionTtlMs);
    res.redirect(303, '/console');
  });

  router.post('/console/sign-out', signedIn, async (req, res) => {
    await closeSession(db, req);
    clearCookie(req, res, SESSION_COOKIE);
    res.redirect(303, '/console/sign-in');
  });

  router.get('/console/inbox', signedIn, async (req, res) => {
    const context = contextOf(req, res);
    const refunds = await awaitingApprovalOldestFirst(db, 200);
    const rows = inboxRows(context, refunds.map((refund) => ({ refund: forPage(refund), choices: choicesOf(refund, sessionIn(res)) })), Date.now());
    // The page refreshes its list by asking for it alone.
    if (req.get('X-Console-Fragment') === 'live') return res.type('html').send(rows.value);
    res.type('html').send(livePage(context, context.text.inbox, rows));
  });

  router.get('/console/desk', signedIn, async (req, res) => {
    const context = contextOf(req, res);
    const refunds = await stuckOldestFirst(db, 200);
    const whys = await latestEventsOf(db, refunds.map((refund) => refund.id), WHY_STUCK);
    const rows = deskRows(
      context,
      refunds.map((refund) => ({ refund: forPage(refund), why: whys.get(refund.id)?.type ?? null, may: deskChoicesOf(refund, sessionIn(res)) })),
    );
    if (req.get('X-Console-Fragment') === 'live') return res.type('html').send(rows.value);
    res.type('html').send(livePage(context, context.text.desk, rows));
  });

  router.get('/console/refunds/:id', signedIn, async (req, res) => {
    await showRefund(req, res, 200);
  });

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
        await decideRefund({ ...deps, starts: deps.refunds }, { principal: session.principal, role: session.role }, id, decision(parsed.data));
      } catch (error) {
        if (!(error instanceof RefundRequestError)) throw error;
        return showRefund(req, res, problemForRefundError(error.code, error.message, error.facts).status, error.message);
      }
      res.redirect(303, `/console/refunds/${encodeURIComponent(id)}?done=${done}`);
    });
  }

  async function showRefund(req: Request, res: Response, status: number, error?: string) {
    const context = contextOf(req, res);
    const refund = await findRefund(db, String(req.params.id));
    if (!refund) return res.status(404).type('html').send(messagePage(context, context.text.notFound));
    const done = typeof req.query.done === 'string' && req.query.done in DONE ? context.text[DONE[req.query.done as keyof typeof DONE]] : undefined;
    const notice = error ? { kind: 'error' as const, message: `${context.text.refused} ${error}` } : done ? { kind: 'ok' as const, message: done } : undefined;
    const page = forPage(refund, await refundTimeline(db, refund.id));
    const payment = await findPayment(db, refund.paymentId);
    res.status(status).type('html').send(refundPage({ ...context, notice }, page, choicesOf(refund, sessionIn(res)), payment));
  }

  /** Only signed-in people; and every form post with its session's CSRF token. */
  async function signedIn(req: Request, res: Response, next: NextFunction) {
    const session = await sessionOf(db, req);
    if (!session) {
      if (req.method === 'GET') return res.redirect(303, '/console/sign-in');
      const context = contextOf(req, res);
      return res.status(401).type('html').send(messagePage(context, context.text.signIn));
    }
    res.locals.session = session;
    if (req.method === 'POST' && !tokenMatches(session.csrfToken, req.body?._csrf)) return refuseForgery(req, res, contextOf(req, res));
    next();
  }

  function contextOf(req: Request, res: Response): PageContext {
    const asked = req.query.lang;
    const locale = localeOf(asked, cookiesOf(req)[LOCALE_COOKIE], req.get('accept-language'));
    if (asked === locale) setCookie(req, res, LOCALE_COOKIE, locale, 365 * 86_400_000);
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

function forPage(refund: RefundRow, timeline: Awaited<ReturnType<typeof refundTimeline>> = []): RefundForPage {
  return refundView(refund, timeline);
}

/** What this person may decide on the refund, by the same pure rules the API and the workflow run. */
function choicesOf(refund: RefundRow, session: ConsoleSession): Choices {
  const view = decisionViewOf(refund);
  const by = { principal: session.principal, role: session.role };
  const decide = refund.status === 'pending_approval' ? 'approval' : refund.proposal ? 'proposal' : null;
  if (!decide) return { decide: null, whyNot: null };
  try {
    if (decide === 'approval') checkApproval(view, by, undefined);
    else checkProposalApproval(view, by, undefined);
    return { decide, whyNot: null };
  } catch (error) {
    if (error instanceof RefundRequestError) return { decide, whyNot: error.message };
    throw error;
  }
}

/** What this person may do with a stuck refund: null where the rule allows it, else the rule's reason. */
function deskChoicesOf(refund: RefundRow, session: ConsoleSession): DeskChoices {
  const view = decisionViewOf(refund);
  const by = { principal: session.principal, role: session.role };
  const reason = (rule: () => void): string | null => {
    try {
      rule();
      return null;
    } catch (error) {
      if (error instanceof RefundRequestError) return error.message;
      throw error;
    }
  };
  // The reason a person will type is not known yet: the rules are asked with a placeholder.
  return { retry: reason(() => checkRetry(view, by)), reroute: reason(() => checkReroute(view, by, 'given')), cancel: reason(() => checkCancel(view, by, 'given')) };
}
