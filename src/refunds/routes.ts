/**
 * Whether this deployment pays out along a route: a route set to `off` (PROVIDER_…=off) takes no
 * refund and no reroute, refused before anything is written.
 */
import type { AdapterName } from '../config';
import type { ProviderName } from '../../workflows/lifecycle';
import { RefundRequestError } from './refund-errors';

export type RouteAdapters = Record<ProviderName, AdapterName>;

export function requireRouteOpen(routes: RouteAdapters, route: ProviderName): void {
  if (routes[route] !== 'off') return;
  throw new RefundRequestError('route_unavailable', `This deployment pays out no ${route} refunds (PROVIDER_${route.toUpperCase()}=off)`, { route });
}
