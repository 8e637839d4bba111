import { basisPointsOf, formatMinorUnits, isValidAmount } from '../../workflows/money';

describe('money in minor units', () => {
  it('formats exactly from integer digits', () => {
    expect(formatMinorUnits(12345, 'CNY')).toBe('123.45');
    expect(formatMinorUnits(5, 'CNY')).toBe('0.05');
    expect(formatMinorUnits(200000000, 'CNY')).toBe('2,000,000.00');
    expect(formatMinorUnits(500, 'JPY')).toBe('500');
    expect(formatMinorUnits(Number.MAX_SAFE_INTEGER, 'CNY')).toBe('90,071,992,547,409.91');
  });

  it('takes basis points rounding half up, exactly even near the safe-integer limit', () => {
    expect(basisPointsOf(10000, 250)).toBe(250);
    expect(basisPointsOf(1, 5000)).toBe(1); // 0.5 → 1
    expect(basisPointsOf(1, 4999)).toBe(0);
    expect(basisPointsOf(333, 100)).toBe(3);
    expect(basisPointsOf(Number.MAX_SAFE_INTEGER, 10000)).toBe(Number.MAX_SAFE_INTEGER);
    expect(basisPointsOf(Number.MAX_SAFE_INTEGER, 1)).toBe(900719925474);
  });

  it('refuses amounts that are not whole minor units', () => {
    expect(isValidAmount(1.5)).toBe(false);
    expect(isValidAmount(-1)).toBe(false);
    expect(isValidAmount(2 ** 53)).toBe(false);
    expect(isValidAmount('100')).toBe(false);
    expect(isValidAmount(0)).toBe(true);
    expect(() => basisPointsOf(10.5, 100)).toThrow(RangeError);
    expect(() => basisPointsOf(100, 10001)).toThrow(RangeError);
  });
});
