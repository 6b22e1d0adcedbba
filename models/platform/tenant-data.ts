/**
 * The tenants collection as the admin API pages through it. Not tenant data but the list of tenants
 * itself, so it takes no tenant: only the platform admin's routes (security `admin`) call it.
 */
import { TenantModel, type TenantDoc } from './tenant.js';

/** One page of tenants, newest first, and how many there are in all. */
export async function tenantsPage(page: { offset: number; limit: number }): Promise<{ rows: TenantDoc[]; total: number }> {
  const [rows, total] = await Promise.all([
    TenantModel.find().sort({ created_at: -1, _id: 1 }).skip(page.offset).limit(page.limit).lean<TenantDoc[]>(),
    TenantModel.countDocuments(),
  ]);
  return { rows, total };
}
