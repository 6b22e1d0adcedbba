/**
 * Operators as the API reads them: every function takes the proven tenant first and puts it in the
 * filter (models/platform/tenant-id.ts), so another tenant's operator is not found.
 */
import type { TenantId } from '../platform/tenant-id.js';
import { OperatorModel, type OperatorDoc } from './operator.js';

/** An operator of this tenant, named by its id or its email. */
export function operatorOfTenant(tenant: TenantId, ref: { operator_id?: string; email?: string }): Promise<OperatorDoc | null> {
  return OperatorModel.findOne({
    tenant_id: tenant,
    ...(ref.operator_id ? { _id: ref.operator_id } : { email: ref.email }),
  }).lean<OperatorDoc>();
}
