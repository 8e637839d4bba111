/**
 * The whole service (API and worker) for an integration test file: its own database in the
 * suite's PostgreSQL, its own task queue on the suite's Temporal dev server, any free port.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { startService, type RunningService } from '../../src/service';
import { createTestDatabase, type TestDatabase } from './database';
import { uniqueId } from './refund-fixtures';

export interface TestService {
  config: Config;
  service: RunningService;
  database: TestDatabase;
  call: ApiCall;
  stop(): Promise<void>;
}

export type ApiKeyName = 'dev-service' | 'dev-support' | 'dev-supervisor-a' | 'dev-supervisor-b' | 'dev-supervisor-c' | 'unknown-key' | null;

export interface ApiResponse {
  status: number;
  headers: Headers;
  contentType: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test, shape asserted by each test
  body: any;
}

export type ApiCall = (
  method: string,
  path: string,
  options?: { key?: ApiKeyName; body?: unknown; raw?: string; headers?: Record<string, string> },
) => Promise<ApiResponse>;

/**
 * Keys of production strength under the development keys' names, for a service that must not take
 * the published ones (NODE_ENV=production): `API_KEYS` to start it with, and what each name sends.
 */
export function productionKeys(): { API_KEYS: string; values: Record<string, string> } {
  const roles = { 'dev-service': 'service:pos-backend', 'dev-support': 'support:support-1', 'dev-supervisor-a': 'supervisor:supervisor-a', 'dev-supervisor-b': 'supervisor:supervisor-b', 'dev-supervisor-c': 'supervisor:supervisor-c' };
  const values = Object.fromEntries(Object.keys(roles).map((name) => [name, randomBytes(24).toString('hex')]));
  return { API_KEYS: Object.entries(roles).map(([name, who]) => `${values[name]}=${who}`).join(','), values };
}

export async function startTestService(
  env: Record<string, string> = {},
  logger: Logger = createLogger({ level: 'error' }),
  parts: { worker: boolean; keyValues?: Record<string, string> } = { worker: true },
): Promise<TestService> {
  // The service migrates what its configuration needs (the sandbox's tables only where it is enabled).
  const database = await createTestDatabase({ sandbox: false });
  const config = loadConfig({
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: uniqueId('refunds-it'),
    PORT: '0',
    SANDBOX_SETTLEMENT_DELAY: '300ms',
    ...env,
  });
  const service = await startService(config, logger, { api: true, worker: parts.worker, embedded: false, installSdkLogging: false });
  return {
    config,
    service,
    database,
    call: apiCaller(service.apiUrl!, parts.keyValues),
    async stop() {
      await service.stop();
      await database.close();
    },
  };
}

/** Calls the API as a client would; `key` defaults to the service key, null sends none; `keyValues` turns a key's name into what is sent. */
export function apiCaller(baseUrl: string, keyValues: Record<string, string> = {}): ApiCall {
  return async (method, path, options = {}) => {
    const named = options.key === undefined ? 'dev-service' : options.key;
    const key = named && (keyValues[named] ?? named);
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, contentType, body: contentType.includes('json') ? JSON.parse(text) : text };
  };
}
