import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { payments } from '../../db/schema';
import { withinScope } from '../../merchants/merchant-scope';
import type { ApiDeps } from '../deps';
import { sandboxOperations } from '../../providers/sandbox/sandbox-schema';
import { route } from '../route';
import { Problem, SandboxOperations, SandboxParams, SandboxQuery } from '../schemas';
import { sandboxOperationView } from '../views';

/** Inspection of what the sandbox providers actually did: the ground truth for exactly-once. */
export function sandboxRoutes(deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/v1/sandbox/providers/:provider/refunds',
      tag: 'sandbox',
      summary: 'Every operation a sandbox provider carried out (only while sandbox providers are active)',
      access: ['service', 'support', 'supervisor'],
      params: SandboxParams,
      query: SandboxQuery,
      responses: { 200: { description: 'Operations, oldest first', schema: SandboxOperations }, 400: { description: 'Invalid query', schema: Problem } },
      async handle({ params, query, caller }) {
        const conditions: SQL[] = [eq(sandboxOperations.provider, params.provider)];
        if (query.paymentId) conditions.push(eq(sandboxOperations.paymentId, query.paymentId));
        // Only the payments of the caller's merchants.
        const theirs = withinScope(payments.merchantId, caller!.merchants);
        if (theirs) conditions.push(inArray(sandboxOperations.paymentId, deps.db.select({ id: payments.id }).from(payments).where(theirs)));
        const rows = await deps.db
          .select()
          .from(sandboxOperations)
          .where(and(...conditions))
          .orderBy(asc(sandboxOperations.createdAt), asc(sandboxOperations.id))
          .limit(1000);
        return { status: 200, body: { data: rows.map(sandboxOperationView) } };
      },
    }),
  ];
}
