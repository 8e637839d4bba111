import { and, asc, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { placeholders, prepared, preparedByShape, shapeOf } from '../prepared';
import { withinScope, type MerchantScope } from '../../merchants/merchant-scope';
import {
  idempotencyKeys,
  payments,
  providerAttempts,
  refundEvents,
  refunds,
  workflowStarts,
  type PaymentRow,
  type ProviderAttemptRow,
  type RefundEventRow,
  type RefundRow,
} from '../schema';
import { RefundRequestError } from '../../../workflows/refusals';
import type { Actor, ProviderState, RefundStatus } from '../../../workflows/lifecycle';
import { merchantEventsOfStep } from '../../../workflows/merchant-events';
import { recordMerchantEvents } from './merchant-events';
import { shiftPaymentTotals } from './payments';
import type { RefundMethod, SentAs } from '../../providers/provider';

export type NewRefund = typeof refunds.$inferInsert;
export type RefundChanges = Partial<Omit<NewRefund, 'id' | 'paymentId' | 'amount' | 'createdAt'>>;

export interface NewRefundEvent {
  eventKey: string;
  type: string;
  actor: Actor;
  detail?: Record<string, unknown>;
}

const refundById = prepared('refund_by_id', (db) => db.select().from(refunds).where(eq(refunds.id, sql.placeholder('refundId'))));

export async function findRefund(db: Executor, refundId: string): Promise<RefundRow | undefined> {
  const [refund] = await refundById(db, { refundId });
  return refund;
}

/** How long an Idempotency-Key answers for the request it first came with (as Stripe's): 24 hours. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

/**
 * The request a key of the caller's was first used for, within the last 24 hours. An older record is
 * removed here, in the caller's transaction, so the key may start something new: a client that
 * retries a day later is not answered with a refund it has long forgotten.
 */
export async function findIdempotencyRecord(db: Executor, principal: string, key: string) {
  const mine = and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key));
  const [record] = await idempotencyRecord(db, { principal, key });
  if (!record || Date.now() - record.createdAt.getTime() < IDEMPOTENCY_KEY_TTL_MS) return record;
  await db.delete(idempotencyKeys).where(and(mine, lt(idempotencyKeys.createdAt, new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS))));
  return undefined;
}

const idempotencyRecord = prepared('idempotency_record', (db) =>
  db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.principal, sql.placeholder('principal')), eq(idempotencyKeys.key, sql.placeholder('key')))),
);

/**
 * Removes idempotency records past their 24 hours, a batch at a time (oldest first, on their own
 * index), so the table holds about a day of requests however long the service runs. Returns how
 * many went; the caller comes back while a batch was full.
 */
export async function purgeExpiredIdempotencyKeys(db: Executor, batch = 5_000): Promise<number> {
  const purged = await db.execute(sql`
    DELETE FROM ${idempotencyKeys} WHERE (principal, key) IN (
      SELECT principal, key FROM ${idempotencyKeys}
      WHERE created_at < now() - make_interval(secs => ${IDEMPOTENCY_KEY_TTL_MS / 1000})
      ORDER BY created_at LIMIT ${batch})`);
  return purged.count;
}

/**
 * Writes a new refund with its first provider attempt, its idempotency record, its first event
 * and the order to start its workflow (a transactional outbox: should the process die before it
 * starts the workflow, the worker's relay starts it within seconds).
 */
