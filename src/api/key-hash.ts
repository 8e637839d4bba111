import { createHash } from 'node:crypto';

/**
 * How API keys and console session ids are known at rest: their SHA-256, hex (as
 * `printf %s KEY | sha256sum` prints it). Both are long random values, so a plain hash suffices.
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
