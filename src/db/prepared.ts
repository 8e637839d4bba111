/**
 * Statements the refund path runs for every refund, built by drizzle once and run as prepared
 * statements on whichever handle the caller holds — the pool or an open transaction.
 *
 * Why: drizzle builds a query's SQL text anew at each call (0.1–0.2 ms for a row of the refunds
 * table, measured) and sends it unnamed, so PostgreSQL parses and plans it anew as well; on
 * `npm run bench` drizzle's building was over a quarter of the API and worker's main thread.
 * drizzle's own `.prepare()` builds once but binds the statement to the handle it was built on
 * (drizzle-orm#2826: not usable inside a transaction); this runs the one statement on the
 * caller's connection instead, and postgres.js keeps it prepared per connection by its text.
 */
import { sql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { Executor } from './client';

/** What drizzle's `.prepare()` gives: run with the placeholders' values. */
interface PreparedQuery {
  execute(values?: Record<string, unknown>): Promise<unknown>;
}

/**
 * `build` is called once, with the first handle a call brings, and must write each value that
 * changes from call to call as `sql.placeholder(name)`; each call passes the values by name.
 */
export function prepared<Query extends PreparedQuery>(
  name: string,
  build: (db: Executor) => { prepare(name: string): Query },
): (db: Executor, values: Record<string, unknown>) => ReturnType<Query['execute']> {
  let built: Query | undefined;
  return (db, values) => {
    built ??= build(db).prepare(name);
    // The built statement with the caller's connection in place of the one it was built on: the
    // prepared query keeps its text, parameters and row mapping and runs on `client` (drizzle's
    // postgres-js driver, checked by test/integration/prepared-statements.test.ts).
    const onCallersConnection = Object.create(built, { client: { value: clientOf(db) } }) as Query;
    return onCallersConnection.execute(values) as ReturnType<Query['execute']>;
  };
}

/**
 * A family of statements that differ only in their shape (the columns an UPDATE sets, the rows an
 * INSERT writes): each shape is built once, the first time it runs. `shape` names it; the few
 * shapes a step can take keep the family small.
 */
export function preparedByShape<Query extends PreparedQuery>(
  name: string,
  build: (db: Executor, shape: readonly string[]) => { prepare(name: string): Query },
): (db: Executor, shape: readonly string[], values: Record<string, unknown>) => ReturnType<Query['execute']> {
  const byShape = new Map<string, (db: Executor, values: Record<string, unknown>) => ReturnType<Query['execute']>>();
  return (db, shape, values) => {
    const key = shape.join(',');
    let statement = byShape.get(key);
    if (!statement) byShape.set(key, (statement = prepared(`${name}(${key})`, (first) => build(first, shape))));
    return statement(db, values);
  };
}

/** How a field given as null is named in a shape: it is written as NULL, not bound (a column's encoder takes no null). */
const AS_NULL = '=null';

/**
 * The shape of the values an INSERT or UPDATE writes: the fields given, in a fixed order, those
 * given as null marked so (drizzle leaves an undefined field out of a statement).
 */
export function shapeOf(values: object): string[] {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => (value === null ? `${field}${AS_NULL}` : field))
    .sort();
}

/**
 * The values of an INSERT or the SET of an UPDATE of that shape: a placeholder named after each
 * field, or NULL. Typed as the values they stand for: drizzle binds a placeholder wherever a
 * column's value goes and encodes what it is given by that column (its types admit it in VALUES only).
 */
export function placeholders<Values>(shape: readonly string[]): Values {
  return Object.fromEntries(
    shape.map((entry) => (entry.endsWith(AS_NULL) ? [entry.slice(0, -AS_NULL.length), null] : [entry, sql.placeholder(entry)])),
  ) as Values;
}

/** The postgres.js connection (or transaction) behind a drizzle handle. */
function clientOf(db: Executor): postgres.Sql {
  return (db as unknown as { _: { session: { client: postgres.Sql } } })._.session.client;
}
