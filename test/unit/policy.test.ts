import fc from 'fast-check';
import { DAY_MS, parseDuration } from '../../workflows/durations';
import { DEFAULT_POLICY, refundFee, refundWindowClosesAt, requiredApprovals } from '../../workflows/policy';
import { addBusinessDays, isBusinessDay } from '../../workflows/business-days';

const policy = DEFAULT_POLICY;

describe('approval policy', () => {
  it('approves small refunds automatically, holds larger ones for one supervisor, the largest for two', () => {
    const ask = (amount: number) => requiredApprovals({ amount, refundedBefore: 0, reason: 'defective', toOriginalDestination: true }, policy);
    expect(ask(1)).toBe(0);
    expect(ask(50_000)).toBe(0);
    expect(ask(50_001)).toBe(1);
    expect(ask(1_999_999)).toBe(1);
    expect(ask(2_000_000)).toBe(2);
  });

  it('always holds fraud refunds and refunds to another destination', () => {
    expect(requiredApprovals({ amount: 100, refundedBefore: 0, reason: 'fraud', toOriginalDestination: true }, policy)).toBe(1);
    expect(requiredApprovals({ amount: 100, refundedBefore: 0, reason: 'defective', toOriginalDestination: false }, policy)).toBe(1);
    expect(requiredApprovals({ amount: 3_000_000, refundedBefore: 0, reason: 'fraud', toOriginalDestination: false }, policy)).toBe(2);
  });

  it('keeps the configured fee per reason', () => {
    const withFee = { ...policy, feeBps: { customer_request: 300 } };
    expect(refundFee(10_000, 'customer_request', withFee)).toBe(300);
    expect(refundFee(10_000, 'defective', withFee)).toBe(0);
  });

  it('closes the refund window per channel', () => {
    const captured = Date.parse('2026-01-01T00:00:00Z');
    expect(refundWindowClosesAt(captured, 'card', policy) - captured).toBe(180 * DAY_MS);
    expect(refundWindowClosesAt(captured, 'wechat', policy) - captured).toBe(365 * DAY_MS);
  });
});

describe('durations', () => {
  it('reads the configuration syntax', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('4h')).toBe(14_400_000);
    expect(parseDuration('3d')).toBe(3 * DAY_MS);
    expect(() => parseDuration('3 days')).toThrow(/not a duration/);
    expect(() => parseDuration('1.5h')).toThrow(/not a duration/);
  });
});

describe('business days', () => {
  const calendar = { holidays: ['2026-10-01', '2026-10-02'], utcOffsetMinutes: 480 };
  // 2026-09-30 is a Wednesday; 10:00 in Shanghai.
  const wednesday = Date.parse('2026-09-30T02:00:00Z');

  it('skips weekends and holidays in the business time zone', () => {
    expect(isBusinessDay(wednesday, calendar)).toBe(true);
    expect(isBusinessDay(Date.parse('2026-10-01T02:00:00Z'), calendar)).toBe(false); // holiday
    expect(isBusinessDay(Date.parse('2026-10-03T02:00:00Z'), calendar)).toBe(false); // Saturday
    // Friday 20:00 UTC is already Saturday 04:00 in Shanghai.
    expect(isBusinessDay(Date.parse('2026-10-09T20:00:00Z'), calendar)).toBe(false);
  });

  it('counts forward over them', () => {
    // Wed → Thu(holiday) Fri(holiday) Sat Sun → Mon 5th is the 1st business day, Tue the 2nd, Wed the 3rd.
    expect(new Date(addBusinessDays(wednesday, 3, calendar)).toISOString()).toBe('2026-10-07T02:00:00.000Z');
    expect(addBusinessDays(wednesday, 0, calendar)).toBe(wednesday);
    // Zero days from a Saturday is the next Monday.
    expect(new Date(addBusinessDays(Date.parse('2026-10-03T02:00:00Z'), 0, calendar)).toISOString()).toBe('2026-10-05T02:00:00.000Z');
  });
});

describe('approval policy on the payment’s running total (issue #20)', () => {
  it('a refund split into any parts needs, for the part that completes it, what the whole needs; the parts that go unapproved stay within the automatic limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3_000_000 }), { minLength: 1, maxLength: 8 }), fc.constantFrom('defective', 'fraud') as fc.Arbitrary<'defective' | 'fraud'>, (parts, reason) => {
        let refundedBefore = 0;
        const needs = parts.map((amount) => {
          const approvals = requiredApprovals({ amount, refundedBefore, reason, toOriginalDestination: true }, policy);
          refundedBefore += amount;
          return { amount, approvals };
        });
        const whole = requiredApprovals({ amount: refundedBefore, refundedBefore: 0, reason, toOriginalDestination: true }, policy);
        expect(needs.at(-1)!.approvals).toBe(whole);
        expect(Math.max(...needs.map((n) => n.approvals))).toBe(whole);
        expect(needs.filter((n) => n.approvals === 0).reduce((sum, n) => sum + n.amount, 0)).toBeLessThanOrEqual(policy.autoApproveMax);
      }),
    );
  });
});
