/**
 * Durations as the configuration writes them (`30s`, `15m`, `4h`, `3d`), held as milliseconds.
 * Pure and bundle-safe: the API reads policy with it and the workflow receives the numbers.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) {
    throw new Error(`"${text}" is not a duration: write a whole number and a unit, like 30s, 15m, 4h or 3d`);
  }
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export const DAY_MS = UNIT_MS.d;
