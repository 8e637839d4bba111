/**
 * The API's request and response shapes. These schemas validate every request and are the source
 * the OpenAPI document is generated from, so the two cannot disagree.
 */
import { z } from 'zod';
import {
  CUSTOMER_LOCALES,
  DESTINATION_TYPES,
  PAYMENT_CHANNELS,
  PAYMENT_STATUSES,
  PROVIDER_NAMES,
  PROVIDER_STATES,
  REFUND_METHODS,
  REFUND_REASONS,
  REFUND_STATUSES,
} from '../../workflows/lifecycle';
import { WECHAT_REDIRECT_BANKS } from '../providers/wechatpay/wechatpay-protocol';
import { CUTOFF_PATTERN } from '../refunds/card-batch';
import { SUPPORTED_CURRENCIES } from '../../workflows/money';
import { FREE_TEXT, FREE_TEXT_NOT_BLANK, hasLoneSurrogate, SINGLE_LINE_NOT_BLANK, SINGLE_LINE_TEXT, SURROGATE_PROBLEM, TEXT_PROBLEM } from '../../workflows/text';

/**
 * Text the service can store: no control characters (the document's `pattern`; free text may hold
 * tabs and newlines) and no unpaired surrogates (checked too; JSON Schema cannot say it).
 */
const text = (pattern: RegExp, max: number, message: string) =>
  z.string().max(max).regex(pattern, message).refine((value) => !hasLoneSurrogate(value), SURROGATE_PROBLEM);
const line = (max: number, min = 0) => (min > 0 ? text(SINGLE_LINE_NOT_BLANK, max, `must have text, and ${TEXT_PROBLEM}`) : text(SINGLE_LINE_TEXT, max, TEXT_PROBLEM));
const freeText = (max: number) => text(FREE_TEXT, max, `${TEXT_PROBLEM} (tab and newline aside)`);
/** A reason people and customers read: free text with something in it. */
const reason = (missing: string) => text(FREE_TEXT_NOT_BLANK, 1000, `${missing}; ${TEXT_PROBLEM} (tab and newline aside)`);

const reference = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, _ and -');
const amount = z
  .number()
  .int('must be a whole number of minor units (fen for CNY), never a decimal')
  .min(1, 'must be at least 1 minor unit')
  .max(Number.MAX_SAFE_INTEGER)
  .meta({ description: 'Integer amount in the currency’s minor unit (fen for CNY).' });
const currency = z.enum(SUPPORTED_CURRENCIES as [string, ...string[]]).meta({ description: 'ISO 4217 currency code.' });
/** An ISO 8601 instant PostgreSQL can store: a real calendar date, in the years 0001 to 9999 (UTC). */
const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' })
  .refine((value) => {
    const year = new Date(value).getUTCFullYear();
    return year >= 1 && year <= 9999;
  }, 'must fall in the years 0001 to 9999');

export const PaymentIdParams = z.object({ id: reference });
export const RefundIdParams = z.object({ id: z.string().regex(/^rf_[0-9A-Z]{26}$/, 'is not a refund id') });
export const VoucherQuery = z.strictObject({ locale: z.enum(CUSTOMER_LOCALES).default('zh-CN').meta({ description: 'The voucher’s language.' }) });

