/**
 * Identifiers the service mints. Refund ids sort by creation time (ULID layout: 48 bits of
 * milliseconds, 80 random bits, Crockford base32), which keeps the newest-first index compact.
 */
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function ulid(now = Date.now()): string {
  let time = '';
  for (let t = now, i = 0; i < 10; i += 1, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time;
  const random = randomBytes(16);
  let tail = '';
  for (let i = 0; i < 16; i += 1) tail += CROCKFORD[random[i]! % 32];
  return time + tail;
}

export const newRefundId = () => `rf_${ulid()}`;

/** One workflow per refund, named after it: starting the same refund twice is impossible. */
export const refundWorkflowId = (refundId: string) => `refund-${refundId}`;

/** The key a provider sees for a refund's n-th route: a reroute is a new key, a retry the same one. */
export const providerIdempotencyKey = (refundId: string, attempt: number) => `${refundId}-a${attempt}`;

export function randomDigits(count: number): string {
  const bytes = randomBytes(count);
  let digits = '';
  for (let i = 0; i < count; i += 1) digits += String(bytes[i]! % 10);
  return digits;
}
