import type { ApiDeps } from '../deps';
import { merchantEventsAfter } from '../../db/queries/merchant-events';
import { ApiProblem } from '../problems';
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
      responses: { 200: { description: 'Events', schema: MerchantEventList }, 404: { description: 'event_not_found: `after` names no event', schema: Problem } },
      async handle({ query, caller }) {
        const events = await merchantEventsAfter(deps.db, query.after, query.limit, caller!.merchants);
        if (!events) throw new ApiProblem(404, 'event_not_found', 'Event not found', `No event ${query.after}: page from an id this feed returned`);
        return {
          status: 200,
          body: { data: events.map((event) => ({ id: event.id, type: event.type, createdAt: event.createdAt.toISOString(), data: event.data })) },
        };
      },
    }),
  ];
}
