/**
 * The daily reconciliation sweep's side: ask the providers about every attempt of every open
 * refund, and of every refund settled in the last week, and report where their books and ours disagree. It changes nothing itself; the
 * reconciliation workflow hands each finding to the refund's own workflow. An attempt its provider
 * gives no answer about we can rely on (unreachable, unsigned) is listed as unanswered and the sweep
 * goes on: the next sweep asks again, and the refund's own workflow keeps asking meanwhile.
 */
import { heartbeat, log } from '@temporalio/activity';
import { and, asc, eq, gt, inArray, ne, or } from 'drizzle-orm';
import type { Database } from '../src/db/client';
import { sentAsOf } from '../src/db/queries/refunds';
import { providerAttempts, refunds } from '../src/db/schema';
import { maskText } from '../src/masking';
import type { ProviderDirectory } from '../src/providers/merchant-providers';
import { providerStateOf, type RefundProvider } from '../src/providers/provider';
import type { ReconciliationFinding } from '../workflows/messages';
import type { ProviderName, ProviderState, RefundStatus } from '../workflows/lifecycle';

/** Refunds whose money may still be moving: the ones worth asking the providers about. */
const OPEN_STATUSES: RefundStatus[] = ['processing', 'awaiting_settlement', 'delayed', 'requires_action', 'correcting'];

export interface ReconciliationBatch {
  /** Continue after this refund id (the sweep pages through open refunds). */
  afterRefundId: string | null;
  limit: number;
}

/** An attempt the sweep could not check: what the provider call failed with. */
export interface UnansweredAttempt {
  refundId: string;
  attempt: number;
  provider: ProviderName;
  error: string;
}

export interface ReconciliationResult {
  checked: number;
  findings: ReconciliationFinding[];
  unanswered: UnansweredAttempt[];
  /** The last refund checked: the next batch starts after it; null when the sweep is done. */
  nextAfter: string | null;
}

/** Succeeded refunds this recent are checked too: a settlement believed wrongly shows up here. */
const RECENTLY_SETTLED_MS = 7 * 86_400_000;

export function createReconciliationActivities(db: Database, providers: ProviderDirectory) {
  return {
    async reconcileOpenRefunds({ afterRefundId, limit }: ReconciliationBatch): Promise<ReconciliationResult> {
      const open = await db
        .select({ id: refunds.id, paymentId: refunds.paymentId, merchantId: refunds.merchantId })
        .from(refunds)
        .where(
          and(
            or(
              inArray(refunds.status, OPEN_STATUSES),
              and(inArray(refunds.status, ['succeeded', 'corrected']), gt(refunds.settledAt, new Date(Date.now() - RECENTLY_SETTLED_MS))),
            ),
            afterRefundId ? gt(refunds.id, afterRefundId) : undefined,
          ),
        )
        .orderBy(asc(refunds.id))
        .limit(limit);
      const findings: ReconciliationFinding[] = [];
      const unanswered: UnansweredAttempt[] = [];
      for (const { id, paymentId, merchantId } of open) {
        const attempts = await db
          .select()
          .from(providerAttempts)
          .where(and(eq(providerAttempts.refundId, id), ne(providerAttempts.state, 'not_sent')))
          .orderBy(asc(providerAttempts.attempt));
        for (const attempt of attempts) {
          let found: Awaited<ReturnType<RefundProvider['findRefund']>>;
          try {
            found = await (await providers.forMerchant(merchantId, attempt.provider)).findRefund(attempt.idempotencyKey, paymentId, sentAsOf(attempt));
          } catch (error) {
            const why = maskText(error instanceof Error ? error.message : String(error));
            log.warn('reconciliation: no answer to rely on, asked again next sweep', { refundId: id, attempt: attempt.attempt, provider: attempt.provider, error: why });
            unanswered.push({ refundId: id, attempt: attempt.attempt, provider: attempt.provider, error: why });
            continue;
          }
          const theirs: ProviderState | 'missing' = found ? providerStateOf(found) : 'missing';
          if (!agree(attempt.state, theirs)) {
            findings.push({ refundId: id, attempt: attempt.attempt, provider: attempt.provider, ours: attempt.state, theirs, reference: found?.reference ?? null });
          }
        }
        heartbeat(id);
      }
      return { checked: open.length, findings, unanswered, nextAfter: open.length === limit ? open[open.length - 1]!.id : null };
    },
  };
}

/** Whether our record of an attempt and the provider's say the same thing. */
function agree(ours: ProviderState, theirs: ProviderState | 'missing'): boolean {
  if (ours === theirs) return true;
  // In doubt means "we do not know yet": whatever the provider holds is the answer, not a conflict.
  if (ours === 'in_doubt') return true;
  // A declined submission left nothing at the provider, or a failed record there.
  return ours === 'failed' && theirs === 'missing';
}