export async function insertRefund(
  tx: Executor,
  refund: NewRefund,
  idempotency: { principal: string; key: string; requestHash: string },
  firstAttempt: { idempotencyKey: string; destinationAccount: string },
  event: NewRefundEvent,
): Promise<{ refund: RefundRow; created: RefundEventRow }> {
  const [row] = await newRefund(tx, shapeOf(refund), refund);
  // Sent together, answered together: one round trip to the database, not five.
  const [[created]] = await Promise.all([
    newRefundEvent(tx, eventValues(refund.id, event)),
    insertProviderAttempt(tx, {
      refundId: refund.id,
      attempt: 1,
      provider: refund.provider,
      idempotencyKey: firstAttempt.idempotencyKey,
      destinationAccount: firstAttempt.destinationAccount,
      destinationLast4: refund.destinationLast4,
      amount: refund.netAmount,
    }),
    newIdempotencyRecord(tx, { ...idempotency, refundId: refund.id }),
    newWorkflowStart(tx, { refundId: refund.id }),
    recordMerchantEvents(tx, row!, event.eventKey, ['refund.created', ...merchantEventsOfStep(event.type, refund.status)]),
  ]);
  return { refund: row!, created: created! };
}

const newRefund = preparedByShape('new_refund', (db, shape) => db.insert(refunds).values(placeholders<NewRefund>(shape)).returning());

const newIdempotencyRecord = prepared('new_idempotency_record', (db) =>
  db.insert(idempotencyKeys).values(placeholders<typeof idempotencyKeys.$inferInsert>(['principal', 'key', 'requestHash', 'refundId'])),
);

const newWorkflowStart = prepared('new_workflow_start', (db) => db.insert(workflowStarts).values({ refundId: sql.placeholder('refundId') }));

/** A provider attempt written down once: written again (a retried step), nothing changes. */
async function insertProviderAttempt(tx: Executor, attempt: NewProviderAttempt): Promise<void> {
  await newProviderAttempt(tx, shapeOf(attempt), attempt);
}

const newProviderAttempt = preparedByShape('new_provider_attempt', (db, shape) =>
  db.insert(providerAttempts).values(placeholders<NewProviderAttempt>(shape)).onConflictDoNothing(),
);

const newRefundEvent = prepared('new_refund_event', (db) =>
  db
    .insert(refundEvents)
    .values({
      refundId: sql.placeholder('refundId'),
      eventKey: sql.placeholder('eventKey'),
      type: sql.placeholder('type'),
      actor: sql.placeholder('actor'),
      actorRole: sql.placeholder('actorRole'),
      detail: sql.placeholder('detail'),
    })
    .onConflictDoNothing({ target: [refundEvents.refundId, refundEvents.eventKey] })
    .returning(),
);

/** Appends to the audit trail; a retried write of the same step is ignored (and returns false). */
export async function appendRefundEvent(db: Executor, refundId: string, event: NewRefundEvent): Promise<boolean> {
  const [inserted] = await newRefundEvent(db, eventValues(refundId, event));
  return inserted !== undefined;
}

function eventValues(refundId: string, event: NewRefundEvent) {
  return { refundId, eventKey: event.eventKey, type: event.type, actor: event.actor.principal, actorRole: event.actor.role, detail: event.detail ?? {} };
}

/** A provider attempt a step writes down: the route and account a decision chose. */
export type NewProviderAttempt = typeof providerAttempts.$inferInsert & { amount: number };

/** What a step does besides changing the refund's fields; each part is idempotent with the step. */
export interface StepEffects {
  /** Moves the payment's totals by parts of the refund; the CHECK refuses any over-refund. */
  paymentShift?: { refunded: number; reserved: number };
  /** A new provider attempt (a retry, an approved reroute, a correction's payout). */
  newAttempt?: NewProviderAttempt;
  /** The refund pays through this provider attempt from now on: copy its route and destination. */
  switchToAttempt?: number;
  /** A failed attempt its provider will send on to a bank card (WeChat Pay's abnormal refund): the card, and sendable again. */
  redirectAttempt?: { attempt: number; destinationAccount: string; destinationLast4: string; destinationAccountName: string; bankType: string };
  /** Further writes in the same transaction (the customer's message), given the refund as the step left it. */
  alsoWrite?: (tx: Executor, refund: RefundRow) => Promise<void>;
}

