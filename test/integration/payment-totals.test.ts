/**
 * A payment's refunded and reserved totals, moved as refunds reserve, pay out, release and correct:
 * against a model, over random sequences of shifts on real PostgreSQL. A shift that would
 * over-refund the payment or take a total below zero changes nothing and says so — without an
 * error, so the step's transaction goes on to refuse the decision with what remains refundable.
 * The order's status, refreshed in the same round trip as the shift, follows what was refunded.
 */
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { findOrderStatus, findPayment, shiftPaymentTotals } from '../../src/db/queries/payments';
import { createTestDatabase, type TestDatabase } from '../support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.close();
});

const shift = fc.record({ refunded: fc.integer({ min: -60_000, max: 60_000 }), reserved: fc.integer({ min: -60_000, max: 60_000 }) });

it('moves the totals exactly when the shift fits, and otherwise changes nothing and says so; the order’s status follows', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 100_000 }), fc.array(shift, { minLength: 1, maxLength: 15 }), async (amount, shifts) => {
      const id = `pay_totals_${(n += 1)}`;
      await database.db.execute(sql`
        INSERT INTO payments (id, merchant_id, order_id, channel, amount, currency, status, captured_at, payer_account, request_hash)
        VALUES (${id}, 'm_totals', ${id}, 'card', ${amount}, 'CNY', 'captured', now(), 'x', 'x')`);
      await database.db.execute(sql`INSERT INTO orders (merchant_id, order_id) VALUES ('m_totals', ${id})`);
      const model = { refunded: 0, reserved: 0 };
      for (const move of shifts) {
        const next = { refunded: model.refunded + move.refunded, reserved: model.reserved + move.reserved };
        const fits = next.refunded >= 0 && next.reserved >= 0 && next.refunded + next.reserved <= amount;
        // Inside a transaction, as a step runs it: a refused shift must leave the transaction usable.
        const moved = await database.db.transaction(async (tx) => {
          const result = await shiftPaymentTotals(tx, id, move);
          await tx.execute(sql`SELECT 1`);
          return result;
        });
        expect({ move, moved }).toEqual({ move, moved: fits });
        if (fits) Object.assign(model, next);
        expect(await findPayment(database.db, id)).toMatchObject({ refundedAmount: model.refunded, reservedAmount: model.reserved });
        expect(await findOrderStatus(database.db, 'm_totals', id)).toBe(model.refunded === 0 ? 'paid' : model.refunded >= amount ? 'refunded' : 'partially_refunded');
      }
    }),
    { numRuns: 40 },
  );
}, 120_000);
