/**
 * A workspace's tenants, without the platform admin key (docs/contract.md §3.5): the same lifecycle as the admin
 * API (models/platform/tenant-lifecycle.ts, which bumps the tenant generation on every write), scoped
 * to the workspace in every query — another workspace's tenant answers 404, like a missing one.
 * Members read; admins and owners change. Every change goes to the workspace's audit log.
 */
import { z } from 'zod';
import { listOperators } from '../../models/chat/operator.js';
import { listDeadLetters, listDeliveries, replayDeadLetters } from '../../models/platform/delivery-admin.js';
import {
  loadTenant,
  provisionTenant,
  reactivateTenant,
  rotateTenantSecret,
  rotateWidgetKey,
  suspendTenant,
  updateTenant,
} from '../../models/platform/tenant-lifecycle.js';
import { quotaExceeded, underLock } from '../../models/console/limits.js';
import { addTenantToWorkspace, findWorkspace } from '../../models/console/workspace.js';
import { deliveryOut, rangeQuery, replayBody } from '../platform/deliveries.js';
import { inWorkspace, workspaceTenantId } from '../principals/console.js';
import { refuseNonPublicCallbackUrls } from '../platform/url-policy.js';
import { defineRoute, q } from '../route.js';
import { publicTenant, tenantSettings, toPublicTenant } from '../schemas.js';
import { audit, audited, tags, wsQuery } from './common.js';

const t = tags.tenants;
const tenantQuery = wsQuery.extend({ tenant_id: q.tenantId() });

/** What a workspace may set on its tenants; limits, plan and billing fields stay with the platform admin. */
export const consoleSettings = tenantSettings.pick({
  tenant_name: true,
  callback_url_base: true,
  sudo_callback_path: true,
  branding_display_name: true,
  branding_logo_url: true,
  branding_primary_color: true,
  qr_login_allowed_origins: true,
  webauthn_rp_id: true,
  webauthn_origins: true,
  passkeys_enabled: true,
  webauthn_user_verification: true,
  allowed_origins: true,
  bot_webhook_url: true,
});

/** The settings that decide where the relay sends signed data: changing one needs a recent password or TOTP. */
export const CALLBACK_FIELDS = ['callback_url_base', 'sudo_callback_path', 'bot_webhook_url'] as const;

const scopeOf = (principal: Parameters<typeof inWorkspace>[0]) => ({ workspaceId: inWorkspace(principal).doc._id });

export const provisionTenantRoute = defineRoute({
  method: 'post',
  path: '/console/provision/tenant',
  summary: 'Create a tenant in the workspace; its secret is shown once',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: wsQuery,
  body: consoleSettings.partial().required({ tenant_name: true }).strict(),
  response: publicTenant.extend({ tenant_secret: z.string() }),
  description: 'A workspace holds at most CONSOLE_MAX_TENANTS_PER_WORKSPACE tenants (10); over it: 409 QUOTA_EXCEEDED.',
  successStatus: 201,
  errors: [409, 429],
  handler: async (ctx, { body, deps, principal }) => {
    refuseNonPublicCallbackUrls(deps.config, body);
    const w = inWorkspace(principal);
    const max = deps.config.consoleMaxTenantsPerWorkspace;
    const { tenant, secret } = await underLock(deps, `tenants:${w.doc._id}`, async () => {
      const count = (await findWorkspace(w.doc._id))?.tenant_ids?.length ?? 0;
      if (count >= max) throw quotaExceeded('Tenants in one workspace', max, 'CONSOLE_MAX_TENANTS_PER_WORKSPACE');
      const made = await provisionTenant(deps, body, { workspaceId: w.doc._id });
      await addTenantToWorkspace(w.doc._id, made.tenant._id);
      return made;
    });
    await audit(ctx, principal, w.doc._id, { action: 'tenant.created', target: tenant._id, details: { tenant_name: tenant.tenant_name } });
    return {
      message: 'Tenant created. Save tenant_secret now — it will not be shown again.',
      data: { ...toPublicTenant(tenant), tenant_secret: secret },
    };
  },
});

export const listTenantsRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/tenants',
  summary: "The workspace's tenants (never their secrets)",
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: wsQuery,
  response: z.object({ tenants: z.array(publicTenant) }),
  handler: async (_ctx, { principal }) => {
    const scope = scopeOf(principal);
    const ids = inWorkspace(principal).doc.tenant_ids ?? [];
    // One `_id` lookup per tenant (a workspace holds at most CONSOLE_MAX_TENANTS_PER_WORKSPACE); ids of tenants gone are skipped.
    const rows = await Promise.all(ids.map((id) => loadTenant(id, scope).catch(() => null)));
    const tenants = rows.filter((x) => x !== null).sort((a, b) => b.created_at.getTime() - a.created_at.getTime());
    return { message: `${tenants.length} tenant(s).`, data: { tenants: tenants.map(toPublicTenant) } };
  },
});

