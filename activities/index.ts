/**
 * Every activity the refund workflow can call, built from the dependencies they share. The worker
 * registers the result; the workflow proxies `ReturnType<typeof createActivities>` by type only.
 */
import type { Database } from '../src/db/client';
import type { ProviderRegistry } from '../src/providers/provider';
import { createProviderActivities } from './provider-activities';
import { createRecordActivities } from './record-activities';

export interface ActivityDependencies {
  db: Database;
  providers: ProviderRegistry;
  /** The business time zone, for the dates customers read. */
  utcOffsetMinutes: number;
}

export function createActivities({ db, providers, utcOffsetMinutes }: ActivityDependencies) {
  return {
    ...createRecordActivities(db, utcOffsetMinutes),
    ...createProviderActivities(db, providers),
  };
}

export type RefundActivities = ReturnType<typeof createActivities>;
