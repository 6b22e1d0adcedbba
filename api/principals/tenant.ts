/** The API side of the one tenant-active check (TenantStore.getActive): its two refusals as errors. */
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';

export const suspendedError = () => new ApiError('TENANT_SUSPENDED', 'Inactive tenant: this tenant is suspended.');

/** The active tenant, or `missing()` when there is none (each caller says what a missing tenant means to it). */
export async function requireActiveTenant(deps: Pick<AppDeps, 'tenants'>, tenantId: string, missing: () => ApiError): Promise<TenantEntry> {
  const r = await deps.tenants.getActive(tenantId);
  if ('entry' in r) return r.entry;
  throw r.refused === 'missing' ? missing() : suspendedError();
}
