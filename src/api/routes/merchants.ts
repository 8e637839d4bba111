/**
 * Merchants and the API keys that act for them (issue #17), managed by admin keys. An admin key
 * for every merchant creates merchants; any admin key manages the keys of its own merchants (never
 * a key wider than itself). A key is shown once, when made; the service keeps its SHA-256.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { ApiDeps } from '../deps';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../../db/queries/api-keys';
import { findMerchant, insertMerchant, listMerchants, merchantRoutesOf, putMerchantRoute, updateMerchant } from '../../db/queries/merchants';
import { pkcs8PemOf, publicKeyPemOf } from '../../providers/settings-fields';
import { settingsOf } from '../../providers/adapters';
import { alipay } from '../../providers/alipay';
import { wechatpay } from '../../providers/wechatpay';
import { routeView, storedRoute, type MerchantRouteOrder } from '../../merchants/merchant-routes';
import { place } from '../../field-seal';
import type { ApiKeyRow, MerchantRow } from '../../db/schema';
import { sees, type MerchantScope } from '../../merchants/merchant-scope';
import type { Caller } from '../auth';
import { sha256Hex } from '../key-hash';
import { ApiProblem, forbidden, invalidField, merchantNotFound } from '../problems';
import { route } from '../route';
import {
  ApiKeyIdParams,
  ApiKeyList,
  ApiKeyView,
  CreateApiKeyBody,
  CreateMerchantBody,
  IssuedApiKey,
  Merchant,
  MerchantIdParams,
  MerchantList,
  MerchantRouteBody,
  MerchantRouteList,
  MerchantRouteParams,
  MerchantRouteView,
  Problem,
  UpdateMerchantBody,
} from '../schemas';

export function merchantRoutes(deps: ApiDeps) {
  const sealedSecret = (merchantId: string, secret: string | undefined) => (secret === undefined ? null : deps.fields.seal(secret, place.merchantWebhookSecret(merchantId)));

  /** The merchant, if this caller sees it: another merchant is as unknown as one that never was. */
  async function requireMerchant(caller: Caller, id: string): Promise<MerchantRow> {
    const merchant = sees(caller.merchants, id) ? await findMerchant(deps.db, id) : undefined;
    if (!merchant) throw merchantNotFound(id);
    return merchant;
  }

  return [
    route({
      method: 'post',
      path: '/v1/merchants',
      tag: 'merchants',
      summary: 'Create a merchant (admin keys for every merchant)',
      access: ['admin'],
      body: CreateMerchantBody,
      responses: {
        201: { description: 'Created', schema: Merchant },
        403: { description: 'An admin key for some merchants only', schema: Problem },
        409: { description: 'merchant_exists', schema: Problem },
      },
      async handle({ body, caller }) {
        if (caller!.merchants !== null) throw forbidden('Only an admin key for every merchant creates merchants');
        const merchant = await insertMerchant(deps.db, { ...body, webhookSecret: sealedSecret(body.id, body.webhookSecret) });
        if (!merchant) throw new ApiProblem(409, 'merchant_exists', 'Merchant already exists', `A merchant ${body.id} exists already`);
        return { status: 201, headers: { Location: `/v1/merchants/${merchant.id}` }, body: merchantView(merchant) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/merchants',
      tag: 'merchants',
      summary: 'The merchants this key acts for',
      access: ['service', 'support', 'supervisor', 'admin'],
      responses: { 200: { description: 'Merchants, by id', schema: MerchantList } },
      async handle({ caller }) {
        return { status: 200, body: { data: (await listMerchants(deps.db, caller!.merchants)).map(merchantView) } };
      },
    }),
    route({
      method: 'get',
      path: '/v1/merchants/:id',
      tag: 'merchants',
      summary: 'A merchant',
      access: ['service', 'support', 'supervisor', 'admin'],
      params: MerchantIdParams,
      responses: { 200: { description: 'The merchant', schema: Merchant }, 404: { description: 'merchant_not_found', schema: Problem } },
      async handle({ params, caller }) {
        return { status: 200, body: merchantView(await requireMerchant(caller!, params.id)) };
      },
    }),
    route({
      method: 'patch',
      path: '/v1/merchants/:id',
      tag: 'merchants',
      summary: 'Change a merchant’s name, time zone or locale',
      access: ['admin'],
      params: MerchantIdParams,
      body: UpdateMerchantBody,
      responses: { 200: { description: 'The merchant as changed', schema: Merchant }, 404: { description: 'merchant_not_found', schema: Problem } },
      async handle({ params, body, caller }) {
        await requireMerchant(caller!, params.id);
        // A secret not given is kept; an endpoint removed takes its secret with it.
        const { webhookSecret, ...rest } = body;
        const changes = { ...rest, ...(webhookSecret !== undefined ? { webhookSecret: sealedSecret(params.id, webhookSecret) } : body.webhookUrl === null ? { webhookSecret: null } : {}) };
        return { status: 200, body: merchantView((await updateMerchant(deps.db, params.id, changes))!) };
      },
    }),
    route({
      method: 'put',
      path: '/v1/merchants/:id/routes/:route',
      tag: 'merchants',
      summary: 'Set how the merchant’s WeChat Pay or Alipay refunds go: as a sub-merchant or an authorising merchant of this deployment’s account, or with its own keys (sealed, never shown again)',
      access: ['admin'],
      params: MerchantRouteParams,
      body: MerchantRouteBody,
      responses: {
        200: { description: 'Set', schema: MerchantRouteView },
        404: { description: 'merchant_not_found', schema: Problem },
        422: { description: 'route_unavailable: this deployment does not refund through that wallet', schema: Problem },
      },
      async handle({ params, body, caller }) {
        await requireMerchant(caller!, params.id);
        const order = routeOrder(params.route, body);
        if (!settingsOf<unknown>(deps.config.providers, params.route === 'wechat' ? wechatpay : alipay)) {
          throw new ApiProblem(422, 'route_unavailable', 'This deployment does not pay out along that route', `Set PROVIDER_${params.route.toUpperCase()} to its adapter first: a merchant’s route builds on the deployment’s (its gateway, its notification address)`);
        }
        const row = await putMerchantRoute(deps.db, { merchantId: params.id, route: params.route, ...storedRoute(deps.fields, params.id, order) });
        return { status: 200, body: routeView(row, deps.fields) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/merchants/:id/routes',
      tag: 'merchants',
      summary: 'How the merchant’s wallet refunds go, without their secrets',
      access: ['admin'],
      params: MerchantIdParams,
      responses: { 200: { description: 'Its own routes (the others are the deployment’s)', schema: MerchantRouteList }, 404: { description: 'merchant_not_found', schema: Problem } },
      async handle({ params, caller }) {
        await requireMerchant(caller!, params.id);
        return { status: 200, body: { data: (await merchantRoutesOf(deps.db, params.id)).map((row) => routeView(row, deps.fields)) } };
      },
    }),
    route({
      method: 'post',
      path: '/v1/api-keys',
      tag: 'merchants',
      summary: 'Issue an API key for some merchants (or every merchant); the key is in this answer only',
      access: ['admin'],
      body: CreateApiKeyBody,
      responses: {
        201: { description: 'Issued', schema: IssuedApiKey },
        403: { description: 'Wider than the admin key issuing it', schema: Problem },
        404: { description: 'merchant_not_found: a merchant that does not exist, or not for this key', schema: Problem },
      },
      async handle({ body, caller }) {
        if (body.merchants === null && caller!.merchants !== null) throw forbidden('A key for every merchant is issued only by an admin key for every merchant');
        for (const merchant of body.merchants ?? []) await requireMerchant(caller!, merchant);
        const key = `rfk_${randomBytes(32).toString('base64url')}`;
        const row = await insertApiKey(deps.db, {
          id: `key_${randomBytes(12).toString('base64url')}`,
          keyHash: sha256Hex(key),
          role: body.role,
          principal: body.principal,
          merchantIds: body.merchants === null ? null : [...new Set(body.merchants)].sort(),
          label: body.label ?? null,
          createdBy: caller!.principal,
        });
        return { status: 201, body: { ...apiKeyView(row), key } };
      },
    }),
    route({
      method: 'get',
      path: '/v1/api-keys',
      tag: 'merchants',
      summary: 'The keys issued for this admin key’s merchants (never the keys themselves)',
      access: ['admin'],
      responses: { 200: { description: 'Keys, newest first', schema: ApiKeyList } },
      async handle({ caller }) {
        const keys = (await listApiKeys(deps.db)).filter((key) => within(key.merchantIds, caller!.merchants));
        return { status: 200, body: { data: keys.map(apiKeyView) } };
      },
    }),
    route({
      method: 'delete',
      path: '/v1/api-keys/:id',
      tag: 'merchants',
      summary: 'Revoke a key: from now on it opens nothing, console sessions opened with it included',
      access: ['admin'],
      params: ApiKeyIdParams,
      responses: { 200: { description: 'Revoked (or revoked before)', schema: ApiKeyView }, 404: { description: 'api_key_not_found', schema: Problem } },
      async handle({ params, caller }) {
        const existing = await findApiKey(deps.db, params.id);
        if (!existing || !within(existing.merchantIds, caller!.merchants)) throw new ApiProblem(404, 'api_key_not_found', 'API key not found', `No API key ${params.id}`);
        return { status: 200, body: apiKeyView((await revokeApiKey(deps.db, params.id))!) };
      },
    }),
  ];
}

/** The body as a route order: a mode of that wallet, its keys read for what they are. */
function routeOrder(route: 'wechat' | 'alipay', body: z.infer<typeof MerchantRouteBody>): MerchantRouteOrder {
  const wrongWallet = route === 'wechat' ? body.mode === 'authorized' || body.mode === 'own' : body.mode === 'partner' || body.mode === 'direct';
  if (wrongWallet) throw invalidField('body', 'mode', route === 'wechat' ? 'must be partner or direct for WeChat Pay' : 'must be authorized or own for Alipay');
  const privateKey = (given: string) => pkcs8PemOf(given) ?? fail('privateKey', 'is not an RSA private key (PEM or base64, PKCS#8 or PKCS#1)');
  const publicKey = (field: string, given: string) => publicKeyPemOf(given) ?? fail(field, 'is not an RSA public key (PEM or base64)');
  switch (body.mode) {
    case 'partner':
      return { route: 'wechat', ...body };
    case 'direct':
      return { route: 'wechat', ...body, privateKey: privateKey(body.privateKey), publicKey: publicKey('publicKey', body.publicKey) };
    case 'authorized':
      return { route: 'alipay', ...body };
    case 'own':
      return { route: 'alipay', ...body, privateKey: privateKey(body.privateKey), alipayPublicKey: publicKey('alipayPublicKey', body.alipayPublicKey) };
  }
}

function fail(field: string, message: string): never {
  throw invalidField('body', field, message);
}

/** Whether a key's merchants lie within the admin's: a key for every merchant only within an admin's for every merchant. */
function within(keyMerchants: MerchantScope, adminMerchants: MerchantScope): boolean {
  if (adminMerchants === null) return true;
  return keyMerchants !== null && keyMerchants.every((merchant) => adminMerchants.includes(merchant));
}

function merchantView(merchant: MerchantRow) {
  return {
    id: merchant.id,
    name: merchant.name,
    timeZone: merchant.timeZone,
    locale: merchant.locale,
    policy: merchant.policy,
    webhookUrl: merchant.webhookUrl,
    webhookSecretSet: merchant.webhookSecret !== null,
    createdAt: merchant.createdAt.toISOString(),
    updatedAt: merchant.updatedAt.toISOString(),
  };
}

function apiKeyView(key: ApiKeyRow) {
  return {
    id: key.id,
    role: key.role,
    principal: key.principal,
    merchants: key.merchantIds,
    label: key.label,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}
