/**
 * A provider is one folder (issue #21): a provider module is named in its own folder and on its
 * line in the registry, and nowhere else in the service's code; configuration, the notification
 * routes and the worker take it from the registry.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROUTE_ADAPTERS, SECRET_SETTINGS } from '../../src/config';
import { PROVIDER_MODULES } from '../../src/providers/adapters';

const root = path.resolve(__dirname, '../..');

describe.each(PROVIDER_MODULES.map((module) => [module.adapter, module] as const))('the %s provider module', (adapter, module) => {
  it('is named only in its own folder and the registry line', () => {
    const files = execFileSync('git', ['grep', '-il', adapter, '--', 'src'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    expect(files.filter((file) => !file.startsWith(`src/providers/${adapter}/`))).toEqual(['src/providers/adapters.ts']);
  });

  it('serves its routes, takes its secrets from files, and is in the README’s "Adding a provider"', () => {
    for (const route of module.routes) expect(ROUTE_ADAPTERS[route]).toContain(adapter);
    for (const name of module.secretSettings) expect(SECRET_SETTINGS).toContain(name);
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/## Adding a provider/);
    expect(readme).toContain(`src/providers/${adapter}/`);
  });
});
