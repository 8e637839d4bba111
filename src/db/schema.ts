/**
 * refundflow's own records. Money columns are `bigint` counts of the currency's minor unit,
 * read as JavaScript numbers (exact up to 2^53). The invariants that protect money live here, in
 * the database, where no code path can skip them:
 *   - a payment's refunded plus reserved amounts never exceed what was captured (CHECK);
 *   - one refund per idempotency key and caller (primary key);
 *   - one provider attempt per provider idempotency key (unique);
 *   - the refund event log refuses UPDATE and DELETE (trigger, in a hand-written migration).
 */
import { sql } from 'drizzle-orm';
import {
  customType,
  bigint,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import {
  CUSTOMER_LOCALES,
  DESTINATION_TYPES,
  PAYMENT_CHANNELS,
  PAYMENT_STATUSES,
  PROVIDER_NAMES,
  PROVIDER_STATES,
  REFUND_REASONS,
  REFUND_STATUSES,
} from '../../workflows/lifecycle';
import type { CorrectionState } from '../../workflows/messages';
import type { ProposalView } from '../../workflows/proposals';
import type { MerchantPolicy } from '../../workflows/policy';

/** Column shapes shared with the sandbox's own tables (src/providers/sandbox/sandbox-schema.ts). */
export const money = (name: string) => bigint(name, { mode: 'number' });
/** A transaction id (PostgreSQL xid8), carried as its decimal text. */
const transactionId = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });
export const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
export const createdAt = () => instant('created_at').notNull().defaultNow();
const updatedAt = () => instant('updated_at').notNull().defaultNow();

export const paymentChannel = pgEnum('payment_channel', PAYMENT_CHANNELS);
export const paymentStatus = pgEnum('payment_status', PAYMENT_STATUSES);
export const providerName = pgEnum('provider_name', PROVIDER_NAMES);
export const providerState = pgEnum('provider_state', PROVIDER_STATES);
export const refundStatus = pgEnum('refund_status', REFUND_STATUSES);
export const refundReason = pgEnum('refund_reason', REFUND_REASONS);
export const customerLocale = pgEnum('customer_locale', CUSTOMER_LOCALES);
export const orderStatus = pgEnum('order_status', ['paid', 'partially_refunded', 'refunded']);
/** Where a refund's reserved amount stands: held, given back to the payment, or paid out. */
export const reservationState = pgEnum('reservation_state', ['reserved', 'released', 'settled']);
export const destinationType = pgEnum('destination_type', DESTINATION_TYPES);
export const notificationStatus = pgEnum('notification_status', ['pending', 'sent', 'failed', 'skipped']);

export const payments = pgTable(
  'payments',
  {
    id: text('id').primaryKey(),
    merchantId: text('merchant_id').notNull(),
    orderId: text('order_id').notNull(),
    channel: paymentChannel('channel').notNull(),
    amount: money('amount').notNull(),
    currency: text('currency').notNull(),
    status: paymentStatus('status').notNull(),
    capturedAt: instant('captured_at').notNull(),
    /** Sealed (field-seal.ts): the account's number opens only in the service, for the row it belongs to. */
    payerAccount: text('payer_account').notNull(),
    /** What support searches by and every masked account shows. */
    payerLast4: text('payer_last4').notNull().default(''),
    customerName: text('customer_name'),
    customerEmail: text('customer_email'),
    customerPhone: text('customer_phone'),
    customerLocale: customerLocale('customer_locale').notNull().default('zh-CN'),
    /** A card sale's reference at its acquirer (an ACP queryId, say), which its refund and void name. */
    acquirerReference: text('acquirer_reference'),
    /** The POS terminal that took the sale, as the acquirer numbers it: on the voucher. */
    terminalId: text('terminal_id'),
    /** Hash of the registration body: the same id with another body is a conflict. */
    requestHash: text('request_hash').notNull(),
    refundedAmount: money('refunded_amount').notNull().default(0),
    reservedAmount: money('reserved_amount').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('payments_amount_nonnegative', sql`${t.amount} >= 0`),
    check(
      'payments_never_over_refunded',
      sql`${t.refundedAmount} >= 0 AND ${t.reservedAmount} >= 0 AND ${t.refundedAmount} + ${t.reservedAmount} <= ${t.amount}`,
    ),
    index('payments_order_idx').on(t.merchantId, t.orderId),
    // Support finds a customer's refunds by the four characters every masked account shows.
    index('payments_payer_last4_idx').on(t.payerLast4),
  ],
);

export const orders = pgTable(
  'orders',
  {
    merchantId: text('merchant_id').notNull(),
    orderId: text('order_id').notNull(),
    status: orderStatus('status').notNull().default('paid'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.orderId] })],
);

