/**
 * The console in a real browser (Chromium through Playwright) against the whole service: real
 * PostgreSQL, a real Temporal dev server, the sandbox providers. Supervisors sign in with their
 * development keys and decide from the inbox or the refund's page; the money is checked through
 * the API and the sandbox's payouts.
 */
import '../support/quiet-temporal';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshots } from '../support/browser';
import { netPaidOut, operationsOfPayment } from '../support/ground-truth';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;
let browser: Browser;

beforeAll(async () => {
  running = await startTestService({ SANDBOX_SETTLEMENT_DELAY: '200ms' });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close(); // and its contexts
  await running?.stop();
});

/** A refund above the automatic limit, waiting for approval. */
async function pendingRefund(options: { amount?: number; paymentAmount?: number; requestedBy?: string } = {}) {
  const payment = paymentRegistration({ amount: options.paymentAmount ?? 100_000 });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount: options.amount ?? 60_000, currency: 'CNY', reason: 'defective', ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}) },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  expect(created.body.status).toBe('pending_approval');
  return { payment, refund: created.body as { id: string; amount: number } };
}

async function signIn(key: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: running.service.apiUrl!, locale: 'en-US', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  await page.goto('/console');
  await page.getByLabel('Your API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

function rowOf(page: Page, refundId: string) {
  return page.locator('tr', { has: page.getByRole('link', { name: refundId }) });
}

async function statusOf(refundId: string): Promise<string> {
  return (await running.call('GET', `/v1/refunds/${refundId}`)).body.status;
}

it('a supervisor approves a pending refund from the inbox, and it is paid once', async () => {
  const { payment, refund } = await pendingRefund();
  const page = await signIn('dev-supervisor-a');
  await page.waitForURL('**/console/inbox');
  const row = rowOf(page, refund.id);
  await expect(row.textContent()).resolves.toContain('¥600.00');
  await screenshots(page, 'inbox');
  await row.getByLabel('Comment (optional)').fill('receipt checked');
  await row.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.waitForURL(`**/console/refunds/${refund.id}?done=approved`);
  await expect(page.getByRole('status').textContent()).resolves.toBe('Approved.');
  await eventually(async () => (await statusOf(refund.id)) === 'succeeded', 20_000, 'the refund paid');
  await page.reload();
  await screenshots(page, 'refund');
  const operations = await operationsOfPayment(running.call, payment.id);
  expect(operations).toEqual([expect.objectContaining({ kind: 'refund', amount: refund.amount, status: 'settled' })]);
  const approvals = (await running.call('GET', `/v1/refunds/${refund.id}`)).body.approvals;
  expect(approvals).toEqual([expect.objectContaining({ principal: 'supervisor-a', comment: 'receipt checked' })]);
});

it('the requester cannot approve their own refund: the page says why instead of offering the button', async () => {
  const { refund } = await pendingRefund({ requestedBy: 'supervisor-a' });
  const page = await signIn('dev-supervisor-a');
  const row = rowOf(page, refund.id);
  await expect(row.textContent()).resolves.toMatch(/You cannot decide this one:/);
  expect(await row.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
  expect(await statusOf(refund.id)).toBe('pending_approval');
});

it('a dual-approval refund needs supervisor A, then supervisor B', async () => {
  const { refund } = await pendingRefund({ amount: 2_500_000, paymentAmount: 3_000_000 });
  const a = await signIn('dev-supervisor-a');
  await a.goto(`/console/refunds/${refund.id}`);
  await a.getByRole('button', { name: 'Approve', exact: true }).click();
  await a.waitForURL(`**/console/refunds/${refund.id}?done=approved`);
  expect(await statusOf(refund.id)).toBe('pending_approval');
  // Once is all A may do.
  await expect(a.locator('.why').textContent()).resolves.toMatch(/You cannot decide this one:/);

  const b = await signIn('dev-supervisor-b');
  await b.goto(`/console/refunds/${refund.id}`);
  await b.getByRole('button', { name: 'Approve', exact: true }).click();
  await b.waitForURL(`**/console/refunds/${refund.id}?done=approved`);
  await eventually(async () => (await statusOf(refund.id)) === 'succeeded', 20_000, 'the refund paid');
});

it('support sees the inbox without an approve button, and a service key cannot sign in', async () => {
  const { refund } = await pendingRefund();
  const support = await signIn('dev-support');
  const row = rowOf(support, refund.id);
  await expect(row.textContent()).resolves.toMatch(/You cannot decide this one:/);
  expect(await row.getByRole('button').count()).toBe(0);

  const service = await signIn('dev-service');
  await expect(service.getByRole('status').textContent()).resolves.toMatch(/Service keys .* cannot sign in/);
  expect(service.url()).toMatch(/\/console\/sign-in$/);
});

it('shows a new request in the inbox without a reload', async () => {
  const page = await signIn('dev-supervisor-b');
  await page.waitForURL('**/console/inbox');
  const { refund } = await pendingRefund();
  await page.getByRole('link', { name: refund.id }).waitFor({ timeout: 20_000 });
});

it('support finds a declined refund on the desk, proposes a bank transfer, a supervisor approves it: one payout', async () => {
  const payment = paymentRegistration({ amount: 100_000, payerAccount: '6222020200110002' }); // 0002: the card route declines
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount: 20_000, currency: 'CNY', reason: 'defective' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  await eventually(async () => (await statusOf(created.body.id)) === 'requires_action', 20_000, 'the decline');

  const support = await signIn('dev-support');
  await support.goto('/console/desk');
  const row = rowOf(support, created.body.id);
  await expect(row.textContent()).resolves.toContain('provider_declined');
  await screenshots(support, 'desk');
  await row.getByLabel('Bank account number').fill('6222 0000 1234 5678');
  await row.getByLabel('Account holder').fill('Li Wei');
  await row.getByLabel('Why this account').fill('the card is closed');
  await row.getByRole('button', { name: 'Propose a bank transfer' }).click();
  await support.waitForURL(`**/console/refunds/${created.body.id}?done=proposed`);
  expect(await support.content()).not.toContain('1234 5678');

  const supervisor = await signIn('dev-supervisor-a');
  await supervisor.goto(`/console/refunds/${created.body.id}`);
  await supervisor.getByRole('button', { name: 'Approve proposal' }).click();
  await supervisor.waitForURL(`**/console/refunds/${created.body.id}?done=approved`);
  await eventually(async () => (await statusOf(created.body.id)) === 'succeeded', 20_000, 'paid by bank transfer');
  const operations = await operationsOfPayment(running.call, payment.id);
  expect(netPaidOut(operations)).toBe(20_000);
  expect(operations.filter((op) => op.status === 'settled')).toEqual([expect.objectContaining({ provider: 'bank_transfer', amount: 20_000 })]);
  expect((await running.call('GET', `/v1/refunds/${created.body.id}`)).body.destination).toMatchObject({ type: 'bank_transfer', account: '****5678' });
});

it('sign-out ends the session: its cookie opens nothing afterwards', async () => {
  const page = await signIn('dev-supervisor-a');
  await page.waitForURL('**/console/inbox');
  const [session] = (await page.context().cookies()).filter((cookie) => cookie.name === 'rf_session');
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/console/sign-in');
  await page.context().addCookies([session!]);
  await page.goto('/console/inbox');
  expect(page.url()).toMatch(/\/console\/sign-in$/);
});

it('refuses a form post without the CSRF token, and nothing changes', async () => {
  const { refund } = await pendingRefund();
  const page = await signIn('dev-supervisor-a');
  await page.waitForURL('**/console/inbox');
  const forged = await page.context().request.post(`/console/refunds/${refund.id}/approve`, { form: { comment: 'forged' } });
  expect(forged.status()).toBe(403);
  const wrong = await page.context().request.post(`/console/refunds/${refund.id}/approve`, { form: { comment: 'forged', _csrf: 'not-the-token' } });
  expect(wrong.status()).toBe(403);
  expect(await statusOf(refund.id)).toBe('pending_approval');
  expect((await running.call('GET', `/v1/refunds/${refund.id}`)).body.approvals).toEqual([]);
});

it('speaks Simplified Chinese, with its own font', async () => {
  const page = await signIn('dev-supervisor-a');
  await page.goto('/console/inbox?lang=zh-CN');
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('待审批');
  // Run in the page: `document` is the browser's.
  expect(await page.evaluate('document.fonts.ready.then(() => document.fonts.check(\'16px "Noto Sans SC"\', "待审批"))')).toBe(true);
  await screenshots(page, 'inbox-zh-CN');
});
