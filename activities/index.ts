/**
 * Every activity the refund workflow can call, built from the dependencies they share. The worker
 * registers the result; the workflow proxies `ReturnType<typeof createActivities>` by type only.
 */
import type { Database } from '../src/db/client';
import type { ProviderRegistry } from '../src/providers/provider';
import { createMerchantEventActivities } from './merchant-event-activities';
import { createProviderActivities } from './provider-activities';
import { createReconciliationActivities, type WorkflowDefaults } from './reconciliation-activities';
import { createRecordActivities } from './record-activities';

export interface ActivityDependencies {
  db: Database;
  providers: ProviderRegistry;
  /** The business time zone, for the dates customers read. */
  utcOffsetMinutes: number;
  merchantWebhooks: Map<string, string>;
  merchantWebhookSecret: string;
  /** What the reconciliation starts a never-started refund workflow with. */
  workflowDefaults: WorkflowDefaults;
}

export function createActivities({ db, providers, utcOffsetMinutes, merchantWebhooks, merchantWebhookSecret, workflowDefaults }: ActivityDependencies) {
  return {
    ...createRecordActivities(db, utcOffsetMinutes),
    ...createProviderActivities(db, providers),
    ...createMerchantEventActivities({ db, merchantWebhooks, merchantWebhookSecret }),
    ...createReconciliationActivities(db, providers, workflowDefaults),
  };
}

export type RefundActivities = ReturnType<typeof createActivities>;
