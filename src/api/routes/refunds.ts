import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { ApiDeps } from '../deps';
import { listRefunds, refundTimeline } from '../../db/queries/refunds';
import { createRefund } from '../../refunds/create-refund';
import { requireRefund } from '../../refunds/require-refund';
import type { MerchantScope } from '../../merchants/merchant-scope';
import { refundCallerOf } from '../auth';
import { invalidField } from '../problems';
import { route } from '../route';
import { CreateRefundBody, CreateRefundHeaders, ListRefundsQuery, Problem, Refund, RefundIdParams, RefundList, VoucherQuery } from '../schemas';
import { voucherFactsOf, voucherOf } from '../../console/voucher';
import { voucherPdf } from '../../console/voucher-pdf';
import { textOf } from '../../console/text';
import { refundSummaryView, refundView } from '../views';

export function refundRoutes(deps: ApiDeps) {
  async function showRefund(refundId: string, scope: MerchantScope) {
    return refundView(deps.fields, await requireRefund(deps.db, refundId, scope), await refundTimeline(deps.db, refundId));
  }

  return [
    route({
      method: 'post',
      path: '/v1/refunds',
      tag: 'refunds',
      summary: 'Request a refund of (part of) a payment',
      access: ['service', 'support', 'supervisor'],
      headers: CreateRefundHeaders,
      body: CreateRefundBody,
      responses: {
        201: { description: 'Created: pending_approval or processing', schema: Refund },
        200: { description: 'Replay of an earlier request with the same Idempotency-Key (header Idempotent-Replayed: true)', schema: Refund },
        400: { description: 'Invalid body or missing Idempotency-Key', schema: Problem },
        404: { description: 'Unknown payment (payment_not_found)', schema: Problem },
        409: { description: 'refunded_total_mismatch', schema: Problem },
        422: {
          description: 'payment_not_refundable, amount_exceeds_refundable, refund_window_closed, currency_mismatch, idempotency_key_reused',
          schema: Problem,
        },
      },
      async handle({ headers, body, caller }) {
        const { refund, replayed, created } = await createRefund(deps.refunds, refundCallerOf(caller!), headers['idempotency-key'], body);
        if (!replayed) deps.metrics.refundsCreated.inc({ channel: refund.channel, status: refund.status });
        return {
          status: replayed ? 200 : 201,
          headers: replayed ? { 'Idempotent-Replayed': 'true' } : { Location: `/v1/refunds/${refund.id}` as string },
          // A new refund is answered as it was written, without reading it back.
          body: created ? refundView(deps.fields, refund, [created]) : await showRefund(refund.id, caller!.merchants),
        };
      },
    }),
    route({
      method: 'get',
      path: '/v1/refunds/:id',
      tag: 'refunds',
      summary: 'A refund with its approvals, provider state, deadlines and timeline',
      access: ['service', 'support', 'supervisor'],
      params: RefundIdParams,
      responses: { 200: { description: 'The refund', schema: Refund }, 404: { description: 'No such refund', schema: Problem } },
      async handle({ params, caller }) {
        return { status: 200, body: await showRefund(params.id, caller!.merchants) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/refunds/:id/voucher',
      tag: 'refunds',
      summary: 'The refund’s voucher (退款凭证) as a PDF: merchant, terminal and order, the original payment, amount, how and why it was refunded, approvals, trace reference and times; accounts masked',
      access: ['service', 'support', 'supervisor'],
      params: RefundIdParams,
      query: VoucherQuery,
      responses: { 200: { description: 'The voucher, application/pdf', contentType: 'application/pdf' }, 404: { description: 'No such refund', schema: Problem } },
      async handle({ params, query, caller }) {
        const facts = await voucherFactsOf(deps.db, deps.fields, await requireRefund(deps.db, params.id, caller!.merchants));
        const pdf = voucherPdf(voucherOf(textOf(query.locale), facts), deps.config.policy.utcOffsetMinutes);
        return { status: 200, bytes: pdf, headers: { 'Content-Type': 'application/pdf', 'Content-Disposition': `inline; filename="voucher-${params.id}.pdf"` } };
      },
    }),
    route({
      method: 'get',
      path: '/v1/refunds',
      tag: 'refunds',
      summary: 'Refunds, newest first, filtered; pages with an opaque cursor',
      access: ['support', 'supervisor'],
      query: ListRefundsQuery,
      responses: { 200: { description: 'A page of refunds', schema: RefundList }, 400: { description: 'Invalid filter', schema: Problem } },
      async handle({ query, caller }) {
        const filter = refundListFilter(query);
        const rows = await listRefunds(deps.db, { ...filter, scope: caller!.merchants, after: query.cursor ? decodeCursor(query.cursor, filter) : undefined, limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        return {
          status: 200,
          body: { data: page.map((refund) => refundSummaryView(deps.fields, refund)), nextCursor: rows.length > query.limit && last ? encodeCursor(last, filter) : null },
        };
      },
    }),
  ];
}

/** The list's query string as the database query's filter (the console's search uses it too). */
export function refundListFilter(query: z.infer<typeof ListRefundsQuery>) {
  return {
    statuses: query.status,
    merchantId: query.merchantId,
    paymentId: query.paymentId,
    orderId: query.orderId,
    payerLast4: query.payerLast4,
    needsAttention: query.needsAttention === 'true',
    awaitingApproval: query.awaitingApproval === 'true',
    createdFrom: query.createdFrom ? new Date(query.createdFrom) : undefined,
    createdTo: query.createdTo ? new Date(query.createdTo) : undefined,
  };
}

/**
 * A position in one list: the last refund's (createdAt, id), bound to the filters it was made
 * under. A cursor that does not decode to exactly that — forged, truncated, or from another
 * query — is a 400, never a query the database could choke on.
 */
function encodeCursor(refund: { createdAt: Date; id: string }, filter: object): string {
  return Buffer.from(JSON.stringify([refund.createdAt.toISOString(), refund.id, filterFingerprint(filter)])).toString('base64url');
}

function decodeCursor(cursor: string, filter: object): { createdAt: Date; id: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const [createdAt, id, fingerprint] = Array.isArray(decoded) ? (decoded as unknown[]) : [];
  const date = typeof createdAt === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(createdAt) ? new Date(createdAt) : undefined;
  const valid = date && !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && typeof id === 'string' && /^rf_[0-9A-Z]{26}$/.test(id);
  if (!valid) throw invalidField('query', 'cursor', 'is not a cursor this API returned');
  if (fingerprint !== filterFingerprint(filter)) throw invalidField('query', 'cursor', 'belongs to a list with other filters');
  return { createdAt: date, id };
}

function filterFingerprint(filter: object): string {
  return createHash('sha256').update(JSON.stringify(filter)).digest('base64url').slice(0, 16);
}
