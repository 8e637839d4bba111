/**
 * The pace of sends to a provider account (src/db/queries/send-turns.ts), in the suite's
 * PostgreSQL. It used to count sends per calendar second: a burst that began late in one second
 * sent its rate there and its rate again early in the next, twice the rate within one of the
 * provider's seconds (measured: 8 sends within a second at a rate of 4; CI saw FREQUENCY_LIMITED).
 */
import { sql } from 'drizzle-orm';
import { takeSendingTurn } from '../../src/db/queries/send-turns';
import { createTestDatabase, type TestDatabase } from '../support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.close();
});

const MINUTE = 60_000;

/** Waits until `ms` into one of PostgreSQL's seconds: where counting per second let a burst through twice. */
async function untilIntoSecond(ms: number): Promise<void> {
  const [now] = await database.db.execute<{ ms: number }>(sql`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`);
  const into = Number(now!.ms) % 1000;
  await new Promise((resolve) => setTimeout(resolve, (ms - into + 1000) % 1000));
}

it('a burst across a second’s boundary: turns a rate’s interval apart, never more than the rate within any second', async () => {
  const rate = { key: 'wechat:burst:', perSecond: 4 };
  // The pool's connections open first: a send's wait is counted from its answer, which a new connection would delay.
  await Promise.all(Array.from({ length: 12 }, () => database.db.execute(sql`SELECT 1`)));
  await untilIntoSecond(700);
  const start = performance.now();
  // Twelve sends at once, each at its turn (as the provider call does: the wait counted from the answer).
  const turns = await Promise.all(
    Array.from({ length: 12 }, async () => {
      const wait = await takeSendingTurn(database.db, rate, MINUTE);
      return performance.now() - start + wait!;
    }),
  );
  turns.sort((a, b) => a - b);
  // 250 ms apart in PostgreSQL's clock; seen from here, give or take the answers' own spread (SPREAD).
  const SPREAD = 25;
  const gaps = turns.slice(1).map((turn, i) => turn - turns[i]!);
  expect(Math.min(...gaps)).toBeGreaterThan(250 - SPREAD);
  expect(turns[turns.length - 1]! - turns[0]!).toBeGreaterThan(11 * 250 - SPREAD);
  // Any second (short by that spread: the fifth turn falls on the edge of the first one's second).
  const mostInASecond = Math.max(...turns.map((turn) => turns.filter((other) => other >= turn && other < turn + 1000 - SPREAD).length));
  expect(mostInASecond).toBeLessThanOrEqual(4);
});

it('turns further out than the longest wait are not taken: nothing is held for a send that will not wait', async () => {
  const rate = { key: 'wechat:full:', perSecond: 1 };
  const waits = [];
  for (let i = 0; i < 5; i += 1) waits.push(await takeSendingTurn(database.db, rate, 2_500));
  expect(waits[0]).toBe(0);
  expect(waits[1]).toBeGreaterThan(900);
  expect(waits[2]).toBeGreaterThan(1_900);
  expect(waits.slice(3)).toEqual([undefined, undefined]);
});

it('each account keeps its own pace, and one quiet for a while sends at once', async () => {
  const busy = { key: 'wechat:busy:', perSecond: 2 };
  const other = { key: 'wechat:busy:sub', perSecond: 2 };
  expect(await takeSendingTurn(database.db, busy, MINUTE)).toBe(0);
  expect(await takeSendingTurn(database.db, busy, MINUTE)).toBeGreaterThan(400);
  expect(await takeSendingTurn(database.db, other, MINUTE)).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  expect(await takeSendingTurn(database.db, busy, MINUTE)).toBe(0);
});
