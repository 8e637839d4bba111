/**
 * A card sale's settlement batch (issue #21): a sale is in its acquirer's open batch from its
 * capture until the next settlement cutoff (23:00 by default, in the merchant's time zone); until
 * then a whole-sale refund goes as a void (撤销) and the money never leaves the cardholder, after it
 * as a refund (退货). Computed once, when the refund is taken; the workflow compares it with its
 * own clock when it sends.
 */

/** Where a merchant's business day is kept: its IANA time zone, or (no merchant record) the deployment's fixed offset. */
export interface BusinessZone {
  timeZone?: string;
  utcOffsetMinutes: number;
}

/** `HH:MM`, 00:00–23:59. */
export const CUTOFF_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The first cutoff strictly after `capturedAt`, as an instant. */
export function batchClosesAt(capturedAt: Date, cutoff: string, zone: BusinessZone): Date {
  const match = CUTOFF_PATTERN.exec(cutoff);
  if (!match) throw new RangeError(`not a cutoff time (HH:MM): ${cutoff}`);
  const [hour, minute] = [Number(match[1]), Number(match[2])];
  const day = localDay(capturedAt, zone);
  for (let extra = 0; extra < 3; extra += 1) {
    const at = instantOf(day.year, day.month, day.day + extra, hour, minute, zone);
    if (at.getTime() > capturedAt.getTime()) return at;
  }
  throw new Error('unreachable: a cutoff comes within two days');
}

function localDay(at: Date, zone: BusinessZone): { year: number; month: number; day: number } {
  const local = new Date(at.getTime() + offsetMinutes(at, zone) * 60_000);
  return { year: local.getUTCFullYear(), month: local.getUTCMonth(), day: local.getUTCDate() };
}

/** The instant a wall-clock time names in the zone (Date.UTC carries a day past the month's end over). */
function instantOf(year: number, month: number, day: number, hour: number, minute: number, zone: BusinessZone): Date {
  const wall = Date.UTC(year, month, day, hour, minute);
  // The offset at the guess, then at the answer: right on either side of a daylight-saving change.
  const guess = wall - offsetMinutes(new Date(wall), zone) * 60_000;
  return new Date(wall - offsetMinutes(new Date(guess), zone) * 60_000);
}

/** Minutes east of UTC in the zone at an instant. */
function offsetMinutes(at: Date, zone: BusinessZone): number {
  if (!zone.timeZone) return zone.utcOffsetMinutes;
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone.timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0));
}
