/**
 * The prebuilt workflow bundle. `npm run build` writes it (bundling fails the build on any import
 * the workflow sandbox cannot take); workers load it instead of bundling at start.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';

export const WORKFLOW_BUNDLE_PATH = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
export const WORKFLOWS_ENTRY = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

export function prebuiltBundleExists(): boolean {
  return existsSync(WORKFLOW_BUNDLE_PATH);
}

export async function buildWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_ENTRY });
  mkdirSync(path.dirname(WORKFLOW_BUNDLE_PATH), { recursive: true });
  writeFileSync(WORKFLOW_BUNDLE_PATH, code);
}

if (require.main === module) {
  buildWorkflowBundle().then(
    () => process.stdout.write(`workflow bundle written to ${path.relative(process.cwd(), WORKFLOW_BUNDLE_PATH)}\n`),
    (error: unknown) => {
      process.stderr.write(`workflow bundle failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
