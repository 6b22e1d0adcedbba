/** The tenant lifecycle (SPEC §1.1), behind X-Admin-Key. Secrets are shown once, at provision and rotation. */
import { z } from 'zod';
import { TENANT_SETTING_FIELDS, TenantModel, type TenantDoc } from '../../models/platform/tenant.js';
import { resealTenantSecrets } from '../../models/platform/tenant-secrets.js';
import { notFound } from '../errors.js';
import { newTenantId, newTenantSecret, newWidgetPublicKey } from '../../platform/ids.js';
import { seal } from '../../platform/secret-box.js';
import type { AppDeps } from '../context.js';
import { defineRoute, q } from '../route.js';
import { refuseNonPublicCallbackUrls } from './url-policy.js';
import { publicTenant, tenantSettings, toPublicTenant } from '../schemas.js';

const tenantQuery = z.object({ tenant_id: q.tenantId() });
const tags = ['Admin: tenants'];

async function loadTenant(tenantId: string): Promise<TenantDoc> {
  const t = await TenantModel.findById(tenantId).lean<TenantDoc>();
  if (!t) throw notFound('Tenant');
  return t;
}

/** Writes a partial change and bumps the tenant's generation so every process drops its cached copy. */
async function writeTenant(deps: AppDeps, tenantId: string, set: Record<string, unknown>): Promise<TenantDoc> {
  const t = await TenantModel.findByIdAndUpdate(tenantId, { $set: set }, { new: true }).lean<TenantDoc>();
  if (!t) throw notFound('Tenant');
  await deps.tenants.bump(tenantId);
  return t;
}

export const provisionTenant = defineRoute({
  method: 'post',
  path: '/provision/tenant',
  summary: 'Provision a tenant',
  description: 'Only tenant_name is required. The tenant_secret is returned once and never again.',
  tags,
  security: 'admin',
  body: tenantSettings.partial().required({ tenant_name: true }).strict(),
  response: publicTenant.extend({ tenant_secret: z.string() }),
  successStatus: 201,
  handler: async (_ctx, { body, deps }) => {
    refuseNonPublicCallbackUrls(deps.config, body);
    const secret = newTenantSecret();
    const doc = await TenantModel.create({
      ...body,
      _id: newTenantId(),
      secret: seal(deps.config.secretsMasterKey, secret),
      widget_public_key: newWidgetPublicKey(),
    });
    const t = doc.toObject() as TenantDoc;
    return {
      message: 'Tenant provisioned. Save tenant_secret now — it will not be shown again.',
      data: { ...toPublicTenant(t), tenant_secret: secret },
    };
  },
});

export const updateTenant = defineRoute({
  method: 'post',
  path: '/update/tenant',
  summary: 'Update a tenant (partial)',
  description: 'Only the fields present in the body are written; `null` clears an optional field.',
  tags,
  security: 'admin',
  query: tenantQuery,
  body: tenantSettings
    .partial()
    .strict()
    .refine((b) => Object.keys(b).length > 0, 'send at least one field to update')
    .meta({ minProperties: 1 }),
  response: publicTenant,
  handler: async (_ctx, { body, query, deps }) => {
    refuseNonPublicCallbackUrls(deps.config, body);
    const set = Object.fromEntries(Object.entries(body).filter(([k]) => (TENANT_SETTING_FIELDS as readonly string[]).includes(k)));
    const t = await writeTenant(deps, query.tenant_id, set);
    return { message: 'Tenant updated.', data: toPublicTenant(t) };
  },
});

export const rotateTenantSecret = defineRoute({
  method: 'post',
  path: '/rotate/tenant-secret',
  summary: 'Rotate the tenant secret',
  description:
    'Returns a new secret, shown once. The old one stops working at once, unless grace_seconds (max 86400) keeps it valid for a short overlap while backends roll out the new one.',
  tags,
  security: 'admin',
  query: tenantQuery,
  body: z.object({ grace_seconds: z.number().int().min(0).max(86_400).default(0) }).strict(),
  response: z.object({ tenant_id: z.string(), tenant_secret: z.string(), previous_secret_valid_until: z.string().nullable() }),
  handler: async (_ctx, { body, query, deps }) => {
    const current = await loadTenant(query.tenant_id);
    const secret = newTenantSecret();
    const graceUntil = body.grace_seconds > 0 ? new Date(Date.now() + body.grace_seconds * 1000) : null;
    await writeTenant(deps, query.tenant_id, {
      secret: seal(deps.config.secretsMasterKey, secret),
      previous_secret: graceUntil ? current.secret : null,
      previous_secret_expires_at: graceUntil,
    });
    return {
      message: 'Tenant secret rotated. Save tenant_secret now — it will not be shown again.',
      data: { tenant_id: query.tenant_id, tenant_secret: secret, previous_secret_valid_until: graceUntil?.toISOString() ?? null },
    };
  },
});

