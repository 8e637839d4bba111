/**
 * Which merchants a caller acts for (issue #17). A key names its merchants, or none for the
 * provider's own staff who see every one. Anything of another merchant — a payment, a refund, an
 * event, a report row — does not exist for the caller: lookups answer 404 as for an unknown id,
 * lists and reports leave it out.
 */
import { inArray, sql, type Column, type SQL } from 'drizzle-orm';
import type { Actor, Role } from '../../workflows/lifecycle';

/** The merchant ids a caller may see; null: every merchant. */
export type MerchantScope = readonly string[] | null;

export const EVERY_MERCHANT: MerchantScope = null;

/** Someone who takes or decides refunds, as the records name them, with the merchants they act for. */
export type RefundCaller = Actor & { role: Role; merchants: MerchantScope };

export function sees(scope: MerchantScope, merchantId: string): boolean {
  return scope === null || scope.includes(merchantId);
}

/** A WHERE condition keeping `column` (a merchant id, or an aliased one in SQL) within the scope; undefined for every merchant. */
export function withinScope(column: Column | SQL, scope: MerchantScope): SQL | undefined {
  if (scope === null) return undefined;
  return scope.length === 0 ? sql`false` : inArray(sql`${column}`, [...scope]);
}
