/**
 * Account numbers and contact details never leave the service whole: API output, logs and
 * customer notifications show the last four digits (or an equally thin hint of an address).
 */

/** `6222020200112340002` → `****0002`. */
export function maskAccount(account: string | null | undefined): string | null {
  if (!account) return null;
  const compact = account.replace(/[\s-]/g, '');
  return `****${compact.slice(-4)}`;
}

/** `13800138000` → `****8000`. */
export function maskPhone(phone: string | null | undefined): string | null {
  return maskAccount(phone);
}

/** `li.wei@example.com` → `l***@e***.com`. */
export function maskEmail(email: string | null | undefined): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${email[0]}***@${domain[0] ?? ''}***${tld}`;
}

/** `李伟` → `李*`, `Li Wei` → `L*****`: enough for support to tell two customers apart in a log, no more. */
export function maskName(name: string | null | undefined): string | null {
  if (!name) return null;
  const letters = [...name.trim()];
  return letters.length === 0 ? null : `${letters[0]}${'*'.repeat(Math.max(letters.length - 1, 1))}`;
}

const ACCOUNT_FIELDS = new Set(['payeraccount', 'account', 'destinationaccount', 'phone', 'recipient', 'cardnumber']);
/** People's names, by field (a bank account's holder, the customer): `name` itself only under a customer or holder. */
const NAME_FIELDS = new Set(['accountname', 'account_name', 'destinationaccountname', 'customername', 'realname', 'real_name', 'holdername', 'cardholder']);
const NAMED_PARENTS = new Set(['customer', 'holder', 'payer']);
const EMAIL_FIELDS = new Set(['email']);
const SECRET_FIELDS = new Set(['authorization', 'x-signature', 'password', 'secret']);
// Ten digits or more standing alone (card, account and phone numbers); dates like 2026-11-22
// have only eight, and digits inside identifiers (UUIDs, refund ids) are left alone.
const LONG_DIGIT_RUN = /(?<![0-9A-Za-z_-])\d(?:[\s-]?\d){9,}(?![0-9A-Za-z_-])/g;
const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Masks digit runs that could be account or phone numbers, and e-mail addresses, inside free text. */
export function maskText(text: string): string {
  return text
    .replace(LONG_DIGIT_RUN, (run) => maskAccount(run) ?? '')
    .replace(EMAIL_IN_TEXT, (address) => maskEmail(address) ?? '');
}

/**
 * A deep copy of `value` safe to log: sensitive fields masked by name whatever their type, free
 * text scrubbed, numbers long enough to be an account number (a PAN sent as a JSON number) masked,
 * and field names scrubbed too (an unknown field's name is the caller's text).
 */
export function maskForLog(value: unknown, depth = 0, parent = ''): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') return maskText(value);
  if (typeof value === 'number' || typeof value === 'bigint') return maskNumber(value);
  if (Array.isArray(value)) return value.map((item) => maskForLog(item, depth + 1, parent));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const name = key.toLowerCase();
      const safeKey = maskText(key);
      if (SECRET_FIELDS.has(name)) out[safeKey] = '[redacted]';
      else if (ACCOUNT_FIELDS.has(name) && (typeof item === 'string' || typeof item === 'number' || typeof item === 'bigint')) out[safeKey] = maskAccount(String(item));
      else if (EMAIL_FIELDS.has(name) && typeof item === 'string') out[safeKey] = maskEmail(item);
      else if ((NAME_FIELDS.has(name) || (name === 'name' && NAMED_PARENTS.has(parent))) && typeof item === 'string') out[safeKey] = maskName(item);
      else out[safeKey] = maskForLog(item, depth + 1, name);
    }
    return out;
  }
  return value;
}

/** Ten digits or more could be an account number: masked like one. Amounts that large are not ours to log either. */
function maskNumber(value: number | bigint): number | bigint | string {
  const digits = String(value).replace(/^-/, '');
  return /^\d{10,}/.test(digits) || /e\+/.test(digits) ? maskAccount(digits.replace(/\D/g, '').slice(0, 19)) ?? '****' : value;
}
