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
