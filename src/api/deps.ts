import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { DestinationSeal } from '../destination-seal';
import type { FieldSeal } from '../field-seal';
import type { KeyRing } from './auth';
import type { ProviderDirectory } from '../providers/merchant-providers';
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
  /** Each merchant's provider along each route (its own WeChat Pay or Alipay account, or the deployment's). */
  providers: ProviderDirectory;
  /** Who holds each API key (configured and issued), and for which merchants. */
  keys: KeyRing;
  /** What taking a refund and starting its workflow need. */
  refunds: RefundServiceDeps;
}
