/**
 * A failed workflow run is money held with nobody told: the suite ends by asking Temporal for any.
 */
import { Connection, WorkflowClient } from '@temporalio/client';

export async function failedRuns(address: string, namespace = 'default'): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const client = new WorkflowClient({ connection, namespace });
    const failed: string[] = [];
    for await (const run of client.list({ query: 'ExecutionStatus="Failed" OR ExecutionStatus="TimedOut" OR ExecutionStatus="Terminated"' })) failed.push(`${run.workflowId} (${run.type}): ${run.status.name}`);
    return failed;
  } finally {
    await connection.close();
  }
}

/**
 * Where a run stands, for a test that waited in vain: its status, the activities it waits on
 * (attempt and last failure) and its last events.
 */
export async function whereRunStands(address: string, workflowId: string, namespace = 'default'): Promise<string> {
  const connection = await Connection.connect({ address });
  try {
    const handle = new WorkflowClient({ connection, namespace }).getHandle(workflowId);
    const { status, raw } = await handle.describe();
    const pending = (raw.pendingActivities ?? []).map((activity) => `${activity.activityType?.name} attempt ${activity.attempt} (${activity.state}): ${activity.lastFailure?.message ?? 'no failure yet'}`);
    const events = ((await handle.fetchHistory()).events ?? []).slice(-12).map((event) => `${event.eventId} ${event.eventTime?.seconds} ${event.eventType}`);
    return [`run ${workflowId}: ${status.name}`, ...pending.map((line) => `  waits on ${line}`), '  last events:', ...events.map((line) => `    ${line}`)].join('\n');
  } catch (error) {
    return `run ${workflowId}: not described (${String(error)})`;
  } finally {
    await connection.close();
  }
}
