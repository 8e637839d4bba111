import type { ApiDeps } from '../deps';
import { merchantEventsAfter } from '../../db/queries/merchant-events';
import { invalidField } from '../problems';
import { route } from '../route';
import { EventsQuery, MerchantEventList, Problem } from '../schemas';

/** Merchant events, oldest first, for a backend that missed webhook deliveries. */
export function eventRoutes(deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/v1/events',
      tag: 'events',
      summary: 'Merchant events after a given event id, oldest first (the same events the webhooks deliver)',
      access: ['service', 'support', 'supervisor'],
      query: EventsQuery,
      responses: { 200: { description: 'Events', schema: MerchantEventList }, 400: { description: 'Invalid query', schema: Problem } },
      async handle({ query }) {
        const events = await merchantEventsAfter(deps.db, query.after, query.limit);
        if (!events) {
          throw invalidField('query', 'after', 'names no event');
        }
        return {
          status: 200,
          body: { data: events.map((event) => ({ id: event.id, type: event.type, createdAt: event.createdAt.toISOString(), data: event.data })) },
        };
      },
    }),
  ];
}
