/**
 * The console in a real browser (Chromium through Playwright) against the whole service: real
 * PostgreSQL, a real Temporal dev server, the sandbox providers. Supervisors sign in with their
 * development keys and decide from the inbox or the refund's page; the money is checked through
 * the API and the sandbox's payouts.
 */
import '../support/quiet-temporal';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, rowOf, screenshots, signIn as signInAs } from '../support/browser';
import { netPaidOut, operationsOfPayment } from '../support/ground-truth';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;
let browser: Browser;

beforeAll(async () => {
  // Short settlement deadlines so a refund that never settles (`0009`) is delayed, then needs action, within seconds.
  running = await startTestService({ SANDBOX_SETTLEMENT_DELAY: '200ms', REFUND_SETTLEMENT_SLA: '3s', REFUND_SETTLEMENT_DEADLINE: '6s' });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close(); // and its contexts
  await running?.stop();
});

/** A refund below the automatic limit, on its way to the provider at once. */
async function automaticRefund(payerAccount: string, amount = 20_000) {
  const payment = paymentRegistration({ amount: 100_000, payerAccount });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount, currency: 'CNY', reason: 'not_received' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  expect(created.status).toBe(201);
  return { payment, refund: created.body as { id: string; amount: number; orderId: string } };
}

/** Presses Tab until the focused element's `what` is `expected` (a few presses at most, as a person would). */
async function tabTo(page: Page, what: string, expected: string) {
  for (let presses = 0; presses < 6; presses += 1) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate(what)) === expected) return;
  }
  throw new Error(`Tab never reached ${expected}`);
}

/** Reloads the page until `row` says `text`: the desk's own refresh is every 10 s, the test need not wait for it. */
async function untilRowSays(page: Page, refundId: string, text: string) {
  await eventually(
    async () => {
      await page.reload();
      return ((await rowOf(page, refundId).textContent({ timeout: 1_000 }).catch(() => '')) ?? '').includes(text);
    },
    30_000,
    `the desk saying ${text}`,
  );
}

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

const signIn = (key: string): Promise<Page> => signInAs(browser, running.service.apiUrl!, key);

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
  await expect(service.getByRole('status').textContent()).resolves.toMatch(/Service keys belong to machines, admin keys to key management: neither signs in/);
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
  await expect(row.textContent()).resolves.toContain('declined by provider');
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

it('support finds a 0009 refund on the desk as delayed, then requires action; a reroute approved by a supervisor pays once', async () => {
  const { payment, refund } = await automaticRefund('6222020200110009'); // accepted by the card route, never settles
  const support = await signIn('dev-support');
  await support.goto('/console/desk');
  await untilRowSays(support, refund.id, 'settlement delayed');
  await expect(rowOf(support, refund.id).textContent()).resolves.toMatch(/delayed[\s\S]*needs attention/);
  await untilRowSays(support, refund.id, 'settlement deadline passed');
  const row = rowOf(support, refund.id);
  await expect(row.textContent()).resolves.toMatch(/requires action[\s\S]*card · accepted/);
  await row.getByLabel('Bank account number').fill('6217000010009876');
  await row.getByLabel('Account holder').fill('Li Wei');
  await row.getByLabel('Why this account').fill('the card never took it');
  await row.getByRole('button', { name: 'Propose a bank transfer' }).click();
  await support.waitForURL(`**/console/refunds/${refund.id}?done=proposed`);

  const supervisor = await signIn('dev-supervisor-b');
  const inboxRow = rowOf(supervisor, refund.id);
  await expect(inboxRow.textContent()).resolves.toMatch(/Open proposal: reroute[\s\S]*the card never took it[\s\S]*support-1/);
  await inboxRow.getByRole('button', { name: 'Approve proposal' }).click();
  await supervisor.waitForURL(`**/console/refunds/${refund.id}?done=approved`);
  await eventually(async () => (await statusOf(refund.id)) === 'succeeded', 20_000, 'paid by bank transfer');
  const operations = await operationsOfPayment(running.call, payment.id);
  expect(operations.map((op) => [op.provider, op.status])).toEqual([
    ['card', 'canceled'],
    ['bank_transfer', 'settled'],
  ]);
  expect(netPaidOut(operations)).toBe(refund.amount);
  // The refund page shows both provider calls, the account masked.
  await supervisor.goto(`/console/refunds/${refund.id}`);
  const calls = supervisor.locator('table', { has: supervisor.getByRole('columnheader', { name: 'Attempt' }) });
  await expect(calls.locator('tbody tr').allTextContents()).resolves.toEqual([
    expect.stringMatching(/1\s+card\s+\*+0009[\s\S]*canceled/),
    expect.stringMatching(/2\s+bank transfer\s+\*+9876 \(Li Wei\)[\s\S]*settled/),
  ]);
  expect(await supervisor.content()).not.toContain('6217000010009876');
});

