/**
 * Void or refund (issue #21): the pure rules — when a sale's batch closes, which way the workflow
 * sends a card attempt, and UnionPay's message details (order numbers, times, answers).
 */
import fc from 'fast-check';
import { batchClosesAt } from '../../src/refunds/card-batch';
import { instantOfTxnTime, orderIdOf, parseAnswer, queryResultOf, txnTimeOf } from '../../src/providers/unionpay/unionpay-protocol';
import { cardMethodOf } from '../../workflows/card-method';

const shanghai = { timeZone: 'Asia/Shanghai', utcOffsetMinutes: 480 };

describe('a sale’s batch closes at the first cutoff after its capture, in the merchant’s time zone', () => {
  it.each([
    ['2026-12-07T08:00:00Z', '23:00', '2026-12-07T15:00:00.000Z'], // 16:00 in Shanghai: tonight
    ['2026-12-07T15:30:00Z', '23:00', '2026-12-08T15:00:00.000Z'], // 23:30: tomorrow night
    ['2026-12-07T15:00:00Z', '23:00', '2026-12-08T15:00:00.000Z'], // at the cutoff itself: the next batch
    ['2026-12-31T15:30:00Z', '22:30', '2027-01-01T14:30:00.000Z'], // over the year's end
  ])('captured %s, cutoff %s → %s', (captured, cutoff, closes) => {
    expect(batchClosesAt(new Date(captured), cutoff, shanghai).toISOString()).toBe(closes);
  });

  it('keeps to the wall clock across a daylight-saving change, and works from a fixed offset without a time zone', () => {
    expect(batchClosesAt(new Date('2026-03-08T12:00:00Z'), '23:00', { timeZone: 'America/New_York', utcOffsetMinutes: 0 }).toISOString()).toBe('2026-03-09T03:00:00.000Z');
    expect(batchClosesAt(new Date('2026-12-07T08:00:00Z'), '23:00', { utcOffsetMinutes: 480 }).toISOString()).toBe('2026-12-07T15:00:00.000Z');
  });

  it('is always after the capture, by at most a day, and at the cutoff’s wall-clock time', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2035-01-01') }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), (at, hour, minute) => {
        const cutoff = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
        const closes = batchClosesAt(new Date(at), cutoff, shanghai).getTime();
        const local = new Date(closes + 480 * 60_000);
        return closes > at && closes - at <= 86_400_000 && local.getUTCHours() === hour && local.getUTCMinutes() === minute;
      }),
    );
  });
});

describe('the workflow sends a card attempt as a void only when it is the whole sale, first, and before its batch closes', () => {
  const base = { voidableUntil: '2026-12-07T15:00:00.000Z', firstAttempt: true, sending: 10_000, wholeSale: 10_000, now: Date.parse('2026-12-07T14:59:59.999Z') };

  it('voids the whole sale before the cutoff', () => {
    expect(cardMethodOf(base)).toMatchObject({ method: 'void', reason: expect.stringContaining('open batch until 2026-12-07T15:00:00.000Z') });
  });

  it.each([
    ['at the cutoff', { now: Date.parse('2026-12-07T15:00:00.000Z') }, 'batch settled at'],
    ['part of the sale', { sending: 9_000 }, 'only a whole sale is voided'],
    ['a later attempt', { firstAttempt: false }, 'later attempt'],
    ['no voidable sale', { voidableUntil: null }, 'not the whole of a sale'],
  ])('refunds %s', (_what, change, why) => {
    expect(cardMethodOf({ ...base, ...change })).toMatchObject({ method: 'refund', reason: expect.stringContaining(why) });
  });
});

describe('UnionPay’s messages', () => {
  it('names an attempt by an order number of letters and digits, one per method', () => {
    expect(orderIdOf('rf_01JEXAMPLE0000000000000000-a1', 'void')).toBe('rf01JEXAMPLE0000000000000000a1V');
    expect(orderIdOf('rf_01JEXAMPLE0000000000000000-a1', 'refund')).toBe('rf01JEXAMPLE0000000000000000a1R');
    expect(() => orderIdOf('a-1', 'refund')).toThrow(RangeError);
  });

  it('writes and reads send times in Beijing time', () => {
    expect(txnTimeOf(new Date('2026-12-07T16:05:09.123Z'))).toBe('20261208000509');
    expect(instantOfTxnTime('20261208000509')).toBe('2026-12-07T16:05:09.000Z');
    expect(instantOfTxnTime('2026-12-08')).toBeUndefined();
  });

  it('reads an answer’s pairs as they come, a braced value whole', () => {
    expect(parseAnswer('a=1&signature=ab+c/==&b={x=1&y=2}&c=')).toEqual({ a: '1', signature: 'ab+c/==', b: '{x=1&y=2}', c: '' });
  });

  it('reads a query: 34 is none, 00 carries the transaction’s own code, anything else is no answer', () => {
    expect(queryResultOf({ respCode: '34' })).toEqual({ found: false });
    expect(queryResultOf({ respCode: '00', origRespCode: '00' })).toMatchObject({ found: true, state: 'succeeded' });
    expect(queryResultOf({ respCode: '00', origRespCode: '05' })).toMatchObject({ found: true, state: 'pending' });
    expect(queryResultOf({ respCode: '00', origRespCode: '35', origRespMsg: '原交易不存在或状态不正确' })).toMatchObject({ found: true, state: 'failed', why: expect.stringContaining('35') });
    expect(queryResultOf({ respCode: '06' })).toBeNull();
  });
});
