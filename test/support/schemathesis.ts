/**
 * Schemathesis, the OpenAPI fuzzer, from PyPI: installed once into the project's tools folder
 * (a virtual environment of its own, since it brings its dependencies), like the Temporal binaries.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TOOLS_DIR } from '../../src/dev/temporal-binaries';

const REQUIREMENT = 'schemathesis==4.32.5';

export function findSchemathesis(): string {
  const venv = path.join(TOOLS_DIR, 'schemathesis');
  const st = path.join(venv, 'bin', 'st');
  if (existsSync(st)) return st;
  process.stderr.write(`refundflow: installing ${REQUIREMENT} from PyPI into ${venv}\n`);
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', REQUIREMENT], { stdio: ['ignore', 'ignore', 'inherit'] });
  return st;
}
