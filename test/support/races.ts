/**
 * Decisions sent at the same moment (SPEC rule 15): each race runs ROUNDS rounds at once on
 * different refunds, so timing varies from round to round, and exactly one decision of each pair
 * may take effect.
 */
export const ROUNDS = 20;

export const rounds = <T>(round: (i: number) => Promise<T>) => Promise.all(Array.from({ length: ROUNDS }, (_, i) => round(i)));

/** Exactly one of the answers took effect; the others were refused with 409. Returns the winner's index. */
export function oneWon(statuses: number[], won: number[] = [200, 202], why = ''): number {
  expect({ winners: statuses.filter((s) => won.includes(s)).length, statuses, why }).toEqual({ winners: 1, statuses, why });
  expect(statuses.filter((s) => !won.includes(s))).toEqual(statuses.filter((s) => !won.includes(s)).map(() => 409));
  return statuses.findIndex((s) => won.includes(s));
}
