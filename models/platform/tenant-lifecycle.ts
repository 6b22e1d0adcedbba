/**
 * The tenant lifecycle (docs/contract.md §1.1) as domain operations, shared by the platform admin API
 * (api/platform/tenants.ts, any tenant) and the console (api/console/tenants.ts, the tenants of one
 * workspace). Every write bumps the tenant's generation (TenantStore.bump), so every process drops
 * its cached copy at once: a suspension or a rotation counts on the next signed request anywhere.
 *
 * Scope: `ANY_TENANT` for the admin, `{workspaceId}` for the console. A scoped call puts the
 * workspace id in the query itself (`{_id, workspace_id}`: still an `_id` lookup on FerretDB), so a
 * workspace addressing another workspace's tenant finds nothing and gets the same 404 as a missing one.
 */
import { newTenantId, newTenantSecret, newWidgetPublicKey } from '../../platform/ids.js';
import { notFound } from '../../platform/errors.js';
import { seal, sealedFor } from '../../platform/secret-box.js';
import type { TenantFlowDeps } from './deps.js';
import { TENANT_SETTING_FIELDS, TenantModel, type TenantDoc } from './tenant.js';

export type TenantScope = { workspaceId: string } | typeof ANY_TENANT;
export const ANY_TENANT = 'any-tenant' as const;
type Deps = Pick<TenantFlowDeps, 'config' | 'tenants'>;

const filterOf = (tenantId: string, scope: TenantScope) =>
  scope === ANY_TENANT ? { _id: tenantId } : { _id: tenantId, workspace_id: scope.workspaceId };

export async function loadTenant(tenantId: string, scope: TenantScope): Promise<TenantDoc> {
  const t = await TenantModel.findOne(filterOf(tenantId, scope)).lean<TenantDoc>();
  if (!t) throw notFound('Tenant');
  return t;
}

/** Only the known setting fields are written; a partial change, then the generation bump. */
async function writeTenant(deps: Deps, tenantId: string, scope: TenantScope, set: Record<string, unknown>): Promise<TenantDoc> {
  const t = await TenantModel.findOneAndUpdate(filterOf(tenantId, scope), { $set: set }, { new: true }).lean<TenantDoc>();
  if (!t) throw notFound('Tenant');
  await deps.tenants.bump(tenantId);
  return t;
}

export const settingsOnly = (body: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(body).filter(([k]) => (TENANT_SETTING_FIELDS as readonly string[]).includes(k)));

/** A new tenant; its secret is returned here once and stored only sealed. */
export async function provisionTenant(
  deps: Deps,
  settings: Record<string, unknown> & { tenant_name: string },
  owner: { workspaceId: string | null } = { workspaceId: null },
): Promise<{ tenant: TenantDoc; secret: string }> {
  const secret = newTenantSecret();
  const tenantId = newTenantId();
  const doc = await TenantModel.create({
    ...settingsOnly(settings),
    _id: tenantId,
    secret: seal(deps.config.secretsMasterKey, secret, sealedFor.tenantSecret(tenantId)),
    widget_public_key: newWidgetPublicKey(),
    workspace_id: owner.workspaceId,
  });
  return { tenant: doc.toObject() as TenantDoc, secret };
}

export function updateTenant(deps: Deps, tenantId: string, scope: TenantScope, settings: Record<string, unknown>): Promise<TenantDoc> {
  return writeTenant(deps, tenantId, scope, settingsOnly(settings));
}

/** A new secret (shown once); the old one stops at once, or after `graceSeconds`. */
export async function rotateTenantSecret(
  deps: Deps,
  tenantId: string,
  scope: TenantScope,
  graceSeconds: number,
): Promise<{ secret: string; graceUntil: Date | null }> {
  const current = await loadTenant(tenantId, scope);
  const secret = newTenantSecret();
  const graceUntil = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
  await writeTenant(deps, tenantId, scope, {
    secret: seal(deps.config.secretsMasterKey, secret, sealedFor.tenantSecret(tenantId)),
    previous_secret: graceUntil ? current.secret : null,
    previous_secret_expires_at: graceUntil,
  });
  return { secret, graceUntil };
}

export async function rotateWidgetKey(deps: Deps, tenantId: string, scope: TenantScope): Promise<string> {
  const key = newWidgetPublicKey();
  await writeTenant(deps, tenantId, scope, { widget_public_key: key });
  return key;
}

export const suspendTenant = (deps: Deps, tenantId: string, scope: TenantScope) =>
  writeTenant(deps, tenantId, scope, { status: 'suspended', suspended_at: new Date() });

export const reactivateTenant = (deps: Deps, tenantId: string, scope: TenantScope) =>
  writeTenant(deps, tenantId, scope, { status: 'active', suspended_at: null });
