/**
 * Delivers a refund's merchant events to the merchant's backend, oldest first, signed like the
 * provider webhooks. An event that is not acknowledged stops the delivery (so later events of the
 * refund never overtake it) and fails the activity, which Temporal retries with backoff. Delivery
 * is at least once: receivers recognise a repeat by the event's stable id.
 */
import type { Database } from '../src/db/client';
import { findMerchant } from '../src/db/queries/merchants';
import { place, type FieldSeal } from '../src/field-seal';
import { markMerchantEventDelivered, markMerchantEventFailed, undeliveredMerchantEvents } from '../src/db/queries/merchant-events';
import { postSignedWebhook, signPayload } from '../src/webhook-signature';

export interface MerchantEventDelivery {
  db: Database;
  merchantWebhooks: Map<string, string>;
  merchantWebhookSecret: string;
  /** Opens a merchant's own webhook secret. */
  fields: FieldSeal;
}

export function createMerchantEventActivities({ db, merchantWebhooks, merchantWebhookSecret, fields }: MerchantEventDelivery) {
  /** Where a merchant's events go, signed with what: its record's endpoint and secret, or MERCHANT_WEBHOOKS and the deployment's secret. */
  async function endpointOf(merchantId: string): Promise<{ url: string; secret: string } | undefined> {
    const merchant = await findMerchant(db, merchantId);
    if (merchant?.webhookUrl && merchant.webhookSecret) return { url: merchant.webhookUrl, secret: fields.open(merchant.webhookSecret, place.merchantWebhookSecret(merchantId)) };
    const url = merchantWebhooks.get(merchantId);
    return url ? { url, secret: merchantWebhookSecret } : undefined;
  }

  return {
    async deliverMerchantEvents(refundId: string): Promise<number> {
      let delivered = 0;
      const events = await undeliveredMerchantEvents(db, refundId);
      const endpoint = events[0] && (await endpointOf(events[0].merchantId));
      for (const event of events) {
        if (!endpoint) return delivered; // no endpoint: the merchant reads GET /v1/events instead
        const { url, secret } = endpoint;
        const body = JSON.stringify({ id: event.id, type: event.type, createdAt: event.createdAt.toISOString(), data: event.data });
        let failure: string | undefined;
        try {
          const response = await postSignedWebhook(url, body, signPayload(secret, body), { 'X-Event-Id': event.id });
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
