/**
 * Sandbox providers: stand-ins for the card acquirer, WeChat Pay, Alipay and the bank-transfer
 * rail until real credentials are configured. They keep their books in our database
 * (`sandbox_operations`) and behave like the real ones, including the ways real ones misbehave,
 * chosen by the last four digits of the account (SPEC §7).
 *
 * Like a careless real provider, the sandbox does NOT deduplicate submissions by key: a second
 * submission is a second payout. Exactly-once is the service's job, and a test that counts
 * operations here can catch the service paying twice.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { placeholders, prepared, preparedByShape, shapeOf } from '../../db/prepared';
import { sandboxOperations, sandboxSubmissionCounts, type SandboxOperationRow } from './sandbox-schema';
import type { ProviderName } from '../../../workflows/lifecycle';
import { randomDigits, ulid } from '../../ids';
import {
  ProviderCannotCancelError,
  ProviderReversalRefusedError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  type ProviderRefund,
  type ProviderRefundRequest,
  type ProviderReversalRequest,
  type RefundProvider,
} from '../provider';

export type SandboxBehaviour =
  | 'settles'
  | 'declines'
  | 'refuses_reversal'
  | 'fails_three_times'
  | 'times_out_after_taking'
  | 'returns_after_settling'
  | 'never_settles';

const BEHAVIOUR_BY_LAST4: Record<string, SandboxBehaviour> = {
  '0002': 'declines',
  '0003': 'refuses_reversal',
  '0005': 'fails_three_times',
  '0007': 'times_out_after_taking',
  '0004': 'returns_after_settling',
  '0009': 'never_settles',
};

export function sandboxBehaviour(account: string): SandboxBehaviour {
  return BEHAVIOUR_BY_LAST4[lastFour(account)] ?? 'settles';
}

export interface SandboxTiming {
  settlementDelayMs: number;
  returnDelayMs: number;
  /** How long a submission takes to answer once the provider has taken it (a real provider's latency). */
  responseDelayMs?: number;
}

export class SandboxProvider implements RefundProvider {
  constructor(
    readonly name: ProviderName,
    private readonly db: Database,
    private readonly timing: SandboxTiming,
  ) {}

  async submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund> {
    const behaviour = sandboxBehaviour(request.account);
    const submissions = await this.countSubmission(request.idempotencyKey);
    if (behaviour === 'fails_three_times' && submissions <= 3) {
      throw new ProviderUnavailableError(`${this.name} sandbox: temporary error (submission ${submissions} of key ${request.idempotencyKey})`);
    }
    const declined = behaviour === 'declines';
    const settlesAtOnce = !declined && behaviour !== 'never_settles' && this.timing.settlementDelayMs === 0;
    const now = new Date();
    const [operation] = await insertOperation(this.db, {
      id: `sbx_${this.name}_${ulid()}`,
      provider: this.name,
      paymentId: request.paymentId,
      refundId: request.refundId,
      idempotencyKey: request.idempotencyKey,
      kind: 'refund',
      amount: request.amount,
      currency: request.currency,
      accountLast4: lastFour(request.account),
      traceReference: traceReferenceFor(this.name),
      status: declined ? 'failed' : settlesAtOnce ? 'settled' : 'pending',
      failureReason: declined ? 'account_closed' : null,
      settleAt: declined || behaviour === 'never_settles' ? null : new Date(now.getTime() + this.timing.settlementDelayMs),
      settledAt: settlesAtOnce ? now : null,
      returnAt: settlesAtOnce && behaviour === 'returns_after_settling' ? new Date(now.getTime() + this.timing.returnDelayMs) : null,
    });
    if (behaviour === 'times_out_after_taking') {
      throw new ProviderTimeoutError(`${this.name} sandbox: no answer within the deadline (the refund was taken)`);
    }
    if (this.timing.responseDelayMs) await new Promise((resolve) => setTimeout(resolve, this.timing.responseDelayMs));
    return toProviderRefund(operation!);
  }

  async findRefund(idempotencyKey: string): Promise<ProviderRefund | null> {
    const [operation] = await refundUnderKey(this.db, { provider: this.name, idempotencyKey });
    return operation ? toProviderRefund(operation) : null;
  }

  async cancelRefund(reference: string): Promise<ProviderRefund> {
    const [canceled] = await this.db
      .update(sandboxOperations)
      .set({ status: 'canceled', settleAt: null })
      .where(and(eq(sandboxOperations.id, reference), eq(sandboxOperations.status, 'pending')))
      .returning();
    if (canceled) return toProviderRefund(canceled);
    const [existing] = await this.db.select().from(sandboxOperations).where(eq(sandboxOperations.id, reference));
    if (existing?.status === 'canceled') return toProviderRefund(existing);
    throw new ProviderCannotCancelError(
      existing ? `${this.name} sandbox: refund ${reference} is ${existing.status} and can no longer be canceled` : `${this.name} sandbox: no refund ${reference}`,
    );
  }

