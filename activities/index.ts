/**
 * Every activity the refund workflow can call, built from the dependencies they share. The worker
 * registers the result; the workflow proxies `ReturnType<typeof createActivities>` by type only.
 */
import type { Database } from '../src/db/client';
import type { DestinationSeal } from '../src/destination-seal';
import type { FieldSeal } from '../src/field-seal';
import type { ProviderDirectory } from '../src/providers/merchant-providers';
import { createMerchantEventActivities } from './merchant-event-activities';
import { createProviderActivities } from './provider-activities';
import { createReconciliationActivities } from './reconciliation-activities';
import { createRecordActivities } from './record-activities';

export interface ActivityDependencies {
  db: Database;
  /** The provider of each merchant's route. */
  providers: ProviderDirectory;
  /** The business time zone, for the dates customers read. */
  utcOffsetMinutes: number;
  merchantWebhooks: Map<string, string>;
  merchantWebhookSecret: string;
  /** Opens the bank accounts people give for reroutes and corrections. */
  seal: DestinationSeal;
  /** Seals and opens account numbers at rest. */
  fields: FieldSeal;
}

export function createActivities({ db, providers, utcOffsetMinutes, merchantWebhooks, merchantWebhookSecret, seal, fields }: ActivityDependencies) {
  return {
    ...createRecordActivities(db, utcOffsetMinutes, seal, fields),
    ...createProviderActivities(db, providers, fields),
    ...createMerchantEventActivities({ db, merchantWebhooks, merchantWebhookSecret, fields }),
    ...createReconciliationActivities(db, providers),
  };
}

export type RefundActivities = ReturnType<typeof createActivities>;
