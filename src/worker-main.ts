/** `npm run start:worker`: only a refunds worker, against DATABASE_URL and TEMPORAL_ADDRESS. */
import { loadConfig } from './config';
import { createLogger } from './logger';
import { runUntilSignalled, startService } from './service';

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, base: { service: 'refundflow-worker' } });
void runUntilSignalled(() => startService(config, logger, { api: false, worker: true, embedded: false }), logger);