/**
 * Applies one workflow step inside the caller's transaction: its event, the refund's new fields,
 * the money it moves on the payment, the attempt it opens and the messages it sends. The event's
 * key makes a retried activity change nothing; `workflowSeq` orders the field changes, so an older
 * step landing after a newer one never overwrites it. A shift the payment's CHECK refuses (it
 * would over-refund) is refused with what remains refundable; the caller's transaction rolls back.
 */
export async function applyWorkflowStep(tx: Executor, refundId: string, seq: number, changes: RefundChanges, event: NewRefundEvent, effects: StepEffects = {}): Promise<void> {
  let refund: RefundRow | undefined;
  if (effects.newAttempt || effects.redirectAttempt || effects.switchToAttempt !== undefined) {
    // A step that opens, redirects or switches to an attempt writes it only once its event shows the step new.
    if (!(await appendRefundEvent(tx, refundId, event))) return; // this step was applied before: a retry
    const fields = await writeAttempt(tx, refundId, changes, effects);
    [refund] = await refundStep(tx, shapeOf(fields), { ...fields, refundId, seq });
  } else {
    // The event and the refund's change, sent together (one round trip): on a retry neither writes,
    // the event's key and the step's number being taken already.
    const [appended, [changed]] = await Promise.all([appendRefundEvent(tx, refundId, event), refundStep(tx, shapeOf(changes), { ...changes, refundId, seq })]);
    if (!appended) return;
    refund = changed;
  }
  // No row when a newer step landed first: the events then describe the refund as that one left it.
  const current = refund ?? (await findRefund(tx, refundId))!;
  // Independent of one another, so sent together: one round trip. A refused shift still rolls the
  // whole step back (the caller's transaction ends on its refusal).
  await Promise.all([
    recordMerchantEvents(tx, current, event.eventKey, merchantEventsOfStep(event.type, changes.status)),
    effects.paymentShift && shiftRefundsPayment(tx, current.paymentId, effects.paymentShift),
    effects.alsoWrite?.(tx, current),
  ]);
}

/** A step's attempt: written down, redirected to a card, or switched to (the refund's fields then copy its route). */
async function writeAttempt(tx: Executor, refundId: string, changes: RefundChanges, effects: StepEffects): Promise<RefundChanges> {
  if (effects.newAttempt) await insertProviderAttempt(tx, effects.newAttempt);
  if (effects.redirectAttempt) {
    const { attempt, destinationAccount, destinationLast4, destinationAccountName, bankType } = effects.redirectAttempt;
    // Only a failed attempt: the claim (`not_sent → in_doubt`) then lets exactly one run send the redirect.
    const redirected = await tx
      .update(providerAttempts)
      .set({ destinationType: 'wechat_bank_card', destinationAccount, destinationLast4, destinationAccountName, destinationBankType: bankType, state: 'not_sent', failureReason: null, updatedAt: sql`now()` })
      .where(and(eq(providerAttempts.refundId, refundId), eq(providerAttempts.attempt, attempt), eq(providerAttempts.state, 'failed')))
      .returning({ attempt: providerAttempts.attempt });
    if (redirected.length === 0) throw new RefundRequestError('route_unavailable', `provider attempt ${attempt} is no longer one its provider holds as failed`);
  }
  if (effects.switchToAttempt === undefined) return changes;
  const attempt = await findProviderAttempt(tx, refundId, effects.switchToAttempt);
  if (!attempt) throw new Error(`refund ${refundId} has no provider attempt ${effects.switchToAttempt}`);
  return {
    ...changes,
    provider: attempt.provider,
    providerAttempt: attempt.attempt,
    destinationType: attempt.destinationType,
    // The current attempt's account, still sealed to that attempt's row (field-seal.ts).
    destinationAccount: attempt.destinationAccount,
    destinationLast4: attempt.destinationLast4,
    destinationAccountName: attempt.destinationAccountName,
    providerReference: null,
    traceReference: null,
  };
}

