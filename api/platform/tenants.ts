/** The tenant lifecycle (docs/contract.md §1.1), behind X-Admin-Key. Secrets are shown once, at provision and rotation. */
import { z } from 'zod';
import { tenantsPage } from '../../models/platform/tenant-data.js';
import {
  ANY_TENANT,
  loadTenant,
  provisionTenant as provision,
  reactivateTenant as reactivate,
  rotateTenantSecret as rotateSecret,
  rotateWidgetKey as rotateKey,
  suspendTenant as suspend,
  updateTenant as update,
} from '../../models/platform/tenant-lifecycle.js';
import { resealTenantSecrets } from '../../models/platform/tenant-secrets.js';
import { resealTotpSecrets } from '../../models/console/reseal.js';
import { defineRoute, q } from '../route.js';
import { refuseNonPublicCallbackUrls } from './url-policy.js';
import { publicTenant, tenantSettings, toPublicTenant } from '../schemas.js';

const tenantQuery = z.object({ tenant_id: q.tenantId() });
const tags = ['Admin: tenants'];

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
    const { tenant: t, secret } = await provision(deps, body);
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
    const t = await update(deps, query.tenant_id, ANY_TENANT, body);
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
    const { secret, graceUntil } = await rotateSecret(deps, query.tenant_id, ANY_TENANT, body.grace_seconds);
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
    const key = await rotateKey(deps, query.tenant_id, ANY_TENANT);
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
    const t = await suspend(deps, query.tenant_id, ANY_TENANT);
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
    const t = await reactivate(deps, query.tenant_id, ANY_TENANT);
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
  handler: async (_ctx, { query }) => ({ message: 'Tenant found.', data: toPublicTenant(await loadTenant(query.tenant_id, ANY_TENANT)) }),
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
    const { rows, total } = await tenantsPage(query);
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
    'Step 2 of a master-key rotation (tenant secrets and console TOTP secrets): (1) put the new key first in SECRETS_MASTER_KEY, keeping the old one after it, on every process; (2) call this; (3) remove the old key once the tokens minted under it have expired (visitor tokens ~1 h, operator tokens at most 7 days). Idempotent; secrets already sealed under the current key are left alone. Tenant secrets themselves do not change.',
  tags,
  security: 'admin',
  body: z.object({}).strict(),
  response: z.object({
    tenants: z.number().int(),
    resealed: z.number().int(),
    console_totp_secrets: z.number().int(),
    console_totp_resealed: z.number().int(),
    key_id: z.string(),
  }),
  handler: async (_ctx, { deps }) => {
    const r = await resealTenantSecrets(deps, deps.config.secretsMasterKey);
    // Console accounts' TOTP secrets are sealed under the same key (models/console/reseal.ts).
    const c = await resealTotpSecrets(deps.config.secretsMasterKey);
    return {
      message: `${r.resealed} of ${r.tenants} tenant secret(s) and ${c.resealed} of ${c.accounts} console TOTP secret(s) re-sealed.`,
      data: { ...r, console_totp_secrets: c.accounts, console_totp_resealed: c.resealed, key_id: deps.config.secretsMasterKey.currentId },
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
