/**
 * The tenant as a type. A `TenantId` is a tenant id that has been proven: the tenant store found the
 * tenant (every principal with a tenant carries its store entry, hence `entry.id`). The data modules
 * of tenant-owned collections (`*-data.ts`) take one as their first argument and always put it in
 * the filter, so a finder called without the tenant, or with a bare string read from a request, does
 * not compile. Another tenant's object is then simply not found: it answers as a missing one (404).
 * (The same idea as novu's `EnforceEnvOrOrgIds`, as a brand rather than a required field.)
 */
declare const proven: unique symbol;

export type TenantId = string & { readonly [proven]: 'TenantId' };

/**
 * Brands an id as proven. Only the tenant store (on the tenant it loaded) and the principal layer
 * may call it; eslint.config.js refuses its import anywhere else in api/.
 */
export function provenTenantId(id: string): TenantId {
  return id as TenantId;
}

/**
 * Brands a tenant id the relay itself wrote: the `tenant_id` of a stored document or of a job payload.
 * It is trusted for its origin, not for a check made here: the relay wrote it after a proven call (the
 * principal's tenant), so it names the tenant that owns the record. models/ and workers/ use it where
 * they hold such an id; eslint.config.js refuses its import in api/, where a tenant id may come from a
 * request and the principal's `tenant.id` is the one to use.
 */
export function tenantOfRecord(id: string): TenantId {
  return id as TenantId;
}
