/**
 * How a real adapter handled a provider's (signed) error answer: `resend` a "try again" (thrown as
 * unavailable: the same key may go again, once the provider was asked), `wait_for_balance` the
 * balance-short error, `decline` a failed refund naming the code.
 */
import { ProviderBalanceShortError, ProviderUnavailableError, type ProviderRefund } from '../../src/providers/provider';

export async function expectHandledAs(submission: Promise<ProviderRefund>, handling: 'resend' | 'wait_for_balance' | 'decline', code: string): Promise<void> {
  const outcome = await submission.then(
    (refund) => ({ declined: refund.status === 'failed' ? refund.failureReason : null }),
    (error: Error) => ({ error }),
  );
  switch (handling) {
    case 'resend':
      expect('error' in outcome && outcome.error).toBeInstanceOf(ProviderUnavailableError);
      expect('error' in outcome && outcome.error).not.toBeInstanceOf(ProviderBalanceShortError);
      break;
    case 'wait_for_balance':
      expect('error' in outcome && outcome.error).toBeInstanceOf(ProviderBalanceShortError);
      break;
    case 'decline':
      expect(outcome).toEqual({ declined: expect.stringContaining(code) });
      break;
  }
}