export const fetchTenantRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/tenant',
  summary: 'A tenant of the workspace (never its secret)',
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: tenantQuery,
  response: publicTenant,
  errors: [404],
  handler: async (_ctx, { query, principal }) => ({
    message: 'Tenant found.',
    data: toPublicTenant(await loadTenant(query.tenant_id, scopeOf(principal))),
  }),
});

export const updateTenantRoute = defineRoute({
  method: 'post',
  path: '/console/update/tenant',
  summary: "Edit a tenant's settings (partial)",
  description:
    'Origins, callback URL, sudo callback path, branding, QR-login origins, WebAuthn RP, the bot webhook. Only the fields present are written; null clears an optional one. Sending callback_url_base, sudo_callback_path or bot_webhook_url needs a recent password or TOTP code.',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  body: consoleSettings
    .partial()
    .strict()
    .refine((b) => Object.keys(b).length > 0, 'send at least one field to update')
    .meta({ minProperties: 1 }),
  response: publicTenant,
  errors: [403, 404],
  // Where the tenant's callbacks and bot turns go: a stolen session must not redirect them unchallenged.
  consoleStepUp: (b) => CALLBACK_FIELDS.some((f) => f in b),
  handler: async (ctx, { body, query, deps, principal }) => {
    refuseNonPublicCallbackUrls(deps.config, body);
    const tn = await audited(
      ctx,
      principal,
      inWorkspace(principal).doc._id,
      { action: 'tenant.updated', target: query.tenant_id, details: { fields: Object.keys(body).sort() } },
      () => updateTenant(deps, query.tenant_id, scopeOf(principal), body),
    );
    return { message: 'Tenant updated.', data: toPublicTenant(tn) };
  },
});

export const rotateSecretRoute = defineRoute({
  method: 'post',
  path: '/console/rotate/tenant-secret',
  summary: "Rotate a tenant's secret (shown once), with an optional grace period for the old one",
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  body: z.object({ grace_seconds: z.number().int().min(0).max(86_400).default(0) }).strict(),
  response: z.object({ tenant_id: z.string(), tenant_secret: z.string(), previous_secret_valid_until: z.string().nullable() }),
  errors: [403, 404],
  consoleStepUp: true,
  handler: async (ctx, { body, query, deps, principal }) => {
    const { secret, graceUntil } = await audited(
      ctx,
      principal,
      inWorkspace(principal).doc._id,
      { action: 'tenant.secret_rotated', target: query.tenant_id, details: { grace_seconds: body.grace_seconds } },
      () => rotateTenantSecret(deps, query.tenant_id, scopeOf(principal), body.grace_seconds),
    );
    return {
      message: 'Tenant secret rotated. Save tenant_secret now — it will not be shown again.',
      data: { tenant_id: query.tenant_id, tenant_secret: secret, previous_secret_valid_until: graceUntil?.toISOString() ?? null },
    };
  },
});

export const rotateWidgetKeyRoute = defineRoute({
  method: 'post',
  path: '/console/rotate/widget-key',
  summary: "Rotate a tenant's chat widget key (the old one stops at once)",
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  response: z.object({ tenant_id: z.string(), widget_public_key: z.string() }),
  errors: [404],
  handler: async (ctx, { query, deps, principal }) => {
    const key = await audited(
      ctx,
      principal,
      inWorkspace(principal).doc._id,
      { action: 'tenant.widget_key_rotated', target: query.tenant_id },
      () => rotateWidgetKey(deps, query.tenant_id, scopeOf(principal)),
    );
    return { message: 'Widget key rotated.', data: { tenant_id: query.tenant_id, widget_public_key: key } };
  },
});

export const suspendTenantRoute = defineRoute({
  method: 'post',
  path: '/console/suspend/tenant',
  summary: 'Suspend a tenant: its signed calls get 403 until reactivated',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  response: publicTenant,
  errors: [404],
  handler: async (ctx, { query, deps, principal }) => {
    const tn = await audited(ctx, principal, inWorkspace(principal).doc._id, { action: 'tenant.suspended', target: query.tenant_id }, () =>
      suspendTenant(deps, query.tenant_id, scopeOf(principal)),
    );
    return { message: 'Tenant suspended.', data: toPublicTenant(tn) };
  },
});