export const RegisterPaymentBody = z.strictObject({
  id: reference.meta({ description: 'The client’s transaction reference.' }),
  merchantId: reference,
  orderId: line(128, 1),
  channel: z.enum(PAYMENT_CHANNELS),
  amount: amount.meta({ description: 'Captured amount in minor units.' }),
  currency,
  status: z.enum(PAYMENT_STATUSES),
  capturedAt: instant,
  payerAccount: z.string().regex(/^[A-Za-z0-9_@.+-]{4,64}$/, 'must be a card number or wallet account id (4–64 characters)'),
  card: z
    .strictObject({
      acquirerReference: z.string().regex(/^[0-9A-Za-z]{1,64}$/, 'must be the sale’s reference at its acquirer (letters and digits)').optional().meta({ description: 'The sale’s reference at its acquirer, which its refund or void names (for ACP acquirers, the sale’s queryId).' }),
      terminalId: z.string().regex(/^[0-9A-Za-z]{1,32}$/, 'must be the terminal number (letters and digits)').optional().meta({ description: 'The POS terminal that took the sale, as the acquirer numbers it.' }),
    })
    .optional()
    .meta({ description: 'A card sale as its acquirer knows it (channel `card`).' }),
  customer: z
    .strictObject({
      name: line(200, 1).optional(),
      email: z
        .string()
        .max(254)
        .regex(/^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/, 'must be an e-mail address')
        .optional(),
      phone: z.string().regex(/^\+?[0-9 -]{5,20}$/, 'must be a phone number').optional(),
      locale: z.enum(CUSTOMER_LOCALES).default('zh-CN'),
    })
    .optional(),
});
export type RegisterPaymentBody = z.infer<typeof RegisterPaymentBody>;

export const Payment = z.object({
  id: z.string(),
  merchantId: z.string(),
  orderId: z.string(),
  orderStatus: z.enum(['paid', 'partially_refunded', 'refunded']).nullable(),
  channel: z.enum(PAYMENT_CHANNELS),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  capturedAt: z.string(),
  payerAccount: z.string().meta({ description: 'Masked: last four digits only.' }),
  card: z.object({ acquirerReference: z.string().nullable(), terminalId: z.string().nullable() }).nullable(),
  customer: z.object({
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    locale: z.enum(CUSTOMER_LOCALES),
  }),
  refundedAmount: z.number().int(),
  reservedAmount: z.number().int().meta({ description: 'Held by refunds in flight.' }),
  refundableAmount: z.number().int(),
  refunds: z.array(z.string()),
  createdAt: z.string(),
});

export const CreateRefundHeaders = z.object({
  'idempotency-key': z
    .string({ message: 'the Idempotency-Key header is required' })
    .regex(/^[A-Za-z0-9_:.-]{1,255}$/, 'must be 1–255 characters of A–Z, a–z, 0–9, _ : . and -'),
});

export const CreateRefundBody = z.strictObject({
  paymentId: reference,
  amount,
  currency,
  reason: z.enum(REFUND_REASONS),
  note: freeText(1000).optional(),
  requestedBy: line(128, 1).optional().meta({ description: 'The person at the till; defaults to the key’s principal.' }),
  expectedRefundedTotal: z
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .meta({ description: 'What the caller believes is already refunded or in flight on the payment; if it differs the request is refused (409).' }),
});
export type CreateRefundBody = z.infer<typeof CreateRefundBody>;

