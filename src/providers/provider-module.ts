/**
 * A provider as one folder (issue #21): everything the service must know of an adapter beyond the
 * `RefundProvider` calls — its settings and how they are read from the environment, the routes it
 * can serve, and the notifications it sends us — declared by the adapter itself. Adding one is its
 * folder, a line in `adapters.ts` and the README's "Adding a provider"; config, the API and the
 * worker read these declarations and name no provider.
 */
import type { z } from 'zod';
import type { ProviderName } from '../../workflows/lifecycle';
import type { ProviderNoticePayload, RefundProvider } from './provider';

export interface ProviderModule<Settings = unknown, Provider extends RefundProvider = RefundProvider> {
  /** Its name as `PROVIDER_<ROUTE>` gives it (`PROVIDER_CARD=<adapter>`). */
  readonly adapter: string;
  /** The routes it can serve. */
  readonly routes: readonly ProviderName[];
  /** What it is, for the messages that name it. */
  readonly label: string;
  /**
   * Its settings, read from the environment by their own schema, only when a route uses it. An
   * issue is reported against the variable it names (the schema's path), never as a stack trace.
   */
  readonly settings: z.ZodType<Settings>;
  /** Variables that may be given as `NAME_FILE` (secrets and keys kept in files). */
  readonly secretSettings: readonly string[];
  /** Of those, the files that are binary (a PKCS#12 keystore): read as bytes, given as base64. */
  readonly binarySecretSettings?: readonly string[];
  create(settings: Settings): Provider;
  /** Where its notifications arrive, if it sends any. */
  readonly notices?: NoticeEndpoint;
}

/** A provider's notification endpoint, mounted by the API at `/v1/webhooks/<path>`. */
export interface NoticeEndpoint {
  path: string;
  /** How the provider posts them: a JSON body, or a form (application/x-www-form-urlencoded). */
  body: 'json' | 'form';
  /** Also at `/v1/webhooks/<path>/{merchant}`: opened with the account that merchant's refunds go out with, taken only for its refunds. */
  perMerchant?: boolean;
  summary: string;
  /**
   * Verifies one delivery with `provider` (the deployment's, or the merchant's own account's) and
   * reads it into our terms; anything it cannot vouch for — a provider not of this module included —
   * is refused, with why.
   */
  open(provider: RefundProvider, delivery: { headers: Record<string, string | undefined>; rawBody: string }): OpenedNotice;
  /** What the provider expects back once a notification is taken (or recognised as a duplicate). */
  taken: { status: number; text?: string };
}

export type OpenedNotice = { ok: true; notice: ProviderNoticePayload } | { ok: false; reason: string };
