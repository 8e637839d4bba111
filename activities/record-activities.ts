/**
 * The activity that puts workflow steps on record: the steps of one call in one database
 * transaction, each with its audit event, the refund's read model, the money it moves on the
 * payment, the provider attempt it opens, and the messages it sends. (Usually one step; a payout
 * the provider settled at once records `submitted` and `settled` together.) Keyed by refund and
 * step number, so a retry writes nothing twice and a late retry of an older step cannot overwrite
 * a newer one. A step the database must refuse (it would over-refund the payment; a correction to
 * the account the money already went to) writes nothing — nor does any step beside it — and comes
 * back as a refusal, which the workflow hands to the person deciding.
 */
import { databaseErrorMessage, type Database, type Executor } from '../src/db/client';
import { findPayment, findPaymentOfRefund } from '../src/db/queries/payments';
import { applyWorkflowStep, findProviderAttempt, findRefund, type NewProviderAttempt, type RefundChanges } from '../src/db/queries/refunds';
import type { ApprovalRecord, CorrectionRecord, PaymentRow, RefundRow } from '../src/db/schema';
import type { DestinationSeal } from '../src/destination-seal';
import { lastFourOf, openName, place, sealName, type FieldSeal } from '../src/field-seal';
import { providerIdempotencyKey } from '../src/ids';
import { queueCustomerNotice, queueStaffNotice, type CustomerNotice, type StaffNotice } from '../src/notifications/step-notices';
import type { Actor, ProviderName, ProviderState, RefundMethod, RefundStatus } from '../workflows/lifecycle';
import type { Destination, SealedBankAccount } from '../workflows/messages';
import type { ProposalView } from '../workflows/proposals';
import { RefundRequestError, type RefundErrorCode } from '../workflows/refusals';

/** Fields of the refund a workflow step may change; instants as ISO strings (history is JSON). */
export interface RefundStepChanges {
  status?: RefundStatus;
  provider?: ProviderName;
  providerAttempt?: number;
  providerState?: ProviderState;
  providerReference?: string | null;
  traceReference?: string | null;
  /** A card refund: sent as a void or a refund, and why. */
  providerMethod?: RefundMethod;
  providerMethodReason?: string;
  needsAttention?: boolean;
  redirectable?: boolean;
  approvals?: ApprovalRecord[];
  approvalDueAt?: string | null;
  settlementDueAt?: string | null;
  expectedArrivalAt?: string | null;
  hardDeadlineAt?: string | null;
  settledAt?: string | null;
  amount?: number;
  netAmount?: number;
  corrections?: CorrectionRecord[];
  proposal?: ProposalView | null;
  /** Where the refund's money stands on the payment, as the read model shows it. */
  reservation?: 'reserved' | 'released' | 'settled';
}

/** A payout route a decision opens: back to the payer, to a bank account, or where the refund already pays. */
export interface NewAttempt {
  attempt: number;
  destination: Destination | { type: 'current' };
  /** What this attempt pays, net of the fee. */
  amount: number;
  requestedBy: string;
}

export interface RefundStep {
  refundId: string;
  /** The workflow's step counter: orders writes and names the event for deduplication. */
  seq: number;
  type: string;
  actor: Actor;
  detail?: Record<string, unknown>;
  changes: RefundStepChanges;
  /** Moves the payment's refunded and reserved totals (the CHECK refuses any over-refund). */
  paymentShift?: { refunded: number; reserved: number };
  /** Writes down a new provider attempt (the account opened from its seal here, and only here). */
  newAttempt?: NewAttempt;
  /** The refund pays through this provider attempt from now on: its route and destination are copied. */
  switchToAttempt?: number;
  /**
   * The attempt's provider sends the money it could not pay back on to a bank card itself (WeChat
   * Pay's abnormal refund): same attempt and key, the card written on it (opened from its seal
   * here), and the attempt made sendable again.
   */
  redirectAttempt?: { attempt: number; destination: SealedBankAccount };
  /** Refuse the step when the money already went to this destination (a re-issue to the same account). */
  requireNewDestination?: Destination;
  notify?: CustomerNotice;
  /** Staff to tell (approval reminders, escalations, proposals). */
  tellStaff?: StaffNotice;
}

export type StepOutcome = { recorded: true } | { recorded: false; refusal: { code: RefundErrorCode; message: string; facts: Record<string, unknown> } };

const INSTANT_FIELDS = ['approvalDueAt', 'settlementDueAt', 'expectedArrivalAt', 'hardDeadlineAt', 'settledAt'] as const;

