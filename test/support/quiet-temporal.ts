/**
 * The Temporal SDK logs every retried activity and every replay failure at WARN. The tests cause
 * those on purpose, so here only errors are printed. Import first in files that run workers.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
});
