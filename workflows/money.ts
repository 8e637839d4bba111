/**
 * Money is an integer count of the currency's minor unit (fen for CNY) beside its ISO 4217 code.
 * Nothing here ever touches a floating-point amount. Pure and bundle-safe.
 */
export interface Money {
  amount: number;
  currency: string;
}

/** ISO 4217 minor-unit exponents of the currencies the service accepts. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = {
  CNY: 2,
  HKD: 2,
  MOP: 2,
  TWD: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  SGD: 2,
  AUD: 2,
  CAD: 2,
  JPY: 0,
  KRW: 0,
};

export const SUPPORTED_CURRENCIES = Object.keys(CURRENCY_EXPONENTS);

export function isValidAmount(amount: unknown): amount is number {
  return typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 0;
}

/**
 * The part of `amount` that `basisPoints` (1 bp = 0.01 %) stands for, rounded half up to a whole
 * minor unit. BigInt keeps the product exact for amounts near the safe-integer limit.
 */
export function basisPointsOf(amount: number, basisPoints: number): number {
  if (!isValidAmount(amount)) throw new RangeError(`amount ${amount} is not a whole number of minor units`);
  if (!Number.isInteger(basisPoints) || basisPoints < 0 || basisPoints > 10_000) {
    throw new RangeError(`basis points must be a whole number from 0 to 10000, not ${basisPoints}`);
  }
  return Number((BigInt(amount) * BigInt(basisPoints) + 5_000n) / 10_000n);
}

/** `12345, CNY` → `123.45`; `500, JPY` → `500`. Exact: built from integer digits, not division. */
export function formatMinorUnits(amount: number, currency: string): string {
  const exponent = CURRENCY_EXPONENTS[currency] ?? 2;
  const negative = amount < 0;
  const digits = String(Math.abs(amount)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction}`;
}
