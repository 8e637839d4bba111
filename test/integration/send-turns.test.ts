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
  await untilIntoSecond(700);
  // Twelve sends at once: their turns, in PostgreSQL's clock.
  const turns = (await Promise.all(Array.from({ length: 12 }, () => takeSendingTurn(database.db, rate, MINUTE)))).map((turn) => turn!.at.getTime()).sort((a, b) => a - b);
  expect(turns.slice(1).map((turn, i) => turn - turns[i]!)).toEqual(Array.from({ length: 11 }, () => 250));
  const mostInASecond = Math.max(...turns.map((turn) => turns.filter((other) => other >= turn && other < turn + 1000).length));
  expect(mostInASecond).toBe(4);
});

it('a send waits for its turn from the answer: the first at once, the next a rate’s interval on', async () => {
  const rate = { key: 'wechat:wait:', perSecond: 4 };
  const first = (await takeSendingTurn(database.db, rate, MINUTE))!;
  const second = (await takeSendingTurn(database.db, rate, MINUTE))!;
  expect(first.waitMs).toBe(0);
  expect(second.at.getTime() - first.at.getTime()).toBe(250);
  // Counted from its own answer, a moment after the first's.
  expect(second.waitMs).toBeGreaterThan(0);
  expect(second.waitMs).toBeLessThanOrEqual(250);
});

it('turns further out than the longest wait are not taken: nothing is held for a send that will not wait', async () => {
  const rate = { key: 'wechat:full:', perSecond: 1 };
  const turns = [];
  for (let i = 0; i < 5; i += 1) turns.push(await takeSendingTurn(database.db, rate, 2_500));
  // Now, in a second, in two; the one after would be three seconds out: refused, and nothing held for it.
  const [now, inOne, inTwo, ...refused] = turns;
  expect(now!.waitMs).toBe(0);
  expect([inOne!.at.getTime() - now!.at.getTime(), inTwo!.at.getTime() - now!.at.getTime()]).toEqual([1_000, 2_000]);
  expect(refused).toEqual([undefined, undefined]);
});

it('each account keeps its own pace, and one quiet for a while sends at once', async () => {
  const busy = { key: 'wechat:busy:', perSecond: 2 };
  const other = { key: 'wechat:busy:sub', perSecond: 2 };
  const waitFor = async (rate: typeof busy) => (await takeSendingTurn(database.db, rate, MINUTE))!.waitMs;
  expect(await waitFor(busy)).toBe(0);
  expect(await waitFor(busy)).toBeGreaterThan(0);
  expect(await waitFor(other)).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  expect(await waitFor(busy)).toBe(0);
});
