/**
 * The sandbox providers' own tables: what they did with each refund, and the webhooks they owe.
 * They are not refundflow's records and exist only where the sandbox does: migrations of their own
 * (./migrations, applied after the service's when SANDBOX_ENABLED), so a production database
 * without the sandbox has none of them.
 */
import { sql } from 'drizzle-orm';
import { index, integer, pgEnum, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { createdAt, instant, money, providerName } from '../../db/schema';

export const sandboxOperationKind = pgEnum('sandbox_operation_kind', ['refund', 'reversal']);
export const sandboxOperationStatus = pgEnum('sandbox_operation_status', ['pending', 'settled', 'canceled', 'failed']);

/** What the sandbox providers actually did: the ground truth of exactly-once tests. */
export const sandboxOperations = pgTable(
  'sandbox_operations',
  {
    id: text('id').primaryKey(),
    provider: providerName('provider').notNull(),
    paymentId: text('payment_id').notNull(),
    refundId: text('refund_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    kind: sandboxOperationKind('kind').notNull(),
    amount: money('amount').notNull(),
    currency: text('currency').notNull(),
    accountLast4: text('account_last4').notNull(),
    traceReference: text('trace_reference').notNull(),
    status: sandboxOperationStatus('status').notNull(),
    failureReason: text('failure_reason'),
    /** For a reversal: the refund operation it takes money back from. */
    reverses: text('reverses'),
    settleAt: instant('settle_at'),
    settledAt: instant('settled_at'),
    returnAt: instant('return_at'),
    returnedAt: instant('returned_at'),
    /** What the bank sent back: what the payout still held after any reversals. */
    returnedAmount: money('returned_amount'),
    createdAt: createdAt(),
  },
  (t) => [
    index('sandbox_operations_key_idx').on(t.provider, t.idempotencyKey),
    index('sandbox_operations_payment_idx').on(t.provider, t.paymentId),
    index('sandbox_operations_due_idx')
      .on(t.settleAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);

/** How many times each sandbox submission key has been tried (drives the transient-failure case). */
export const sandboxSubmissionCounts = pgTable(
  'sandbox_submission_counts',
  {
    provider: providerName('provider').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    submissions: integer('submissions').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.provider, t.idempotencyKey] })],
);

/** Webhooks the sandbox banks owe our API, delivered until acknowledged. */
export const sandboxNotices = pgTable(
  'sandbox_notices',
  {
    id: text('id').primaryKey(),
    provider: providerName('provider').notNull(),
    operationId: text('operation_id')
      .notNull()
      .references(() => sandboxOperations.id),
    type: text('type').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Redelivery backs off: 1 s, 2 s, 4 s … up to a minute after the last try. */
    nextAttemptAt: instant('next_attempt_at').notNull().defaultNow(),
    createdAt: createdAt(),
    deliveredAt: instant('delivered_at'),
  },
  (t) => [
    index('sandbox_notices_undelivered_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.deliveredAt} IS NULL`),
  ],
);

export type SandboxOperationRow = typeof sandboxOperations.$inferSelect;
