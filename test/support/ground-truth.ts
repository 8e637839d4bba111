/**
 * What the sandbox providers actually paid for a payment, read through the API's inspection
 * endpoint: the ground truth every money test compares the books with.
 */
import { PROVIDER_NAMES } from '../../workflows/lifecycle';
import type { ApiCall } from './test-service';

export interface SandboxOperation {
  id: string;
  refundId: string;
  kind: 'refund' | 'reversal';
  amount: number;
  status: 'pending' | 'settled' | 'canceled' | 'failed';
  returned: boolean;
  returnedAmount: number;
  provider: string;
  accountLast4?: string;
}

export async function operationsOfPayment(call: ApiCall, paymentId: string): Promise<SandboxOperation[]> {
  const all: SandboxOperation[] = [];
  for (const provider of PROVIDER_NAMES) {
    const { body } = await call('GET', `/v1/sandbox/providers/${provider}/refunds?paymentId=${paymentId}`);
    all.push(...(body.data as SandboxOperation[]).map((op) => ({ ...op, provider })));
  }
  return all;
}

/** Money that reached the customer and stayed there: settled payouts, less reversals, less what banks sent back. */
export function netPaidOut(operations: SandboxOperation[]): number {
  return operations.reduce((sum, op) => {
    if (op.status !== 'settled') return sum;
    return op.kind === 'refund' ? sum + op.amount - op.returnedAmount : sum - op.amount;
  }, 0);
}

/**
 * SPEC rule 15's equality for a payment with one refund: what the providers paid out equals the
 * payment's refunded share, and, once the refund has succeeded, the refund's amount. Returns what
 * was read, for further checks.
 */
export async function expectBooksMatchMoney(call: ApiCall, paymentId: string, refundId: string) {
  const [operations, payment, refund] = await Promise.all([
    operationsOfPayment(call, paymentId),
    call('GET', `/v1/payments/${paymentId}`).then((r) => r.body),
    call('GET', `/v1/refunds/${refundId}`).then((r) => r.body),
  ]);
  const paid = netPaidOut(operations);
  expect({ refundId, paid }).toEqual({ refundId, paid: payment.refundedAmount });
  if (refund.status === 'succeeded' || refund.status === 'corrected') expect({ refundId, paid }).toEqual({ refundId, paid: refund.netAmount });
  if (['rejected', 'expired', 'canceled'].includes(refund.status)) expect({ refundId, reserved: payment.reservedAmount }).toEqual({ refundId, reserved: 0 });
  return { operations, payment, refund, paid };
}
