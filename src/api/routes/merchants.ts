/**
 * Merchants and the API keys that act for them (issue #17), managed by admin keys. An admin key
 * for every merchant creates merchants; any admin key manages the keys of its own merchants (never
 * a key wider than itself). A key is shown once, when made; the service keeps its SHA-256.
 */
import { randomBytes } from 'node:crypto';
import type { ApiDeps } from '../deps';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../../db/queries/api-keys';
import { findMerchant, insertMerchant, listMerchants, updateMerchant } from '../../db/queries/merchants';
import type { ApiKeyRow, MerchantRow } from '../../db/schema';
import { sees, type MerchantScope } from '../../merchants/merchant-scope';
import type { Caller } from '../auth';
import { sha256Hex } from '../key-hash';
import { ApiProblem, forbidden, merchantNotFound } from '../problems';
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
  Problem,
  UpdateMerchantBody,
} from '../schemas';

export function merchantRoutes(deps: ApiDeps) {
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
        const merchant = await insertMerchant(deps.db, body);
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
        return { status: 200, body: merchantView((await updateMerchant(deps.db, params.id, body))!) };
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

/** Whether a key's merchants lie within the admin's: a key for every merchant only within an admin's for every merchant. */
function within(keyMerchants: MerchantScope, adminMerchants: MerchantScope): boolean {
  if (adminMerchants === null) return true;
  return keyMerchants !== null && keyMerchants.every((merchant) => adminMerchants.includes(merchant));
}

function merchantView(merchant: MerchantRow) {
  return { id: merchant.id, name: merchant.name, timeZone: merchant.timeZone, locale: merchant.locale, createdAt: merchant.createdAt.toISOString(), updatedAt: merchant.updatedAt.toISOString() };
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
