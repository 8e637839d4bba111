/**
 * Statements of one transaction sent together, answered in one round trip. When one fails,
 * PostgreSQL aborts the transaction and refuses each statement after it with "current transaction
 * is aborted" (SQLSTATE 25P02); those refusals can settle before the failure that caused them (the
 * driver reads the answers in one go and the callers' promise chains differ in length), so
 * `Promise.all` would report an effect in place of its cause: a refusal the caller answers
 * (a CHECK, a unique key, a trigger's reason put on record) would turn into a bare abort.
 */
import { pgErrorCode } from './client';

const IN_FAILED_TRANSACTION = '25P02';

/** Like `Promise.all` over the statements, but a failure is always the one that aborted the transaction. */
export async function sentTogether<const T extends readonly unknown[]>(statements: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements);
  const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  if (failures.length > 0) throw failures.find((failure) => pgErrorCode(failure) !== IN_FAILED_TRANSACTION) ?? failures[0];
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
