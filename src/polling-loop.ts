/**
 * A pass of work repeated every `everyMs` until stopped: how the worker's outboxes (workflow
 * starts, customer notices) and the sandbox banks run. One pass at a time; a failed pass is logged
 * and the next one comes as usual; `stop()` waits for the pass under way.
 */
import { errorFields, type Logger } from './logger';

export interface PollingLoop {
  stop(): Promise<void>;
}

export function startPollingLoop(name: string, pass: () => Promise<unknown>, everyMs: number, logger: Logger): PollingLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const loop = () => {
    running = pass()
      .catch((error) => logger.warn(`${name} failed`, errorFields(error)))
      .finally(() => {
        if (timer) timer = setTimeout(loop, everyMs);
      });
  };
  timer = setTimeout(loop, 0);
  return {
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
