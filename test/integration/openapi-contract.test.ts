/**
 * The OpenAPI document against the service that serves it, by an outside client: Schemathesis
 * runs every check (status codes and response schemas as documented, valid requests accepted,
 * invalid ones refused, 405 with Allow, no 5xx) over thousands of generated requests, as each
 * role. The exceptions, with their reasons, are in test/contract/schemathesis.toml.
 */
import '../support/quiet-temporal';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { findSchemathesis } from '../support/schemathesis';
import { paymentRegistration, uniqueId } from '../support/refund-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let running: TestService;
let st: string;

beforeAll(async () => {
  st = findSchemathesis();
  running = await startTestService({ SANDBOX_SETTLEMENT_DELAY: '100ms' });
  // Something to find: a payment with a refund, so lookups by id reach more than 404s.
  const payment = paymentRegistration();
  await running.call('POST', '/v1/payments', { body: payment });
  await running.call('POST', '/v1/refunds', { body: { paymentId: payment.id, amount: 1_000, currency: 'CNY', reason: 'other' }, headers: { 'Idempotency-Key': uniqueId('k') } });
}, 300_000);

afterAll(async () => {
  await running?.stop();
});

it.each(['dev-service', 'dev-support', 'dev-supervisor-a'])('holds every documented promise for %s', async (key) => {
  const result = await promisify(execFile)(
    st,
    ['--config-file', path.join(__dirname, '..', 'contract', 'schemathesis.toml'), '--no-color', 'run', `${running.service.apiUrl}/openapi.json`, '--checks', 'all', '--phases', 'examples,coverage,fuzzing', '-H', `Authorization: Bearer ${key}`, '--seed', '20261124'],
    { maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
  ).then(
    ({ stdout }) => ({ ok: true, output: stdout }),
    (error: { stdout?: string; message: string }) => ({ ok: false, output: error.stdout ?? error.message }),
  );
  // On failure the whole report is the message: every failing case with its curl to reproduce it.
  expect({ ok: result.ok, report: result.ok ? '' : result.output }).toEqual({ ok: true, report: '' });
  expect(result.output).toMatch(/No issues found|passed/);
}, 300_000);