const optionalInstant = instant.optional();
export const ListRefundsQuery = z.strictObject({
  status: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const statuses = value.split(',').map((s) => s.trim());
      const unknown = statuses.filter((s) => !(REFUND_STATUSES as readonly string[]).includes(s));
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown status ${unknown.join(', ')}` });
      return statuses as (typeof REFUND_STATUSES)[number][];
    })
    .meta({ description: `Comma-separated statuses: ${REFUND_STATUSES.join(', ')}.` }),
  merchantId: reference.optional(),
  paymentId: reference.optional(),
  orderId: reference.optional(),
  payerLast4: z
    .string()
    .regex(/^[A-Za-z0-9_@.+-]{4}$/, 'must be the last four characters of the payer account')
    .optional()
    .meta({ description: 'The last four characters of the payer account (what a masked account shows).' }),
  needsAttention: z.enum(['true', 'false']).optional(),
  awaitingApproval: z.enum(['true', 'false']).optional().meta({ description: 'true: refunds pending approval or with an open proposal (the supervisors’ inbox).' }),
  createdFrom: optionalInstant,
  createdTo: optionalInstant,
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,300}$/, 'is not a cursor this API returned').optional().meta({ description: 'Opaque: the nextCursor of the previous page, with the same filters.' }),
});

const Deadlines = z.object({
  approvalDueAt: z.string().nullable(),
  settlementDueAt: z.string().nullable(),
  expectedArrivalAt: z.string().nullable(),
  hardDeadlineAt: z.string().nullable(),
});

export const Refund = z.object({
  id: z.string(),
  paymentId: z.string(),
  merchantId: z.string(),
  orderId: z.string(),
  channel: z.enum(PAYMENT_CHANNELS),
  amount: z.number().int(),
  fee: z.number().int(),
  netAmount: z.number().int(),
  currency: z.string(),
  reason: z.enum(REFUND_REASONS),
  note: z.string().nullable(),
  status: z.enum(REFUND_STATUSES),
  requestedBy: z.string(),
  createdBy: z.string(),
  approvals: z.array(z.object({ principal: z.string(), decision: z.string(), comment: z.string().nullable(), at: z.string() })),
  requiredApprovals: z.number().int(),
  destination: z.object({
    type: z.enum(DESTINATION_TYPES),
    account: z.string().meta({ description: 'Masked: last four digits only.' }),
    accountName: z.string().nullable(),
  }),
  provider: z.object({
    name: z.enum(PROVIDER_NAMES),
    reference: z.string().nullable(),
    traceReference: z.string().nullable(),
    state: z.enum(PROVIDER_STATES),
    method: z.enum(REFUND_METHODS).nullable().meta({ description: 'A card refund, once sent: `void` (撤销, a whole sale still in its open batch: the money never leaves the cardholder) or `refund` (退货). Chosen by the workflow, not the caller.' }),
    methodReason: z.string().nullable().meta({ description: 'Why it went that way (the batch’s cutoff, a partial refund, a void the acquirer refused as its batch had settled).' }),
    redirectable: z.boolean().meta({
      description: 'WeChat Pay holds this refund as abnormal (the payer’s card or balance could not take it) and can send it on to the payer’s bank card itself: a retry with a `wechat_bank_card` destination.',
    }),
  }),
  deadlines: Deadlines,
  needsAttention: z.boolean(),
  corrections: z.array(z.record(z.string(), z.unknown())),
  proposal: z
    .object({
      id: z.string(),
      kind: z.enum(['reroute', 'correction']),
      correction: z.enum(['reversal', 'supplementary', 'reissue']).nullable(),
      amount: z.number().int().meta({ description: 'The refund’s total once carried out.' }),
      destination: z
        .object({
          type: z.enum(DESTINATION_TYPES),
          account: z.string().nullable(),
          accountName: z.string().nullable().meta({ description: 'The holder, masked to a first letter: the name given is sealed until the payout.' }),
          bankType: z.string().optional(),
        })
        .nullable(),
      reason: z.string(),
      proposedBy: z.string(),
      requiredApprovals: z.number().int(),
      approvals: z.array(z.object({ principal: z.string(), decision: z.string(), comment: z.string().nullable(), at: z.string() })),
      openedAt: z.string(),
      expiresAt: z.string(),
    })
    .nullable()
    .meta({ description: 'The open proposal (a reroute or a correction waiting for another supervisor), or null.' }),
  timeline: z.array(z.object({ at: z.string(), type: z.string(), actor: z.string(), detail: z.record(z.string(), z.unknown()) })),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const RefundList = z.object({
  data: z.array(Refund.omit({ timeline: true })),
  nextCursor: z.string().nullable(),
});

export const SandboxQuery = z.strictObject({ paymentId: reference.optional() });
export const SandboxParams = z.object({ provider: z.enum(PROVIDER_NAMES) });
export const SandboxOperations = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      paymentId: z.string(),
      refundId: z.string(),
      kind: z.enum(['refund', 'reversal']),
      amount: z.number().int(),
      currency: z.string(),
      status: z.enum(['pending', 'settled', 'canceled', 'failed']),
      returned: z.boolean(),
      returnedAmount: z.number().int().meta({ description: 'What the bank sent back of this payout.' }),
      accountLast4: z.string().meta({ description: 'Where it paid: the account’s last four digits.' }),
      createdAt: z.string(),
    }),
  ),
});

export const ProviderWebhookParams = z.object({ provider: z.enum(PROVIDER_NAMES) });
export const ProviderWebhookBody = z.object({
  id: line(128, 1),
  type: z.enum(['refund.settled', 'refund.returned']),
  reference: line(128, 1),
  idempotencyKey: line(255, 1),
  amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: line(3, 3),
  occurredAt: instant,
});
export const WebhookAck = z.object({ received: z.boolean(), duplicate: z.boolean() });

export const Health = z.object({ status: z.string(), checks: z.record(z.string(), z.string()).optional() });

/** RFC 9457 problem details; further members carry facts that help correct the request (`refundStatus`, `refundableAmount`, …). */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().meta({ description: 'Always the HTTP status.' }),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .loose();

export const ApproveBody = z.strictObject({ comment: freeText(1000).optional() });
export const RejectBody = z.strictObject({ reason: reason('a rejection needs a reason the customer or proposer can be told') });
export const CancelBody = z.strictObject({ reason: freeText(1000).optional() });
const original = z.strictObject({ type: z.literal('original') });
const bankTransfer = z.strictObject({
  type: z.literal('bank_transfer'),
  account: z.string().regex(/^[0-9 -]{8,34}$/, 'must be a bank account number'),
  accountName: line(200, 1).meta({ description: 'The account holder.' }),
});
/** Where refund money goes: back the original way, or to a bank account a person gives. */
const Destination = z.discriminatedUnion('type', [original, bankTransfer]);
/** A rerouted refund may also go by WeChat Pay's own transfer to the payer's debit card (发起异常退款). */
const RerouteDestination = z.discriminatedUnion('type', [
  original,
  bankTransfer,
  z.strictObject({
    type: z.literal('wechat_bank_card'),
    account: z.string().regex(/^[0-9 ]{10,30}$/, 'must be a debit card number'),
    accountName: line(100, 1).meta({ description: 'The card holder, as the bank knows them.' }),
    bankType: z.enum(WECHAT_REDIRECT_BANKS).meta({ description: 'The card’s bank, as WeChat Pay names it: only these banks’ debit cards can take an abnormal refund.' }),
  }),
]);

export const RetryBody = z.strictObject({
  destination: RerouteDestination.optional().meta({
    description:
      'Where the money goes this time: the original route (200); or a bank transfer, or — for a refund WeChat Pay holds as abnormal (`provider.redirectable`) — WeChat Pay’s own transfer to the payer’s debit card, either of which opens a proposal a supervisor other than the proposer approves (202).',
  }),
  reason: freeText(1000).optional().meta({ description: 'Why another route (shown with the proposal).' }),
});

export const EventsQuery = z.strictObject({
  after: z.string().regex(/^evt_[A-Za-z0-9_.-]{1,200}$/, 'is not an event id').optional().meta({ description: 'Return the events after this one (exclusive).' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const MerchantEvent = z.object({
  id: z.string().meta({ description: 'Stable across redeliveries: a repeat carries the same id.' }),
  type: z.string(),
  createdAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export const MerchantEventList = z.object({ data: z.array(MerchantEvent) });

export const ReportQuery = z.strictObject({
  from: instant,
  to: instant,
  groupBy: z.enum(['reason', 'channel', 'status', 'day']).default('day'),
});
const Percentiles = z
  .object({ p50: z.number().nullable(), p90: z.number().nullable() })
  .meta({ description: 'Seconds; continuous percentiles read from 2%-wide duration buckets, within about 1% of the exact ones. Null when nothing was counted.' });
export const RefundReport = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.string(),
  groups: z.array(z.object({ key: z.string(), currency: z.string(), count: z.number().int(), amount: z.number().int() })),
  refunds: z.number().int(),
  timeToSettleSeconds: Percentiles,
  approvalLeadTimeSeconds: Percentiles,
  needsAttentionShare: z.number(),
});

const correctTotal = z.number().int('must be a whole number of minor units').min(1).max(Number.MAX_SAFE_INTEGER).meta({ description: 'The correct total of the refund.' });
const correctAccount = Destination.meta({ description: 'The correct account: the money is reversed from the wrong one and re-issued here.' });
const correctionReason = reason('a correction needs a reason the customer can be told');
/** The correct total, or the correct account (or both, when the total stays): the document says so as anyOf. */
export const CorrectionBody = z.union([
  z.strictObject({ amount: correctTotal, destination: correctAccount.optional(), reason: correctionReason }),
  z.strictObject({ amount: correctTotal.optional(), destination: correctAccount, reason: correctionReason }),
]);

/** An IANA time zone this runtime knows (`Asia/Shanghai`). */
const timeZone = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone, such as Asia/Shanghai')
  .meta({ description: 'IANA time zone of the merchant’s business day.' });

export const MerchantIdParams = z.object({ id: reference });
const minorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const MerchantPolicySchema = z
  .strictObject({
    autoApproveMax: minorUnits.optional().meta({ description: 'Refunds up to this (the payment’s running total) go without approval.' }),
    dualApprovalMin: minorUnits.optional().meta({ description: 'From this, two supervisors approve.' }),
    windowDays: z.strictObject(Object.fromEntries(PAYMENT_CHANNELS.map((c) => [c, z.number().int().min(0).max(3_650).optional()])) as Record<(typeof PAYMENT_CHANNELS)[number], z.ZodOptional<z.ZodNumber>>).optional(),
    cardCutoff: z.string().regex(CUTOFF_PATTERN, 'must be a time of day, HH:MM').optional().meta({ description: 'Its card acquirer’s settlement cutoff in its time zone (deployment default CARD_SETTLEMENT_CUTOFF, 23:00): a whole sale refunded before it is voided.' }),
  })
  .meta({ description: 'Where the merchant’s policy differs from the deployment’s REFUND_* settings.' });
const merchantFields = {
  name: line(200, 1),
  timeZone: timeZone.optional(),
  locale: z.enum(CUSTOMER_LOCALES).optional(),
  policy: MerchantPolicySchema.optional(),
  webhookUrl: z.url({ protocol: /^https?$/ }).max(2_000).nullable().optional().meta({ description: 'Its own endpoint for refund events; null: none (MERCHANT_WEBHOOKS, or GET /v1/events).' }),
  webhookSecret: z.string().min(32).max(256).optional().meta({ description: 'What its events are signed with (32 characters or more); kept sealed, never shown.' }),
};
const webhookNeedsSecret = (body: { webhookUrl?: string | null; webhookSecret?: string }) => !body.webhookUrl || body.webhookSecret !== undefined;
export const CreateMerchantBody = z
  .strictObject({ id: reference.meta({ description: 'The id its payments name as `merchantId`.' }), ...merchantFields })
  .refine(webhookNeedsSecret, { message: 'a webhookUrl needs its webhookSecret', path: ['webhookSecret'] });
export const UpdateMerchantBody = z.strictObject({ ...merchantFields, name: merchantFields.name.optional() }).refine(webhookNeedsSecret, { message: 'a webhookUrl needs its webhookSecret', path: ['webhookSecret'] });
export const Merchant = z
  .object({
    id: z.string(),
    name: z.string(),
    timeZone: z.string(),
    locale: z.enum(CUSTOMER_LOCALES),
    policy: MerchantPolicySchema,
    webhookUrl: z.string().nullable(),
    webhookSecretSet: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Merchant' });
export const MerchantList = z.object({ data: z.array(Merchant) });

export const ApiKeyIdParams = z.object({ id: z.string().regex(/^key_[0-9A-Za-z_-]{1,64}$/, 'is not an API key id') });
export const CreateApiKeyBody = z.strictObject({
  role: z.enum(['service', 'support', 'supervisor', 'admin']),
  principal: z.string().regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'must be 1–128 characters of A–Z, a–z, 0–9, _, ., @ and -').meta({ description: 'Who the audit trail names and maker-checker compares.' }),
  merchants: z.array(reference).min(1).max(1000).nullable().meta({ description: 'The merchants the key acts for; null: every merchant (the provider’s own staff).' }),
  label: line(200).optional(),
});
export const ApiKeyView = z
  .object({
    id: z.string(),
    role: z.enum(['service', 'support', 'supervisor', 'admin']),
    principal: z.string(),
    merchants: z.array(z.string()).nullable(),
    label: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export const IssuedApiKey = ApiKeyView.extend({ key: z.string().meta({ description: 'The key itself: shown this once, kept by the service only as its SHA-256.' }) });
export const ApiKeyList = z.object({ data: z.array(ApiKeyView) });

const pem = (what: string) => z.string().max(10_000).meta({ description: `${what}: PEM, or bare base64` });
const digits = (what: string) => z.string().regex(/^\d{6,32}$/, `must be ${what}: digits`);
export const MerchantRouteParams = z.object({ id: reference, route: z.enum(['wechat', 'alipay']) });
const requestsPerSecond = z.number().int().min(1).max(10_000).optional().meta({ description: 'Refund requests a second this merchant may send (WeChat Pay allows 150): beyond it they wait their turn. Default: the deployment’s WECHATPAY_REQUESTS_PER_SECOND (partner), 150 (direct).' });
export const MerchantRouteBody = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('partner'), subMchid: digits('the sub-merchant’s id (sub_mchid)'), requestsPerSecond }).meta({ description: 'WeChat Pay: refund as this deployment’s service provider account for the sub-merchant' }),
  z
    .strictObject({
      mode: z.literal('direct'),
      mchid: digits('the merchant id (mchid)'),
      merchantSerial: z.string().regex(/^[0-9A-Fa-f]{8,64}$/, 'must be the merchant API certificate’s serial number'),
      privateKey: pem('The merchant API private key'),
      publicKeyId: z.string().regex(/^PUB_KEY_ID_[0-9A-Za-z]{1,64}$/, 'must be the WeChat Pay public key’s id (PUB_KEY_ID_…)'),
      publicKey: pem('The WeChat Pay public key'),
      apiV3Key: z.string().regex(/^[\x21-\x7e]{32}$/, 'must be the 32-character APIv3 key'),
      requestsPerSecond,
    })
    .meta({ description: 'WeChat Pay: the merchant’s own account and keys' }),
  z.strictObject({ mode: z.literal('authorized'), appAuthToken: z.string().regex(/^[\x21-\x7e]{8,128}$/, 'must be the app_auth_token the merchant’s authorisation gave') }).meta({ description: 'Alipay: this deployment’s app, on the merchant’s authorisation' }),
  z
    .strictObject({ mode: z.literal('own'), appId: digits('the app id'), privateKey: pem('The app’s private key'), alipayPublicKey: pem('Alipay’s public key') })
    .meta({ description: 'Alipay: the merchant’s own app' }),
]);
export const MerchantRouteView = z
  .object({
    merchantId: z.string(),
    route: z.enum(['wechat', 'alipay']),
    mode: z.string(),
    secrets: z.array(z.string()).meta({ description: 'The secrets it holds, by name: never their values.' }),
    updatedAt: z.string(),
  })
  .catchall(z.union([z.string(), z.number()]))
  .meta({ id: 'MerchantRoute' });
export const MerchantRouteList = z.object({ data: z.array(MerchantRouteView) });

export const MerchantNoticeParams = z.object({ merchant: reference });

export const AuditQuery = z
  .strictObject({
    from: instant.meta({ description: 'Events at or after this instant.' }),
    to: instant.meta({ description: 'Events before this instant.' }),
    format: z.enum(['csv', 'jsonl']).default('csv'),
  })
  .refine((q) => new Date(q.from).getTime() < new Date(q.to).getTime(), { message: 'must come after from', path: ['to'] });