/** A step's changes to the refund, in the order of the steps (`workflow_seq`): built once per set of fields changed. */
const refundStep = preparedByShape('refund_step', (db, fields) =>
  db
    .update(refunds)
    .set({ ...placeholders<RefundChanges>(fields), workflowSeq: sql`${sql.placeholder('seq')}`, updatedAt: sql`now()` })
    .where(and(eq(refunds.id, sql.placeholder('refundId')), lt(refunds.workflowSeq, sql.placeholder('seq'))))
    .returning(),
);

/** A refund's share of its payment moves; refused (nothing written) where it would over-refund. */
async function shiftRefundsPayment(tx: Executor, paymentId: string, shift: { refunded: number; reserved: number }): Promise<void> {
  if (await shiftPaymentTotals(tx, paymentId, shift)) return;
  const [payment] = await tx.execute<{ refundable: string }>(sql`SELECT amount - refunded_amount - reserved_amount AS refundable FROM payments WHERE id = ${paymentId}`);
  const refundable = Number(payment?.refundable ?? 0);
  throw new RefundRequestError('amount_exceeds_refundable', `Only ${refundable} minor units remain refundable on payment ${paymentId}`, { refundableAmount: refundable });
}

export async function refundTimeline(db: Executor, refundId: string): Promise<RefundEventRow[]> {
  return db.select().from(refundEvents).where(eq(refundEvents.refundId, refundId)).orderBy(asc(refundEvents.id));
}

const providerAttemptOf = prepared('provider_attempt', (db) =>
  db
    .select()
    .from(providerAttempts)
    .where(and(eq(providerAttempts.refundId, sql.placeholder('refundId')), eq(providerAttempts.attempt, sql.placeholder('attempt')))),
);

const attemptWithItsRefund = prepared('provider_attempt_with_refund', (db) =>
  db
    .select({ attempt: providerAttempts, refund: refunds, payment: payments })
    .from(providerAttempts)
    .innerJoin(refunds, eq(refunds.id, providerAttempts.refundId))
    .innerJoin(payments, eq(payments.id, refunds.paymentId))
    .where(and(eq(providerAttempts.refundId, sql.placeholder('refundId')), eq(providerAttempts.attempt, sql.placeholder('attempt')))),
);

/** A provider attempt with its refund and the payment the refund is against: what a provider call starts from, in one read. */
export async function findAttemptWithRefund(
  db: Executor,
  refundId: string,
  attempt: number,
): Promise<{ attempt: ProviderAttemptRow; refund: RefundRow; payment: PaymentRow } | undefined> {
  const [row] = await attemptWithItsRefund(db, { refundId, attempt });
  return row;
}

export async function findProviderAttempt(db: Executor, refundId: string, attempt: number): Promise<ProviderAttemptRow | undefined> {
  const [row] = await providerAttemptOf(db, { refundId, attempt });
  return row;
}

/** Every call made to a provider for the refund, in the order made: what support reads on its page. */
export async function providerAttemptsOf(db: Executor, refundId: string): Promise<ProviderAttemptRow[]> {
  return db.select().from(providerAttempts).where(eq(providerAttempts.refundId, refundId)).orderBy(asc(providerAttempts.attempt));
}

export async function findProviderAttemptByKey(db: Executor, provider: ProviderAttemptRow['provider'], idempotencyKey: string) {
  const [row] = await db
    .select()
    .from(providerAttempts)
    .where(and(eq(providerAttempts.provider, provider), eq(providerAttempts.idempotencyKey, idempotencyKey)));
  return row;
}

export async function updateProviderAttempt(
  db: Executor,
  refundId: string,
  attempt: number,
  changes: { state: ProviderState; reference?: string | null; traceReference?: string | null; failureReason?: string | null },
): Promise<void> {
  await providerAnswer(db, shapeOf(changes), { ...changes, refundId, attempt });
}