export const refunds = pgTable(
  'refunds',
  {
    id: text('id').primaryKey(),
    paymentId: text('payment_id')
      .notNull()
      .references(() => payments.id),
    merchantId: text('merchant_id').notNull(),
    orderId: text('order_id').notNull(),
    channel: paymentChannel('channel').notNull(),
    amount: money('amount').notNull(),
    fee: money('fee').notNull(),
    netAmount: money('net_amount').notNull(),
    currency: text('currency').notNull(),
    reason: refundReason('reason').notNull(),
    note: text('note'),
    status: refundStatus('status').notNull(),
    requestedBy: text('requested_by').notNull(),
    createdBy: text('created_by').notNull(),
    requiredApprovals: smallint('required_approvals').notNull(),
    approvals: jsonb('approvals').$type<ApprovalRecord[]>().notNull().default([]),
    corrections: jsonb('corrections').$type<CorrectionRecord[]>().notNull().default([]),
    /** The open proposal (a reroute or a correction waiting for a second supervisor), masked; null when none. */
    proposal: jsonb('proposal').$type<ProposalView>(),
    destinationType: destinationType('destination_type').notNull().default('original'),
    /** Where the money goes, sealed (field-seal.ts); masked everywhere it leaves the service. */
    destinationAccount: text('destination_account').notNull(),
    destinationLast4: text('destination_last4').notNull().default(''),
    destinationAccountName: text('destination_account_name'),
    /**
     * The payment's payer account's last four, copied when the refund is taken (a payment's payer
     * never changes): support's search by what a customer reads off the card walks its own index
     * instead of every refund for the payments that match (issue #18: 282 ms → a few at 1,000,000).
     */
    payerLast4: text('payer_last4').notNull().default(''),
    provider: providerName('provider').notNull(),
    providerAttempt: integer('provider_attempt').notNull().default(1),
    providerState: providerState('provider_state').notNull().default('not_sent'),
    providerReference: text('provider_reference'),
    traceReference: text('trace_reference'),
    /** A card refund: whether it went as a void or a refund (issue #21), and why; null until it is sent. */
    providerMethod: text('provider_method').$type<'refund' | 'void'>(),
    providerMethodReason: text('provider_method_reason'),
    /**
     * A full refund of a card sale through an acquirer that voids: until when the sale is in its open
     * batch (the first settlement cutoff after its capture, in the merchant's time zone).
     */
    voidableUntil: instant('voidable_until'),
    reservation: reservationState('reservation').notNull().default('reserved'),
    needsAttention: boolean('needs_attention').notNull().default(false),
    /** While it requires action: its provider can send the money on to a bank card itself (WeChat Pay's abnormal refund). */
    redirectable: boolean('redirectable').notNull().default(false),
    approvalDueAt: instant('approval_due_at'),
    settlementDueAt: instant('settlement_due_at'),
    expectedArrivalAt: instant('expected_arrival_at'),
    hardDeadlineAt: instant('hard_deadline_at'),
    settledAt: instant('settled_at'),
    /** The last workflow step written here: a retried or late write of an older step changes nothing. */
    workflowSeq: integer('workflow_seq').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('refunds_amount_positive', sql`${t.amount} > 0`),
    check('refunds_fee_within_amount', sql`${t.fee} >= 0 AND ${t.netAmount} = ${t.amount} - ${t.fee}`),
    // Lists are newest first: ascending indexes read backwards give exactly ORDER BY created_at
    // DESC, id DESC (a DESC NULLS LAST index would not, and the planner would sort the table).
    index('refunds_created_idx').on(t.createdAt, t.id),
    index('refunds_status_created_idx').on(t.status, t.createdAt, t.id),
    index('refunds_merchant_created_idx').on(t.merchantId, t.createdAt, t.id),
    index('refunds_payment_idx').on(t.paymentId, t.createdAt, t.id),
    index('refunds_order_idx').on(t.orderId, t.createdAt, t.id),
    index('refunds_payer_last4_idx').on(t.payerLast4, t.createdAt, t.id),
    index('refunds_needs_attention_idx')
      .on(t.createdAt, t.id)
      .where(sql`${t.needsAttention}`),
    // The supervisors' inbox: pending approval, or a proposal open.
    index('refunds_awaiting_approval_idx')
      .on(t.createdAt, t.id)
      .where(sql`${t.status} = 'pending_approval' OR ${t.proposal} IS NOT NULL`),
  ],
);

/**
 * A refund whose workflow is still to be started: written in the refund's own transaction, so a
 * process that dies between the commit and the start leaves the order here, and the worker's relay
 * starts the workflow within seconds (no client retry, no daily sweep).
 */