export function createRecordActivities(db: Database, utcOffsetMinutes: number, seal: DestinationSeal, fields: FieldSeal) {
  /** Where a destination pays: the payer's own account on the payment's channel, or a bank account (the account opened). */
  async function routeOf(tx: Executor, refund: RefundRow, destination: NewAttempt['destination']) {
    if (destination.type === 'current') {
      const current = (await findProviderAttempt(tx, refund.id, refund.providerAttempt))!;
      const account = fields.open(current.destinationAccount, place.attempt(refund.id, current.attempt));
      const holder = openName(fields, current.destinationAccountName, place.holder(refund.id, current.attempt));
      return { provider: current.provider, destinationType: current.destinationType, destinationAccount: account, destinationAccountName: holder };
    }
    if (destination.type === 'original') {
      const payment = (await findPayment(tx, refund.paymentId))!;
      return { provider: payment.channel, destinationType: 'original' as const, destinationAccount: fields.open(payment.payerAccount, place.payment(payment.id)), destinationAccountName: null };
    }
    if (destination.type === 'wechat_bank_card') throw new Error('WeChat Pay’s own transfer continues an attempt (redirectAttempt); it opens none');
    const { account, accountName } = seal.open(destination);
    return { provider: 'bank_transfer' as const, destinationType: 'bank_transfer' as const, destinationAccount: account, destinationAccountName: accountName };
  }

  function cardOnAttempt(refundId: string, { attempt, destination }: NonNullable<RefundStep['redirectAttempt']>) {
    const { account, accountName } = seal.open(destination);
    return {
      attempt,
      destinationAccount: fields.seal(account, place.attempt(refundId, attempt)),
      destinationLast4: lastFourOf(account),
      destinationAccountName: fields.seal(accountName, place.holder(refundId, attempt)),
      bankType: destination.bankType!,
    };
  }

  return {
    async recordRefundSteps(steps: RefundStep[]): Promise<StepOutcome> {
      try {
        await db.transaction(async (tx) => {
          // The payment whose customer the steps' messages go to (the steps of one call are one
          // refund's): read once, beside the first step's writes, in the same round trip. Awaited by
          // the messages, and never left unhandled by a step that fails before them.
          const customer = steps.some((step) => step.notify) ? findPaymentOfRefund(tx, steps[0]!.refundId) : undefined;
          customer?.catch(() => undefined);
          for (const step of steps) await applyStep(tx, step, customer);
        });
        return { recorded: true };
      } catch (error) {
        if (error instanceof RefundRequestError) return { recorded: false, refusal: { code: error.code, message: error.message, facts: error.facts } };
        // Retried by Temporal; if it never succeeds this message becomes the evidence on record.
        throw new Error(databaseErrorMessage(error));
      }
    },
  };

  async function applyStep(tx: Executor, step: RefundStep, customer: Promise<PaymentRow | undefined> | undefined): Promise<void> {
    const changes = { ...step.changes } as RefundChanges;
    for (const field of INSTANT_FIELDS) {
      const value = step.changes[field];
      if (value !== undefined) changes[field] = value === null ? null : new Date(value);
    }
    let newAttempt: NewProviderAttempt | undefined;
    if (step.newAttempt || step.requireNewDestination) {
      const refund = (await findRefund(tx, step.refundId))!;
      if (step.requireNewDestination) {
        const route = await routeOf(tx, refund, step.requireNewDestination);
        if (digits(route.destinationAccount) === digits(fields.open(refund.destinationAccount, place.attempt(refund.id, refund.providerAttempt)))) {
          throw new RefundRequestError('correction_not_needed', 'the refund already went to that account');
        }
      }
      if (step.newAttempt) {
        const { attempt, destination, amount, requestedBy } = step.newAttempt;
        const route = await routeOf(tx, refund, destination);
        // At rest the account and its holder are sealed to the new attempt's row; the last four stay readable.
        newAttempt = {
          refundId: step.refundId,
          attempt,
          idempotencyKey: providerIdempotencyKey(step.refundId, attempt),
          amount,
          requestedBy,
          ...route,
          destinationAccount: fields.seal(route.destinationAccount, place.attempt(step.refundId, attempt)),
          destinationLast4: lastFourOf(route.destinationAccount),
          destinationAccountName: sealName(fields, route.destinationAccountName, place.holder(step.refundId, attempt)),
        };
      }
    }
    await applyWorkflowStep(
      tx,
      step.refundId,
      step.seq,
      changes,
      {
        eventKey: `step-${step.seq}`,
        type: step.type,
        actor: step.actor,
        detail: { ...step.detail, ...(step.changes.status ? { status: step.changes.status } : {}) },
      },
      {
        paymentShift: step.paymentShift,
        newAttempt,
        switchToAttempt: step.switchToAttempt,
        redirectAttempt: step.redirectAttempt && cardOnAttempt(step.refundId, step.redirectAttempt),
        alsoWrite: async (tx, refund) => {
          if (step.notify) await queueCustomerNotice(tx, fields, refund, paymentOf(refund, await customer), step.notify, utcOffsetMinutes);
          if (step.tellStaff) await queueStaffNotice(tx, refund, step.tellStaff);
        },
      },
    );
  }
}

function paymentOf(refund: RefundRow, payment: PaymentRow | undefined): PaymentRow {
  if (!payment) throw new Error(`refund ${refund.id} names no payment ${refund.paymentId}`);
  return payment;
}

function digits(account: string): string {
  return account.replace(/\D/g, '');
}
