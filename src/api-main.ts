/** `npm run start:api`: only the HTTP API, against DATABASE_URL and TEMPORAL_ADDRESS. */
import { loadConfig } from './config';
import { createLogger } from './logger';
import { runUntilSignalled, startService } from './service';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, base: { service: 'refundflow-api' } });
void runUntilSignalled(() => startService(config, logger, { api: true, worker: false, embedded: false }), logger);
