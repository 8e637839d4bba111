/**
 * What text the service stores: no NUL or other control characters (tab and newline aside in
 * free text) and no unpaired UTF-16 surrogates. PostgreSQL cannot store NUL at all, and a lone
 * surrogate is not text; either would fail a record after a decision was taken. The API's schemas
 * (and so the OpenAPI document, as a `pattern`) and the workflow's validators use these. Pure and
 * bundle-safe.
 */

/** One line: no control characters at all (C0, DEL, C1). */
export const SINGLE_LINE_TEXT = /^[^\u0000-\u001F\u007F-\u009F]*$/;
/** Free text: as one line, but tabs and newlines allowed. */
export const FREE_TEXT = /^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$/;
/** Free text with something in it besides spaces: a reason someone will read. */
export const FREE_TEXT_NOT_BLANK = /^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$/;
/** One line with something in it besides spaces: a name. */
export const SINGLE_LINE_NOT_BLANK = /^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const TEXT_PROBLEM = 'must not contain control characters';
export const SURROGATE_PROBLEM = 'must not contain unpaired UTF-16 surrogates';

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Why `text` may not be stored, or null when it may. `freeText` allows tabs and newlines. */
export function textProblem(text: string, freeText = false): string | null {
  if (!(freeText ? FREE_TEXT : SINGLE_LINE_TEXT).test(text)) return freeText ? `${TEXT_PROBLEM} (tab and newline aside)` : TEXT_PROBLEM;
  if (hasLoneSurrogate(text)) return SURROGATE_PROBLEM;
  return null;
}
