/**
 * The yardstick `npm run bench` measures refunds against: a workflow that runs one no-op activity,
 * on the same Temporal server, in the same run. Bundled by the bench itself.
 */
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10s' });

export async function oneActivity(): Promise<void> {
  await noop();
}
