/**
 * Each provider's notifications (provider-module.ts), at /v1/webhooks/<path> — and, for a provider
 * with accounts per merchant, /v1/webhooks/<path>/{merchant} — opened by the provider's module (its
 * signature, its certificates, its format) with the account they should come from, passed to the
 * refund they name, and answered the way the provider expects. One that does not verify is refused
 * with 401 and changes nothing; the provider delivers it again later.
 */
import { findMerchant } from '../../db/queries/merchants';
import { PROVIDER_MODULES } from '../../providers/adapters';
import type { NoticeEndpoint, ProviderModule } from '../../providers/provider-module';
import type { RefundProvider } from '../../providers/provider';
import { receiveProviderNotice } from '../../refunds/provider-notices';
import type { ProviderName } from '../../../workflows/lifecycle';
import type { ApiDeps } from '../deps';
import { ApiProblem, merchantNotFound } from '../problems';
import { route, type Reply, type RouteSpec } from '../route';
import { MerchantNoticeParams, Problem } from '../schemas';

/** The modules the deployment's routes use that take notifications: each with its endpoint and the route it serves here. */
export function noticeEndpoints(deps: Pick<ApiDeps, 'config'>): { module: ProviderModule; notices: NoticeEndpoint; route: ProviderName }[] {
  const routes = deps.config.providers.routes;
  return PROVIDER_MODULES.flatMap((module) => {
    const served = module.routes.find((name) => routes[name] === module.adapter);
    return served && module.notices ? [{ module, notices: module.notices, route: served }] : [];
  });
}

export function providerNoticeRoutes(deps: ApiDeps): RouteSpec[] {
  return noticeEndpoints(deps).flatMap(({ module, notices, route: routeName }) => {
    const taken = { [notices.taken.status]: { description: `Taken in (or a duplicate, which changes nothing)${notices.taken.text ? `: the body is the text \`${notices.taken.text}\`` : ''}` } };
    /** Opens a delivery with `provider` and passes it on; `merchantId`: only for that merchant's refunds. */
    const take = async (provider: RefundProvider, headers: unknown, rawBody: string, merchantId?: string): Promise<Reply> => {
      const opened = notices.open(provider, { headers: headers as Record<string, string | undefined>, rawBody });
      if (!opened.ok) {
        deps.metrics.providerNotices.inc({ provider: routeName, outcome: 'signature_invalid' });
        deps.logger.warn('provider notification refused', { provider: module.adapter, reason: opened.reason });
        throw new ApiProblem(401, 'invalid_signature', 'Notification not accepted', opened.reason);
      }
      const { duplicate } = await receiveProviderNotice(deps, routeName, opened.notice, merchantId);
      deps.metrics.providerNotices.inc({ provider: routeName, outcome: duplicate ? 'duplicate' : 'accepted' });
      return notices.taken.text !== undefined
        ? { status: notices.taken.status, text: notices.taken.text, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }
        : { status: notices.taken.status };
    };
    const deploymentRoute = route({
      method: 'post',
      path: `/v1/webhooks/${notices.path}`,
      tag: 'webhooks',
      summary: notices.summary,
      access: 'signed',
      responses: {
        ...taken,
        401: { description: 'Signature, certificate or content not accepted: nothing changed', schema: Problem },
        404: { description: 'The notification names no refund of ours', schema: Problem },
      },
      // The deployment's own account: a merchant with none of its own refunds through it.
      handle: async ({ headers, rawBody }) => take(deps.providers.deployment(routeName), headers, rawBody),
    });
    if (!notices.perMerchant) return [deploymentRoute];
    const merchantRoute = route({
      method: 'post',
      path: `/v1/webhooks/${notices.path}/:merchant`,
      tag: 'webhooks',
      summary: `${module.label} notifications for one merchant: checked with that merchant’s ${module.label} account, taken only for its own refunds`,
      access: 'signed',
      params: MerchantNoticeParams,
      responses: {
        ...taken,
        401: { description: 'Signature, content or merchant not accepted: nothing changed', schema: Problem },
        404: { description: 'No such merchant, or the notification names no refund of this merchant', schema: Problem },
      },
      async handle({ params, headers, rawBody }) {
        if (!(await findMerchant(deps.db, params.merchant))) throw merchantNotFound(params.merchant);
        return take(await deps.providers.forMerchant(params.merchant, routeName), headers, rawBody, params.merchant);
      },
    });
    return [deploymentRoute, merchantRoute];
  });
}