export const rotateWidgetKey = defineRoute({
  method: 'post',
  path: '/rotate/widget-key',
  summary: 'Rotate the chat widget public key',
  description: 'The old widget key stops working at once.',
  tags,
  security: 'admin',
  query: tenantQuery,
  response: z.object({ tenant_id: z.string(), widget_public_key: z.string() }),
  handler: async (_ctx, { query, deps }) => {
    const key = newWidgetPublicKey();
    await writeTenant(deps, query.tenant_id, { widget_public_key: key });
    return { message: 'Widget key rotated.', data: { tenant_id: query.tenant_id, widget_public_key: key } };
  },
});

export const suspendTenant = defineRoute({
  method: 'post',
  path: '/suspend/tenant',
  summary: 'Suspend a tenant',
  description: 'Every signed call of the tenant is answered 403 until it is reactivated. Idempotent.',
  tags,
  security: 'admin',
  query: tenantQuery,
  response: publicTenant,
  handler: async (_ctx, { query, deps }) => {
    const t = await writeTenant(deps, query.tenant_id, { status: 'suspended', suspended_at: new Date() });
    return { message: 'Tenant suspended.', data: toPublicTenant(t) };
  },
});

export const reactivateTenant = defineRoute({
  method: 'post',
  path: '/reactivate/tenant',
  summary: 'Reactivate a suspended tenant',
  tags,
  security: 'admin',
  query: tenantQuery,
  response: publicTenant,
  handler: async (_ctx, { query, deps }) => {
    const t = await writeTenant(deps, query.tenant_id, { status: 'active', suspended_at: null });
    return { message: 'Tenant reactivated.', data: toPublicTenant(t) };
  },
});

export const fetchTenant = defineRoute({
  method: 'get',
  path: '/fetch/tenant',
  summary: 'Fetch a tenant (never the secret)',
  tags,
  security: 'admin',
  query: tenantQuery,
  response: publicTenant,
  handler: async (_ctx, { query }) => ({ message: 'Tenant found.', data: toPublicTenant(await loadTenant(query.tenant_id)) }),
});

export const listTenants = defineRoute({
  method: 'get',
  path: '/fetch/tenants',
  summary: 'List tenants, newest first (never secrets)',
  tags,
  security: 'admin',
  query: z.object({ limit: q.int(1, 100, 20), offset: q.int(0, 1_000_000, 0) }),
  response: z.object({ tenants: z.array(publicTenant), total: z.number(), limit: z.number(), offset: z.number() }),
  handler: async (_ctx, { query }) => {
    const [rows, total] = await Promise.all([
      TenantModel.find().sort({ created_at: -1, _id: 1 }).skip(query.offset).limit(query.limit).lean<TenantDoc[]>(),
      TenantModel.countDocuments(),
    ]);
    return {
      message: `${rows.length} tenant(s).`,
      data: { tenants: rows.map(toPublicTenant), total, limit: query.limit, offset: query.offset },
    };
  },
});

export const resealSecrets = defineRoute({
  method: 'post',
  path: '/reseal/tenant-secrets',
  summary: 'Re-seal every tenant secret under the current master key (master-key rotation)',
  description:
    'Step 2 of a master-key rotation: (1) put the new key first in SECRETS_MASTER_KEY, keeping the old one after it, on every process; (2) call this; (3) remove the old key once the tokens minted under it have expired (visitor tokens ~1 h, operator tokens at most 7 days). Idempotent; secrets already sealed under the current key are left alone. Tenant secrets themselves do not change.',
  tags,
  security: 'admin',
  body: z.object({}).strict(),
  response: z.object({ tenants: z.number().int(), resealed: z.number().int(), key_id: z.string() }),
  handler: async (_ctx, { deps }) => {
    const r = await resealTenantSecrets(deps, deps.config.secretsMasterKey);
    return {
      message: `${r.resealed} of ${r.tenants} tenant secret(s) re-sealed.`,
      data: { ...r, key_id: deps.config.secretsMasterKey.currentId },
    };
  },
});

export const adminTenantRoutes = [
  provisionTenant,
  updateTenant,
  rotateTenantSecret,
  rotateWidgetKey,
  suspendTenant,
  reactivateTenant,
  fetchTenant,
  listTenants,
  resealSecrets,
];
