/**
 * The worker's slots as the SDK compiles them (src/temporal/worker.ts). The activity polls were
 * once set through `maxConcurrentActivityTaskPolls`, which SDK 1.24 reads nowhere: ten polls held
 * half of the twenty slots and a third of the provider calls under `npm run bench` waited to be
 * matched instead of coming back with their workflow task (core's `activity_task_received`,
 * eager=false: 73 of 220; with the polls a fifth of the slots, 11 of 220).
 */
import { DefaultLogger } from '@temporalio/worker';
import { noopMetricMeter } from '@temporalio/common';
import { compileWorkerOptions } from '@temporalio/worker/lib/worker-options';
import { workerSlots } from '../../src/temporal/worker';

function compiled(slots: Parameters<typeof workerSlots>[0]) {
  return compileWorkerOptions({ taskQueue: 'refunds', ...workerSlots(slots) }, new DefaultLogger('ERROR'), noopMetricMeter);
}

it('a fifth of the activity slots poll, at least one; the rest are free for a workflow task’s activities', () => {
  expect(compiled({ activitySlots: 20, localActivitySlots: 10, workflowTaskSlots: 40 }).activityTaskPollerBehavior).toEqual({ type: 'simple-maximum', maximum: 4 });
  expect(compiled({ activitySlots: 100, localActivitySlots: 10, workflowTaskSlots: 40 }).activityTaskPollerBehavior).toEqual({ type: 'simple-maximum', maximum: 20 });
  expect(compiled({ activitySlots: 2, localActivitySlots: 10, workflowTaskSlots: 40 }).activityTaskPollerBehavior).toEqual({ type: 'simple-maximum', maximum: 1 });
});

it('the slots as configured, the cache the SDK’s own choice unless set', () => {
  const options = compiled({ activitySlots: 20, localActivitySlots: 10, workflowTaskSlots: 40, cachedWorkflows: 500 });
  expect(options.tuner).toMatchObject({
    activityTaskSlotSupplier: { type: 'fixed-size', numSlots: 20 },
    localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 10 },
    workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 40 },
  });
  expect(options.maxCachedWorkflows).toBe(500);
  expect(compiled({ activitySlots: 20, localActivitySlots: 10, workflowTaskSlots: 40 }).maxCachedWorkflows).toBeGreaterThan(0);
});
