/**
 * Customer messages that actually leave (issue #10): the outbox delivers email through SMTP to a
 * real SMTP server started here (`smtp-server`), read back with `mailparser`. An SMTP outage is
 * waited out with growing pauses and the message delivered once the server is back; a message
 * that can never be delivered ends as a dead letter the refund's console page shows.
 */
import '../support/quiet-temporal';
import { sql } from 'drizzle-orm';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/dev/ports';
import { deliverPendingNotifications, MAX_DELIVERY_ATTEMPTS, notificationsOfRefund, retryDelaySeconds } from '../../src/db/queries/notifications';
import { eventually, paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;
let smtpPort: number;
let smtp: SMTPServer | null = null;
const received: ParsedMail[] = [];

/** A plain SMTP server on `smtpPort` that keeps every message it is given. */
async function startSmtp(): Promise<void> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // A mailbox that does not exist: every try at it is refused, as a real server would.
    onRcptTo(address, _session, done) {
      done(address.address.startsWith('nobody') ? Object.assign(new Error('550 mailbox unavailable'), { responseCode: 550 }) : undefined);
    },
    onData(stream, _session, done) {
      simpleParser(stream).then(
        (mail) => {
          received.push(mail);
          done();
        },
        (error: Error) => done(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(smtpPort, '127.0.0.1', resolve));
  smtp = server;
}

async function stopSmtp(): Promise<void> {
  const server = smtp;
  smtp = null;
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
}

beforeAll(async () => {
  smtpPort = await freePort();
  await startSmtp();
  running = await startTestService({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SMTP_FROM: 'Shop refunds <refunds@shop.example>', SANDBOX_SETTLEMENT_DELAY: '200ms' });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await stopSmtp();
});

async function refundWithEmail(email: string, locale: 'zh-CN' | 'en') {
  const payment = paymentRegistration({ payerAccount: '6222020200117654321', customer: { name: 'Li Wei', email, locale } });
  expect((await running.call('POST', '/v1/payments', { body: payment })).status).toBe(201);
  const created = await running.call('POST', '/v1/refunds', {
    body: { paymentId: payment.id, amount: 12_345, currency: 'CNY', reason: 'defective' },
    headers: { 'Idempotency-Key': uniqueId('k') },
  });
  expect(created.status).toBe(201);
  return { payment, refundId: created.body.id as string };
}

const mailsTo = (address: string) => received.filter((mail) => mail.to && !Array.isArray(mail.to) && mail.to.value[0]?.address === address);

it('sends each customer message once, by SMTP, with the masked account, the trace reference and the expected date', async () => {
  const address = `${uniqueId('li')}@example.com`;
  const { refundId } = await refundWithEmail(address, 'en');
  await eventually(async () => (await running.call('GET', `/v1/refunds/${refundId}`)).body.status === 'succeeded', 20_000, 'the refund paid');
  const refund = (await running.call('GET', `/v1/refunds/${refundId}`)).body;
  const queued = (await notificationsOfRefund(running.database.db, refundId)).filter((n) => n.channel === 'email');
  expect(queued.map((n) => n.template)).toEqual(['refund_sent', 'refund_succeeded']);
  await eventually(async () => mailsTo(address).length === queued.length, 20_000, 'the emails arriving');

  const mails = mailsTo(address);
  expect(mails.map((mail) => mail.subject)).toEqual(queued.map((n) => n.subject));
  expect(mails.map((mail) => mail.messageId)).toEqual(queued.map((n) => `<${refundId}.${n.noticeKey}@shop.example>`));
  expect(mails[0]!.from!.text).toBe('"Shop refunds" <refunds@shop.example>');
  const sent = mails[0]!.text!;
  expect(sent).toContain('****4321');
  expect(sent).not.toContain('6222020200117654321');
  expect(sent).toContain(refund.provider.traceReference);
  expect(sent).toMatch(/\d{4}-\d{2}-\d{2}/); // the expected arrival date
  // Marked sent once the server took it (the mark commits just after the server's answer).
  const marks = async () => (await notificationsOfRefund(running.database.db, refundId)).filter((n) => n.channel === 'email').map((n) => [n.status, n.attempts]);
  await eventually(async () => (await marks()).every(([status]) => status === 'sent'), 10_000, 'the messages marked sent');
  expect(await marks()).toEqual([
    ['sent', 1],
    ['sent', 1],
  ]);
}, 60_000);

it('speaks the customer’s language: a zh-CN customer gets Chinese', async () => {
  const address = `${uniqueId('li')}@example.com`;
  await refundWithEmail(address, 'zh-CN');
  await eventually(async () => mailsTo(address).length >= 1, 20_000, 'the email arriving');
  expect(mailsTo(address)[0]!.subject).toMatch(/您的退款 ¥123\.45/);
}, 60_000);

it('waits out an SMTP outage and delivers once the server is back', async () => {
  await stopSmtp();
  const address = `${uniqueId('li')}@example.com`;
  const { refundId } = await refundWithEmail(address, 'en');
  // Refused while the server is down: tried, kept pending, tried again later.
  await eventually(
    async () => (await notificationsOfRefund(running.database.db, refundId)).some((n) => n.channel === 'email' && n.attempts >= 1 && n.status === 'pending' && n.lastError !== null),
    20_000,
    'a failed try',
  );
  const [failed] = await notificationsOfRefund(running.database.db, refundId);
  expect(failed!.lastError).toMatch(/ECONNREFUSED|connect/i);
  expect(failed!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
  await startSmtp();
  await eventually(async () => mailsTo(address).length === 2, 40_000, 'the emails delivered after the outage');
  const emails = async () => (await notificationsOfRefund(running.database.db, refundId)).filter((n) => n.channel === 'email');
  await eventually(async () => (await emails()).every((n) => n.status === 'sent'), 10_000, 'the messages marked sent');
  const after = await emails();
  // The one refused during the outage went on a later try (the next may have been queued after it).
  expect(after.find((n) => n.id === failed!.id)!.attempts).toBeGreaterThanOrEqual(2);
}, 90_000);

it('backs off between tries and gives a message up as a dead letter after the last one, shown on the refund’s page', async () => {
  expect([1, 2, 3, 4, 10, 12].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 1_800, 1_800]);
  const { db } = running.database;
  const { refundId } = await refundWithEmail(`${uniqueId('nobody')}@example.com`, 'en');
  await eventually(async () => (await notificationsOfRefund(db, refundId)).length > 0, 20_000, 'a message queued');
  // The SMTP server refuses the mailbox (the worker's own dispatcher tries too); time is moved on
  // by making the message due again, and this transport fails the same way.
  for (let attempt = 1; attempt <= MAX_DELIVERY_ATTEMPTS + 2; attempt += 1) {
    await db.execute(sql`UPDATE notifications SET next_attempt_at = now() WHERE refund_id = ${refundId} AND status = 'pending'`);
    await deliverPendingNotifications(db, async (n) => {
      if (n.refundId === refundId) throw new Error('550 mailbox unavailable');
    });
  }
  const [dead] = await notificationsOfRefund(db, refundId);
  expect(dead).toMatchObject({ status: 'failed', attempts: MAX_DELIVERY_ATTEMPTS });
  expect(dead!.lastError).toMatch(/550 mailbox unavailable/);

  // Support sees it on the refund's page.
  const cookie = await signIn('dev-support');
  const page = await fetch(`${running.service.apiUrl}/console/refunds/${refundId}`, { headers: { cookie } });
  const html = await page.text();
  expect(html).toMatch(/Customer messages[\s\S]*refund_sent[\s\S]*not delivered[\s\S]*550 mailbox unavailable/);
  expect(html).not.toMatch(/nobody[^@]*@example\.com/); // the address masked
}, 60_000);

/** A console session cookie, signed in the way the sign-in form does it. */
async function signIn(key: string): Promise<string> {
  const form = await fetch(`${running.service.apiUrl}/console/sign-in`);
  const csrfCookie = form.headers.getSetCookie().find((c) => c.startsWith('rf_sign_in='))!.split(';')[0]!;
  const csrf = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1]!;
  const signedIn = await fetch(`${running.service.apiUrl}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: new URLSearchParams({ _csrf: csrf, key }).toString(),
    redirect: 'manual',
  });
  return signedIn.headers.getSetCookie().find((c) => c.startsWith('rf_session='))!.split(';')[0]!;
}