const providerAnswer = preparedByShape('provider_answer', (db, shape) =>
  db
    .update(providerAttempts)
    // The provider's word on where the attempt stands: it settles what a resend was waiting for.
    .set({ ...placeholders<Partial<ProviderAttemptRow>>(shape), resendable: false, updatedAt: sql`now()` })
    .where(and(eq(providerAttempts.refundId, sql.placeholder('refundId')), eq(providerAttempts.attempt, sql.placeholder('attempt')))),
);

/**
 * Claims an attempt for sending (compare-and-set to `in_doubt`): one never sent, or one the provider
 * said may be sent again under its key. Of two runs of the submit activity at once, exactly one
 * wins; the other asks the provider instead. A claimed attempt never goes back to `not_sent`: once
 * sent, only the provider's answer says where it stands.
 */
export async function claimProviderAttempt(db: Executor, refundId: string, attempt: number, method: RefundMethod): Promise<SentAs | null> {
  const [claimed] = await attemptClaim(db, { refundId, attempt, method });
  return claimed ? { method: claimed.method, requestedAt: claimed.firstSentAt! } : null;
}

const attemptClaim = prepared('provider_attempt_claim', (db) =>
  db
    .update(providerAttempts)
    .set({
      state: 'in_doubt',
      resendable: false,
      lastSentAt: sql`now()`,
      // The first send fixes how the attempt goes and the time it is known by; a resend keeps both.
      firstSentAt: sql`coalesce(${providerAttempts.firstSentAt}, now())`,
      method: sql`case when ${providerAttempts.state} = 'not_sent' then ${sql.placeholder('method')}::text else ${providerAttempts.method} end`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(providerAttempts.refundId, sql.placeholder('refundId')),
        eq(providerAttempts.attempt, sql.placeholder('attempt')),
        or(eq(providerAttempts.state, 'not_sent'), and(eq(providerAttempts.state, 'in_doubt'), eq(providerAttempts.resendable, true))),
      ),
    )
    .returning({ method: providerAttempts.method, firstSentAt: providerAttempts.firstSentAt }),
);

/**
 * A void the acquirer verifiably refused (its batch settled): the same attempt goes as a refund,
 * once — only a `void` becomes a `refund`, never back. Left sendable: the refund has not been sent,
 * and a second send of it is the same order number and time, which the acquirer takes once.
 */
export async function voidBecomesRefund(db: Executor, refundId: string, attempt: number, why: string): Promise<SentAs | null> {
  const [switched] = await db
    .update(providerAttempts)
    .set({ method: 'refund', methodNote: why, resendable: true, updatedAt: sql`now()` })
    .where(and(eq(providerAttempts.refundId, refundId), eq(providerAttempts.attempt, attempt), eq(providerAttempts.method, 'void'), eq(providerAttempts.state, 'in_doubt')))
    .returning({ method: providerAttempts.method, firstSentAt: providerAttempts.firstSentAt });
  return switched ? { method: switched.method, requestedAt: switched.firstSentAt! } : null;
}

/** How an attempt went (or will go), as its provider finds it again. */
export function sentAsOf(attempt: ProviderAttemptRow): SentAs {
  return { method: attempt.method, requestedAt: attempt.firstSentAt ?? attempt.createdAt };
}

/**
 * The provider answered "try again" (verified), or the request never left this machine: the
 * attempt stays in doubt, and the next try asks the provider by key and, finding nothing, sends the
 * same request again. `why` stays on the attempt for support while it waits.
 */
export async function allowResend(db: Executor, refundId: string, attempt: number, why: string): Promise<void> {
  await db
    .update(providerAttempts)
    .set({ resendable: true, failureReason: why, updatedAt: sql`now()` })
    .where(and(eq(providerAttempts.refundId, refundId), eq(providerAttempts.attempt, attempt), eq(providerAttempts.state, 'in_doubt')));
}

