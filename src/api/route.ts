/**
 * A route is declared once, with its schemas, its roles and its handler. The Express app is
 * built from these declarations and so is the OpenAPI document: what is documented is exactly
 * what is validated.
 */
import type { Request, Response, Router } from 'express';
import type { z, ZodType } from 'zod';
import { authenticate, requireRole, type Caller, type KeyRing, type KeyRole } from './auth';
import { validationProblem } from './problems';

/** Who may call: roles behind bearer keys, anyone, or a provider proving itself by signature. */
export type Access = readonly KeyRole[] | 'public' | 'signed';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string | undefined>;
  /** Plain text instead of JSON (Prometheus metrics). */
  text?: string;
  /** A body written piece by piece as it is read (the audit export), never held whole. */
  stream?: AsyncIterable<string>;
  /** Bytes as they are (a PDF), with their Content-Type in `headers`. */
  bytes?: Buffer;
}

export interface RouteContext<P, Q, B, H> {
  params: P;
  query: Q;
  body: B;
  headers: H;
  caller: Caller | undefined;
  rawBody: string;
}

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  contentType?: string;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown, H = unknown> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  headers?: ZodType<H>;
  responses: Record<number, ResponseSpec>;
  handle(context: RouteContext<P, Q, B, H>): Promise<Reply>;
}

/** Declares a route with its context typed from its schemas. */
export function route<
  PS extends ZodType = ZodType<Record<string, never>>,
  QS extends ZodType = ZodType<Record<string, never>>,
  BS extends ZodType = ZodType<undefined>,
  HS extends ZodType = ZodType<Record<string, never>>,
>(
  spec: Omit<RouteSpec, 'params' | 'query' | 'body' | 'headers' | 'handle'> & {
    params?: PS;
    query?: QS;
    body?: BS;
    headers?: HS;
    handle(context: RouteContext<z.output<PS>, z.output<QS>, z.output<BS>, z.output<HS>>): Promise<Reply>;
  },
): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** `unknownKey(source)`: counts a request with an unknown key from that address, and says how long it must wait. */
export function mountRoutes(router: Router, routes: readonly RouteSpec[], keys: KeyRing, unknownKey: (source: string) => Promise<number>): void {
  for (const spec of routes) {
    router[spec.method](spec.path, async (req: Request, res: Response) => {
      let caller: Caller | undefined;
      if (Array.isArray(spec.access)) {
        caller = await authenticate(keys, req.headers.authorization, () => unknownKey(req.ip ?? 'unknown'));
        requireRole(caller, spec.access, `${spec.method.toUpperCase()} ${spec.path}`);
      }
      const context: RouteContext<unknown, unknown, unknown, unknown> = {
        params: parse(spec.params, req.params, 'path'),
        query: parse(spec.query, req.query, 'query'),
        headers: spec.headers ? parse(spec.headers, req.headers, 'header') : req.headers,
        body: parse(spec.body, req.body, 'body'),
        caller,
        rawBody: (req as Request & { rawBody?: string }).rawBody ?? '',
      };
      const reply = await spec.handle(context);
      for (const [name, value] of Object.entries(reply.headers ?? {})) if (value !== undefined) res.setHeader(name, value);
      res.status(reply.status);
      if (reply.stream) await writeStream(res, reply.stream);
      else if (reply.bytes) res.end(reply.bytes);
      else if (reply.text !== undefined) res.send(reply.text);
      else if (reply.body === undefined) res.end();
      else res.json(reply.body);
    });
  }
}

/** Writes each piece, waiting while the client is slower than the database; a failure halfway cuts the answer short (the client sees it end early). */
export async function writeStream(res: Response, pieces: AsyncIterable<string>): Promise<void> {
  try {
    for await (const piece of pieces) {
      if (!res.write(piece)) await new Promise<void>((resolve) => res.once('drain', resolve));
      if (res.destroyed) return;
    }
    res.end();
  } catch (error) {
    if (!res.headersSent) throw error;
    res.destroy(error as Error);
  }
}

function parse(schema: ZodType | undefined, value: unknown, where: 'body' | 'query' | 'path' | 'header'): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw validationProblem(where, result.error);
  return result.data;
}
