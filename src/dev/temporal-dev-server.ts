/**
 * A local Temporal server (`temporal server start-dev`): SQLite file under DATA_DIR, Web UI, and
 * the refund search attributes registered, so workflow lists and the UI can filter on them.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger';
import { REFUND_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { endWithUs, exited, stopChild } from './child-processes';
import { stopOrphan } from './orphans';
import { choosePort, waitForPort } from './ports';
import { findTemporalBinary } from './temporal-binaries';

export interface RunningTemporal {
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

/** `KEYWORD` → `Keyword`, as the CLI spells search attribute types. */
const CLI_TYPE: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', BOOL: 'Bool', TEXT: 'Text', DOUBLE: 'Double', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' };

export async function startTemporalDevServer(options: {
  dataDir: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  cliPath?: string;
  logger: Logger;
}): Promise<RunningTemporal> {
  const cli = findTemporalBinary('cli', options.cliPath);
  await stopOrphan(path.join(options.dataDir, 'temporal.pid'), 'start-dev', options.logger);
  const port = await choosePort(options.port, 7233);
  const uiPort = options.headless ? null : await choosePort(options.uiPort, port + 1000);
  mkdirSync(options.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(options.dataDir, 'temporal.sqlite'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
    ...REFUND_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE[key.type]}`]),
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]),
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(path.join(options.dataDir, 'temporal.pid'), String(child.pid));
  endWithUs(child, 'SIGKILL');
  child.stdout?.on('data', (chunk: Buffer) => options.logger.debug('temporal', { message: chunk.toString().trim() }));
  child.stderr?.on('data', (chunk: Buffer) => options.logger.debug('temporal', { message: chunk.toString().trim() }));
  await Promise.race([
    waitForPort(port, 60_000),
    exited(child).then((code) => {
      throw new Error(`temporal server start-dev exited with code ${code} before it was ready (is port ${port} taken?)`);
    }),
  ]);
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    stop: () => stopChild(child, 'SIGTERM', 'SIGKILL', 10_000),
  };
}
