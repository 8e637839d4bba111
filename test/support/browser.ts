/**
 * A real Chromium for the console's end-to-end tests, driven by Playwright: the binary that
 * `npm install` brought (`@sparticuz/chromium`), or Debian's where installed. Nothing is
 * downloaded at test time. Screenshots go to `test-results/` (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** Chromium's background traffic is refused on a closed network; these keep it quiet. */
const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function launchBrowser(): Promise<Browser> {
  if (existsSync(DEBIAN_CHROMIUM)) return chromium.launch({ executablePath: DEBIAN_CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', ...QUIET] });
  const { executablePath, args } = sparticuzChromium();
  // Its serverless defaults switch web security off; the console is tested with it on.
  return chromium.launch({ executablePath, headless: true, args: [...args.filter((arg) => arg !== '--disable-web-security'), ...QUIET] });
}

/**
 * `@sparticuz/chromium` is an ES module, which Jest's CommonJS runtime cannot load: a plain Node
 * unpacks the binary (once, into /tmp) and says where it is and how to start it.
 */
function sparticuzChromium(): { executablePath: string; args: string[] } {
  const script = "import('@sparticuz/chromium').then(async ({ default: c }) => process.stdout.write(JSON.stringify({ executablePath: await c.executablePath(), args: c.args })))";
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '../..'), encoding: 'utf8' })) as { executablePath: string; args: string[] };
}

export const SCREENSHOTS = path.join(__dirname, '../../test-results/console');

/** What users see, at a desktop width and a phone's. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** A person signed in to the console with their development key, in a browser context of their own. */
export async function signIn(browser: Browser, baseURL: string, key: string): Promise<Page> {
  const context = await browser.newContext({ baseURL, locale: 'en-US', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  await page.goto('/console');
  await page.getByLabel('Your API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

/** The table row that links to `refundId` (the inbox's and the desk's). */
export function rowOf(page: Page, refundId: string) {
  return page.locator('tr', { has: page.getByRole('link', { name: refundId }) });
}
