/**
 * Prometheus metrics on the API's own port (`GET /metrics`).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  refundsCreated: Counter<'channel' | 'status'>;
  providerNotices: Counter<'provider' | 'outcome'>;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'refundflow_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'refundflow_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'refundflow_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    refundsCreated: new Counter({
      name: 'refundflow_refunds_created_total',
      help: 'Refunds created, by channel and first status',
      labelNames: ['channel', 'status'],
      registers: [registry],
    }),
    providerNotices: new Counter({
      name: 'refundflow_provider_notices_total',
      help: 'Provider webhooks by outcome',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
  };
}
