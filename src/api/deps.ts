import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { DestinationSeal } from '../destination-seal';
import type { FieldSeal } from '../field-seal';
import type { KeyRing } from './auth';
import type { Logger } from '../logger';
import type { RefundServiceDeps } from '../refunds/create-refund';
import type { ApiMetrics } from './metrics';

/** What the API's routes work with. */
export interface ApiDeps {
  config: Config;
  db: Database;
  temporal: Client;
  logger: Logger;
  metrics: ApiMetrics;
  seal: DestinationSeal;
  /** Seals account numbers at rest (field-seal.ts). */
  fields: FieldSeal;
  /** Who holds each API key (configured and issued), and for which merchants. */
  keys: KeyRing;
  /** What taking a refund and starting its workflow need. */
  refunds: RefundServiceDeps;
}