it('searches by refund id, payment id, order id, merchant, status, date range and the payer’s last four', async () => {
  const last4 = String(6000 + Math.floor(Math.random() * 3000));
  const { payment, refund } = await automaticRefund(`62220202001${last4}`);
  await eventually(async () => (await statusOf(refund.id)) === 'succeeded', 20_000, 'the refund paid');
  const page = await signIn('dev-support');
  const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10); // the business day (UTC+8)
  const found = async (query: Record<string, string>) => {
    await page.goto(`/console/search?${new URLSearchParams(query)}`);
    return page.locator('tbody tr a').allTextContents();
  };
  await expect(found({ paymentId: payment.id })).resolves.toEqual([refund.id]);
  await expect(found({ orderId: payment.orderId })).resolves.toEqual([refund.id]);
  await expect(found({ payerLast4: last4, status: 'succeeded', from: today, to: today })).resolves.toContain(refund.id);
  await expect(found({ merchantId: payment.merchantId, payerLast4: last4 })).resolves.toContain(refund.id);
  await expect(found({ paymentId: payment.id, status: 'pending_approval' })).resolves.toEqual([]);
  await expect(page.getByRole('status').textContent()).resolves.toBe('No refund matches.');
  await expect(found({ orderId: payment.orderId, from: '2020-01-01', to: '2020-01-31' })).resolves.toEqual([]);

  // Through the form, with the keyboard's Enter: the payer's last four and a status.
  await page.goto('/console/search');
  await page.getByLabel('Payer account, last four').fill(last4);
  await page.getByLabel('Status').selectOption('succeeded');
  await page.getByLabel('Payer account, last four').press('Enter');
  await page.waitForURL(/payerLast4=/);
  await expect(page.locator('tbody tr a').allTextContents()).resolves.toContain(refund.id);
  await screenshots(page, 'search');

  // A refund id opens the refund; odd input is refused with the field's reason, and finds nothing.
  await page.goto(`/console/search?refundId=${refund.id}`);
  expect(page.url()).toMatch(new RegExp(`/console/refunds/${refund.id}$`));
  const odd = await page.goto('/console/search?payerLast4=12&from=2026-13-40');
  expect(odd!.status()).toBe(400);
  await expect(page.getByRole('status').textContent()).resolves.toMatch(/Not done:.*From: must be a date.*payerLast4: must be the last four characters/);
});

it('reports counts and amounts by reason, channel and day with charts, and the same figures as CSV', async () => {
  const { refund } = await automaticRefund('6222020200112222', 12_300);
  await eventually(async () => (await statusOf(refund.id)) === 'succeeded', 20_000, 'the refund paid');
  const page = await signIn('dev-supervisor-a');
  await page.goto('/console/reports');
  const from = await page.getByLabel('From').inputValue();
  const to = await page.getByLabel('To (inclusive)').inputValue();
  expect(to).toBe(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10));
  for (const chart of ['By reason', 'By channel', 'By business day']) await expect(page.getByRole('img', { name: new RegExp(`^${chart}: `) }).count()).resolves.toBe(1);
  await screenshots(page, 'reports');

  // The API's report over the same business days is the ground truth.
  const range = { from: new Date(`${from}T00:00:00+08:00`).toISOString(), to: new Date(Date.parse(`${to}T00:00:00+08:00`) + 86_400_000).toISOString() };
  const api = (await running.call('GET', `/v1/reports/refunds?${new URLSearchParams({ ...range, groupBy: 'reason' })}`, { key: 'dev-supervisor-a' })).body;
  await expect(page.locator('.figures').textContent()).resolves.toContain(`Refunds in range${api.refunds}`);
  const download = await page.context().request.get(`/console/reports.csv?from=${from}&to=${to}`);
  expect(download.status()).toBe(200);
  expect(download.headers()['content-type']).toMatch(/^text\/csv/);
  expect(download.headers()['content-disposition']).toBe(`attachment; filename=refunds-${from}-to-${to}.csv`);
  const [header, ...rows] = (await download.text()).trim().split('\r\n').map((line) => line.split(','));
  expect(header).toEqual(['group_by', 'key', 'currency', 'count', 'amount_minor', 'amount']);
  const byReason = rows.filter(([groupBy]) => groupBy === 'reason').map(([, key, currency, count, amount]) => ({ key, currency, count: Number(count), amount: Number(amount) }));
  expect(byReason).toEqual(api.groups);
  for (const groupBy of ['channel', 'day']) expect(rows.filter(([g]) => g === groupBy).reduce((sum, row) => sum + Number(row[3]), 0)).toBe(api.refunds);
  expect(rows.find(([g, key]) => g === 'reason' && key === 'not_received')![5]).toMatch(/^\d+\.\d{2}$/);

  // A backwards range is refused with the reason, for the page and the file alike.
  expect((await page.goto('/console/reports?from=2026-02-01&to=2026-01-01'))!.status()).toBe(400);
  await expect(page.getByRole('status').textContent()).resolves.toMatch(/must end on or after/);
  expect((await page.context().request.get('/console/reports.csv?from=x&to=2026-01-01')).status()).toBe(400);
});