export const workflowStarts = pgTable(
  'workflow_starts',
  {
    refundId: text('refund_id')
      .primaryKey()
      .references(() => refunds.id),
    createdAt: createdAt(),
    startedAt: instant('started_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    index('workflow_starts_pending_idx')
      .on(t.createdAt)
      .where(sql`${t.startedAt} IS NULL`),
  ],
);

export interface ApprovalRecord {
  principal: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  at: string;
}

/** A correction as the refund lists it (the workflow's record of it). */
export type CorrectionRecord = CorrectionState;

/** Append-only audit trail: who did what to a refund, and when. */
export const refundEvents = pgTable(
  'refund_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    refundId: text('refund_id')
      .notNull()
      .references(() => refunds.id),
    /** Names the step that wrote the event, so a retried write is recognised and ignored. */
    eventKey: text('event_key').notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    actorRole: text('actor_role').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    at: instant('at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('refund_events_step_idx').on(t.refundId, t.eventKey),
    // A report's approval lead times for the part of a day at a period's end, and the rollups' trigger (issue #18).
    index('refund_events_approved_idx')
      .on(t.refundId, t.at)
      .where(sql`${t.type} = 'approved'`),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    refundId: text('refund_id')
      .notNull()
      .references(() => refunds.id),
    createdAt: createdAt(),
  },
  // By age too: expired records are purged oldest first (purgeExpiredIdempotencyKeys).
  (t) => [primaryKey({ columns: [t.principal, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

/**
 * What each API key's refunds sent without approval came to on one business day, when
 * REFUND_DAILY_AUTO_APPROVE_MAX caps it: a key cannot spread refunds over many payments to move
 * more than that unapproved in a day.
 */
export const automaticRefundTotals = pgTable(
  'automatic_refund_totals',
  {
    principal: text('principal').notNull(),
    businessDay: text('business_day').notNull(),
    currency: text('currency').notNull(),
    total: money('total').notNull(),
  },
  (t) => [primaryKey({ columns: [t.principal, t.businessDay, t.currency] })],
);

/** One row per submission route of a refund; a reroute is a new attempt with a new provider key. */
export const providerAttempts = pgTable(
  'provider_attempts',
  {
    refundId: text('refund_id')
      .notNull()
      .references(() => refunds.id),
    attempt: integer('attempt').notNull(),
    provider: providerName('provider').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** Where this attempt pays: the original payer account, or a bank account a person gave. */
    destinationType: destinationType('destination_type').notNull().default('original'),
    /** Sealed (field-seal.ts): opened only to send it to the provider. */
    destinationAccount: text('destination_account').notNull(),
    destinationLast4: text('destination_last4').notNull().default(''),
    destinationAccountName: text('destination_account_name'),
    /** The card's bank as WeChat Pay names it (`ICBC_DEBIT`…), for a `wechat_bank_card` destination. */
    destinationBankType: text('destination_bank_type'),
    /** Who asked for this route (a retry or a correction), for the audit trail. */
    requestedBy: text('requested_by'),
    /** What this attempt pays, when not the refund's net amount (a supplementary refund, a re-issue). */
    amount: money('amount'),
    state: providerState('state').notNull().default('not_sent'),
    reference: text('reference'),
    traceReference: text('trace_reference'),
    failureReason: text('failure_reason'),
    /**
     * Sent, and the provider's own answer (or a connection never made) says the same request may go
     * again under the same key: the next try asks first, then sends it again. Never set by an answer
     * that was lost or could not be verified: that attempt is only ever asked about.
     */
    resendable: boolean('resendable').notNull().default(false),
    /** When the attempt was last sent: a provider that needs time before its query is final (Alipay) is asked again until then. */
    lastSentAt: instant('last_sent_at'),
    /** When it was first sent: card acquirers key a request by its order number and this time (an ACP txnTime). */
    firstSentAt: instant('first_sent_at'),
    /** How it goes (issue #21): `void` for a card sale still in its open batch, `refund` otherwise; fixed by its first send. */
    method: text('method').$type<'refund' | 'void'>().notNull().default('refund'),
    /** Why it goes that way: the workflow's reason, or the acquirer's refusal of the void it replaced. */
    methodNote: text('method_note'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.refundId, t.attempt] }),
    uniqueIndex('provider_attempts_key_idx').on(t.provider, t.idempotencyKey),
  ],
);

/** Provider webhook notices already taken in: a duplicate delivery changes nothing. */
export const providerNotices = pgTable(
  'provider_notices',
  {
    provider: providerName('provider').notNull(),
    noticeId: text('notice_id').notNull(),
    refundId: text('refund_id')
      .notNull()
      .references(() => refunds.id),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    receivedAt: instant('received_at').notNull().defaultNow(),
    /** Set once the notice reached the workflow; until then a redelivery forwards it again. */
    forwardedAt: instant('forwarded_at'),
  },
  (t) => [primaryKey({ columns: [t.provider, t.noticeId] })],
);

/** Customer notifications, written by the workflow's activities and delivered by a dispatcher. */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    refundId: text('refund_id')
      .notNull()
      .references(() => refunds.id),
    noticeKey: text('notice_key').notNull(),
    template: text('template').notNull(),
    locale: customerLocale('locale').notNull(),
    channel: text('channel').notNull(),
    recipient: text('recipient'),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    status: notificationStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** When delivery is next tried: later after each failure, so an outage is waited out, not burnt through. */
    nextAttemptAt: instant('next_attempt_at').notNull().defaultNow(),
    createdAt: createdAt(),
    sentAt: instant('sent_at'),
  },
  (t) => [
    uniqueIndex('notifications_step_idx').on(t.refundId, t.noticeKey),
    index('notifications_due_idx')
      .on(t.nextAttemptAt, t.id)
      .where(sql`${t.status} = 'pending'`),
  ],
);

/**
 * Merchant events: every status change of a refund, for the merchant's backend. Written in the
 * same transaction as the change; delivered in order per refund by the refund's workflow
 * (activities with retries) and readable by `GET /v1/events?after=`.
 */
export const merchantEvents = pgTable(
  'merchant_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    /**
     * The writing transaction. Sequence numbers are taken before commit, so they become visible
     * out of order; the feed reads in (transaction, seq) order and only transactions older than
     * every one still running, so a follower can never skip an event that commits late.
     */
    txId: transactionId('tx_id').notNull().default(sql`pg_current_xact_id()`),
    /** Stable across redeliveries: receivers recognise a duplicate by it. */
    id: text('id').notNull(),
    refundId: text('refund_id')
      .notNull()
      .references(() => refunds.id),
    merchantId: text('merchant_id').notNull(),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    deliveredAt: instant('delivered_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('merchant_events_id_idx').on(t.id),
    index('merchant_events_undelivered_idx')
      .on(t.refundId, t.seq)
      .where(sql`${t.deliveredAt} IS NULL`),
    index('merchant_events_feed_idx').on(t.txId, t.seq),
  ],
);

export type PaymentRow = typeof payments.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;
export type RefundEventRow = typeof refundEvents.$inferSelect;
export type ProviderAttemptRow = typeof providerAttempts.$inferSelect;
export type NotificationRow = typeof notifications.$inferSelect;
export type MerchantEventRow = typeof merchantEvents.$inferSelect;

/**
 * Console sign-ins (issue #9). The cookie holds a random session id; only its SHA-256 is stored,
 * so a copy of this table opens no session. Each session has its own CSRF token for the forms.
 */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    principal: text('principal').notNull(),
    role: text('role').$type<'supervisor' | 'support'>().notNull(),
    /** SHA-256 of the API key signed in with: a key removed from API_KEYS ends its sessions at once. */
    keyHash: text('key_hash').notNull().default(''),
    csrfToken: text('csrf_token').notNull(),
    createdAt: createdAt(),
    expiresAt: instant('expires_at').notNull(),
  },
  (t) => [index('console_sessions_expires_idx').on(t.expiresAt)],
);
export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;

