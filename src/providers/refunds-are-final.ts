/**
 * What the wallets (WeChat Pay, Alipay) answer when asked to undo a refund: nothing. A refund
 * they took cannot be withdrawn while pending, nor taken back once paid; over-refunds are then
 * recovered from the customer (the workflow opens a recovery case on the refusal).
 */
import { ProviderCannotCancelError, ProviderReversalRefusedError, type ProviderRefund, type RefundProvider } from './provider';

export abstract class RefundsAreFinal implements Pick<RefundProvider, 'cancelRefund' | 'reverseRefund' | 'findReversal'> {
  /** The provider's name as people know it, for the refusals. */
  protected abstract readonly label: string;

  async cancelRefund(): Promise<ProviderRefund> {
    throw new ProviderCannotCancelError(`${this.label} cannot withdraw a refund it has taken`);
  }

  async reverseRefund(): Promise<ProviderRefund> {
    throw new ProviderReversalRefusedError(`${this.label} cannot take back a refund once paid: recover the money from the customer`);
  }

  async findReversal(): Promise<ProviderRefund | null> {
    return null;
  }
}
