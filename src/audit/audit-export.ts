/**
 * The audit export (issue #21): every refund event of a period — who did what to which refund,
 * when, with its evidence — as CSV or JSON Lines, each row carrying a running SHA-256 chain over
 * the rows before it. The chain starts from the period and the merchants asked for, so a file and
 * the database can be compared row by row (`npm run audit:verify`): a row removed, added or changed
 * in either shows as the first row where they part. Rows come from a database cursor a batch at a
 * time, so a day of a chain's events streams in constant memory.
 */
import { sha256Hex as sha256 } from '../api/key-hash';
import type { Database } from '../db/client';
import type { MerchantScope } from '../merchants/merchant-scope';
import { canonicalJson } from '../request-hash';

export type AuditFormat = 'csv' | 'jsonl';

export interface AuditRange {
  from: Date;
  to: Date;
  /** Whose events: the merchants a key sees, or null for every merchant. */
  merchants: MerchantScope;
}

export interface AuditRow {
  id: number;
  refundId: string;
  merchantId: string;
  type: string;
  actor: string;
  actorRole: string;
  at: string;
  detail: Record<string, unknown>;
}

export const AUDIT_COLUMNS = ['id', 'refund_id', 'merchant_id', 'type', 'actor', 'actor_role', 'at', 'detail', 'chain'] as const;

const BATCH = 500;

/** The events of the period, oldest first, a batch at a time from a cursor. */
export async function* auditRows(db: Database, range: AuditRange): AsyncIterable<AuditRow> {
  const client = db.$client;
  const merchants = range.merchants === null ? null : [...range.merchants];
  const rows = client<{ id: string; refund_id: string; merchant_id: string; type: string; actor: string; actor_role: string; at: string | Date; detail: Record<string, unknown> }[]>`
    SELECT e.id, e.refund_id, r.merchant_id, e.type, e.actor, e.actor_role, e.at, e.detail
    FROM refund_events e JOIN refunds r ON r.id = e.refund_id
    WHERE e.at >= ${range.from.toISOString()}::timestamptz AND e.at < ${range.to.toISOString()}::timestamptz
      AND (${merchants === null} OR r.merchant_id = ANY(${merchants ?? []}::text[]))
    ORDER BY e.at, e.id`.cursor(BATCH);
  for await (const batch of rows) {
    for (const row of batch) {
      yield { id: Number(row.id), refundId: row.refund_id, merchantId: row.merchant_id, type: row.type, actor: row.actor, actorRole: row.actor_role, at: new Date(row.at).toISOString(), detail: row.detail };
    }
  }
}

/** Where the chain starts: the period and the merchants, so a file of another period never verifies. */
export function chainSeed(range: AuditRange): string {
  const merchants = range.merchants === null ? '*' : [...range.merchants].sort().join(',');
  return sha256(`refundflow audit v1\n${range.from.toISOString()}\n${range.to.toISOString()}\n${merchants}`);
}

/** The next link: the one before, and this row as canonical JSON (keys sorted at every level). */
export function nextLink(previous: string, row: AuditRow): string {
  return sha256(`${previous}\n${canonicalJson(row)}`);
}

/** The export's lines: a header (CSV), then each row with its link. */
export async function* auditLines(rows: AsyncIterable<AuditRow>, range: AuditRange, format: AuditFormat): AsyncIterable<string> {
  let chain = chainSeed(range);
  if (format === 'csv') yield `${AUDIT_COLUMNS.join(',')}\r\n`;
  for await (const row of rows) {
    chain = nextLink(chain, row);
    yield format === 'csv' ? csvLine(row, chain) : `${JSON.stringify({ ...row, chain })}\n`;
  }
}

function csvLine(row: AuditRow, chain: string): string {
  const cells = [String(row.id), row.refundId, row.merchantId, row.type, row.actor, row.actorRole, row.at, JSON.stringify(row.detail), chain];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** RFC 4180: a cell with a comma, quote or line break is quoted, its quotes doubled. */
function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Reads an export back: its rows and the link each carries. */
export function parseAuditFile(text: string): { row: AuditRow; chain: string }[] {
  if (text.startsWith('{')) {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const { chain, ...row } = JSON.parse(line) as AuditRow & { chain: string };
        return { row, chain };
      });
  }
  const [header, ...records] = parseCsv(text);
  if (header?.join(',') !== AUDIT_COLUMNS.join(',')) throw new Error(`not an audit export: its header is not ${AUDIT_COLUMNS.join(',')}`);
  return records.map(([id, refundId, merchantId, type, actor, actorRole, at, detail, chain]) => ({
    row: { id: Number(id), refundId: refundId!, merchantId: merchantId!, type: type!, actor: actor!, actorRole: actorRole!, at: at!, detail: JSON.parse(detail!) as Record<string, unknown> },
    chain: chain!,
  }));
}

function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(cell);
      cell = '';
    } else if (char === '\n') {
      record.push(cell.replace(/\r$/, ''));
      records.push(record);
      record = [];
      cell = '';
    } else cell += char;
  }
  if (cell !== '' || record.length) records.push([...record, cell]);
  return records;
}

export type AuditVerdict = { ok: true; rows: number; chain: string } | { ok: false; row: number; why: string };

/**
 * A file against the database, row by row: each of the file's rows must be the database's row at
 * that place, and carry the link the chain gives it; neither may hold a row more.
 */
export async function verifyAuditFile(db: Database, range: AuditRange, text: string): Promise<AuditVerdict> {
  const file = parseAuditFile(text);
  let chain = chainSeed(range);
  let index = 0;
  for await (const row of auditRows(db, range)) {
    const given = file[index];
    if (!given) return { ok: false, row: index + 1, why: `the database holds event ${row.id} here, which the file does not` };
    chain = nextLink(chain, row);
    if (canonicalJson(given.row) !== canonicalJson(row)) return { ok: false, row: index + 1, why: `event ${given.row.id} differs from the database's ${row.id}` };
    if (given.chain !== chain) return { ok: false, row: index + 1, why: `the chain breaks at event ${row.id}` };
    index += 1;
  }
  if (index < file.length) return { ok: false, row: index + 1, why: `the file holds event ${file[index]!.row.id} here, which the database does not` };
  return { ok: true, rows: index, chain };
}