/**
 * The merchants this deployment serves (issue #17): a store, a chain's shop, or a provider's
 * sub-merchant, each refunding under its own id (`payments.merchant_id`). A deployment without
 * records serves whichever merchant ids its payments name, to keys that see every merchant.
 */
export const merchants = pgTable('merchants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** IANA time zone of its business day (refund windows, reports). */
  timeZone: text('time_zone').notNull().default('Asia/Shanghai'),
  locale: text('locale').$type<'zh-CN' | 'en'>().notNull().default('zh-CN'),
  /** Where its policy differs from the deployment's (REFUND_* settings): its own limits and windows. */
  policy: jsonb('policy').$type<MerchantPolicy>().notNull().default({}),
  /** Its own endpoint for refund events, and the secret they are signed with (sealed to the row). */
  webhookUrl: text('webhook_url'),
  webhookSecret: text('webhook_secret'),
  createdAt: createdAt(),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});
export type MerchantRow = typeof merchants.$inferSelect;

/**
 * API keys issued through the API (issue #17), kept as SHA-256 hashes: the key itself is shown
 * once, when made. Each names the merchants it acts for (null: every merchant, for the provider's
 * own staff); a payment, refund, event or report row of any other merchant does not exist for it.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    keyHash: text('key_hash').notNull(),
    role: text('role').$type<'service' | 'support' | 'supervisor' | 'admin'>().notNull(),
    principal: text('principal').notNull(),
    merchantIds: text('merchant_ids').array(),
    label: text('label'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    revokedAt: instant('revoked_at'),
    lastUsedAt: instant('last_used_at'),
  },
  (t) => [uniqueIndex('api_keys_hash_idx').on(t.keyHash)],
);
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * Failed attempts per source address (issue #17): wrong console sign-ins and requests with an
 * unknown API key, counted in a fixed window shared by every API replica. Past the limit the source
 * is answered 429 until its window ends.
 */