export interface RefundListFilter {
  /** The merchants the caller sees (issue #17); null or absent: every merchant. */
  scope?: MerchantScope;
  statuses?: RefundStatus[];
  merchantId?: string;
  paymentId?: string;
  orderId?: string;
  /** The last four characters of the payer's account: what a customer reads off their card or wallet. */
  payerLast4?: string;
  needsAttention?: boolean;
  /** Pending approval, or with an open proposal: the supervisors' inbox. */
  awaitingApproval?: boolean;
  createdFrom?: Date;
  createdTo?: Date;
  /** Continue after this (createdAt, id) position, newest first. */
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id) so deep pages stay as fast as the first. */
export async function listRefunds(db: Executor, filter: RefundListFilter): Promise<RefundRow[]> {
  return listRefundsQuery(db, filter);
}

/** Pending approval, or with an open proposal: what supervisors decide (SPEC rule 14). */
function awaitingApproval(): SQL {
  return sql`(${refunds.status} = 'pending_approval' OR ${refunds.proposal} IS NOT NULL)`;
}

/** The supervisors' inbox: what waits for a decision, oldest first. */
export function awaitingApprovalOldestFirst(db: Executor, limit: number, scope: MerchantScope) {
  return db
    .select()
    .from(refunds)
    .where(and(awaitingApproval(), withinScope(refunds.merchantId, scope)))
    .orderBy(asc(refunds.createdAt), asc(refunds.id))
    .limit(limit);
}

/** Support's desk: refunds a person must look at (SPEC: needsAttention, delayed, requires_action), oldest first. */
export function stuckOldestFirst(db: Executor, limit: number, scope: MerchantScope) {
  return db
    .select()
    .from(refunds)
    .where(and(or(eq(refunds.needsAttention, true), inArray(refunds.status, ['delayed', 'requires_action'])), withinScope(refunds.merchantId, scope)))
    .orderBy(asc(refunds.createdAt), asc(refunds.id))
    .limit(limit);
}

/** For each refund, the newest event of one of `types`: why it is where it is. */
export async function latestEventsOf(db: Executor, refundIds: string[], types: readonly string[]): Promise<Map<string, RefundEventRow>> {
  if (refundIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([refundEvents.refundId])
    .from(refundEvents)
    .where(and(inArray(refundEvents.refundId, refundIds), inArray(refundEvents.type, [...types])))
    .orderBy(refundEvents.refundId, desc(refundEvents.id));
  return new Map(rows.map((row) => [row.refundId, row]));
}

/** The list query itself, for listRefunds and for tests that check its plan uses the indexes. */
export function listRefundsQuery(db: Executor, filter: RefundListFilter) {
  const conditions: SQL[] = [];
  const scoped = withinScope(refunds.merchantId, filter.scope ?? null);
  if (scoped) conditions.push(scoped);
  if (filter.statuses?.length) conditions.push(inArray(refunds.status, filter.statuses));
  if (filter.merchantId) conditions.push(eq(refunds.merchantId, filter.merchantId));
  if (filter.paymentId) conditions.push(eq(refunds.paymentId, filter.paymentId));
  if (filter.orderId) conditions.push(eq(refunds.orderId, filter.orderId));
  if (filter.payerLast4) conditions.push(eq(refunds.payerLast4, filter.payerLast4));
  if (filter.needsAttention) conditions.push(eq(refunds.needsAttention, true));
  if (filter.awaitingApproval) conditions.push(awaitingApproval());
  if (filter.createdFrom) conditions.push(gte(refunds.createdAt, filter.createdFrom));
  if (filter.createdTo) conditions.push(lte(refunds.createdAt, filter.createdTo));
  if (filter.after) {
    conditions.push(
      or(lt(refunds.createdAt, filter.after.createdAt), and(eq(refunds.createdAt, filter.after.createdAt), lt(refunds.id, filter.after.id)))!,
    );
  }
  return db
    .select()
    .from(refunds)
    .where(and(...conditions))
    .orderBy(desc(refunds.createdAt), desc(refunds.id))
    .limit(filter.limit);
}
