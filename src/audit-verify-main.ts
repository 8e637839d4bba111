/**
 * `npm run audit:verify -- --from <ISO> --to <ISO> [--merchants m1,m2] <file>`: checks an audit
 * export (CSV or JSON Lines) against the database (DATABASE_URL) row by row and link by link.
 * Exits 0 when they agree, 1 naming the first row where they part.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyAuditFile } from './audit/audit-export';
import { loadConfig } from './config';
import { connectDatabase } from './db/client';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, merchants: { type: 'string' } }, allowPositionals: true });
  const [file] = positionals;
  const from = new Date(values.from ?? '');
  const to = new Date(values.to ?? '');
  if (!file || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    console.error('usage: npm run audit:verify -- --from <ISO instant> --to <ISO instant> [--merchants m1,m2] <export file>');
    return 2;
  }
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL must be set: the database the export came from');
  const database = connectDatabase(config.databaseUrl, { max: 1 });
  try {
    const verdict = await verifyAuditFile(database.db, { from, to, merchants: values.merchants ? values.merchants.split(',') : null }, readFileSync(file, 'utf8'));
    if (verdict.ok) {
      console.log(`audit export verified: ${verdict.rows} events, chain ${verdict.chain}`);
      return 0;
    }
    console.error(`audit export does not match the database at row ${verdict.row}: ${verdict.why}`);
    return 1;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
