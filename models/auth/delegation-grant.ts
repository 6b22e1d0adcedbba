/**
 * Cross-organisation delegation (docs/contract.md §2.4, decided): tenant B (the grantor, whose users approve)
 * grants tenant A (the grantee) the right to ask named B users, or a B group, to approve A's
 * `sudo_delegated_action`s. Only the grantor creates and revokes; each side reads only its half
 * (the grantee never sees anything of B beyond what the grant names). A revoked grant covers nothing.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';
import type { TenantId } from '../platform/tenant-id.js';

const grantSchema = new Schema(
  {
    _id: { type: String, required: true }, // dgr_…
    grantor_tenant_id: { type: String, required: true },
    grantee_tenant_id: { type: String, required: true },
    relay_user_linked_ids: { type: [String], default: [] },
    relay_group_linked_id: { type: String, default: null },
    status: { type: String, enum: ['active', 'revoked'], required: true, default: 'active' },
    revoked_at: { type: Date, default: null },
  },
  { ...baseSchemaOptions, collection: 'delegation_grants' },
);
// Serves a delegated dispatch: the grantor's active grants to the calling grantee.
grantSchema.index({ grantor_tenant_id: 1, grantee_tenant_id: 1, status: 1 });
// Serves the grantee's list of the grants it received.
grantSchema.index({ grantee_tenant_id: 1, created_at: -1 });

export type DelegationGrantDoc = InferSchemaType<typeof grantSchema> & { _id: string; created_at: Date; updated_at: Date };
export const DelegationGrantModel = model('DelegationGrant', grantSchema);

export function activeGrants(grantorTenantId: string, granteeTenantId: string): Promise<DelegationGrantDoc[]> {
  return DelegationGrantModel.find({ grantor_tenant_id: grantorTenantId, grantee_tenant_id: granteeTenantId, status: 'active' })
    .limit(200)
    .lean<DelegationGrantDoc[]>();
}

/** The grants a tenant gave (as grantor) and received (as grantee). */
export async function grantsOf(tenant: TenantId): Promise<{ given: DelegationGrantDoc[]; received: DelegationGrantDoc[] }> {
  const [given, received] = await Promise.all([
    DelegationGrantModel.find({ grantor_tenant_id: tenant }).sort({ created_at: -1 }).limit(500).lean<DelegationGrantDoc[]>(),
    DelegationGrantModel.find({ grantee_tenant_id: tenant }).sort({ created_at: -1 }).limit(500).lean<DelegationGrantDoc[]>(),
  ]);
  return { given, received };
}
