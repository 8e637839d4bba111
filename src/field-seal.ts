/**
 * Account numbers and people's names at rest (issue #20): each value sealed on its own with AES-256-GCM, its
 * additional data naming the table, column and row it belongs to, so a sealed value copied into
 * another row (or column) does not open there. Keys carry an id and rotate: the first of
 * ACCOUNT_SEAL_KEYS seals, every one of them opens, and values under an older key (or from before
 * sealing) are sealed again under the current one when the service starts. What stays in the clear
 * is what support searches by and customers read: the last four characters, in columns of their own.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'sealed:v1';

export interface SealKey {
  id: string;
  key: Buffer;
}

export interface FieldSeal {
  /** The value sealed for `place` (`table.column:rowId`). */
  seal(value: string, place: string): string;
  /** The value of a sealed field, checked against its place; a value from before sealing is returned as it is. */
  open(stored: string, place: string): string;
  /** How every value sealed under the current key begins: anything else is sealed again (legacy text, an older key). */
  readonly currentPrefix: string;
}

export function fieldSeal(keys: SealKey[]): FieldSeal {
  if (keys.length === 0) throw new Error('a field seal needs at least one key');
  const current = keys[0]!;
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  return {
    seal(value, place) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(place));
      const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}:${current.id}:${iv.toString('base64url')}:${body.toString('base64url')}`;
    },
    open(stored, place) {
      if (!stored.startsWith(`${PREFIX}:`)) return stored;
      const [, , id, iv, body] = stored.split(':');
      const key = id ? byId.get(id) : undefined;
      if (!key || !iv || !body) throw new Error(`the sealed field of ${place} names no key this service holds (${id ?? '?'})`);
      const bytes = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(place));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
    },
    currentPrefix: `${PREFIX}:${current.id}:`,
  };
}

/**
 * The key ring: ACCOUNT_SEAL_KEYS (`id:base64,id:base64`, 32 bytes each, the first seals), or
 * without it one key derived from DESTINATION_SEAL_KEY, which the API and the workers already share.
 */
export function fieldSealOf(config: { accountSealKeys?: SealKey[]; destinationSealKey: string }): FieldSeal {
  return fieldSeal(config.accountSealKeys ?? [{ id: 'd0', key: Buffer.from(hkdfSync('sha256', config.destinationSealKey, 'refundflow', 'account numbers at rest', 32)) }]);
}

/** The last four characters of an account, as every masked account shows them. */
export function lastFourOf(account: string): string {
  return account.replace(/[\s-]/g, '').slice(-4);
}

/** Where each sealed value lives: the additional data that binds it to its row and column. */
export const place = {
  payment: (paymentId: string) => `payments.payer_account:${paymentId}`,
  customerName: (paymentId: string) => `payments.customer_name:${paymentId}`,
  /** A provider attempt's account; the refund's row holds a copy of its current attempt's. */
  attempt: (refundId: string, attempt: number) => `provider_attempts.destination_account:${refundId}:${attempt}`,
  /** The attempt's account holder; the refund's row holds a copy, as it does the account. */
  holder: (refundId: string, attempt: number) => `provider_attempts.destination_account_name:${refundId}:${attempt}`,
  /** A customer's message as sent (it greets them by name). */
  notice: (refundId: string, noticeKey: string) => `notifications.body:${refundId}:${noticeKey}`,
  /** A merchant's own keys and tokens for a wallet route. */
  merchantRoute: (merchantId: string, route: string) => `merchant_routes.secrets:${merchantId}:${route}`,
  /** The secret a merchant's refund events are signed with. */
  merchantWebhookSecret: (merchantId: string) => `merchants.webhook_secret:${merchantId}`,
};

/** A name sealed for its place, or null for none. */
export function sealName(fields: FieldSeal, name: string | null | undefined, at: string): string | null {
  return name ? fields.seal(name, at) : null;
}

/** A sealed name opened, or null for none. */
export function openName(fields: FieldSeal, stored: string | null, at: string): string | null {
  return stored === null ? null : fields.open(stored, at);
}
