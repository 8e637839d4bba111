/**
 * The notifications of each provider module a route uses (provider-module.ts), at
 * /v1/webhooks/<path>: opened by the module (its signature, its certificates, its format), passed
 * to the refund it names, and answered the way the provider expects. One that does not verify is
 * refused with 401 and changes nothing; the provider delivers it again later.
 */
import { PROVIDER_MODULES } from '../../providers/adapters';
import type { NoticeEndpoint, ProviderModule } from '../../providers/provider-module';
import { receiveProviderNotice } from '../../refunds/provider-notices';
import type { ApiDeps } from '../deps';
import { ApiProblem } from '../problems';
import { route, type RouteSpec } from '../route';
import { Problem } from '../schemas';

/** The modules the deployment's routes use that take notifications, with the endpoint of each. */
export function noticeEndpoints(deps: Pick<ApiDeps, 'config'>): { module: ProviderModule; notices: NoticeEndpoint }[] {
  const used = new Set(Object.values(deps.config.providers.routes));
  return PROVIDER_MODULES.filter((module) => used.has(module.adapter) && module.notices).map((module) => ({ module, notices: module.notices! }));
}

export function providerModuleNoticeRoutes(deps: ApiDeps): RouteSpec[] {
  return noticeEndpoints(deps).map(({ module, notices }) => {
    const [routeName] = module.routes.filter((name) => deps.config.providers.routes[name] === module.adapter);
    return route({
      method: 'post',
      path: `/v1/webhooks/${notices.path}`,
      tag: 'webhooks',
      summary: notices.summary,
      access: 'signed',
      responses: {
        [notices.taken.status]: { description: `Taken in (or a duplicate, which changes nothing)${notices.taken.text ? `: the body is the text \`${notices.taken.text}\`` : ''}` },
        401: { description: 'Signature or certificate not accepted: nothing changed', schema: Problem },
        404: { description: 'The notification names no refund of ours', schema: Problem },
      },
      async handle({ headers, rawBody }) {
        const provider = await deps.providers.forMerchant('', routeName!);
        const opened = notices.open(provider, { headers: headers as Record<string, string | undefined>, rawBody });
        if (!opened.ok) {
          deps.metrics.providerNotices.inc({ provider: routeName!, outcome: 'signature_invalid' });
          deps.logger.warn('provider notification refused', { provider: module.adapter, reason: opened.reason });
          throw new ApiProblem(401, 'invalid_signature', 'Notification not accepted', opened.reason);
        }
        const { duplicate } = await receiveProviderNotice(deps, routeName!, opened.notice);
        deps.metrics.providerNotices.inc({ provider: routeName!, outcome: duplicate ? 'duplicate' : 'accepted' });
        return notices.taken.text !== undefined
          ? { status: notices.taken.status, text: notices.taken.text, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }
          : { status: notices.taken.status };
      },
    });
  });
}
