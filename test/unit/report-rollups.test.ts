/**
 * Reading a report from the daily rollups: the period's split into whole business days and ends,
 * and percentiles from 2%-wide duration buckets (the bucket function mirrored from migration 0026).
 */
import fc from 'fast-check';
import { localDate, localDayStart } from '../../workflows/business-days';
import { bucketSeconds, percentileOfBuckets, splitPeriod } from '../../src/reports/rollup-math';

const bucketOf = (seconds: number) => Math.floor(Math.log(1 + Math.max(seconds, 0)) * 50); // report_duration_bucket
const offsets = fc.integer({ min: -12 * 60, max: 14 * 60 }).map((minutes) => minutes - (minutes % 15));
const instant = fc.integer({ min: Date.parse('2025-01-01'), max: Date.parse('2027-12-31') });

describe('a report period split at business midnights', () => {
  it('counts every moment of [from, to) exactly once and nothing outside it, reading at most half a day at each end', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 40 * 86_400_000 }), offsets, fc.array(instant, { maxLength: 20 }), (from, length, offset, moments) => {
        const to = from + length;
        const split = splitPeriod(from, to, offset);
        const aroundTheEnds = [from - 1, from, from + 1, to - 1, to, to + 1, localDayStart(localDate(from, offset), offset), localDayStart(localDate(to, offset), offset)];
        for (const moment of [...moments, ...aroundTheEnds]) {
          const inDays = split.days !== null && localDate(moment, offset) >= split.days.from && localDate(moment, offset) < split.days.to;
          const fromEdges = split.edges.filter((edge) => moment >= edge.from && moment < edge.to).reduce((sum, edge) => sum + edge.sign, 0);
          expect({ moment, counted: Number(inDays) + fromEdges }).toEqual({ moment, counted: moment >= from && moment < to ? 1 : 0 });
        }
        expect(split.edges.length).toBeLessThanOrEqual(2);
        for (const edge of split.edges) expect(edge.to - edge.from).toBeLessThanOrEqual(86_400_000 / 2);
      }),
    );
  });

  it('reads a month up to now as whole days, plus or less the smaller part of each end', () => {
    const day = (date: string) => localDayStart(date, 480);
    expect(splitPeriod(day('2026-03-01'), day('2026-03-31'), 480)).toEqual({ days: { from: '2026-03-01', to: '2026-03-31' }, edges: [] });
    // 20:00 on 1 March to 20:00 on 31 March (Shanghai), asked at 20:00 on the 31st: 2–31 March whole,
    // plus 20:00–24:00 of the 1st, less 20:00–24:00 of the 31st (still to come: no refunds to read).
    const at20 = (date: string) => day(date) + 20 * 3_600_000;
    expect(splitPeriod(at20('2026-03-01'), at20('2026-03-31'), 480)).toEqual({
      days: { from: '2026-03-02', to: '2026-04-01' },
      edges: [
        { from: at20('2026-03-01'), to: day('2026-03-02'), sign: 1 },
        { from: at20('2026-03-31'), to: day('2026-04-01'), sign: -1 },
      ],
    });
    // 08:00 to 08:00: the mornings are the smaller parts: 1–30 March whole, less the 1st's, plus the 31st's.
    const at8 = (date: string) => day(date) + 8 * 3_600_000;
    expect(splitPeriod(at8('2026-03-01'), at8('2026-03-31'), 480)).toEqual({
      days: { from: '2026-03-01', to: '2026-03-31' },
      edges: [
        { from: day('2026-03-01'), to: at8('2026-03-01'), sign: -1 },
        { from: day('2026-03-31'), to: at8('2026-03-31'), sign: 1 },
      ],
    });
    expect(splitPeriod(day('2026-03-01') + 1, day('2026-03-01') + 3_600_000, 480)).toEqual({ days: null, edges: [{ from: day('2026-03-01') + 1, to: day('2026-03-01') + 3_600_000, sign: 1 }] });
    // A business day in year 10000 has no date to read: the refunds themselves are read.
    const late = Date.parse('9999-12-01T00:00:00Z');
    const end = Date.parse('9999-12-31T23:00:00Z');
    expect(splitPeriod(late, end, 14 * 60)).toEqual({ days: null, edges: [{ from: late, to: end, sign: 1 }] });
  });
});

describe('percentiles from duration buckets', () => {
  const exactPercentile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    const position = q * (sorted.length - 1);
    const below = Math.floor(position);
    return sorted[below]! + (sorted[Math.ceil(position)]! - sorted[below]!) * (position - below);
  };

  // A bucket is 2% wide in 1 + seconds, so its middle is within e^0.01 − 1 ≈ 1.005% of (1 + seconds).
  it('are within about 1% of the exact continuous percentile (as percentile_cont)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 * 86_400 }), { minLength: 1, maxLength: 200 }), fc.constantFrom(0, 0.5, 0.9, 0.99, 1), (seconds, q) => {
        const counts = seconds.map((s) => ({ bucket: bucketOf(s), refunds: 1 }));
        const estimate = percentileOfBuckets(counts, q)!;
        const exact = exactPercentile(seconds, q);
        expect(Math.abs(estimate - exact)).toBeLessThanOrEqual((exact + 1) * 0.01006);
      }),
    );
  });

  it('stand each bucket for its middle, and count nothing as null', () => {
    expect(bucketSeconds(bucketOf(3600)) / 3600).toBeCloseTo(1, 2);
    expect(percentileOfBuckets([], 0.5)).toBeNull();
    expect(percentileOfBuckets([{ bucket: 10, refunds: 0 }], 0.5)).toBeNull();
    // The same bucket counted on two days (or from the rollups and a period's end) adds up.
    expect(percentileOfBuckets([{ bucket: 400, refunds: 1 }, { bucket: 300, refunds: 2 }, { bucket: 400, refunds: 1 }], 0.5)).toBeCloseTo((bucketSeconds(300) + bucketSeconds(400)) / 2, 6);
  });
});
