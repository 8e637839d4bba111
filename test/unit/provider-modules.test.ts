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
/**
 * The card acquirers are theirs alone. The wallets' names are also their routes' (`alipay`), and
 * their accounts per merchant (issue #17: src/merchants/, the merchants API) and WeChat Pay's own
 * card transfer are features of the service that name them.
 */
const ONE_FOLDER = ['unionpay', 'lakala'];

it.each(ONE_FOLDER)('the %s module is named only in its own folder and the registry line', (adapter) => {
  expect(PROVIDER_MODULES.map((module) => module.adapter)).toContain(adapter);
  const files = execFileSync('git', ['grep', '-il', adapter, '--', 'src'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
  expect(files.filter((file) => !file.startsWith(`src/providers/${adapter}/`))).toEqual(['src/providers/adapters.ts']);
});

it.each(PROVIDER_MODULES.map((module) => [module.adapter, module] as const))('the %s module serves its routes, takes its secrets from files, and is in the README’s "Adding a provider"', (adapter, module) => {
  for (const route of module.routes) expect(ROUTE_ADAPTERS[route]).toContain(adapter);
  for (const name of module.secretSettings) expect(SECRET_SETTINGS).toContain(name);
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  expect(readme).toMatch(/### Adding a provider/);
  expect(readme).toContain(adapter === 'unionpay' ? 'src/providers/unionpay/' : `\`${adapter}\``);
});
