/**
 * Payments and refunds for tests, made through the same service functions the API calls.
 */
import { fieldSealOf } from '../../src/field-seal';
import { SANDBOX_ROUTES } from '../../src/config';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Database } from '../../src/db/client';
import { registerPayment, type PaymentRegistration } from '../../src/payments/register-payment';
import { createRefund, type RefundRequest } from '../../src/refunds/create-refund';
import type { RefundCaller } from '../../src/merchants/merchant-scope';
import { DEFAULT_POLICY, type RefundPolicy } from '../../workflows/policy';

export const SERVICE_CALLER: RefundCaller = { principal: 'pos-backend', role: 'service', merchants: null };

export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A captured card payment; the account's last four digits choose the sandbox behaviour. */
export function paymentRegistration(overrides: Partial<PaymentRegistration> = {}): PaymentRegistration {
  return {
    id: uniqueId('pay'),
    merchantId: 'm_shanghai_01',
    orderId: uniqueId('ord'),
    channel: 'card',
    amount: 100_000,
    currency: 'CNY',
    status: 'captured',
    capturedAt: new Date(Date.now() - 86_400_000).toISOString(),
    payerAccount: '6222020200112341234',
    customer: { name: 'Li Wei', email: 'li.wei@example.com', locale: 'zh-CN' },
    ...overrides,
  };
}

/** How the workflow tests seal account numbers at rest: their worker's activities open with the same. */
export const TEST_FIELDS = fieldSealOf({ destinationSealKey: 'workflow-test-seal-key' });

export async function createPayment(db: Database, overrides: Partial<PaymentRegistration> = {}) {
  const { payment } = await registerPayment(db, TEST_FIELDS, paymentRegistration(overrides));
  return payment;
}

export interface RefundStarter {
  db: Database;
  temporal: Client;
  taskQueue: string;
  policy?: RefundPolicy;
  providerPollIntervalMs?: number;
}

/** Registers a payment and starts a refund of part of it, as POST /v1/refunds would. */
export async function startRefund(
  starter: RefundStarter,
  options: { account?: string; amount?: number; payment?: Partial<PaymentRegistration>; request?: Partial<RefundRequest> } = {},
) {
  const payment = await createPayment(starter.db, { ...options.payment, ...(options.account ? { payerAccount: options.account } : {}) });
  const { refund, started } = await createRefund(
    {
      db: starter.db,
      temporal: starter.temporal,
      taskQueue: starter.taskQueue,
      routes: SANDBOX_ROUTES,
      policy: starter.policy ?? DEFAULT_POLICY,
      providerPollIntervalMs: starter.providerPollIntervalMs ?? 60_000,
      fields: TEST_FIELDS,
    },
    SERVICE_CALLER,
    uniqueId('key'),
    { paymentId: payment.id, amount: options.amount ?? 25_000, currency: 'CNY', reason: 'defective', ...options.request },
  );
  await started; // the tests work with the refund's workflow at once
  return { payment, refund };
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
