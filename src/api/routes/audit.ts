/**
 * The audit export (issue #21): a period's refund events for the caller's merchants, streamed as
 * CSV or JSON Lines with a running hash chain; `npm run audit:verify` checks a file against the
 * database.
 */
import { auditLines, auditRows } from '../../audit/audit-export';
import { reportRangeProblem } from '../../db/queries/reports';
import type { ApiDeps } from '../deps';
import { invalidField } from '../problems';
import { route } from '../route';
import { AuditQuery, Problem } from '../schemas';

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', jsonl: 'application/jsonl; charset=utf-8' } as const;

export function auditRoutes(deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/v1/audit',
      tag: 'reports',
      summary: 'Every refund event of a period (the caller’s merchants), as CSV or JSON Lines, each row chained to the ones before it by SHA-256',
      access: ['supervisor', 'admin'],
      query: AuditQuery,
      responses: {
        200: { description: 'The events, oldest first, each with its `chain` link', contentType: 'text/csv' },
        400: { description: 'Invalid period (at most 367 days)', schema: Problem },
      },
      async handle({ query, caller }) {
        const range = { from: new Date(query.from), to: new Date(query.to), merchants: caller!.merchants };
        const problem = reportRangeProblem(range.from, range.to);
        if (problem) throw invalidField('query', 'to', problem);
        const file = `refund-audit-${query.from.slice(0, 10)}-${query.to.slice(0, 10)}.${query.format}`;
        return {
          status: 200,
          headers: { 'Content-Type': CONTENT_TYPES[query.format], 'Content-Disposition': `attachment; filename="${file}"`, 'X-Audit-From': range.from.toISOString(), 'X-Audit-To': range.to.toISOString() },
          stream: auditLines(auditRows(deps.db, range), range, query.format),
        };
      },
    }),
  ];
}