export const failedAttempts = pgTable(
  'failed_attempts',
  {
    kind: text('kind').$type<'sign_in' | 'unknown_key'>().notNull(),
    source: text('source').notNull(),
    windowStart: instant('window_start').notNull().defaultNow(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.source] })],
);

/**
 * How a merchant's refunds are paid along a route (issue #17), where it differs from the
 * deployment's own settings: WeChat Pay as the merchant itself (direct) or as a service provider's
 * sub-merchant (partner: `sub_mchid` under the deployment's `sp_mchid`); Alipay as the merchant's
 * own app, or the deployment's app acting on the merchant's authorisation (`app_auth_token`).
 * `settings` holds what may be shown; `secrets` the keys and tokens, sealed to the row (field-seal.ts)
 * and never returned by the API.
 */
export const merchantRoutes = pgTable(
  'merchant_routes',
  {
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    route: text('route').$type<'wechat' | 'alipay'>().notNull(),
    settings: jsonb('settings').$type<Record<string, string | number>>().notNull(),
    secrets: text('secrets'),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.route] })],
);
export type MerchantRouteRow = typeof merchantRoutes.$inferSelect;

/**
 * The next free turn to send a refund request on each provider account (issue #17), shared by
 * every worker: requests go out paced a rate's interval apart (WeChat Pay's 150 a second: 6.7 ms),
 * so however the provider cuts its seconds none holds more than the rate, bar the network's jitter.
 * A merchant's refunds beyond it wait their turn instead of meeting FREQUENCY_LIMITED.
 */
export const providerSendTurns = pgTable('provider_send_turns', {
  rateKey: text('rate_key').primaryKey(),
  nextAt: timestamp('next_at', { withTimezone: true }).notNull(),
});

/**
 * The reports' rollups (issue #18): a 30-day report at a chain's scale reads a few thousand rows
 * here instead of aggregating a third of a million refunds. Kept by triggers on `refunds` and
 * `refund_events` (hand-written in migration 0026), in the same transaction as the change they
 * count, so no code path can leave them behind; a refund's day is the business day under the
 * offset in `report_calendar`, which the service keeps equal to its configured one (a change
 * rebuilds them: src/db/queries/report-calendar.ts). Each refund counts twice: in its merchant's
 * rows and in the rows of every merchant together, `merchant_id` '*' (a name no merchant can
 * have), which a reader who sees every merchant reads instead of adding fifty merchants' rows.
 */
export const reportCalendar = pgTable(
  'report_calendar',
  {
    only: boolean('only').primaryKey().default(true),
    utcOffsetMinutes: integer('utc_offset_minutes').notNull(),
  },
  (t) => [check('report_calendar_one_row', sql`${t.only}`)],
);

/** Refunds and their amounts per merchant, business day of creation and every dimension a report groups by. */
export const refundDayTotals = pgTable(
  'refund_day_totals',
  {
    merchantId: text('merchant_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    currency: text('currency').notNull(),
    reason: refundReason('reason').notNull(),
    channel: paymentChannel('channel').notNull(),
    status: refundStatus('status').notNull(),
    needsAttention: boolean('needs_attention').notNull(),
    refunds: integer('refunds').notNull(),
    amount: money('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.day, t.currency, t.reason, t.channel, t.status, t.needsAttention] })],
);

/**
 * How long refunds took (`settle`: creation to money arrived; `approval`: creation to the approval
 * that let it go, for refunds that needed one), per merchant and business day of creation, counted in buckets 2% wide: a percentile
 * read from them is within about 1% of the exact one (of one second more, for the shortest).
 */
export const refundDayDurations = pgTable(
  'refund_day_durations',
  {
    merchantId: text('merchant_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    measure: text('measure').$type<'settle' | 'approval'>().notNull(),
    bucket: smallint('bucket').notNull(),
    refunds: integer('refunds').notNull(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.day, t.measure, t.bucket] })],
);
