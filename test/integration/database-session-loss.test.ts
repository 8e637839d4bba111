/**
 * Database sessions lost at the worst moments, as a PostgreSQL restart ends them (FATAL 57P01,
 * then the socket closed), met through the service's own database handle (`connectDatabase`, one
 * connection, so a lost session's leftovers would reach the very next query). Each case runs in a
 * Node process of its own: Node ends a process on an unhandled rejection, and that is what took a
 * worker down in a CI run of the restart test (`Error: write CONNECTION_CLOSED`, from the driver's
 * own array-type query). The `postgres` driver's fixes are in patches/ (porsager/postgres#1192,
 * #1208, #1223); these are their tests.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startSessionKiller, type SessionKiller } from '../support/session-killer';

let killer: SessionKiller;

beforeAll(async () => {
  killer = await startSessionKiller(process.env.TEST_POSTGRES_URL!);
});

afterAll(async () => {
  await killer?.close();
});

interface Outcome {
  rows?: Record<string, unknown>[];
  error?: string;
}

/**
 * Runs `body` in a fresh Node process with `db` (the service's handle, through the proxy),
 * `sql` (drizzle's) and `outcome(promise)` in scope; `body` fills `results`. Resolves with the
 * results, the exit code and what went to stderr (an unhandled rejection ends up there).
 */
async function inOwnProcess(body: string): Promise<{ code: number | null; stderr: string; results: Record<string, Outcome> }> {
  const script = `
    const { connectDatabase } = require('./dist/src/db/client');
    const { sql } = require('drizzle-orm');
    const { db, close } = connectDatabase(${JSON.stringify(killer.url('postgres'))}, { max: 1 });
    const codeOf = (error) => { for (let e = error; e; e = e.cause) if (e.code) return e.code; return String(error); };
    const outcome = (promise) => promise.then((rows) => ({ rows: [...rows] }), (error) => ({ error: codeOf(error) }));
    const results = {};
    (async () => {
      ${body}
      // Anything the driver left pending settles (or escapes) here, before the process reports.
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.stdout.write(JSON.stringify(results));
      await close();
    })();`;
  const child = spawn(process.execPath, ['-e', script], { cwd: path.join(__dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr, results: stdout ? JSON.parse(stdout) : {} };
}

it('a session lost while the driver reads the array types: no unhandled rejection, and the first query is answered on a new session', async () => {
  killer.killOn('pg_catalog.pg_type');
  const before = killer.killed();
  const run = await inOwnProcess(`
    results.first = await outcome(db.execute(sql.raw("select 'first' as v")));
    results.second = await outcome(db.execute(sql.raw("select 'second' as v")));`);
  expect(killer.killed() - before).toBe(1);
  expect(run).toEqual({ code: 0, stderr: '', results: { first: { rows: [{ v: 'first' }] }, second: { rows: [{ v: 'second' }] } } });
});

it("a query whose session is lost fails; the next one is answered, not failed with the lost session's FATAL", async () => {
  killer.killOn('lost-with-its-session');
  const run = await inOwnProcess(`
    results.lost = await outcome(db.execute(sql.raw("select 'lost-with-its-session' as v")));
    results.next = await outcome(db.execute(sql.raw("select 'next' as v")));`);
  expect(run).toEqual({ code: 0, stderr: '', results: { lost: { error: 'CONNECTION_CLOSED' }, next: { rows: [{ v: 'next' }] } } });
});

// A statement left waiting on the lost session would be answered by the next session's start-up
// instead: with an empty result, given to whichever query came next.
it('a transaction that goes on after its session was lost: its next statement fails, and later queries get their own rows', async () => {
  killer.killOn('lost-in-a-transaction');
  const run = await inOwnProcess(`
    results.transaction = await outcome(db.transaction(async (tx) => {
      await tx.execute(sql.raw("select 'lost-in-a-transaction'")).catch(() => undefined);
      results.inside = await outcome(tx.execute(sql.raw("select 'inside' as v")));
      return [];
    }));
    results.after = await outcome(db.execute(sql.raw("select 'after' as v")));`);
  expect(run).toEqual({
    code: 0,
    stderr: '',
    results: {
      transaction: { error: 'CONNECTION_CLOSED' },
      inside: { error: 'CONNECTION_CLOSED' },
      after: { rows: [{ v: 'after' }] },
    },
  });
});
