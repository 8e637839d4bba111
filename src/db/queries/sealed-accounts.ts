/**
 * Keeps every account number, person's name and merchant secret at rest sealed under the current key: run with the
 * migrations, it seals what a database from before sealing still holds in the clear and seals again
 * what an older key sealed (a key rotation: put the new key first in ACCOUNT_SEAL_KEYS, migrate,
 * then drop the old one). In batches, each row by its own compare-and-set, so a service writing
 * meanwhile never has its value undone.
 */
import { sql } from 'drizzle-orm';
import { lastFourOf, place, type FieldSeal } from '../../field-seal';
import type { Executor } from '../client';

const BATCH = 500;

/** One sealed column: the row's key columns, where its values are bound, and the last-four column it feeds. */
interface SealedColumn {
  table: string;
  column: string;
  keys: string[];
  /** Further columns the place is made of. */
  also?: string[];
  /** Rows of the table that hold such a value (staff messages name nobody and stay as written). */
  only?: string;
  placeOf(row: Record<string, string | number>): string;
  last4Column?: string;
}

const SEALED_COLUMNS: SealedColumn[] = [
  { table: 'payments', column: 'payer_account', keys: ['id'], placeOf: (r) => place.payment(String(r.id)), last4Column: 'payer_last4' },
  { table: 'payments', column: 'customer_name', keys: ['id'], placeOf: (r) => place.customerName(String(r.id)) },
  {
    table: 'provider_attempts',
    column: 'destination_account',
    keys: ['refund_id', 'attempt'],
    placeOf: (r) => place.attempt(String(r.refund_id), Number(r.attempt)),
    last4Column: 'destination_last4',
  },
  { table: 'provider_attempts', column: 'destination_account_name', keys: ['refund_id', 'attempt'], placeOf: (r) => place.holder(String(r.refund_id), Number(r.attempt)) },
  { table: 'merchants', column: 'webhook_secret', keys: ['id'], placeOf: (r) => place.merchantWebhookSecret(String(r.id)) },
  { table: 'merchant_routes', column: 'secrets', keys: ['merchant_id', 'route'], placeOf: (r) => place.merchantRoute(String(r.merchant_id), String(r.route)) },
  { table: 'notifications', column: 'body', keys: ['id'], also: ['refund_id', 'notice_key'], only: "channel <> 'staff'", placeOf: (r) => place.notice(String(r.refund_id), String(r.notice_key)) },
];

export async function sealAccountsAtRest(db: Executor, fields: FieldSeal): Promise<number> {
  const stale = `${fields.currentPrefix}%`;
  let sealed = 0;
  for (const column of SEALED_COLUMNS) {
    const keys = column.keys.map((k) => sql.identifier(k));
    const selected = sql.join([...column.keys, ...(column.also ?? [])].map((k) => sql.identifier(k)), sql`, `);
    const table = sql.identifier(column.table);
    const value = sql.identifier(column.column);
    const only = column.only ? sql`AND ${sql.raw(column.only)}` : sql``;
    for (;;) {
      const rows = await db.execute<Record<string, string | number>>(
        sql`SELECT ${selected}, ${value} AS value FROM ${table} WHERE ${value} IS NOT NULL AND ${value} NOT LIKE ${stale} ${only} LIMIT ${BATCH}`,
      );
      for (const row of rows) {
        const at = column.placeOf(row);
        const clear = fields.open(String(row.value), at);
        const last4 = column.last4Column ? sql`, ${sql.identifier(column.last4Column)} = ${lastFourOf(clear)}` : sql``;
        const sameRow = sql.join(
          column.keys.map((k, i) => sql`${keys[i]} = ${row[k]}`),
          sql` AND `,
        );
        await db.execute(sql`UPDATE ${table} SET ${value} = ${fields.seal(clear, at)}${last4} WHERE ${sameRow} AND ${value} = ${row.value}`);
      }
      sealed += rows.length;
      if (rows.length < BATCH) break;
    }
  }
  // A refund's row holds its current attempt's sealed account and holder, as that attempt holds them now.
  await db.execute(sql`
    UPDATE refunds r SET destination_account = a.destination_account, destination_last4 = a.destination_last4, destination_account_name = a.destination_account_name
    FROM provider_attempts a
    WHERE a.refund_id = r.id AND a.attempt = r.provider_attempt
      AND (r.destination_account NOT LIKE ${stale} OR r.destination_account_name NOT LIKE ${stale})`);
  return sealed;
}
