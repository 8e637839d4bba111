/**
 * `npm start`: the whole service on one machine. Embedded PostgreSQL and a Temporal dev server
 * unless DATABASE_URL / TEMPORAL_ADDRESS point elsewhere, then the worker and the API.
 */
import { loadConfig } from './config';
import { createLogger } from './logger';
import { runUntilSignalled, startService } from './service';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, base: { service: 'refundflow' } });
void runUntilSignalled(() => startService(config, logger, { api: true, worker: true, embedded: true }), logger);
