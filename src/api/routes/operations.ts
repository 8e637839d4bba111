import { sql } from 'drizzle-orm';
import type { ApiDeps } from '../deps';
import type { RouteSpec } from '../route';
import { route } from '../route';
import { Health } from '../schemas';
import { buildOpenApiDocument } from '../openapi';

/** Liveness, readiness, metrics and the API's own description. */
export function operationsRoutes(deps: ApiDeps, allRoutes: () => readonly RouteSpec[]) {
  return [
    route({
      method: 'get',
      path: '/healthz',
      tag: 'operations',
      summary: 'Liveness: the process answers',
      access: 'public',
      responses: { 200: { description: 'Alive', schema: Health } },
      async handle() {
        return { status: 200, body: { status: 'ok' } };
      },
    }),
    route({
      method: 'get',
      path: '/readyz',
      tag: 'operations',
      summary: 'Readiness: the database and Temporal answer (ready or not ready; why is in the log, not here)',
      access: 'public',
      responses: { 200: { description: 'Ready', schema: Health }, 503: { description: 'Not ready', schema: Health } },
      async handle() {
        const [database, temporal] = await Promise.all([
          check(() => deps.db.execute(sql`SELECT 1`)),
          check(() => deps.temporal.workflowService.getSystemInfo({})),
        ]);
        const ready = database === 'ok' && temporal === 'ok';
        // Anyone may ask: the answer says ready or not, and the reason goes to the log for the operator.
        if (!ready) deps.logger.warn('not ready', { database, temporal });
        return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready' } };
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      access: 'public',
      responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
      async handle() {
        return { status: 200, headers: { 'Content-Type': deps.metrics.registry.contentType }, text: await deps.metrics.registry.metrics() };
      },
    }),
    route({
      method: 'get',
      path: '/openapi.json',
      tag: 'operations',
      summary: 'This document',
      access: 'public',
      responses: { 200: { description: 'OpenAPI 3.1 document' } },
      async handle() {
        return { status: 200, body: buildOpenApiDocument(allRoutes(), '0.1.0') };
      },
    }),
  ];
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000).unref())]);
    return 'ok';
  } catch (error) {
    return `failing: ${(error as Error).message}`;
  }
}
