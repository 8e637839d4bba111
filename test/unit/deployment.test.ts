/**
 * There is no Docker engine to run docker-compose.yml here, so this reads it as Compose would and
 * checks the wiring that matters: every service the spec names, the same image for API and worker
 * with the right entry points, dependencies that exist, the search attributes the workflow sets,
 * and configuration names the service actually reads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, SECRET_SETTINGS, workerPoolSize } from '../../src/config';
import { PROVIDER_NAMES } from '../../workflows/lifecycle';
import { REFUND_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

const root = path.join(__dirname, '..', '..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { image?: string; build?: string; command?: string[] | string; depends_on?: Record<string, unknown>; environment?: Record<string, string>; ports?: string[]; deploy?: { replicas?: number }; configs?: { source: string; target: string }[] }
  >;
  configs: Record<string, { content: string }>;
};
// What the service reads: config.ts, and each provider module's settings schema in its folder.
const providersDir = path.join(root, 'src', 'providers');
const configSource = [
  readFileSync(path.join(root, 'src', 'config.ts'), 'utf8'),
  ...readdirSync(providersDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => readdirSync(path.join(providersDir, entry.name)).filter((file) => file.endsWith('-settings.ts')).map((file) => readFileSync(path.join(providersDir, entry.name, file), 'utf8'))),
].join('\n');

describe('docker-compose.yml', () => {
  const { services } = compose;

  it('runs PostgreSQL, Temporal with its Web UI, the API and the worker as separate services', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', 'api', 'worker']));
  });

  it('keeps Temporal’s Web UI read-only and on this host’s loopback: it has no sign-in, and can terminate refunds (issue #20)', () => {
    const ui = services['temporal-ui']!;
    expect(ui.environment?.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    expect(ui.ports).toEqual(['127.0.0.1:8080:8080']);
  });

  it('builds one image and starts the API and the worker from it', () => {
    expect(services.api!.build).toBe('.');
    expect(services.worker!.build).toBe('.');
    expect(services.api!.command).toEqual(['node', 'dist/src/api-main.js']);
    expect(services.worker!.command).toEqual(['node', 'dist/src/worker-main.js']);
    // The entry points exist in the build output (npm test builds before it runs Jest).
    expect(existsSync(path.join(root, 'dist', 'src', 'api-main.js'))).toBe(true);
    expect(existsSync(path.join(root, 'dist', 'src', 'worker-main.js'))).toBe(true);
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('npm run build');
    // Native builds (swc, Temporal core) are optional dependencies: the image must not omit them.
    expect(dockerfile).not.toContain('--omit=optional');
    expect(dockerfile).toContain('COPY src/db/migrations');
    expect(dockerfile).toContain('COPY src/providers/sandbox/migrations');
  });

  it('runs two API replicas behind one proxy and three workers, against Temporal on PostgreSQL (issue #18)', () => {
    expect(services.api!.deploy?.replicas).toBe(2);
    expect(services.worker!.deploy?.replicas).toBe(3);
    // Only the proxy publishes the API's port (replicas cannot share one); it forwards to every replica and names the client.
    expect(services.api!.ports).toBeUndefined();
    expect(services['api-proxy']!.ports).toEqual(['${PORT:-3000}:3000']);
    expect(services['api-proxy']!.depends_on).toEqual({ api: { condition: 'service_healthy' } });
    expect(services['api-proxy']!.configs).toEqual([{ source: 'api-proxy', target: '/etc/nginx/conf.d/default.conf' }]);
    // As Compose hands it to nginx: `$$` is its escape for a literal `$`.
    const proxy = compose.configs['api-proxy']!.content.replaceAll('$$', '$');
    expect(proxy).toContain('resolver 127.0.0.11');
    expect(proxy).toContain('set $api http://api:3000;');
    expect(proxy).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    // The API believes only the proxy on the compose network about the client.
    expect(services.api!.environment!.TRUST_PROXY).toBe('${TRUST_PROXY:-uniquelocal}');
    expect(services.temporal!.environment!.DB).toBe('postgres12');
    expect(services.temporal!.environment!.POSTGRES_SEEDS).toBe('postgres');
  });

  it('depends only on services it defines', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect([name, dependency, Object.keys(services).includes(dependency)]).toEqual([name, dependency, true]);
      }
    }
  });

  it('points API and worker at the compose PostgreSQL and Temporal, in production mode', () => {
    for (const name of ['api', 'worker']) {
      const env = services[name]!.environment!;
      expect(env.NODE_ENV).toBe('production');
      expect(env.DATABASE_URL).toMatch(/@postgres:5432\/refundflow$/);
      expect(env.TEMPORAL_ADDRESS).toBe('${TEMPORAL_ADDRESS:-temporal:7233}'); // the compose Temporal unless told otherwise
      expect(env.API_KEYS).toContain('API_KEYS:?');
      // Every variable passed is one the service reads (a secret's NAME_FILE form included).
      const reads = (variable: string) =>
        configSource.includes(`'${variable}'`) ||
        configSource.includes(`.${variable}`) ||
        (SECRET_SETTINGS as readonly string[]).includes(variable.replace(/_FILE$/, '')) ||
        // PROVIDER_<ROUTE>, one per route the service knows
        (PROVIDER_NAMES as readonly string[]).map((route) => `PROVIDER_${route.toUpperCase()}`).includes(variable);
      for (const variable of Object.keys(env)) expect([variable, reads(variable)]).toEqual([variable, true]);
    }
    expect(services.worker!.environment!.SANDBOX_WEBHOOK_URL).toBe('http://api:3000/v1/webhooks/providers');
  });

  it('keeps every replica’s database pool within half of PostgreSQL’s connections, the other half for Temporal', () => {
    const maxConnections = Number(/max_connections=(\d+)/.exec(String(services.postgres!.command))?.[1]);
    const defaults = loadConfig({ ...process.env, NODE_ENV: 'development' });
    const replicas = (name: string) => services[name]!.deploy?.replicas ?? 1;
    const pools = replicas('api') * defaults.databasePoolSize + replicas('worker') * workerPoolSize(defaults.worker);
    expect(pools).toBeGreaterThan(0);
    expect(pools).toBeLessThanOrEqual(maxConnections / 2);
  });

  it('gives each its own database user: the owner only migrates, the service logs in as its own role, Temporal as its own (issue #20)', () => {
    for (const name of ['api', 'worker']) {
      const env = services[name]!.environment!;
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/refundflow_app:\$\{REFUNDFLOW_DB_PASSWORD:\?/);
      expect(env.DATABASE_OWNER_URL).toBeUndefined();
      expect(env.MIGRATE_ON_START).toBe('false');
      expect(services[name]!.depends_on!.migrate).toEqual({ condition: 'service_completed_successfully' });
    }
    const migrate = services.migrate!;
    expect(migrate.command).toEqual(['node', 'dist/src/migrate-main.js']);
    expect(migrate.environment!.DATABASE_OWNER_URL).toMatch(/^postgres:\/\/refundflow:\$\{POSTGRES_PASSWORD:\?/);
    expect(existsSync(path.join(root, 'dist', 'src', 'migrate-main.js'))).toBe(true);
    // Temporal never sees refundflow's users, nor refundflow Temporal's.
    expect(services.temporal!.environment!.POSTGRES_USER).toBe('temporal');
    expect(services['temporal-schema']!.environment!.SQL_PASSWORD).toContain('TEMPORAL_DB_PASSWORD');
    expect(String(services['temporal-schema']!.command)).toContain('-u temporal');
    const roles = compose.configs['postgres-roles']!.content;
    expect(roles).toContain("CREATE ROLE refundflow_app LOGIN PASSWORD :'app_password' IN ROLE refundflow_service");
    expect(roles).toContain("CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password'");
    // The role the migrations grant to is the one the service's login belongs to.
    expect(readFileSync(path.join(root, 'src', 'db', 'migrations', '0016_service_role.sql'), 'utf8')).toContain('REVOKE UPDATE, DELETE, TRUNCATE ON refund_events FROM refundflow_service');
  });

  it('runs Temporal on images still built: temporalio/server, its schema set up by admin-tools of the same release', () => {
    expect(JSON.stringify(services)).not.toContain('auto-setup:');
    const server = services.temporal!.image!;
    expect(server).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    const release = server.split(':')[1]!;
    const schema = services['temporal-schema']!;
    expect(schema.image).toMatch(new RegExp(`^temporalio/admin-tools:${release.replace(/\./g, '\\.')}(-|$)`));
    expect(services['temporal-namespace']!.image).toBe(schema.image);
    const setup = String(schema.command);
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d']) expect(setup).toContain(step);
    expect(setup).toContain('temporal:temporal temporal_visibility:visibility');
    expect(services.temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    for (const name of ['api', 'worker']) expect(services[name]!.depends_on!['temporal-namespace']).toEqual({ condition: 'service_completed_successfully' });
  });

  it('registers the search attributes the workflow sets', () => {
    const command = String(services['temporal-namespace']!.command);
    expect(command).toContain('operator namespace create --namespace default');
    for (const key of REFUND_SEARCH_ATTRIBUTES) {
      const type = { KEYWORD: 'Keyword', INT: 'Int', BOOL: 'Bool' }[key.type as 'KEYWORD' | 'INT' | 'BOOL'];
      expect(command).toContain(`${key.name}=${type}`);
    }
  });
});