  async reverseRefund(request: ProviderReversalRequest): Promise<ProviderRefund> {
    // The payout is locked while it is reversed, as a bank would: a return of the same payout waits.
    return this.db.transaction(async (tx) => {
      const [original] = await tx.select().from(sandboxOperations).where(eq(sandboxOperations.id, request.reference)).for('update');
      if (!original || original.status !== 'settled') {
        throw new ProviderReversalRefusedError(`${this.name} sandbox: refund ${request.reference} is not settled and cannot be reversed`);
      }
      if (original.returnedAt) {
        throw new ProviderReversalRefusedError(`${this.name} sandbox: refund ${request.reference} was returned by the bank; there is nothing to reverse`);
      }
      if (sandboxBehaviour(original.accountLast4) === 'refuses_reversal') {
        throw new ProviderReversalRefusedError(`${this.name} sandbox: the bank refused to take back ${request.amount} from ****${original.accountLast4}`);
      }
      // Like a real provider, never more than the refund paid, less what was already taken back.
      const left = original.amount - (await reversedFrom(tx, original.id));
      if (request.amount > left) {
        throw new ProviderReversalRefusedError(`${this.name} sandbox: ${request.amount} is more than the ${left} left of refund ${original.id}`);
      }
      const [reversal] = await tx
        .insert(sandboxOperations)
        .values({
          id: `sbx_${this.name}_${ulid()}`,
          provider: this.name,
          paymentId: original.paymentId,
          refundId: original.refundId,
          idempotencyKey: request.idempotencyKey,
          kind: 'reversal',
          amount: request.amount,
          currency: request.currency,
          accountLast4: original.accountLast4,
          traceReference: original.traceReference,
          reverses: original.id,
          status: 'settled',
          settledAt: new Date(),
        })
        .returning();
      return toProviderRefund(reversal!);
    });
  }

  async findReversal(idempotencyKey: string): Promise<ProviderRefund | null> {
    const [reversal] = await this.db
      .select()
      .from(sandboxOperations)
      .where(and(eq(sandboxOperations.provider, this.name), eq(sandboxOperations.idempotencyKey, idempotencyKey), eq(sandboxOperations.kind, 'reversal')))
      .limit(1);
    return reversal ? toProviderRefund(reversal) : null;
  }

  private async countSubmission(idempotencyKey: string): Promise<number> {
    const [row] = await submissionCount(this.db, { provider: this.name, idempotencyKey });
    return row!.submissions;
  }
}

// The sandbox's own statements on every refund, built once (src/db/prepared.ts), as the service's are.
type NewOperation = typeof sandboxOperations.$inferInsert;
async function insertOperation(db: Database, operation: NewOperation) {
  return newOperation(db, shapeOf(operation), operation);
}
const newOperation = preparedByShape('sandbox_new_operation', (db, shape) => db.insert(sandboxOperations).values(placeholders<NewOperation>(shape)).returning());

const refundUnderKey = prepared('sandbox_refund_under_key', (db) =>
  db
    .select()
    .from(sandboxOperations)
    .where(
      and(
        eq(sandboxOperations.provider, sql.placeholder('provider')),
        eq(sandboxOperations.idempotencyKey, sql.placeholder('idempotencyKey')),
        eq(sandboxOperations.kind, 'refund'),
      ),
    )
    .orderBy(asc(sandboxOperations.createdAt))
    .limit(1),
);

const submissionCount = prepared('sandbox_submission_count', (db) =>
  db
    .insert(sandboxSubmissionCounts)
    .values({ provider: sql.placeholder('provider'), idempotencyKey: sql.placeholder('idempotencyKey'), submissions: 1 })
    .onConflictDoUpdate({
      target: [sandboxSubmissionCounts.provider, sandboxSubmissionCounts.idempotencyKey],
      set: { submissions: sql`${sandboxSubmissionCounts.submissions} + 1` },
    })
    .returning({ submissions: sandboxSubmissionCounts.submissions }),
);

/** What reversals have taken back from a sandbox payout so far. */
export async function reversedFrom(db: Pick<Database, 'select'>, operationId: string): Promise<number> {
  const [row] = await db
    .select({ reversed: sql<string>`coalesce(sum(${sandboxOperations.amount}), 0)` })
    .from(sandboxOperations)
    .where(and(eq(sandboxOperations.reverses, operationId), eq(sandboxOperations.status, 'settled')));
  return Number(row!.reversed);
}

export function toProviderRefund(operation: SandboxOperationRow): ProviderRefund {
  return {
    reference: operation.id,
    traceReference: operation.traceReference,
    status: operation.status,
    returned: operation.returnedAt !== null,
    failureReason: operation.failureReason,
  };
}

function lastFour(account: string): string {
  return account.replace(/\D/g, '').slice(-4);
}

/** References shaped like the real ones: a 23-digit ARN for cards, wallet refund ids, a bank serial. */
function traceReferenceFor(provider: ProviderName): string {
  switch (provider) {
    case 'card':
      return `7${randomDigits(22)}`;
    case 'wechat':
      return `50${randomDigits(27)}`;
    case 'alipay':
      return `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}${randomDigits(16)}`;
    case 'bank_transfer':
      return `BT${randomDigits(18)}`;
  }
}
