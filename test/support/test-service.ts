/**
 * The whole service (API and worker) for an integration test file: its own database in the
 * suite's PostgreSQL, its own task queue on the suite's Temporal dev server, any free port.
 */
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

export async function startTestService(
  env: Record<string, string> = {},
  logger: Logger = createLogger({ level: 'error' }),
  parts: { worker: boolean } = { worker: true },
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
    call: apiCaller(service.apiUrl!),
    async stop() {
      await service.stop();
      await database.close();
    },
  };
}

/** Calls the API as a client would; `key` defaults to the service key, null sends none. */
export function apiCaller(baseUrl: string): ApiCall {
  return async (method, path, options = {}) => {
    const key = options.key === undefined ? 'dev-service' : options.key;
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
