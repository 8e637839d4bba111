/**
 * What text the service stores: no NUL or other control characters (tab and newline aside in
 * free text) and no unpaired UTF-16 surrogates. PostgreSQL cannot store NUL at all, and a lone
 * surrogate is not text; either would fail a record after a decision was taken. The API's schemas
 * (and so the OpenAPI document, as a `pattern`) and the workflow's validators all use these
 * expressions. Pure and bundle-safe.
 */

/** One line: no control characters at all (C0, DEL, C1), surrogates only in pairs. */
export const SINGLE_LINE_TEXT = /^(?:[^\u0000-\u001F\u007F-\u009F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
/** Free text: as one line, but tabs and newlines allowed. */
export const FREE_TEXT = /^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

export const TEXT_PROBLEM = 'must not contain control characters or unpaired UTF-16 surrogates';

/** Why `text` may not be stored, or null when it may. `freeText` allows tabs and newlines. */
export function textProblem(text: string, freeText = false): string | null {
  return (freeText ? FREE_TEXT : SINGLE_LINE_TEXT).test(text) ? null : freeText ? `${TEXT_PROBLEM} (tab and newline aside)` : TEXT_PROBLEM;
}
