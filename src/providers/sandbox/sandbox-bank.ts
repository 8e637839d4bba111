/**
 * The sandbox providers' back office: settles pending refunds when their time comes, returns the
 * money of the `0004` accounts a little later, and tells our API about each through the signed
 * provider webhook, redelivering until it is acknowledged, as real providers do. Several
 * processes may run it at once: rows are claimed with SKIP LOCKED.
 */
import { and, asc, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { prepared } from '../../db/prepared';
import { sandboxNotices, sandboxOperations, type SandboxOperationRow } from './sandbox-schema';
import type { ProviderName } from '../../../workflows/lifecycle';
import { ulid } from '../../ids';
import type { Logger } from '../../logger';
import { errorFields } from '../../logger';
import { startPollingLoop, type PollingLoop } from '../../polling-loop';
import { postSignedWebhook, signPayload } from '../../webhook-signature';
import type { ProviderNoticePayload, ProviderNoticeType } from '../provider';
import { reversedFrom, sandboxBehaviour, type SandboxTiming } from './sandbox-provider';


/** Hands one signed webhook to its receiver; true when the receiver acknowledged it. */
export type NoticeTransport = (provider: ProviderName, rawBody: string, signature: string) => Promise<boolean>;

export function httpNoticeTransport(webhookBaseUrl: string): NoticeTransport {
  return async (provider, rawBody, signature) => {
    const response = await postSignedWebhook(`${webhookBaseUrl}/${provider}`, rawBody, signature);
    return response.ok;
  };
}

export interface SandboxBankOptions {
  db: Database;
  timing: SandboxTiming;
  webhookSecret: string;
  transport: NoticeTransport;
  logger: Logger;
  tickMs?: number;
}

// What every tick asks, whether or not anything is due: built once (src/db/prepared.ts).
const dueToSettle = prepared('sandbox_due_to_settle', (db) =>
  db
    .select()
    .from(sandboxOperations)
    .where(and(eq(sandboxOperations.status, 'pending'), lte(sandboxOperations.settleAt, sql`now()`)))
    .limit(100)
    .for('update', { skipLocked: true }),
);

const dueToReturn = prepared('sandbox_due_to_return', (db) =>
  db
    .select()
    .from(sandboxOperations)
    .where(and(isNull(sandboxOperations.returnedAt), lte(sandboxOperations.returnAt, sql`now()`)))
    .limit(100)
    .for('update', { skipLocked: true }),
);

const noticesOwed = prepared('sandbox_notices_owed', (db) =>
  db
    .select({ notice: sandboxNotices, operation: sandboxOperations })
    .from(sandboxNotices)
    .innerJoin(sandboxOperations, eq(sandboxNotices.operationId, sandboxOperations.id))
    .where(and(isNull(sandboxNotices.deliveredAt), lte(sandboxNotices.nextAttemptAt, sql`now()`)))
    .orderBy(asc(sandboxNotices.createdAt))
    .limit(50)
    .for('update', { of: sandboxNotices, skipLocked: true }),
);

export class SandboxBank {
  private loop?: PollingLoop;

  constructor(private readonly options: SandboxBankOptions) {}

  start(): void {
    this.loop = startPollingLoop('sandbox bank tick', () => this.tick(), this.options.tickMs ?? 200, this.options.logger);
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One pass: settle what is due, return what is due, deliver what is owed. */
  async tick(): Promise<void> {
    await this.settleDue();
    await this.returnDue();
    await this.deliverNotices();
  }

  private async settleDue(): Promise<void> {
    await this.options.db.transaction(async (tx) => {
      const due = await dueToSettle(tx, {});
      for (const operation of due) {
        const returns = sandboxBehaviour(operation.accountLast4) === 'returns_after_settling';
        await tx
          .update(sandboxOperations)
          .set({
            status: 'settled',
            settledAt: sql`now()`,
            returnAt: returns ? sql`now() + ${`${this.options.timing.returnDelayMs} milliseconds`}::interval` : null,
          })
          .where(eq(sandboxOperations.id, operation.id));
        await tx.insert(sandboxNotices).values(noticeFor(operation, 'refund.settled'));
      }
    });
  }

  private async returnDue(): Promise<void> {
    await this.options.db.transaction(async (tx) => {
      const due = await dueToReturn(tx, {});
      for (const operation of due) {
        // The bank sends back what the payout still holds: less whatever a correction reversed.
        const left = operation.amount - (await reversedFrom(tx, operation.id));
        if (left === 0) {
          await tx.update(sandboxOperations).set({ returnAt: null }).where(eq(sandboxOperations.id, operation.id));
          continue;
        }
        await tx.update(sandboxOperations).set({ returnedAt: sql`now()`, returnedAmount: left }).where(eq(sandboxOperations.id, operation.id));
        await tx.insert(sandboxNotices).values(noticeFor(operation, 'refund.returned'));
      }
    });
  }

  private async deliverNotices(): Promise<void> {
    const { db, webhookSecret, transport, logger } = this.options;
    await db.transaction(async (tx) => {
      const owed = await noticesOwed(tx, {});
      for (const { notice, operation } of owed) {
        const payload: ProviderNoticePayload = {
          id: notice.id,
          type: notice.type as ProviderNoticeType,
          reference: operation.id,
          idempotencyKey: operation.idempotencyKey,
          amount: notice.type === 'refund.returned' ? operation.returnedAmount! : operation.amount,
          currency: operation.currency,
          occurredAt: notice.createdAt.toISOString(),
        };
        const rawBody = JSON.stringify(payload);
        const delivered = await transport(notice.provider, rawBody, signPayload(webhookSecret, rawBody)).catch((error) => {
          logger.debug('sandbox webhook not delivered yet', { noticeId: notice.id, ...errorFields(error) });
          return false;
        });
        await tx
          .update(sandboxNotices)
          .set({
            attempts: sql`${sandboxNotices.attempts} + 1`,
            ...(delivered
              ? { deliveredAt: sql`now()` }
              : { nextAttemptAt: sql`now() + least(power(2, ${sandboxNotices.attempts}), 60) * interval '1 second'` }),
          })
          .where(eq(sandboxNotices.id, notice.id));
      }
    });
  }
}

function noticeFor(operation: SandboxOperationRow, type: ProviderNoticeType) {
  return { id: `ntc_${ulid()}`, provider: operation.provider, operationId: operation.id, type };
}