export const reactivateTenantRoute = defineRoute({
  method: 'post',
  path: '/console/reactivate/tenant',
  summary: 'Reactivate a suspended tenant',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  response: publicTenant,
  errors: [404],
  handler: async (ctx, { query, deps, principal }) => {
    const tn = await audited(
      ctx,
      principal,
      inWorkspace(principal).doc._id,
      { action: 'tenant.reactivated', target: query.tenant_id },
      () => reactivateTenant(deps, query.tenant_id, scopeOf(principal)),
    );
    return { message: 'Tenant reactivated.', data: toPublicTenant(tn) };
  },
});

const operatorOut = z.object({
  operator_id: z.string(),
  email: z.string(),
  display_name: z.string(),
  role: z.string(),
  routing_keys: z.array(z.string()),
  status: z.string(),
  created_at: z.string(),
});

export const listOperatorsRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/operators',
  summary: "A tenant's chat operators and their routing keys",
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: tenantQuery.extend({ limit: q.int(1, 200, 50), offset: q.int(0, 1_000_000, 0) }),
  response: z.object({ operators: z.array(operatorOut), total: z.number().int() }),
  errors: [404],
  handler: async (_ctx, { query, principal }) => {
    const r = await listOperators(await workspaceTenantId(principal, query.tenant_id), query);
    return {
      message: `${r.operators.length} operator(s).`,
      data: {
        total: r.total,
        operators: r.operators.map((o) => ({
          operator_id: o._id,
          email: o.email,
          display_name: o.display_name,
          role: o.role ?? 'agent',
          routing_keys: o.routing_keys ?? [],
          status: o.status ?? 'active',
          created_at: o.created_at.toISOString(),
        })),
      },
    };
  },
});

export const listDeliveriesRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/deliveries',
  summary: "A tenant's recent callback deliveries, with every attempt",
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: tenantQuery.extend({
    status: z.enum(['pending', 'succeeded', 'dead']).optional(),
    limit: q.int(1, 200, 50),
    offset: q.int(0, 1_000_000, 0),
  }),
  response: z.object({ deliveries: z.array(deliveryOut), total: z.number() }),
  errors: [404],
  handler: async (_ctx, { query, deps, principal }) => {
    await loadTenant(query.tenant_id, scopeOf(principal));
    const data = await listDeliveries(deps, query.tenant_id, query);
    return { message: `${data.deliveries.length} deliver${data.deliveries.length === 1 ? 'y' : 'ies'}.`, data };
  },
});

export const listDeadLettersRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/dead-letters',
  summary: "A tenant's dead-lettered callback deliveries",
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: rangeQuery.extend({ workspace_id: wsQuery.shape.workspace_id }),
  response: z.object({ dead_letters: z.array(deliveryOut), total: z.number() }),
  errors: [404],
  handler: async (_ctx, { query, principal }) => {
    await loadTenant(query.tenant_id, scopeOf(principal));
    const data = await listDeadLetters(query.tenant_id, query);
    return { message: `${data.dead_letters.length} dead letter(s).`, data };
  },
});

export const replayDeadLettersRoute = defineRoute({
  method: 'post',
  path: '/console/replay/dead-letters',
  summary: 'Replay one dead-lettered delivery, or all of a tenant in a time range',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  body: replayBody,
  response: z.object({ replayed: z.number(), delivery_ids: z.array(z.string()) }),
  errors: [404, 409],
  handler: async (ctx, { body, query, deps, principal }) => {
    await loadTenant(query.tenant_id, scopeOf(principal));
    const ids = await replayDeadLetters(deps, query.tenant_id, body);
    await audit(ctx, principal, inWorkspace(principal).doc._id, {
      action: 'dead_letters.replayed',
      target: query.tenant_id,
      details: { count: ids.length, delivery_ids: ids.slice(0, 20) },
    });
    return {
      message: `${ids.length} deliver${ids.length === 1 ? 'y' : 'ies'} replayed.`,
      data: { replayed: ids.length, delivery_ids: ids },
    };
  },
});

export const consoleTenantRoutes = [
  provisionTenantRoute,
  listTenantsRoute,
  fetchTenantRoute,
  updateTenantRoute,
  rotateSecretRoute,
  rotateWidgetKeyRoute,
  suspendTenantRoute,
  reactivateTenantRoute,
  listOperatorsRoute,
  listDeliveriesRoute,
  listDeadLettersRoute,
  replayDeadLettersRoute,
];
