/**
 * Statements sent together in a transaction (src/db/sent-together.ts): when one fails, the others
 * are refused as "transaction aborted" and may settle first; the failure reported is the cause.
 * Seen in CI: a step the database refused ("the disk is full") went on record as the abort of the
 * statement sent beside it.
 */
import { sentTogether } from '../../src/db/sent-together';

/** A failure as drizzle reports it: its own message, PostgreSQL's error (with its SQLSTATE) as the cause. */
function databaseFailure(code: string, message: string): Error {
  return new Error('Failed query: …', { cause: Object.assign(new Error(message), { code }) });
}

const aborted = () => databaseFailure('25P02', 'current transaction is aborted, commands ignored until end of transaction block');

/** Settles after `turns` microtasks: the order in which the driver's answers reach their callers. */
async function after<T>(turns: number, settle: () => T | Promise<T>): Promise<T> {
  for (let turn = 0; turn < turns; turn += 1) await undefined;
  return settle();
}

it('reports the statement that aborted the transaction, even when a statement it aborted settles first', async () => {
  const refused = databaseFailure('P0001', 'the disk is full');
  const statements = () => [after(5, () => Promise.reject(refused)), after(1, () => Promise.reject(aborted()))] as const;
  // What Promise.all would have reported: the abort, not its cause.
  await expect(Promise.all(statements())).rejects.toMatchObject({ cause: { code: '25P02' } });
  await expect(sentTogether(statements())).rejects.toBe(refused);
});

it('a refusal of our own (no SQLSTATE) beside the aborts is the cause too', async () => {
  const refusal = new RangeError('only 300 minor units remain refundable');
  await expect(sentTogether([after(1, () => Promise.reject(aborted())), after(3, () => Promise.reject(refusal))])).rejects.toBe(refusal);
});

it('all answered: each statement’s result, in the order sent', async () => {
  await expect(sentTogether([after(3, () => 'event'), after(1, () => 2), false])).resolves.toEqual(['event', 2, false]);
});

it('only aborts (the cause lies outside these statements): the first of them', async () => {
  const first = aborted();
  await expect(sentTogether([after(2, () => Promise.reject(first)), after(1, () => Promise.reject(aborted()))])).rejects.toBe(first);
});
