/**
 * A route this deployment does not pay out along (PROVIDER_…=off). The API refuses refunds and
 * reroutes to it at the door; a refund already on its way there when the route was switched off
 * finds it declined here and waits for a person (reroute or cancel), never a crash.
 */
import type { ProviderName } from '../../workflows/lifecycle';
import { ProviderCannotCancelError, ProviderReversalRefusedError, type ProviderRefund, type ProviderRefundRequest, type RefundProvider } from './provider';

export class OffRoute implements RefundProvider {
  constructor(readonly name: ProviderName) {}

  private get why(): string {
    return `this deployment pays out no ${this.name} refunds (PROVIDER_${this.name.toUpperCase()}=off)`;
  }

  async submitRefund(request: ProviderRefundRequest): Promise<ProviderRefund> {
    return { reference: request.idempotencyKey, traceReference: '', status: 'failed', returned: false, failureReason: this.why };
  }

  async findRefund(): Promise<ProviderRefund | null> {
    return null;
  }

  async cancelRefund(): Promise<ProviderRefund> {
    throw new ProviderCannotCancelError(this.why);
  }

  async reverseRefund(): Promise<ProviderRefund> {
    throw new ProviderReversalRefusedError(this.why);
  }

  async findReversal(): Promise<ProviderRefund | null> {
    return null;
  }
}
