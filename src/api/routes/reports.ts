import type { ApiDeps } from '../deps';
import { refundReport, reportRangeProblem } from '../../db/queries/reports';
import { invalidField } from '../problems';
import { route } from '../route';
import { Problem, RefundReport, ReportQuery } from '../schemas';

export function reportRoutes(deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/v1/reports/refunds',
      tag: 'reports',
      summary: 'Refund counts and amounts by reason, channel, status or business day; time to settle and approval lead time (p50/p90); share needing attention',
      access: ['support', 'supervisor'],
      query: ReportQuery,
      responses: { 200: { description: 'The report', schema: RefundReport }, 400: { description: 'Invalid range', schema: Problem } },
      async handle({ query, caller }) {
        const from = new Date(query.from);
        const to = new Date(query.to);
        const problem = reportRangeProblem(from, to);
        if (problem) throw invalidField('query', 'to', problem);
        const report = await refundReport(deps.db, { from, to, groupBy: query.groupBy, utcOffsetMinutes: deps.config.policy.utcOffsetMinutes, scope: caller!.merchants });
        return { status: 200, body: { from: from.toISOString(), to: to.toISOString(), groupBy: query.groupBy, ...report } };
      },
    }),
  ];
}
