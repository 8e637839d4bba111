/**
 * Every recorded refund history must replay on the current workflow code without a determinism
 * error: refunds already running when a new version is deployed must carry on unharmed. Record
 * new histories with `RECORD_HISTORIES=1 npx jest test/workflows` when a path is added. Before the
 * first release nothing runs old code, so a changed path is re-recorded; after a release, a change
 * to an existing path needs `patched()` (or worker versioning), and each release keeps its histories.
 */
import '../support/quiet-temporal';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker, type ReplayResult, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOWS_ENTRY } from '../../src/temporal/workflow-bundle';

const HISTORIES = path.join(__dirname, 'histories');
const files = readdirSync(HISTORIES).filter((file) => file.endsWith('.json')).sort();

function histories() {
  return files.map((file) => ({ workflowId: file, history: JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as unknown }));
}

async function replayAll(workflowBundle: WorkflowBundle): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle }, histories())) results.push(result);
  return results;
}

async function bundle(workflowsPath: string): Promise<WorkflowBundle> {
  return { code: (await bundleWorkflowCode({ workflowsPath, logger: quietLogger })).code };
}

const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('replay of recorded refund histories', () => {
  it('has histories of every path recorded so far', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'automatic-with-merchant-events.json',
        'automatic-webhook-follow-up.json',
        'automatic-status-check.json',
        'declined-0002.json',
        'returned-after-success-0004.json',
        'transient-failures-0005.json',
        'timed-out-after-taking-0007.json',
        'delayed-then-deadline-0009.json',
        'approved-by-one.json',
        'approved-by-two.json',
        'rejected.json',
        'approval-expired.json',
        'declined-then-canceled.json',
        'declined-then-rerouted.json',
        'reroute-proposal-lapsed.json',
        'reconciliation-finding.json',
        'settled-after-deadline.json',
        'corrected-over-refund.json',
        'corrected-under-refund.json',
        'corrected-wrong-account.json',
        'reversal-refused-0003.json',
        'failed-by-notice.json',
        'frequency-limited-found-at-provider.json',
      ]),
    );
  });

  it('replays every one of them on the current workflow code', async () => {
    const results = await replayAll(await bundle(WORKFLOWS_ENTRY));
    expect(results.map((r) => [r.workflowId, r.error?.message ?? 'ok'])).toEqual(files.map((file) => [file, 'ok']));
  });

  it('fails them on a workflow changed without a patch (so this test can fail)', async () => {
    const results = await replayAll(await bundle(path.join(__dirname, 'changed-workflow')));
    expect(results.map((r) => [r.workflowId, r.error instanceof DeterminismViolationError])).toEqual(files.map((file) => [file, true]));
  });
});
