import type { ApiDeps } from '../deps';
import { receiveProviderNotice } from '../../refunds/provider-notices';
import { SIGNATURE_HEADER, verifySignature } from '../../webhook-signature';
import { ApiProblem, notFound, validationProblem } from '../problems';
import { route } from '../route';
import { Problem, ProviderWebhookBody, ProviderWebhookParams, WebhookAck } from '../schemas';
import type { ProviderNoticePayload } from '../../providers/provider';

export function providerWebhookRoutes(deps: ApiDeps) {
  return [
    route({
      method: 'post',
      path: '/v1/webhooks/providers/:provider',
      tag: 'webhooks',
      summary: 'Settlement notices from the sandbox providers (only while the sandbox is enabled), signed with X-Signature: t=<unix>,v1=<hex HMAC-SHA256>',
      access: 'signed',
      params: ProviderWebhookParams,
      responses: {
        200: { description: 'Taken in (or a duplicate, which changes nothing)', schema: WebhookAck },
        401: { description: 'Missing, bad or stale signature: nothing changed', schema: Problem },
        404: { description: 'The notice names no refund of ours, or no sandbox provider serves the route', schema: Problem },
      },
      async handle({ params, rawBody, headers }) {
        // A real provider's notices come only through its own verified path (wallet-webhooks.ts).
        if (deps.config.providers.routes[params.provider] !== 'sandbox') throw notFound(`No sandbox provider serves ${params.provider} refunds here`);
        const check = verifySignature(deps.config.providerWebhookSecret, (headers as Record<string, string | undefined>)[SIGNATURE_HEADER.toLowerCase()], rawBody);
        if (!check.ok) {
          deps.metrics.providerNotices.inc({ provider: params.provider, outcome: `signature_${check.reason}` });
          throw new ApiProblem(401, 'invalid_signature', 'Webhook signature not accepted', `The ${SIGNATURE_HEADER} header is ${check.reason}`);
        }
        // Read only once the signature holds: an unsigned body is not worth parsing.
        const parsed = ProviderWebhookBody.safeParse(JSON.parse(rawBody || 'null'));
        if (!parsed.success) throw validationProblem('body', parsed.error);
        const { duplicate } = await receiveProviderNotice(deps, params.provider, parsed.data as ProviderNoticePayload);
        deps.metrics.providerNotices.inc({ provider: params.provider, outcome: duplicate ? 'duplicate' : 'accepted' });
        return { status: 200, body: { received: true, duplicate } };
      },
    }),
  ];
}
