/**
 * The HTTP API: a thin Express layer over the refund services. Every route is declared in
 * src/api/routes/*; this file only wires parsing, logging and the problem responses.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errorFields } from '../logger';
import { RefundRequestError } from '../refunds/refund-errors';
import type { ApiDeps } from './deps';
import { ApiProblem, methodNotAllowed, notFound, problemForRefundError } from './problems';
import { mountRoutes, type RouteSpec } from './route';
import { consoleRouter } from '../console/console-routes';
import { eventRoutes } from './routes/events';
import { operationsRoutes } from './routes/operations';
import { paymentRoutes } from './routes/payments';
import { providerWebhookRoutes } from './routes/provider-webhooks';
import { refundDecisionRoutes } from './routes/refund-decisions';
import { reportRoutes } from './routes/reports';
import { merchantRoutes } from './routes/merchants';
import { auditRoutes } from './routes/audit';
import { countFailure } from '../db/queries/failed-attempts';
import { refundRoutes } from './routes/refunds';
import { sandboxRoutes } from './routes/sandbox';
import { noticeEndpoints, providerNoticeRoutes } from './routes/provider-notices';

export function apiRoutes(deps: ApiDeps): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...paymentRoutes(deps),
    ...refundRoutes(deps),
    ...refundDecisionRoutes(deps),
    ...eventRoutes(deps),
    ...reportRoutes(deps),
    ...merchantRoutes(deps),
    ...auditRoutes(deps),
    ...providerNoticeRoutes(deps),
    // The sandbox (its inspection and its generic HMAC-signed webhook) exists only where it is enabled.
    ...(deps.config.sandbox.enabled ? [...providerWebhookRoutes(deps), ...sandboxRoutes(deps)] : []),
  ];
  routes.push(...operationsRoutes(deps, () => routes));
  return routes;
}

export function createApp(deps: ApiDeps) {
  const app = express();
  app.disable('x-powered-by');
  // Behind a TLS proxy, its X-Forwarded-Proto is what makes a request `secure` (cookies, HSTS): only from proxies we trust.
  app.set('trust proxy', deps.config.trustProxy);
  app.use(strictTransportSecurity);
  app.set('query parser', 'simple');
  app.use(requestLog(deps));
  app.use(
    express.json({
      limit: '64kb',
      type: ['application/json', 'application/*+json'],
      // Webhook signatures are over the exact bytes received, not over re-serialised JSON.
      verify: keepRawBody,
    }),
  );
  // Providers that post their notifications as a form sign the fields as sent.
  for (const { notices } of noticeEndpoints(deps)) {
    if (notices.body === 'form') app.use(`/v1/webhooks/${notices.path}`, express.urlencoded({ extended: false, limit: '64kb', verify: keepRawBody }));
  }
  app.use(consoleRouter(deps));
  const router = express.Router();
  const routes = apiRoutes(deps);
  mountRoutes(router, routes, deps.keys, (source) => countFailure(deps.db, 'unknown_key', source, deps.config.attemptLimits.unknownKey));
  refuseOtherMethods(router, routes);
  app.use(router);
  app.use((req: Request) => {
    throw notFound(`No route ${req.method} ${req.path}`);
  });
  app.use(problemHandler(deps));
  return app;
}

function keepRawBody(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  (req as Request & { rawBody?: string }).rawBody = buffer.toString('utf8');
}

/** A path that exists answers other methods with 405 and the methods it has (`Allow`). */
function refuseOtherMethods(router: express.Router, routes: RouteSpec[]): void {
  const methods = new Map<string, string[]>();
  for (const spec of routes) methods.set(spec.path, [...(methods.get(spec.path) ?? []), spec.method.toUpperCase()]);
  for (const [path, allowed] of methods) {
    const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
    router.all(path, (req: Request) => {
      throw methodNotAllowed(`${req.method} is not allowed on ${path}`, allow);
    });
  }
}

function requestLog(deps: ApiDeps) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.locals.requestId = requestId;
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const routePath = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      deps.metrics.httpRequests.inc({ method: req.method, route: routePath, status: String(res.statusCode) });
      deps.metrics.httpDuration.observe({ method: req.method, route: routePath }, seconds);
      if (routePath === '/metrics' || routePath === '/healthz') return;
      deps.logger.info('http request', {
        requestId,
        method: req.method,
        path: req.originalUrl,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        // Console forms carry API keys (sign-in) and CSRF tokens: their bodies stay out of the log.
        body: req.method === 'POST' && !req.path.startsWith('/console') ? req.body : undefined,
      });
    });
    next();
  };
}

function problemHandler(deps: ApiDeps) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals.requestId as string;
    const problem = toProblem(error, requestId);
    if (problem.status >= 500) deps.logger.error('request failed', { requestId, ...errorFields(error) });
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toBody()));
  };
}

function toProblem(error: unknown, requestId: string): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (error instanceof RefundRequestError) return problemForRefundError(error.code, error.message, error.facts);
  const httpError = error as { type?: string; status?: number };
  if (httpError.type === 'entity.parse.failed') return new ApiProblem(400, 'malformed_json', 'Body is not valid JSON', 'The request body could not be parsed as JSON');
  if (httpError.type === 'entity.too.large') return new ApiProblem(413, 'body_too_large', 'Body too large', 'Request bodies are limited to 64 KiB');
  if (httpError.type === 'encoding.unsupported' || httpError.type === 'charset.unsupported') {
    return new ApiProblem(415, 'unsupported_encoding', 'Unsupported encoding', 'Send UTF-8 JSON');
  }
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    return new ApiProblem(httpError.status, 'bad_request', 'Bad request', 'The request could not be read');
  }
  // Not a refusal we know: a fault of ours, named by the request id in our logs. Never called "safe to retry".
  return new ApiProblem(500, 'internal_error', 'Internal error', `The request failed on our side; quote request id ${requestId}`, { requestId });
}

/** Over HTTPS, browsers are told to come back only over HTTPS (a year, subdomains too). */
function strictTransportSecurity(req: Request, res: Response, next: NextFunction): void {
  if (req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  next();
}
