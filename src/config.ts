/**
 * Every setting the service reads from its environment, parsed and checked once at start. A bad
 * value stops the process with a message naming the variable, never a surprise later.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_POOL_SIZE } from './db/client';
import { parseDuration } from '../workflows/durations';
import { REFUND_TASK_QUEUE } from '../workflows/messages';
import { DEFAULT_POLICY, type RefundPolicy } from '../workflows/policy';
import type { KeyRole } from './api/auth';
import { sha256Hex } from './api/key-hash';
import type { AttemptLimit } from './db/queries/failed-attempts';
import type { SealKey } from './field-seal';
import type { MerchantScope } from './merchants/merchant-scope';
import { PAYMENT_CHANNELS, PROVIDER_NAMES, REFUND_REASONS, type ProviderName } from '../workflows/lifecycle';
import { PROVIDER_MODULES } from './providers/adapters';
import type { ProviderModule } from './providers/provider-module';
import { CUTOFF_PATTERN } from './refunds/card-batch';

export interface ApiKey {
  role: KeyRole;
  principal: string;
  /** The merchants the key acts for; null: every merchant. */
  merchants: MerchantScope;
}

export interface Config {
  production: boolean;
  port: number;
  /** The address the API listens on: loopback outside production unless HOST says otherwise. */
  host: string;
  /**
   * Which proxies in front of the API to believe about the client (X-Forwarded-For, -Proto): Express's
   * `trust proxy` (false, true, a hop count, or addresses and subnets such as `loopback, 10.0.0.0/8`).
   */
  trustProxy: boolean | number | string;
  dataDir: string;
  /** Absent: the dev stack starts an embedded PostgreSQL. */
  databaseUrl?: string;
  /**
   * The database's owner, who runs the migrations; DATABASE_URL is then the service's own login, a
   * member of refundflow_service (no DDL, the audit trail insert-only). Absent: DATABASE_URL migrates too.
   */
  databaseOwnerUrl?: string;
  /** Migrate at start (the default); false where a migration job runs as the owner before the service starts. */
  migrateOnStart: boolean;
  /** Absent: the dev stack starts a Temporal dev server. */
  temporalAddress?: string;
  temporalNamespace: string;
  /** How to reach a Temporal that is not on this machine: TLS (with a client certificate), an API key. */
  temporalSecurity: TemporalSecurity;
  taskQueue: string;
  embeddedPgPort?: number;
  temporalDevPort?: number;
  temporalUiPort?: number;
  temporalCliPath?: string;
  temporalTestServerPath?: string;
  apiKeys: Map<string, ApiKey>;
  providerWebhookSecret: string;
  /** Where each merchant's backend receives refund events. */
  merchantWebhooks: Map<string, string>;
  merchantWebhookSecret: string;
  /** Seals bank accounts people give on their way to a refund's workflow (API and worker must share it). */
  destinationSealKey: string;
  /** Keys sealing account numbers at rest, the first sealing (ACCOUNT_SEAL_KEYS); absent: one derived from DESTINATION_SEAL_KEY. */
  accountSealKeys?: SealKey[];
  /** Customer email: through this SMTP server (smtp:// or smtps://, credentials in the URL); absent: to the log. */
  smtpUrl?: string;
  smtpFrom: string;
  /** Customer SMS: POSTed to this gateway; absent: to the log. */
  smsGatewayUrl?: string;
  /** How long a console sign-in lasts. */
  consoleSessionTtlMs: number;
  /** Wrong console sign-ins, and requests with an unknown API key, one source may make per window before 429. */
  attemptLimits: { signIn: AttemptLimit; unknownKey: AttemptLimit };
  /** The API's database connections. */
  databasePoolSize: number;
  /** How much a worker takes on at once; its database pool is sized from it. */
  worker: WorkerTuning;
  policy: RefundPolicy;
  /** When the daily reconciliation sweep runs (cron, UTC). */
  reconciliationCron: string;
  /** First wait before asking the provider for a settlement no webhook reported; doubles up to 6h. */
  providerPollIntervalMs: number;
  /** Which adapter serves each refund route, and the real providers' credentials. */
  providers: ProviderSettings;
  sandbox: {
    /** The sandbox providers, their bank, their routes and their tables are part of this deployment. */
    enabled: boolean;
    settlementDelayMs: number;
    returnDelayMs: number;
    responseDelayMs: number;
    /** Where the sandbox banks post their webhooks; absent: this service's own API. */
    webhookUrl?: string;
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * The adapters that can serve each route: the sandbox everywhere, a real provider where we have one
 * (the provider modules: providers/adapters.ts), or `off` (a merchant
 * without that rail: its refunds are refused at the door with `route_unavailable`).
 */
const BUILT_IN_ADAPTERS = {
  card: ['sandbox', 'off'],
  wechat: ['sandbox', 'off'],
  alipay: ['sandbox', 'off'],
  bank_transfer: ['sandbox', 'off'],
} as const satisfies Record<ProviderName, readonly string[]>;
export const ROUTE_ADAPTERS: Record<ProviderName, readonly string[]> = Object.fromEntries(
  PROVIDER_NAMES.map((route) => [route, [...PROVIDER_MODULES.filter((module) => module.routes.includes(route)).map((module) => module.adapter), ...BUILT_IN_ADAPTERS[route]]]),
) as unknown as Record<ProviderName, readonly string[]>;
/** An adapter's name: a built-in one, or a provider module's. */
export type AdapterName = (typeof BUILT_IN_ADAPTERS)[ProviderName][number] | (string & {});

/** Every route on the sandbox: development's default. */
export const SANDBOX_ROUTES: Record<ProviderName, AdapterName> = { card: 'sandbox', wechat: 'sandbox', alipay: 'sandbox', bank_transfer: 'sandbox' };

export interface ProviderSettings {
  routes: Record<ProviderName, AdapterName>;
  /** The settings of each provider module a route uses, by adapter name, as its own schema read them (see `settingsOf`). */
  modules?: Record<string, unknown>;
}

export interface TemporalSecurity {
  /** null: plain connection (a dev server, a private network). */
  tls: null | {
    /** PEM; absent: the system's roots. */
    serverCa?: string;
    /** PEM pair for mutual TLS (self-hosted Temporal, Temporal Cloud with certificates). */
    clientCert?: { crt: string; key: string };
    serverName?: string;
  };
  /** Temporal Cloud API key, sent as a bearer token. */
  apiKey?: string;
}

/** Settings that may hold secrets (or keys kept in files): each can be given as `NAME_FILE`, a file holding it (Docker and Kubernetes secrets). */
export const SECRET_SETTINGS = [
  'API_KEYS',
  'DATABASE_URL',
  'DATABASE_OWNER_URL',
  'PROVIDER_WEBHOOK_SECRET',
  'MERCHANT_WEBHOOK_SECRET',
  'DESTINATION_SEAL_KEY',
  'ACCOUNT_SEAL_KEYS',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'TEMPORAL_TLS_CA',
  'SMTP_URL',
  ...PROVIDER_MODULES.flatMap((module) => module.secretSettings),
];
/** Secret files that are binary (keystores): read as bytes and handed on as base64. */
const BINARY_SECRET_SETTINGS = new Set(PROVIDER_MODULES.flatMap((module) => module.binarySecretSettings ?? []));

export const DEVELOPMENT_API_KEYS =
  'dev-service=service:pos-backend,dev-support=support:support-1,dev-supervisor-a=supervisor:supervisor-a,dev-supervisor-b=supervisor:supervisor-b,dev-supervisor-c=supervisor:supervisor-c';
const DEVELOPMENT_WEBHOOK_SECRET = 'dev-provider-webhook-secret';
const DEVELOPMENT_MERCHANT_WEBHOOK_SECRET = 'dev-merchant-webhook-secret';
const DEVELOPMENT_SEAL_KEY = 'dev-destination-seal-key';
/** The published development values: never accepted where the service is reachable by others. */
const DEVELOPMENT_KEY_VALUES = new Set([...DEVELOPMENT_API_KEYS.split(',').map((entry) => entry.split('=')[0]!), DEVELOPMENT_WEBHOOK_SECRET, DEVELOPMENT_MERCHANT_WEBHOOK_SECRET, DEVELOPMENT_SEAL_KEY]);
/** The shortest API key or webhook secret production takes: 32 characters, as `openssl rand -hex 16` gives. */
export const MIN_SECRET_LENGTH = 32;

/** TRUST_PROXY: unset or `false` trusts no proxy; `true`, a hop count, or addresses/subnets (comma list) as Express reads them. */
function trustProxySetting(env: Env): boolean | number | string {
  const value = env.TRUST_PROXY?.trim();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  if (!/^[0-9A-Za-z.:/,\s]+$/.test(value)) throw new ConfigError('TRUST_PROXY must be true, false, a hop count, or addresses and subnets (e.g. loopback, 10.0.0.0/8)');
  return value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A secret production relies on: long enough not to be guessed, and not one the README publishes. */
function requireStrongSecret(name: string, value: string, published: Set<string>): void {
  if (published.has(value)) throw new ConfigError(`${name} holds a development value, published in the README: give a secret of your own (\`openssl rand -hex 32\`)`);
  if (value.length < MIN_SECRET_LENGTH) throw new ConfigError(`${name} holds a key shorter than ${MIN_SECRET_LENGTH} characters: give a longer one (\`openssl rand -hex 32\`)`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function loadConfig(given: Env = process.env): Config {
  const env = withSecretFiles(given);
  const production = env.NODE_ENV === 'production';
  // PORT=0 asks for any free port.
  const port = integerSetting(env, 'PORT', 0, 65_535) ?? 3000;
  // Containers listen on every interface; a development machine only on itself.
  const host = env.HOST || (production ? '0.0.0.0' : '127.0.0.1');
  if (!env.API_KEYS && !production && !isLoopback(host)) {
    throw new ConfigError(`HOST=${host} reaches beyond this machine, where the development API keys must not work: set API_KEYS (keys of ${MIN_SECRET_LENGTH} characters or more), or HOST=127.0.0.1`);
  }
  const apiKeysText = env.API_KEYS ?? (production ? undefined : DEVELOPMENT_API_KEYS);
  if (!apiKeysText) throw new ConfigError('API_KEYS must be set in production (key=role:principal,...)');
  // Where anyone else can reach the API, no key anybody could guess or has read in our README.
  const apiKeys = parseApiKeys(apiKeysText, production || !isLoopback(host) ? (key) => requireStrongSecret('API_KEYS', key, DEVELOPMENT_KEY_VALUES) : undefined);
  const sandboxEnabled = booleanSetting(env, 'SANDBOX_ENABLED') ?? !production;
  // The generic signed webhook is the sandbox's: real providers sign their own way.
  const providerWebhookSecret = env.PROVIDER_WEBHOOK_SECRET || (production && sandboxEnabled ? undefined : DEVELOPMENT_WEBHOOK_SECRET);
  if (!providerWebhookSecret) throw new ConfigError('PROVIDER_WEBHOOK_SECRET must be set in production when SANDBOX_ENABLED=true');

  const merchantWebhooks = parseMerchantWebhooks(env.MERCHANT_WEBHOOKS ?? '');
  const merchantWebhookSecret = env.MERCHANT_WEBHOOK_SECRET || (production && merchantWebhooks.size > 0 ? undefined : DEVELOPMENT_MERCHANT_WEBHOOK_SECRET);
  if (!merchantWebhookSecret) throw new ConfigError('MERCHANT_WEBHOOK_SECRET must be set in production when MERCHANT_WEBHOOKS is');
  if (production && env.PROVIDER_WEBHOOK_SECRET) requireStrongSecret('PROVIDER_WEBHOOK_SECRET', env.PROVIDER_WEBHOOK_SECRET, DEVELOPMENT_KEY_VALUES);
  if (production && env.MERCHANT_WEBHOOK_SECRET) requireStrongSecret('MERCHANT_WEBHOOK_SECRET', env.MERCHANT_WEBHOOK_SECRET, DEVELOPMENT_KEY_VALUES);
  const destinationSealKey = env.DESTINATION_SEAL_KEY || (production ? undefined : DEVELOPMENT_SEAL_KEY);
  if (!destinationSealKey) throw new ConfigError('DESTINATION_SEAL_KEY must be set in production (32 random bytes, base64: `openssl rand -base64 32`)');
  if (production && !/^[A-Za-z0-9+/]{43}=$/.test(destinationSealKey)) throw new ConfigError('DESTINATION_SEAL_KEY must be 32 bytes, base64 (`openssl rand -base64 32`)');

  return {
    production,
    port,
    host,
    trustProxy: trustProxySetting(env),
    dataDir: path.resolve(env.DATA_DIR ?? '.data'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseOwnerUrl: env.DATABASE_OWNER_URL || undefined,
    migrateOnStart: booleanSetting(env, 'MIGRATE_ON_START') ?? true,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    temporalSecurity: temporalSecurity(env),
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? REFUND_TASK_QUEUE,
    embeddedPgPort: portSetting(env, 'EMBEDDED_PG_PORT'),
    temporalDevPort: portSetting(env, 'TEMPORAL_DEV_PORT'),
    temporalUiPort: portSetting(env, 'TEMPORAL_UI_PORT'),
    temporalCliPath: env.TEMPORAL_CLI_PATH || undefined,
    temporalTestServerPath: env.TEMPORAL_TEST_SERVER_PATH || undefined,
    apiKeys,
    providerWebhookSecret,
    merchantWebhooks,
    merchantWebhookSecret,
    destinationSealKey,
    accountSealKeys: accountSealKeysSetting(env),
    smtpUrl: urlSetting(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    smtpFrom: env.SMTP_FROM || 'refundflow <refunds@refundflow.local>',
    smsGatewayUrl: urlSetting(env, 'SMS_GATEWAY_URL', ['http:', 'https:']),
    consoleSessionTtlMs: durationSetting(env, 'CONSOLE_SESSION_TTL') ?? 8 * 3_600_000,
    attemptLimits: {
      signIn: attemptLimitSetting(env, 'SIGN_IN_LIMIT') ?? { max: 10, windowMs: 15 * 60_000 },
      unknownKey: attemptLimitSetting(env, 'UNKNOWN_KEY_LIMIT') ?? { max: 30, windowMs: 60_000 },
    },
    databasePoolSize: integerSetting(env, 'DATABASE_POOL_SIZE', 2, 1_000) ?? DEFAULT_POOL_SIZE,
    worker: {
      activitySlots: integerSetting(env, 'WORKER_ACTIVITY_SLOTS', 1, 1_000) ?? 20,
      localActivitySlots: integerSetting(env, 'WORKER_LOCAL_ACTIVITY_SLOTS', 1, 1_000) ?? 10,
      workflowTaskSlots: integerSetting(env, 'WORKER_WORKFLOW_TASK_SLOTS', 2, 1_000) ?? 40,
      cachedWorkflows: integerSetting(env, 'WORKER_CACHED_WORKFLOWS', 0, 1_000_000),
    },
    policy: loadPolicy(env),
    providerPollIntervalMs: durationSetting(env, 'PROVIDER_POLL_INTERVAL') ?? 60_000,
    // 18:00 UTC is 02:00 in China: after the day's settlement files, before the day's business.
    reconciliationCron: env.RECONCILIATION_CRON || '0 18 * * *',
    providers: providerSettings(env, production, sandboxEnabled),
    sandbox: {
      enabled: sandboxEnabled,
      settlementDelayMs: durationSetting(env, 'SANDBOX_SETTLEMENT_DELAY') ?? 2_000,
      returnDelayMs: durationSetting(env, 'SANDBOX_RETURN_DELAY') ?? 3_000,
      responseDelayMs: durationSetting(env, 'SANDBOX_RESPONSE_DELAY') ?? 0,
      webhookUrl: env.SANDBOX_WEBHOOK_URL || undefined,
    },
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const) ?? 'info',
  };
}

/** An optional URL setting, of one of `protocols`. */
function urlSetting(env: Env, name: string, protocols: string[]): string | undefined {
  const value = env[name];
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be a URL (${protocols.map((p) => `${p}//…`).join(' or ')})`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return value;
}

/** `NAME_FILE` read into `NAME` (a trailing newline dropped); both given is a mistake worth stopping for. */
function withSecretFiles(env: Env): Env {
  const out: Env = { ...env };
  for (const name of SECRET_SETTINGS) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) throw new ConfigError(`${name} and ${name}_FILE are both set: give one`);
    try {
      out[name] = BINARY_SECRET_SETTINGS.has(name) ? readFileSync(file).toString('base64') : readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  return out;
}

/**
 * TLS when asked for (TEMPORAL_TLS=true), or implied by a certificate, a CA or an API key (Temporal
 * Cloud takes API keys over TLS only); TEMPORAL_TLS=false keeps a plain connection for an API key
 * checked by a proxy on a private network.
 */
function temporalSecurity(env: Env): TemporalSecurity {
  const crt = env.TEMPORAL_TLS_CERT || undefined;
  const key = env.TEMPORAL_TLS_KEY || undefined;
  if (Boolean(crt) !== Boolean(key)) throw new ConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: give both (or their _FILE forms) or neither');
  for (const [name, pem] of [['TEMPORAL_TLS_CERT', crt], ['TEMPORAL_TLS_KEY', key], ['TEMPORAL_TLS_CA', env.TEMPORAL_TLS_CA]] as const) {
    if (pem && !pem.includes('-----BEGIN ')) throw new ConfigError(`${name} must be PEM (-----BEGIN …); for a path use ${name}_FILE`);
  }
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const asked = oneOf(env, 'TEMPORAL_TLS', ['true', 'false'] as const);
  const implied = Boolean(crt || env.TEMPORAL_TLS_CA || env.TEMPORAL_TLS_SERVER_NAME || apiKey);
  if (asked === 'false' && (crt || env.TEMPORAL_TLS_CA)) throw new ConfigError('TEMPORAL_TLS=false with a TLS certificate or CA given: remove one');
  const tls =
    asked === 'true' || (asked === undefined && implied)
      ? {
          serverCa: env.TEMPORAL_TLS_CA || undefined,
          clientCert: crt && key ? { crt, key } : undefined,
          serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
        }
      : null;
  return { tls, apiKey };
}

/**
 * The adapter behind each route (`PROVIDER_CARD`, `PROVIDER_WECHAT`, `PROVIDER_ALIPAY`,
 * `PROVIDER_BANK_TRANSFER`). Outside production an unset route is the sandbox's; in production
 * every route is named explicitly, the sandbox only where SANDBOX_ENABLED=true, and a real adapter
 * only with all of its credentials: a deployment that cannot pay a route does not start.
 */
function providerSettings(env: Env, production: boolean, sandboxEnabled: boolean): ProviderSettings {
  const routes = {} as Record<ProviderName, AdapterName>;
  for (const route of PROVIDER_NAMES) {
    const name = `PROVIDER_${route.toUpperCase()}`;
    const allowed: readonly AdapterName[] = ROUTE_ADAPTERS[route];
    const value = oneOf(env, name, allowed) ?? (production ? undefined : 'sandbox');
    if (!value) throw new ConfigError(`${name} must be set in production: no adapter serves ${route} refunds (one of ${allowed.join(', ')})`);
    if (value === 'sandbox' && !sandboxEnabled) throw new ConfigError(`${name}=sandbox needs SANDBOX_ENABLED=true: the sandbox moves no real money`);
    routes[route] = value;
  }
  const used = new Set(Object.values(routes));
  return {
    routes,
    modules: Object.fromEntries(PROVIDER_MODULES.filter((module) => used.has(module.adapter)).map((module) => [module.adapter, moduleSettings(module, env)])),
  };
}

/**
 * A provider module's settings by its own schema. Its first complaint names the variable it is
 * about ("WECHATPAY_MCHID must be set (the merchant id)"); one about several names them itself.
 */
function moduleSettings(module: ProviderModule, env: Env): unknown {
  const parsed = module.settings.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = issue.path[0];
  const said = name === undefined ? issue.message : /^(must|holds) /.test(issue.message) ? `${String(name)} ${issue.message}` : `${String(name)}: ${issue.message}`;
  throw new ConfigError(`${said} (${module.label}, PROVIDER_${module.routes[0]!.toUpperCase()}=${module.adapter})`);
}

/** ACCOUNT_SEAL_KEYS: `id:base64,…`, each key 32 bytes; the first seals, all open (rotation: put the new one first). */
function accountSealKeysSetting(env: Env): SealKey[] | undefined {
  const text = env.ACCOUNT_SEAL_KEYS?.trim();
  if (!text) return undefined;
  return text.split(',').map((entry) => {
    const match = /^([A-Za-z0-9_-]{1,16}):([A-Za-z0-9+/]{43}=)$/.exec(entry.trim());
    if (!match) throw new ConfigError('ACCOUNT_SEAL_KEYS must be id:key pairs, comma-separated, each key 32 bytes base64 (`openssl rand -base64 32`)');
    return { id: match[1]!, key: Buffer.from(match[2]!, 'base64') };
  });
}

function booleanSetting(env: Env, name: string): boolean | undefined {
  const value = oneOf(env, name, ['true', 'false'] as const);
  return value === undefined ? undefined : value === 'true';
}

/** README "Tuning" says how to size these for a bigger machine. */
export interface WorkerTuning {
  /** Provider calls and merchant-event deliveries at once. */
  activitySlots: number;
  /** Steps being recorded at once (local activities, one database transaction each). */
  localActivitySlots: number;
  /** Workflow tasks at once. */
  workflowTaskSlots: number;
  /** Refund workflows kept in memory between their tasks; absent: the SDK's choice from the memory it has. */
  cachedWorkflows?: number;
}

/**
 * Every activity holds at most one database connection at a time, so a pool of one connection per
 * slot (and two for the loops beside the worker: the start relay, the notification outbox) means
 * no activity ever waits for a connection while its timeout runs.
 */
export function workerPoolSize(tuning: WorkerTuning): number {
  return tuning.activitySlots + tuning.localActivitySlots + 2;
}

export function loadPolicy(env: Env): RefundPolicy {
  const sla = durationSetting(env, 'REFUND_SETTLEMENT_SLA');
  const windowMs = { ...DEFAULT_POLICY.windowMs };
  for (const channel of PAYMENT_CHANNELS) {
    windowMs[channel] = durationSetting(env, `REFUND_WINDOW_${channel.toUpperCase()}`) ?? windowMs[channel];
  }
  const feeBps: RefundPolicy['feeBps'] = {};
  for (const reason of REFUND_REASONS) {
    const bps = integerSetting(env, `REFUND_FEE_BPS_${reason.toUpperCase()}`, 0, 10_000);
    if (bps !== undefined) feeBps[reason] = bps;
  }
  const settlementSlaMs = { ...DEFAULT_POLICY.settlementSlaMs };
  if (sla !== undefined) for (const provider of PROVIDER_NAMES) settlementSlaMs[provider] = sla;

  const policy: RefundPolicy = {
    autoApproveMax: integerSetting(env, 'REFUND_AUTO_APPROVE_MAX', 0) ?? DEFAULT_POLICY.autoApproveMax,
    dualApprovalMin: integerSetting(env, 'REFUND_DUAL_APPROVAL_MIN', 1) ?? DEFAULT_POLICY.dualApprovalMin,
    dailyAutoApproveMax: integerSetting(env, 'REFUND_DAILY_AUTO_APPROVE_MAX', 0),
    windowMs,
    approvalReminderMs: durationSetting(env, 'REFUND_APPROVAL_REMINDER') ?? DEFAULT_POLICY.approvalReminderMs,
    approvalEscalateMs: durationSetting(env, 'REFUND_APPROVAL_ESCALATE') ?? DEFAULT_POLICY.approvalEscalateMs,
    approvalTimeoutMs: durationSetting(env, 'REFUND_APPROVAL_TIMEOUT') ?? DEFAULT_POLICY.approvalTimeoutMs,
    escalationPrincipals: listSetting(env, 'REFUND_ESCALATION_PRINCIPALS'),
    settlementSlaMs,
    settlementDeadlineMs: durationSetting(env, 'REFUND_SETTLEMENT_DEADLINE') ?? DEFAULT_POLICY.settlementDeadlineMs,
    followUpAfterMs: durationSetting(env, 'REFUND_FOLLOW_UP_AFTER') ?? DEFAULT_POLICY.followUpAfterMs,
    feeBps,
    holidays: listSetting(env, 'REFUND_HOLIDAYS'),
    utcOffsetMinutes: utcOffsetSetting(env, 'REFUND_BUSINESS_UTC_OFFSET') ?? DEFAULT_POLICY.utcOffsetMinutes,
    cardCutoff: env.CARD_SETTLEMENT_CUTOFF || DEFAULT_POLICY.cardCutoff,
  };
  if (!CUTOFF_PATTERN.test(policy.cardCutoff)) throw new ConfigError(`CARD_SETTLEMENT_CUTOFF: "${policy.cardCutoff}" is not a time of day, HH:MM (23:00)`);
  for (const day of policy.holidays) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new ConfigError(`REFUND_HOLIDAYS: "${day}" is not a YYYY-MM-DD date`);
  }
  if (policy.dualApprovalMin <= policy.autoApproveMax) {
    throw new ConfigError('REFUND_DUAL_APPROVAL_MIN must be above REFUND_AUTO_APPROVE_MAX');
  }
  if (!(policy.approvalReminderMs < policy.approvalEscalateMs && policy.approvalEscalateMs < policy.approvalTimeoutMs)) {
    throw new ConfigError('approval timers must come in order: REFUND_APPROVAL_REMINDER, then REFUND_APPROVAL_ESCALATE, then REFUND_APPROVAL_TIMEOUT');
  }
  return policy;
}

/**
 * `key=role:principal[@merchant+merchant],...` → the keys the API accepts, by their SHA-256. A key
 * may be given as `sha256:<hex>` (its hash, as `printf %s KEY | sha256sum` prints it) so that the
 * configuration never holds the key itself. Without `@merchants` a key acts for every merchant.
 */
export function parseApiKeys(text: string, checkKey: (key: string) => void = () => {}): Map<string, ApiKey> {
  const keys = new Map<string, ApiKey>();
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)=(service|support|supervisor|admin):([^\s,@]+)(?:@([^\s,]+))?$/.exec(entry);
    if (!match) throw new ConfigError(`API_KEYS: "${entry.replace(/=.*/, '=…')}" is not key=role:principal[@merchant+merchant] with role service, support, supervisor or admin`);
    const [, key, role, principal, scope] = match;
    const hashed = /^sha256:([0-9a-f]{64})$/.exec(key!);
    if (!hashed) checkKey(key!);
    keys.set(hashed ? hashed[1]! : sha256Hex(key!), { role: role as KeyRole, principal: principal!, merchants: scope ? scope.split('+') : null });
  }
  if (keys.size === 0) throw new ConfigError('API_KEYS holds no key');
  return keys;
}

/** `merchantId=url,...` → where each merchant receives its refund events. */
export function parseMerchantWebhooks(text: string): Map<string, string> {
  const hooks = new Map<string, string>();
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const url = entry.slice(eq + 1);
    if (eq < 1 || !/^https?:\/\/\S+$/.test(url)) throw new ConfigError(`MERCHANT_WEBHOOKS: "${entry}" is not merchantId=http(s)://url`);
    hooks.set(entry.slice(0, eq), url);
  }
  return hooks;
}

function durationSetting(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
}

/** `N/duration`: at most N failures per source in each window of that length (`10/15m`). */
function attemptLimitSetting(env: Env, name: string): AttemptLimit | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const match = /^(\d{1,6})\/(.+)$/.exec(value.trim());
  if (!match || Number(match[1]) < 1) throw new ConfigError(`${name} must be attempts/window, such as 10/15m`);
  try {
    return { max: Number(match[1]), windowMs: parseDuration(match[2]!) };
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
}

function integerSetting(env: Env, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name}: "${value}" is not a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

function portSetting(env: Env, name: string): number | undefined {
  return integerSetting(env, name, 1, 65_535);
}

function listSetting(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function utcOffsetSetting(env: Env, name: string): number | undefined {
  const value = env[name];
  if (!value) return undefined;
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(value);
  if (!match) throw new ConfigError(`${name}: "${value}" is not an offset like +08:00`);
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[]): T | undefined {
  const value = env[name];
  if (!value) return undefined;
  if (!values.includes(value as T)) throw new ConfigError(`${name}: "${value}" is not one of ${values.join(', ')}`);
  return value as T;
}
