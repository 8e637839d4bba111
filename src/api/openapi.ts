/**
 * The OpenAPI 3.1 document, generated from the route declarations and their Zod schemas: the same
 * objects that validate requests (OpenAPI 3.1 schemas are JSON Schema 2020-12).
 */
import { z, type ZodType } from 'zod';
import type { ResponseSpec, RouteSpec } from './route';
import { Problem } from './schemas';

type JsonSchema = Record<string, unknown>;

export function buildOpenApiDocument(routes: readonly RouteSpec[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const path = spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      operationId: operationId(spec),
      security: Array.isArray(spec.access) ? [{ bearer: [] }] : [],
      ...(Array.isArray(spec.access) ? { 'x-roles': spec.access } : {}),
      parameters: [
        ...parameters(spec.params, 'path'),
        ...parameters(spec.query, 'query'),
        ...parameters(spec.headers, 'header'),
        ...(spec.access === 'signed'
          ? [{ name: 'X-Signature', in: 'header', required: true, schema: { type: 'string', pattern: '^t=\\d+,v1=[0-9a-f]{64}$' } }]
          : []),
      ],
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(spec.body, 'input') } } } } : {}),
      responses: Object.fromEntries(
        Object.entries({ ...inputResponses(spec), ...spec.responses, ...(Array.isArray(spec.access) ? authResponses : {}) }).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.schema
              ? { content: { [response.contentType ?? (Number(status) >= 400 ? 'application/problem+json' : 'application/json')]: { schema: toSchema(response.schema, 'output') } } }
              : {}),
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'refundflow',
      version,
      description: 'Merchant refunds as durable Temporal workflows. Money is always an integer amount in the currency’s minor unit beside an ISO 4217 code.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key: API_KEYS="key=role:principal,..."' } } },
    paths,
  };
}

/** What reading a request can refuse, on every route that reads one: stated once, here. */
function inputResponses(spec: RouteSpec): Record<number, ResponseSpec> {
  const responses: Record<number, ResponseSpec> = {};
  if (spec.params || spec.query || spec.headers || spec.body || spec.access === 'signed') {
    responses[400] = { description: 'validation_failed: each bad field named (control characters, impossible dates, foreign cursors included)', schema: Problem };
  }
  if (spec.body || spec.access === 'signed') {
    responses[413] = { description: 'body_too_large: bodies are limited to 64 KiB', schema: Problem };
    responses[415] = { description: 'unsupported_encoding: send UTF-8 JSON', schema: Problem };
  }
  return responses;
}

const authResponses: Record<number, ResponseSpec> = {
  401: { description: 'Missing or unknown API key' },
  403: { description: 'The key’s role may not do this' },
  429: { description: 'too_many_attempts: this address sent too many unknown keys; Retry-After says when to try again' },
};

function toSchema(schema: ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: ZodType | undefined, where: 'path' | 'query' | 'header') {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name: where === 'header' ? headerName(name) : name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(property.description ? { description: property.description } : {}),
    schema: property,
  }));
}

function headerName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
}

function operationId(spec: RouteSpec): string {
  const words = spec.path.split('/').filter((part) => part && part !== 'v1' && !part.startsWith(':'));
  const byId = spec.path.endsWith('/:id') || spec.path.includes('/:id/');
  return [spec.method, ...words.map((w) => w.replace(/[^A-Za-z]/g, '')), byId ? 'ById' : ''].join('_').replace(/_+$/, '');
}