it('works with the keyboard alone: skip to the content, fill in the comment, approve', async () => {
  const { refund } = await pendingRefund();
  const context = await browser.newContext({ baseURL: running.service.apiUrl!, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/console/sign-in');
  await tabTo(page, 'document.activeElement.labels?.[0]?.textContent', 'Your API key');
  await page.keyboard.type('dev-supervisor-b');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/console/inbox');
  await page.goto(`/console/refunds/${refund.id}`);
  await page.keyboard.press('Tab');
  await expect(page.evaluate('document.activeElement.textContent')).resolves.toBe('Skip to content');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(page.evaluate('document.activeElement.labels[0].textContent')).resolves.toBe('Comment (optional)');
  await page.keyboard.type('checked by keyboard');
  await page.keyboard.press('Tab');
  await expect(page.evaluate('document.activeElement.textContent')).resolves.toBe('Approve');
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/console/refunds/${refund.id}?done=approved`);
  const approvals = (await running.call('GET', `/v1/refunds/${refund.id}`)).body.approvals;
  expect(approvals).toEqual([expect.objectContaining({ principal: 'supervisor-b', comment: 'checked by keyboard' })]);
});

it('every page: a label on every control, nothing wider than a 390 px phone, a screenshot at both widths', async () => {
  const { refund } = await pendingRefund();
  const anonymous = await (await browser.newContext({ baseURL: running.service.apiUrl!, locale: 'en-US' })).newPage();
  await anonymous.goto('/console/sign-in');
  const page = await signIn('dev-supervisor-a');
  await page.waitForURL('**/console/inbox');
  const pages: Array<[Page, string, string]> = [
    [anonymous, '/console/sign-in', 'sign-in'],
    [page, '/console/inbox', 'inbox'],
    [page, '/console/desk', 'desk'],
    [page, `/console/refunds/${refund.id}`, 'refund-pending'],
    [page, `/console/search?merchantId=m_shanghai_01`, 'search'],
    [page, '/console/reports', 'reports'],
    [page, '/console/inbox?lang=zh-CN', 'inbox-zh-CN'],
    [page, '/console/desk', 'desk-zh-CN'],
    [page, `/console/refunds/${refund.id}`, 'refund-zh-CN'],
    [page, `/console/search?merchantId=m_shanghai_01`, 'search-zh-CN'],
    [page, '/console/reports', 'reports-zh-CN'],
    [anonymous, '/console/sign-in?lang=zh-CN', 'sign-in-zh-CN'],
  ];
  for (const [tab, url, name] of pages) {
    await tab.setViewportSize({ width: 390, height: 900 });
    await tab.goto(url);
    const unlabelled = await tab.evaluate(
      "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter((c) => c.labels.length === 0).map((c) => c.name)",
    );
    expect({ name, unlabelled }).toEqual({ name, unlabelled: [] });
    const width = await tab.evaluate('document.documentElement.scrollWidth');
    expect({ name, width }).toEqual({ name, width: 390 });
    await screenshots(tab, name);
  }
  // In Chinese, the rules' refusals too.
  await page.goto(`/console/refunds/${refund.id}?lang=zh-CN`);
  await expect(page.locator('dl').textContent()).resolves.toContain('待审批');
  const own = await pendingRefund({ requestedBy: 'supervisor-a' });
  await page.goto(`/console/refunds/${own.refund.id}`);
  await expect(page.locator('.why').textContent()).resolves.toBe('您不能审批此项：这笔退款由您申请，须由其他人审批');
});
