/**
 * Delivers a refund's merchant events to the merchant's backend, oldest first, signed like the
 * provider webhooks. An event that is not acknowledged stops the delivery (so later events of the
 * refund never overtake it) and fails the activity, which Temporal retries with backoff. Delivery
 * is at least once: receivers recognise a repeat by the event's stable id.
 */
import type { Database } from '../src/db/client';
import { markMerchantEventDelivered, markMerchantEventFailed, undeliveredMerchantEvents } from '../src/db/queries/merchant-events';
import { postSignedWebhook, signPayload } from '../src/webhook-signature';

export interface MerchantEventDelivery {
  db: Database;
  merchantWebhooks: Map<string, string>;
  merchantWebhookSecret: string;
}

export function createMerchantEventActivities({ db, merchantWebhooks, merchantWebhookSecret }: MerchantEventDelivery) {
  return {
    async deliverMerchantEvents(refundId: string): Promise<number> {
      let delivered = 0;
      for (const event of await undeliveredMerchantEvents(db, refundId)) {
        const url = merchantWebhooks.get(event.merchantId);
        if (!url) return delivered; // no endpoint: the merchant reads GET /v1/events instead
        const body = JSON.stringify({ id: event.id, type: event.type, createdAt: event.createdAt.toISOString(), data: event.data });
        let failure: string | undefined;
        try {
          const response = await postSignedWebhook(url, body, signPayload(merchantWebhookSecret, body), { 'X-Event-Id': event.id });
          if (!response.ok) failure = `${url} answered ${response.status}`;
        } catch (error) {
          failure = `${url}: ${(error as Error).message}`;
        }
        if (failure) {
          await markMerchantEventFailed(db, event.seq, failure);
          throw new Error(`merchant event ${event.id} not delivered: ${failure}`);
        }
        await markMerchantEventDelivered(db, event.seq);
        delivered += 1;
      }
      return delivered;
    },
  };
}
