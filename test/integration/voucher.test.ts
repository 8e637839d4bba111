/**
 * The refund voucher (退款凭证, issue #21) in a real browser: merchant, order, the original payment,
 * amount and reason, the approval, the trace reference and the times, in English and Chinese, at a
 * desktop's 1280 px and a phone's 390 px, nothing wider than the screen, the account masked.
 */
import '../support/quiet-temporal';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { DEVELOPMENT_API_KEYS } from '../../src/config';
import { textOf } from '../../src/console/text';
import { launchBrowser, screenshots, signIn } from '../support/browser';
import { callAs } from '../support/call-as';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const ADMIN = 'voucher-admin-key-0123456789abcdef0123456789';
const PAYER = '6222020200112348888';
let running: TestService;
let browser: Browser;
let refund: { id: string; orderId: string; traceReference: string };

beforeAll(async () => {
  running = await startTestService({ API_KEYS: `${DEVELOPMENT_API_KEYS},${ADMIN}=admin:ops`, SANDBOX_SETTLEMENT_DELAY: '100ms' });
  browser = await launchBrowser();
  expect((await callAs(running.service.apiUrl!, ADMIN, 'POST', '/v1/merchants', { id: 'm_jingan', name: '静安旗舰店' })).status).toBe(201);
  const payment = paymentRegistration({ merchantId: 'm_jingan', amount: 300_000, payerAccount: PAYER });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 120_000, currency: 'CNY', reason: 'defective', note: 'screen cracked on arrival' }, headers: { 'Idempotency-Key': uniqueId('k') } });
  expect(created.body.status).toBe('pending_approval');
  expect((await running.call('POST', `/v1/refunds/${created.body.id}/approve`, { key: 'dev-supervisor-a', body: { comment: 'photos checked' } })).status).toBe(200);
  const paid = await eventually(async () => {
    const { body } = await running.call('GET', `/v1/refunds/${created.body.id}`, { key: 'dev-support' });
    return body.status === 'succeeded' ? body : undefined;
  }, 30_000, 'the refund paid');
  refund = { id: paid.id, orderId: paid.orderId, traceReference: paid.provider.traceReference };
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const cases = [
  { locale: 'en', width: 1280, says: ['Refund voucher', 'Original payment', 'Trace reference', textOf('en').reasons.defective, 'supervisor-a'] },
  { locale: 'en', width: 390, says: ['Refund voucher', 'Paid back'] },
  { locale: 'zh-CN', width: 1280, says: ['退款凭证', '原交易', '查询编号', '退款金额', textOf('zh-CN').reasons.defective] },
  { locale: 'zh-CN', width: 390, says: ['退款凭证', '到账时间'] },
];

it.each(cases)('renders in $locale at $width px: every fact there, the account masked, nothing wider than the screen', async ({ locale, width, says }) => {
  const page = await signIn(browser, running.service.apiUrl!, 'dev-support');
  await page.setViewportSize({ width, height: 900 });
  await page.goto(`/console/refunds/${refund.id}`);
  await page.getByRole('link', { name: 'Voucher (print)' }).click();
  await page.goto(`${page.url()}?lang=${locale}`);
  const text = (await page.locator('main').textContent()) ?? '';
  for (const words of [...says, '静安旗舰店', refund.orderId, refund.traceReference, '****8888', 'photos checked', '¥1,200.00']) expect([words, text.includes(words)]).toEqual([words, true]);
  expect(await page.content()).not.toContain(PAYER);
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
  // The page's own font draws the Chinese (the browser here has none of its own).
  expect(await page.evaluate('document.fonts.ready.then(() => document.fonts.check(\'16px "Noto Sans SC"\', "退款凭证"))')).toBe(true);
  await screenshots(page, `voucher-${locale}-${width}`);
});

it('another merchant’s key finds no voucher: 404', async () => {
  const issued = await callAs(running.service.apiUrl!, ADMIN, 'POST', '/v1/merchants', { id: 'm_other', name: 'Other shop' });
  expect(issued.status).toBe(201);
  const key = (await callAs(running.service.apiUrl!, ADMIN, 'POST', '/v1/api-keys', { role: 'support', principal: 'other-support', merchants: ['m_other'] })).body.key as string;
  const page = await signIn(browser, running.service.apiUrl!, key);
  const answer = await page.goto(`/console/refunds/${refund.id}/voucher`);
  expect(answer?.status()).toBe(404);
});

/** A PDF's text as PDF.js reads it (a child process: PDF.js is an ES module). */
function pdfText(pdf: Buffer): { pages: string[]; title: string | null } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'voucher-')), 'voucher.pdf');
  writeFileSync(file, pdf);
  return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, '../support/pdf-text.mjs'), file], { encoding: 'utf8' }));
}

it.each([
  { locale: 'zh-CN', says: ['退款凭证', '原交易', '查询编号', '退款金额', '静安旗舰店', textOf('zh-CN').reasons.defective] },
  { locale: 'en', says: ['Refund voucher', 'Original payment', 'Trace reference', 'Refund amount', textOf('en').reasons.defective] },
])('the PDF through the API ($locale) opens, and its text has the trace reference, the facts, and only the masked account', async ({ locale, says }) => {
  const answer = await fetch(`${running.service.apiUrl}/v1/refunds/${refund.id}/voucher?locale=${locale}`, { headers: { Authorization: 'Bearer dev-support' } });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toBe('application/pdf');
  const pdf = Buffer.from(await answer.arrayBuffer());
  expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.7');
  const { pages, title } = pdfText(pdf);
  const text = pages.join('\n');
  for (const words of [...says, refund.id, refund.orderId, refund.traceReference, '****8888', 'supervisor-a', 'photos checked', '¥1,200.00']) expect([words, text.includes(words)]).toEqual([words, true]);
  expect(text).not.toContain(PAYER);
  expect(title).toContain(refund.id);
});

it('the PDF from the console, for the session’s merchants only', async () => {
  const page = await signIn(browser, running.service.apiUrl!, 'dev-support');
  const answer = await page.request.get(`${running.service.apiUrl}/console/refunds/${refund.id}/voucher.pdf`);
  expect(answer.status()).toBe(200);
  expect(pdfText(await answer.body()).pages.join('')).toContain(refund.traceReference);
  const other = await fetch(`${running.service.apiUrl}/v1/refunds/${refund.id}/voucher`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  expect(other.status).toBe(403); // an admin key manages merchants and keys, and reads no refunds
});
