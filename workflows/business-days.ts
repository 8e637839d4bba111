/**
 * Business-day arithmetic for the dates customers are promised. Weekends and the configured
 * holidays do not count; days are those of the business time zone, not of UTC. Pure and
 * bundle-safe (the workflow computes deadlines from its own deterministic clock).
 */
import { DAY_MS } from './durations';

export interface BusinessCalendar {
  holidays: readonly string[];
  utcOffsetMinutes: number;
}

/** `YYYY-MM-DD` of the local day that contains `epochMs`. */
export function localDate(epochMs: number, utcOffsetMinutes: number): string {
  return new Date(epochMs + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** The instant the local day `YYYY-MM-DD` begins (the inverse of `localDate`). */
export function localDayStart(date: string, utcOffsetMinutes: number): number {
  return Date.parse(`${date}T00:00:00.000Z`) - utcOffsetMinutes * 60_000;
}

/** The instant the local day `YYYY-MM-DD` ends (exclusive: the next day's start). */
export function localDayEnd(date: string, utcOffsetMinutes: number): number {
  return localDayStart(date, utcOffsetMinutes) + DAY_MS;
}

export function isBusinessDay(epochMs: number, calendar: BusinessCalendar): boolean {
  const local = new Date(epochMs + calendar.utcOffsetMinutes * 60_000);
  const weekday = local.getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  return !calendar.holidays.includes(local.toISOString().slice(0, 10));
}

/**
 * The instant `businessDays` business days after `fromMs`, at the same local time of day.
 * Zero business days means "today", unless today is not a business day, in which case the next
 * business day: money sent on a Saturday does not arrive on that Saturday.
 */
export function addBusinessDays(fromMs: number, businessDays: number, calendar: BusinessCalendar): number {
  let at = fromMs;
  while (!isBusinessDay(at, calendar)) at += DAY_MS;
  for (let counted = 0; counted < businessDays; ) {
    at += DAY_MS;
    if (isBusinessDay(at, calendar)) counted += 1;
  }
  return at;
}
